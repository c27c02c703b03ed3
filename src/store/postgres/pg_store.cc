// PostgresStore: opening, identities (organisations, users, tokens), API
// roots, collections and status resources. Objects live in pg_objects.cc.
#include "store/postgres/pg_store.h"

#include <algorithm>
#include <utility>

#include "core/uuid.h"
#include "store/checks.h"
#include "store/columns.h"
#include "store/postgres/pg_schema.h"

namespace ctihub::store {

using pg::Connection;
using pg::Params;
using pg::Rows;
using pg::Transaction;

namespace {

constexpr const char* kUserColumns =
    "SELECT u.id, u.name, u.org_id, o.name, u.role, u.password_hash, u.disabled "
    "FROM users u JOIN orgs o ON o.id = u.org_id ";

Result<User> ReadUser(const Rows& r, int i) {
  User u;
  u.id = r.Int(i, 0);
  u.name = r.String(i, 1);
  u.org_id = r.Int(i, 2);
  u.org_name = r.String(i, 3);
  auto role = ParseRole(r.Text(i, 4));
  if (!role.ok()) return Internal("corrupt role in store for user " + u.name);
  u.role = *role;
  u.password_hash = r.String(i, 5);
  u.disabled = r.Bool(i, 6);
  return u;
}

constexpr const char* kTokenColumns =
    "SELECT id, user_id, token_hash, label, created, revoked FROM tokens ";

Result<ApiToken> ReadToken(const Rows& r, int i) {
  ApiToken t;
  t.id = r.Int(i, 0);
  t.user_id = r.Int(i, 1);
  t.token_hash = r.String(i, 2);
  t.label = r.String(i, 3);
  CTIHUB_ASSIGN_OR_RETURN(t.created, ParseStoredTimestamp(r.Text(i, 4)));
  t.revoked = r.Bool(i, 5);
  return t;
}

constexpr const char* kCollectionColumns =
    "SELECT id, api_root, title, description, alias, readers, writers FROM collections ";

Collection ReadCollection(const Rows& r, int i) {
  Collection c;
  c.id = r.String(i, 0);
  c.api_root = r.String(i, 1);
  c.title = r.String(i, 2);
  c.description = r.String(i, 3);
  c.alias = r.String(i, 4);
  c.readers = SplitList(r.Text(i, 5));
  c.writers = SplitList(r.Text(i, 6));
  return c;
}

// Creates `schema` (when set) and brings its tables to this build's version.
Status PrepareSchema(Connection& c, const PostgresOptions& opts) {
  if (!opts.schema.empty()) {
    if (opts.drop_schema_for_test) {
      CTIHUB_RETURN_IF_ERROR(c.Exec("DROP SCHEMA IF EXISTS " + opts.schema + " CASCADE"));
    }
    Status created = c.Exec("CREATE SCHEMA IF NOT EXISTS " + opts.schema);
    // Two nodes creating it at once: one of them sees the other's (unique violation).
    if (!created.ok() && created.code() != ErrorCode::kConflict) return created;
  }
  if (opts.migrate) return pg::MigrateSchema(c);
  CTIHUB_ASSIGN_OR_RETURN(int version, pg::CurrentSchemaVersion(c));
  if (version > pg::LatestSchemaVersion()) return pg::MigrateSchema(c);  // says "too new"
  if (version < pg::LatestSchemaVersion()) {
    return Unavailable("schema_outdated", "database schema version " + std::to_string(version) +
                                              " is older than this build's (" +
                                              std::to_string(pg::LatestSchemaVersion()) +
                                              "): run `ctihub migrate`");
  }
  return Status::Ok();
}

}  // namespace

// ---- opening -------------------------------------------------------------------

int PostgresSchemaVersion() { return pg::LatestSchemaVersion(); }

bool IsPostgresUrl(std::string_view text) {
  return text.substr(0, 13) == "postgresql://" || text.substr(0, 11) == "postgres://";
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& opts) {
  CTIHUB_ASSIGN_OR_RETURN(auto s, PostgresStore::Open(opts));
  return std::unique_ptr<Store>(std::move(s));
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& opts) {
  if (opts.url.empty()) return InvalidArgument("bad_db_url", "postgres store: empty URL");
  if (!opts.schema.empty() && !pg::ValidSchemaName(opts.schema)) {
    return InvalidArgument("bad_db_schema", "schema name must match [a-z_][a-z0-9_]*");
  }
  std::unique_ptr<PostgresStore> s(new PostgresStore(opts));
  if (s->opts_.max_batch_objects == 0) s->opts_.max_batch_objects = 1;
  if (s->opts_.reader_connections < 1) s->opts_.reader_connections = 1;
  CTIHUB_RETURN_IF_ERROR(s->Init());
  return s;
}

Status PostgresStore::Init() {
  CTIHUB_ASSIGN_OR_RETURN(admin_, Connection::Open(opts_.url, opts_.schema));
  CTIHUB_RETURN_IF_ERROR(PrepareSchema(*admin_, opts_));
  CTIHUB_ASSIGN_OR_RETURN(writer_conn_, Connection::Open(opts_.url, opts_.schema));
  for (int i = 0; i < opts_.reader_connections; ++i) {
    CTIHUB_ASSIGN_OR_RETURN(auto conn, Connection::Open(opts_.url, opts_.schema));
    readers_.push_back(std::move(conn));
  }
  try {
    writer_ = std::thread([this] { WriterLoop(); });
    maintainer_ = std::thread([this] { MaintenanceLoop(); });
  } catch (const std::exception& e) {
    return Internal(std::string("postgres store: cannot start writer thread: ") + e.what());
  }
  return Status::Ok();
}

PostgresStore::~PostgresStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  space_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(maint_mu_);
    maint_stopping_ = true;
  }
  maint_cv_.notify_all();
  if (maintainer_.joinable()) maintainer_.join();
}

PostgresStore::ReaderLease::~ReaderLease() {
  if (!conn_) return;
  {
    std::lock_guard<std::mutex> lock(store_.readers_mu_);
    store_.readers_.push_back(std::move(conn_));
  }
  store_.readers_cv_.notify_one();
}

PostgresStore::ReaderLease PostgresStore::AcquireReader() {
  std::unique_lock<std::mutex> lock(readers_mu_);
  readers_cv_.wait(lock, [this] { return !readers_.empty(); });
  auto conn = std::move(readers_.back());
  readers_.pop_back();
  return ReaderLease(*this, std::move(conn));
}

// ---- organisations and users ------------------------------------------------------

Result<Organisation> PostgresStore::AddOrganisation(const Organisation& org) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("organisation", org.name));
  std::lock_guard<std::mutex> lock(admin_mu_);
  auto r = admin_->Query("INSERT INTO orgs(name, identity_id) VALUES($1, $2) RETURNING id",
                         Params().Text(org.name).Text(org.identity_id));
  if (r.status().code() == ErrorCode::kConflict) {
    return Conflict("org_exists", "organisation '" + org.name + "' already exists");
  }
  CTIHUB_RETURN_IF_ERROR(r.status());
  Organisation out = org;
  out.id = r->Int(0, 0);
  return out;
}

Result<std::vector<Organisation>> PostgresStore::ListOrganisations() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          conn->Query("SELECT id, name, identity_id FROM orgs ORDER BY name"));
  std::vector<Organisation> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back({r.Int(i, 0), r.String(i, 1), r.String(i, 2)});
  return out;
}

Result<Organisation> PostgresStore::GetOrganisation(std::string_view name) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r,
      conn->Query("SELECT id, name, identity_id FROM orgs WHERE name = $1", Params().Text(name)));
  if (r.empty()) return NotFound("unknown_org", "no organisation '" + std::string(name) + "'");
  return Organisation{r.Int(0, 0), r.String(0, 1), r.String(0, 2)};
}

Result<User> PostgresStore::AddUser(const User& user) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("user", user.name));
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  CTIHUB_ASSIGN_OR_RETURN(
      Rows org, admin_->Query("SELECT name FROM orgs WHERE id = $1", Params().Int(user.org_id)));
  if (org.empty()) {
    return NotFound("unknown_org", "no organisation with id " + std::to_string(user.org_id));
  }
  auto r = admin_->Query(
      "INSERT INTO users(name, org_id, role, password_hash, disabled) "
      "VALUES($1, $2, $3, $4, $5 <> 0) RETURNING id",
      Params()
          .Text(user.name)
          .Int(user.org_id)
          .Text(RoleName(user.role))
          .Text(user.password_hash)
          .Int(user.disabled ? 1 : 0));
  if (r.status().code() == ErrorCode::kConflict) {
    return Conflict("user_exists", "user '" + user.name + "' already exists");
  }
  CTIHUB_RETURN_IF_ERROR(r.status());
  User out = user;
  out.id = r->Int(0, 0);
  out.org_name = org.String(0, 0);
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Result<std::vector<User>> PostgresStore::ListUsers() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r, conn->Query(std::string(kUserColumns) + "ORDER BY u.name"));
  std::vector<User> out;
  for (int i = 0; i < r.size(); ++i) {
    CTIHUB_ASSIGN_OR_RETURN(User u, ReadUser(r, i));
    out.push_back(std::move(u));
  }
  return out;
}

Result<User> PostgresStore::GetUser(std::string_view name) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query(std::string(kUserColumns) + "WHERE u.name = $1", Params().Text(name)));
  if (r.empty()) return NotFound("unknown_user", "no user '" + std::string(name) + "'");
  return ReadUser(r, 0);
}

Result<User> PostgresStore::GetUserById(int64_t id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query(std::string(kUserColumns) + "WHERE u.id = $1", Params().Int(id)));
  if (r.empty()) return NotFound("unknown_user", "no user with id " + std::to_string(id));
  return ReadUser(r, 0);
}

Status PostgresStore::RemoveUser(std::string_view name) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  // Its tokens go with it (ON DELETE CASCADE).
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          admin_->Query("DELETE FROM users WHERE name = $1", Params().Text(name)));
  if (r.Affected() == 0) return NotFound("unknown_user", "no user '" + std::string(name) + "'");
  return Status::Ok();
}

Status PostgresStore::SetPassword(std::string_view user, std::string_view password_hash) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          admin_->Query("UPDATE users SET password_hash = $2 WHERE name = $1",
                                        Params().Text(user).Text(password_hash)));
  if (r.Affected() == 0) return NotFound("unknown_user", "no user '" + std::string(user) + "'");
  return Status::Ok();
}

// ---- tokens --------------------------------------------------------------------

Result<ApiToken> PostgresStore::AddToken(const ApiToken& token) {
  if (token.token_hash.size() != 64) {
    return InvalidArgument("bad_token_hash", "expected hex SHA-256 (64 characters)");
  }
  ApiToken out = token;
  if (out.created == Timestamp()) out.created = Timestamp::Now();
  std::lock_guard<std::mutex> lock(admin_mu_);
  auto r = admin_->Query(
      "INSERT INTO tokens(user_id, token_hash, label, created, revoked) "
      "VALUES($1, $2, $3, $4, $5 <> 0) RETURNING id",
      Params()
          .Int(out.user_id)
          .Text(out.token_hash)
          .Text(out.label)
          .Text(out.created.Format(6))
          .Int(out.revoked ? 1 : 0));
  if (r.status().code() == ErrorCode::kConflict) {
    // Either the user does not exist (foreign key) or the hash collides.
    return NotFound("unknown_user_or_duplicate_token",
                    "cannot add token for user id " + std::to_string(out.user_id));
  }
  CTIHUB_RETURN_IF_ERROR(r.status());
  out.id = r->Int(0, 0);
  return out;
}

Result<ApiToken> PostgresStore::FindTokenByHash(std::string_view token_hash) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r, conn->Query(std::string(kTokenColumns) + "WHERE token_hash = $1",
                                              Params().Text(token_hash)));
  if (r.empty()) return NotFound("unknown_token", "no such token");
  return ReadToken(r, 0);
}

Result<std::vector<ApiToken>> PostgresStore::ListTokens(int64_t user_id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          conn->Query(std::string(kTokenColumns) + "WHERE user_id = $1 ORDER BY id",
                                      Params().Int(user_id)));
  std::vector<ApiToken> out;
  for (int i = 0; i < r.size(); ++i) {
    CTIHUB_ASSIGN_OR_RETURN(ApiToken t, ReadToken(r, i));
    out.push_back(std::move(t));
  }
  return out;
}

Status PostgresStore::RevokeToken(int64_t token_id) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(Rows r, admin_->Query("UPDATE tokens SET revoked = true WHERE id = $1",
                                                Params().Int(token_id)));
  if (r.Affected() == 0) {
    return NotFound("unknown_token", "no token with id " + std::to_string(token_id));
  }
  return Status::Ok();
}

// ---- the sharing policy's documents -------------------------------------------

Result<int64_t> PostgresStore::PolicyDocumentsRevision() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          conn->Query("SELECT coalesce(max(revision), 0) FROM policy_documents"));
  return r.Int(0, 0);
}

Result<PolicyDocuments> PostgresStore::ReadPolicyDocuments() {
  auto conn = AcquireReader();
  // One statement: the documents and their revision are one snapshot.
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          conn->Query("SELECT name, text IS NOT NULL, coalesce(text, ''), revision "
                                      "FROM policy_documents ORDER BY name"));
  PolicyDocuments out;
  for (int i = 0; i < r.size(); ++i) {
    PolicyDocument d;
    d.name = r.String(i, 0);
    if (r.Bool(i, 1)) d.text = r.String(i, 2);
    out.revision = std::max(out.revision, r.Int(i, 3));
    out.documents.push_back(std::move(d));
  }
  return out;
}

Result<int64_t> PostgresStore::PutPolicyDocument(std::string_view name,
                                                 const std::optional<std::string>& text,
                                                 int64_t expected_revision) {
  if (name != "policy.toml" && name != "agreements.toml") {
    return InvalidArgument("bad_policy_document",
                           "unknown policy document '" + std::string(name) + "'");
  }
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  // Writers (of every node) one at a time; readers are not blocked.
  CTIHUB_RETURN_IF_ERROR(admin_->Exec("LOCK TABLE policy_documents IN SHARE ROW EXCLUSIVE MODE"));
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          admin_->Query("SELECT coalesce(max(revision), 0) FROM policy_documents"));
  const int64_t current = r.Int(0, 0);
  if (current != expected_revision) {
    return Conflict("policy_changed", "the policy documents changed meanwhile (revision " +
                                          std::to_string(current) + ", expected " +
                                          std::to_string(expected_revision) + ")");
  }
  const int64_t next = current + 1;
  if (text) {
    CTIHUB_RETURN_IF_ERROR(admin_->Run(
        "INSERT INTO policy_documents(name, text, revision) VALUES($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET text = EXCLUDED.text, revision = EXCLUDED.revision",
        Params().Text(name).Text(*text).Int(next)));
  } else {
    CTIHUB_RETURN_IF_ERROR(
        admin_->Run("INSERT INTO policy_documents(name, text, revision) VALUES($1, NULL, $2) "
                    "ON CONFLICT (name) DO UPDATE SET text = NULL, revision = EXCLUDED.revision",
                    Params().Text(name).Int(next)));
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return next;
}

// ---- audit chains ----------------------------------------------------------------

namespace {

Status CheckContinues(const AuditChainNode& stored, const std::vector<AuditChainRecord>& records,
                      std::string_view last_hash) {
  int64_t expected = stored.last_seq + 1;
  std::string prev(last_hash);
  for (const AuditChainRecord& r : records) {
    if (r.seq != expected || r.prev_hash != prev) {
      return Conflict("audit_chain_gap", "audit chain of node " + stored.node + ": record " +
                                             std::to_string(r.seq) + " does not continue record " +
                                             std::to_string(expected - 1));
    }
    ++expected;
    prev = r.hash;
  }
  return Status::Ok();
}

}  // namespace

Status PostgresStore::AppendAuditChain(std::string_view node, std::string_view public_key,
                                       const std::vector<AuditChainRecord>& records,
                                       const std::vector<AuditChainSeal>& checkpoints,
                                       const AuditChainSeal& head) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  CTIHUB_RETURN_IF_ERROR(
      admin_->Run("INSERT INTO audit_chain_nodes(node, public_key) VALUES($1, $2) "
                  "ON CONFLICT (node) DO NOTHING",
                  Params().Text(node).Text(public_key)));
  // The row lock orders appends of one node (a second process of the node
  // copying the same records gets a gap, never a fork).
  CTIHUB_ASSIGN_OR_RETURN(
      Rows n, admin_->Query("SELECT public_key, last_seq, last_hash FROM audit_chain_nodes "
                            "WHERE node = $1 FOR UPDATE",
                            Params().Text(node)));
  if (n.String(0, 0) != public_key) {
    return Conflict("audit_key_changed", "audit chain of node " + std::string(node) +
                                             " is signed with another key than the one pinned");
  }
  AuditChainNode stored;
  stored.node = std::string(node);
  stored.last_seq = n.Int(0, 1);
  CTIHUB_RETURN_IF_ERROR(CheckContinues(stored, records, n.Text(0, 2)));
  if (!records.empty()) {
    std::vector<int64_t> seq;
    std::vector<std::string> hash, prev, action, text;
    for (const AuditChainRecord& r : records) {
      seq.push_back(r.seq);
      hash.push_back(r.hash);
      prev.push_back(r.prev_hash);
      action.push_back(r.action);
      text.push_back(r.text);
    }
    CTIHUB_RETURN_IF_ERROR(admin_->Run(
        "INSERT INTO audit_chain_records(node, seq, hash, prev_hash, action, text) "
        "SELECT $1, s, h, p, a, t FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], "
        "$6::text[]) AS u(s, h, p, a, t)",
        Params()
            .Text(node)
            .IntArray(seq)
            .TextArray(hash)
            .TextArray(prev)
            .TextArray(action)
            .TextArray(text)));
    CTIHUB_RETURN_IF_ERROR(
        admin_->Run("UPDATE audit_chain_nodes SET last_seq = $2, last_hash = $3 WHERE node = $1",
                    Params().Text(node).Int(records.back().seq).Text(records.back().hash)));
  }
  for (const AuditChainSeal& c : checkpoints) {
    CTIHUB_RETURN_IF_ERROR(
        admin_->Run("INSERT INTO audit_chain_checkpoints(node, seq, hash, signature) "
                    "VALUES($1, $2, $3, $4)",
                    Params().Text(node).Int(c.seq).Text(c.hash).Text(c.signature)));
  }
  // A head only moves forward (a slower copier of the node never sets an older one).
  if (head.seq > 0) {
    CTIHUB_RETURN_IF_ERROR(admin_->Run(
        "UPDATE audit_chain_nodes SET head_seq = $2, head_hash = $3, head_checkpoints = $4, "
        "head_signature = $5 WHERE node = $1 AND head_seq <= $2",
        Params()
            .Text(node)
            .Int(head.seq)
            .Text(head.hash)
            .Int(head.checkpoints)
            .Text(head.signature)));
  }
  return txn->Commit();
}

Result<std::vector<AuditChainNode>> PostgresStore::ListAuditChains() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query("SELECT node, public_key, head_seq, head_hash, head_checkpoints, "
                          "head_signature, last_seq FROM audit_chain_nodes ORDER BY node"));
  std::vector<AuditChainNode> out;
  for (int i = 0; i < r.size(); ++i) {
    AuditChainNode n;
    n.node = r.String(i, 0);
    n.public_key = r.String(i, 1);
    n.head = {r.Int(i, 2), r.String(i, 3), r.Int(i, 4), r.String(i, 5)};
    n.last_seq = r.Int(i, 6);
    out.push_back(std::move(n));
  }
  return out;
}

Result<std::vector<AuditChainRecord>> PostgresStore::ReadAuditChain(std::string_view node,
                                                                    int64_t after_seq,
                                                                    size_t limit) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query("SELECT seq, hash, prev_hash, action, text FROM audit_chain_records "
                          "WHERE node = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                          Params().Text(node).Int(after_seq).Int(static_cast<int64_t>(limit))));
  std::vector<AuditChainRecord> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({r.Int(i, 0), r.String(i, 1), r.String(i, 2), r.String(i, 3), r.String(i, 4)});
  }
  return out;
}

// strpos, not LIKE: the needle's % and _ are plain characters. Each text is
// read (and decompressed) by the server, none is sent that does not match.
Result<std::vector<AuditChainRecord>> PostgresStore::FindInAuditChain(
    std::string_view node, std::string_view needle, const std::vector<std::string>& actions,
    int64_t after_seq, size_t limit) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query("SELECT seq, hash, prev_hash, action, text FROM audit_chain_records "
                          "WHERE node = $1 AND seq > $2 AND action = ANY($3) AND "
                          "strpos(text, $4) > 0 ORDER BY seq LIMIT $5",
                          Params().Text(node).Int(after_seq).TextArray(actions).Text(needle).Int(
                              static_cast<int64_t>(limit))));
  std::vector<AuditChainRecord> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({r.Int(i, 0), r.String(i, 1), r.String(i, 2), r.String(i, 3), r.String(i, 4)});
  }
  return out;
}

Result<std::vector<AuditChainSeal>> PostgresStore::ReadAuditCheckpoints(std::string_view node) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query("SELECT seq, hash, signature FROM audit_chain_checkpoints WHERE node = "
                          "$1 ORDER BY seq",
                          Params().Text(node)));
  std::vector<AuditChainSeal> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i)
    out.push_back({r.Int(i, 0), r.String(i, 1), 0, r.String(i, 2)});
  return out;
}

// ---- console sessions -----------------------------------------------------------
// Reads on a reader connection, writes on the admin connection: a session is
// written at login, logout and (throttled by webapi::SessionTable) when used.

namespace {

constexpr const char* kSessionColumns =
    "SELECT key, user_id, user_name, org_id, org_name, role, csrf_token, created_us, "
    "last_used_us, expires_us FROM console_sessions ";

Result<SessionRecord> ReadSession(const Rows& r, int i) {
  SessionRecord s;
  s.key = r.String(i, 0);
  s.user_id = r.Int(i, 1);
  s.user = r.String(i, 2);
  s.org_id = r.Int(i, 3);
  s.org = r.String(i, 4);
  CTIHUB_ASSIGN_OR_RETURN(s.role, ParseRole(r.Text(i, 5)));
  s.csrf_token = r.String(i, 6);
  s.created_us = r.Int(i, 7);
  s.last_used_us = r.Int(i, 8);
  s.expires_us = r.Int(i, 9);
  return s;
}

Status NoSuchSession() { return NotFound("unknown_session", "no such session"); }

constexpr const char* kDeleteExpiredSessionsSql =
    "DELETE FROM console_sessions WHERE expires_us <= $1 OR last_used_us <= $2";

}  // namespace

Status PostgresStore::PutSession(const SessionRecord& s, size_t max_sessions, int64_t idle_us) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  Status put = admin_->Run(
      "INSERT INTO console_sessions(key, user_id, user_name, org_id, org_name, role, csrf_token, "
      "created_us, last_used_us, expires_us) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      Params()
          .Text(s.key)
          .Int(s.user_id)
          .Text(s.user)
          .Int(s.org_id)
          .Text(s.org)
          .Text(RoleName(s.role))
          .Text(s.csrf_token)
          .Int(s.created_us)
          .Int(s.last_used_us)
          .Int(s.expires_us));
  if (put.code() == ErrorCode::kConflict) {
    return Conflict("session_exists", "a session with this key exists");
  }
  CTIHUB_RETURN_IF_ERROR(put);
  // The bound: a count of the table (it holds at most max_sessions rows, plus
  // the logins racing this one), and deletes only past it.
  CTIHUB_ASSIGN_OR_RETURN(Rows n, admin_->Query("SELECT count(*) FROM console_sessions"));
  int64_t count = n.Int(0, 0);
  const auto max = static_cast<int64_t>(max_sessions);
  if (count > max) {
    CTIHUB_ASSIGN_OR_RETURN(Rows expired,
                            admin_->Query(kDeleteExpiredSessionsSql,
                                          Params().Int(s.created_us).Int(s.created_us - idle_us)));
    count -= expired.Affected();
  }
  if (count > max) {
    CTIHUB_RETURN_IF_ERROR(
        admin_->Run("DELETE FROM console_sessions WHERE key IN (SELECT key FROM console_sessions "
                    "ORDER BY created_us, key LIMIT $1)",
                    Params().Int(count - max)));
  }
  return txn->Commit();
}

Result<SessionRecord> PostgresStore::GetSession(std::string_view key) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query(std::string(kSessionColumns) + "WHERE key = $1", Params().Text(key)));
  if (r.empty()) return NoSuchSession();
  return ReadSession(r, 0);
}

Status PostgresStore::TouchSession(std::string_view key, int64_t last_used_us) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(Rows r, admin_->Query("UPDATE console_sessions SET last_used_us = "
                                                "greatest(last_used_us, $2) WHERE key = $1",
                                                Params().Text(key).Int(last_used_us)));
  if (r.Affected() == 0) return NoSuchSession();
  return Status::Ok();
}

Status PostgresStore::UpdateSessionPrincipal(const SessionRecord& s) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r,
      admin_->Query("UPDATE console_sessions SET user_id = $2, user_name = $3, "
                    "org_id = $4, org_name = $5, role = $6 WHERE key = $1",
                    Params().Text(s.key).Int(s.user_id).Text(s.user).Int(s.org_id).Text(s.org).Text(
                        RoleName(s.role))));
  if (r.Affected() == 0) return NoSuchSession();
  return Status::Ok();
}

Result<bool> PostgresStore::DeleteSession(std::string_view key) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, admin_->Query("DELETE FROM console_sessions WHERE key = $1", Params().Text(key)));
  return r.Affected() > 0;
}

Result<int64_t> PostgresStore::DeleteExpiredSessions(int64_t now_us, int64_t idle_us) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, admin_->Query(kDeleteExpiredSessionsSql, Params().Int(now_us).Int(now_us - idle_us)));
  return r.Affected();
}

// ---- console import jobs ---------------------------------------------------------
// The node running a job writes its status body a few times a second (admin
// connection); any node reads it (a reader connection).

Status PostgresStore::PutImportJob(const ImportJobRecord& job) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  return admin_->Run(
      "INSERT INTO import_jobs(id, owner_user_id, body, updated_us, finished_us) "
      "VALUES($1, $2, $3, $4, $5) ON CONFLICT(id) DO UPDATE SET body = excluded.body, "
      "updated_us = excluded.updated_us, finished_us = excluded.finished_us",
      Params()
          .Text(job.id)
          .Int(job.owner_user_id)
          .Text(job.body)
          .Int(job.updated_us)
          .Int(job.finished_us));
}

Result<ImportJobRecord> PostgresStore::GetImportJob(std::string_view id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          conn->Query("SELECT id, owner_user_id, body, updated_us, finished_us "
                                      "FROM import_jobs WHERE id = $1",
                                      Params().Text(id)));
  if (r.empty()) return NotFound("unknown_import_job", "no such import job");
  return ImportJobRecord{r.String(0, 0), r.Int(0, 1), r.String(0, 2), r.Int(0, 3), r.Int(0, 4)};
}

Result<int64_t> PostgresStore::DeleteImportJobsFinishedBefore(int64_t before_us) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, admin_->Query("DELETE FROM import_jobs WHERE finished_us > 0 AND finished_us < $1",
                            Params().Int(before_us)));
  return r.Affected();
}

// ---- API roots and collections ------------------------------------------------

Status PostgresStore::PutApiRoot(const ApiRoot& root) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("api root", root.name));
  std::lock_guard<std::mutex> lock(admin_mu_);
  return admin_->Run(
      "INSERT INTO api_roots(name, title, description, max_content_length) "
      "VALUES($1, $2, $3, $4) ON CONFLICT(name) DO UPDATE SET "
      "title = excluded.title, description = excluded.description, "
      "max_content_length = excluded.max_content_length",
      Params()
          .Text(root.name)
          .Text(root.title)
          .Text(root.description)
          .Int(root.max_content_length));
}

Result<std::vector<ApiRoot>> PostgresStore::ListApiRoots() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query("SELECT name, title, description, max_content_length FROM api_roots "
                          "ORDER BY name"));
  std::vector<ApiRoot> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({r.String(i, 0), r.String(i, 1), r.String(i, 2), r.Int(i, 3)});
  }
  return out;
}

Result<Collection> PostgresStore::AddCollection(const Collection& c) {
  CTIHUB_RETURN_IF_ERROR(ValidateAclEntries(c.readers));
  CTIHUB_RETURN_IF_ERROR(ValidateAclEntries(c.writers));
  if (c.title.empty()) return InvalidArgument("bad_collection", "title is required");
  Collection out = c;
  if (out.id.empty()) out.id = Uuid::V4().ToString();
  if (!Uuid::Parse(out.id).ok()) return InvalidArgument("bad_collection", "id must be a UUID");
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  CTIHUB_ASSIGN_OR_RETURN(Rows root, admin_->Query("SELECT 1 FROM api_roots WHERE name = $1",
                                                   Params().Text(out.api_root)));
  if (root.empty()) return NotFound("unknown_api_root", "no API root '" + out.api_root + "'");
  Status s = admin_->Run(
      "INSERT INTO collections(id, api_root, title, description, alias, readers, writers) "
      "VALUES($1, $2, $3, $4, $5, $6, $7)",
      Params()
          .Text(out.id)
          .Text(out.api_root)
          .Text(out.title)
          .Text(out.description)
          .Text(out.alias)
          .Text(JoinList(out.readers))
          .Text(JoinList(out.writers)));
  if (s.code() == ErrorCode::kConflict) {
    return Conflict("collection_exists", "collection " + out.id + " already exists");
  }
  CTIHUB_RETURN_IF_ERROR(s);
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Result<std::vector<Collection>> PostgresStore::ListCollections(std::string_view api_root) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          conn->Query(std::string(kCollectionColumns) +
                                          "WHERE $1 = '' OR api_root = $1 ORDER BY api_root, seq",
                                      Params().Text(api_root)));
  std::vector<Collection> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(ReadCollection(r, i));
  return out;
}

Result<Collection> PostgresStore::GetCollection(std::string_view api_root, std::string_view id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, conn->Query(std::string(kCollectionColumns) +
                              "WHERE ($1 = '' OR api_root = $1) AND "
                              "(id = $2 OR (alias <> '' AND alias = $2)) ORDER BY id <> $2 LIMIT 1",
                          Params().Text(api_root).Text(id)));
  if (r.empty()) return NotFound("unknown_collection", "no collection '" + std::string(id) + "'");
  return ReadCollection(r, 0);
}

Status PostgresStore::RemoveCollection(std::string_view id) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  // Objects change: ordered with every other object write (pg_schema.h).
  CTIHUB_RETURN_IF_ERROR(admin_->Run(pg::kObjectsLockSql));
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, admin_->Query("DELETE FROM collections WHERE id = $1", Params().Text(id)));
  if (r.Affected() == 0) {
    return NotFound("unknown_collection", "no collection '" + std::string(id) + "'");
  }
  CTIHUB_RETURN_IF_ERROR(
      admin_->Run("DELETE FROM objects WHERE collection = $1", Params().Text(id)));
  return txn->Commit();
}

}  // namespace ctihub::store
