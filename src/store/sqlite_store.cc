// SqliteStore: opening, identities (organisations, users, tokens), API roots,
// collections and status resources. Objects live in sqlite_objects.cc.
#include "store/sqlite_store.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "core/uuid.h"
#include "store/checks.h"
#include "store/columns.h"
#include "store/sqlite_schema.h"

namespace ctihub::store {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

// Every store connection: foreign keys enforced, each commit fsynced
// (synchronous=FULL: an acknowledged write survives a power cut), temporary
// B-trees in memory. Callers set the page cache and whether to create the file.
sqlite::OpenOptions ConnectionOptions() {
  sqlite::OpenOptions o;
  o.pragmas = "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;";
  return o;
}

// ---- row readers (column order fixed by the SELECTs below) ---------------------

constexpr const char* kUserColumns =
    "SELECT u.id, u.name, u.org_id, o.name, u.role, u.password_hash, u.disabled "
    "FROM users u JOIN orgs o ON o.id = u.org_id ";

Result<User> ReadUser(const Statement& st) {
  User u;
  u.id = st.Int(0);
  u.name = st.String(1);
  u.org_id = st.Int(2);
  u.org_name = st.String(3);
  auto role = ParseRole(st.Text(4));
  if (!role.ok()) return Internal("corrupt role in store for user " + u.name);
  u.role = *role;
  u.password_hash = st.String(5);
  u.disabled = st.Int(6) != 0;
  return u;
}

constexpr const char* kTokenColumns =
    "SELECT id, user_id, token_hash, label, created, revoked FROM tokens ";

Result<ApiToken> ReadToken(const Statement& st) {
  ApiToken t;
  t.id = st.Int(0);
  t.user_id = st.Int(1);
  t.token_hash = st.String(2);
  t.label = st.String(3);
  CTIHUB_ASSIGN_OR_RETURN(t.created, ParseStoredTimestamp(st.Text(4)));
  t.revoked = st.Int(5) != 0;
  return t;
}

constexpr const char* kCollectionColumns =
    "SELECT id, api_root, title, description, alias, readers, writers FROM collections ";

Collection ReadCollection(const Statement& st) {
  Collection c;
  c.id = st.String(0);
  c.api_root = st.String(1);
  c.title = st.String(2);
  c.description = st.String(3);
  c.alias = st.String(4);
  c.readers = SplitList(st.Text(5));
  c.writers = SplitList(st.Text(6));
  return c;
}

}  // namespace

// ---- opening -------------------------------------------------------------------

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& opts) {
  CTIHUB_ASSIGN_OR_RETURN(auto s, SqliteStore::Open(opts));
  return std::unique_ptr<Store>(std::move(s));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& opts,
                                                       const WalTuning& wal) {
  if (opts.path.empty()) return InvalidArgument("sqlite store: empty database path");
  std::unique_ptr<SqliteStore> s(new SqliteStore(opts));
  s->wal_ = wal;
  if (s->opts_.max_batch_objects == 0) s->opts_.max_batch_objects = 1;
  if (s->opts_.reader_connections < 1) s->opts_.reader_connections = 1;
  CTIHUB_RETURN_IF_ERROR(s->Init());
  return s;
}

Status SqliteStore::Init() {
  // Memory: each connection's page cache is its own heap, so the caches are
  // budgeted here: writer 64 MiB (index pages keep durable ingest fast), admin
  // and checkpointer 4 MiB each, the readers 64 MiB together (16 MiB each with
  // the default 4 readers, down to 2 MiB each with many threads). No mmap on
  // any connection: a mapping belongs to one connection, so every reader adds
  // up to mmap_size of file pages to the process RSS (readers had 256 MiB
  // each: 366 MB RSS after a 1M-object load, 274 MB of it the mapped file);
  // reads through the OS page cache page as fast (measured, bench/taxii).
  sqlite::OpenOptions admin_opts = ConnectionOptions();
  admin_opts.cache_kib = 4096;
  CTIHUB_ASSIGN_OR_RETURN(admin_, Connection::Open(opts_.path, admin_opts));
  // Larger pages: fewer WAL frames (one write each) and shallower trees for
  // ~1 KB rows. Only takes effect when the database file is created.
  CTIHUB_RETURN_IF_ERROR(admin_->Exec("PRAGMA page_size=8192"));
  CTIHUB_RETURN_IF_ERROR(admin_->Exec("PRAGMA journal_mode=WAL"));
  CTIHUB_RETURN_IF_ERROR(admin_->Exec("PRAGMA journal_size_limit=67108864"));
  CTIHUB_RETURN_IF_ERROR(MigrateSchema(*admin_));

  sqlite::OpenOptions writer_opts = ConnectionOptions();
  writer_opts.create = false;
  writer_opts.cache_kib = 65536;
  CTIHUB_ASSIGN_OR_RETURN(writer_conn_, Connection::Open(opts_.path, writer_opts));
  CTIHUB_ASSIGN_OR_RETURN(
      last_date_added_, writer_conn_->QueryInt("SELECT COALESCE(MAX(date_added), 0) FROM objects"));
  // Checkpoints move off the writer's commit path (the hook replaces SQLite's
  // automatic checkpoint on this connection).
  writer_conn_->SetWalCommitHook([this](int wal_pages) { OnWalCommit(wal_pages); });
  admin_->SetWalCommitHook([this](int wal_pages) { OnWalCommit(wal_pages); });
  CTIHUB_ASSIGN_OR_RETURN(checkpoint_conn_, Connection::Open(opts_.path, admin_opts));

  constexpr int64_t kReadersCacheKib = 65536;  // all readers together
  sqlite::OpenOptions reader_opts = ConnectionOptions();
  reader_opts.create = false;
  reader_opts.cache_kib =
      std::clamp<int64_t>(kReadersCacheKib / opts_.reader_connections, 2048, 16384);
  for (int i = 0; i < opts_.reader_connections; ++i) {
    CTIHUB_ASSIGN_OR_RETURN(auto conn, Connection::Open(opts_.path, reader_opts));
    CTIHUB_RETURN_IF_ERROR(conn->Exec("PRAGMA query_only=1; PRAGMA mmap_size=0"));
    readers_.push_back(std::move(conn));
  }
  try {
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
    writer_ = std::thread([this] { WriterLoop(); });
  } catch (const std::exception& e) {
    return Internal(std::string("sqlite store: cannot start writer thread: ") + e.what());
  }
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void SqliteStore::OnWalCommit(int wal_pages) {
  wal_pages_.store(wal_pages, std::memory_order_relaxed);
  if (wal_pages < wal_.checkpoint_pages) return;
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    checkpoint_wanted_ = true;
  }
  checkpoint_cv_.notify_one();
}

void SqliteStore::CheckpointLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(checkpoint_mu_);
      checkpoint_cv_.wait_for(lock, std::chrono::seconds(5),
                              [this] { return checkpoint_wanted_ || checkpoint_stopping_; });
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
    }
    // PASSIVE: never waits for readers or the writer; copies what it can.
    // Errors (busy) are harmless: the next round retries.
    (void)checkpoint_conn_->CheckpointPassive();
  }
}

void SqliteStore::CheckpointIfLogTooLong() {
  if (wal_pages_.load(std::memory_order_relaxed) < wal_.writer_checkpoint_pages) return;
  // Busy (the checkpointer is copying) is harmless: the next batch retries.
  if (writer_conn_->CheckpointPassive().ok()) wal_pages_.store(0, std::memory_order_relaxed);
}

SqliteStore::ReaderLease SqliteStore::AcquireReader() {
  std::unique_lock<std::mutex> lock(readers_mu_);
  readers_cv_.wait(lock, [this] { return !readers_.empty(); });
  auto conn = std::move(readers_.back());
  readers_.pop_back();
  return ReaderLease(*this, std::move(conn));
}

SqliteStore::ReaderLease::~ReaderLease() {
  if (!conn_) return;
  {
    std::lock_guard<std::mutex> lock(store_.readers_mu_);
    store_.readers_.push_back(std::move(conn_));
  }
  store_.readers_cv_.notify_one();
}

// ---- organisations and users ---------------------------------------------------

Result<Organisation> SqliteStore::AddOrganisation(const Organisation& org) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("organisation", org.name));
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          admin_->Prepare("INSERT INTO orgs(name, identity_id) VALUES(?1, ?2)"));
  st.Bind(1, org.name).Bind(2, org.identity_id);
  Status s = st.Run();
  if (s.code() == ErrorCode::kConflict) {
    return Conflict("org_exists", "organisation '" + org.name + "' already exists");
  }
  CTIHUB_RETURN_IF_ERROR(s);
  Organisation out = org;
  out.id = admin_->LastInsertRowid();
  return out;
}

Result<std::vector<Organisation>> SqliteStore::ListOrganisations() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          conn->Prepare("SELECT id, name, identity_id FROM orgs ORDER BY name"));
  std::vector<Organisation> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({st.Int(0), st.String(1), st.String(2)});
  }
  return out;
}

Result<Organisation> SqliteStore::GetOrganisation(std::string_view name) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          conn->Prepare("SELECT id, name, identity_id FROM orgs WHERE name = ?1"));
  st.Bind(1, name);
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("unknown_org", "no organisation '" + std::string(name) + "'");
  return Organisation{st.Int(0), st.String(1), st.String(2)};
}

Result<User> SqliteStore::AddUser(const User& user) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("user", user.name));
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  std::string org_name;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st, admin_->Prepare("SELECT name FROM orgs WHERE id = ?1"));
    st.Bind(1, user.org_id);
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row)
      return NotFound("unknown_org", "no organisation with id " + std::to_string(user.org_id));
    org_name = st.String(0);
  }
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        admin_->Prepare("INSERT INTO users(name, org_id, role, password_hash, disabled) "
                        "VALUES(?1, ?2, ?3, ?4, ?5)"));
    st.Bind(1, user.name).Bind(2, user.org_id).Bind(3, RoleName(user.role));
    st.Bind(4, user.password_hash).Bind(5, int64_t{user.disabled ? 1 : 0});
    Status s = st.Run();
    if (s.code() == ErrorCode::kConflict) {
      return Conflict("user_exists", "user '" + user.name + "' already exists");
    }
    CTIHUB_RETURN_IF_ERROR(s);
  }
  User out = user;
  out.id = admin_->LastInsertRowid();
  out.org_name = org_name;
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          conn->Prepare(std::string(kUserColumns) + "ORDER BY u.name"));
  std::vector<User> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    CTIHUB_ASSIGN_OR_RETURN(User u, ReadUser(st));
    out.push_back(std::move(u));
  }
  return out;
}

Result<User> SqliteStore::GetUser(std::string_view name) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          conn->Prepare(std::string(kUserColumns) + "WHERE u.name = ?1"));
  st.Bind(1, name);
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("unknown_user", "no user '" + std::string(name) + "'");
  return ReadUser(st);
}

Result<User> SqliteStore::GetUserById(int64_t id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          conn->Prepare(std::string(kUserColumns) + "WHERE u.id = ?1"));
  st.Bind(1, id);
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("unknown_user", "no user with id " + std::to_string(id));
  return ReadUser(st);
}

Status SqliteStore::RemoveUser(std::string_view name) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(Statement st, admin_->Prepare("DELETE FROM users WHERE name = ?1"));
  st.Bind(1, name);
  CTIHUB_RETURN_IF_ERROR(st.Run());
  if (admin_->Changes() == 0)
    return NotFound("unknown_user", "no user '" + std::string(name) + "'");
  return Status::Ok();
}

Status SqliteStore::SetPassword(std::string_view user, std::string_view password_hash) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          admin_->Prepare("UPDATE users SET password_hash = ?2 WHERE name = ?1"));
  st.Bind(1, user).Bind(2, password_hash);
  CTIHUB_RETURN_IF_ERROR(st.Run());
  if (admin_->Changes() == 0)
    return NotFound("unknown_user", "no user '" + std::string(user) + "'");
  return Status::Ok();
}

// ---- tokens --------------------------------------------------------------------

Result<ApiToken> SqliteStore::AddToken(const ApiToken& token) {
  if (token.token_hash.size() != 64) {
    return InvalidArgument("bad_token_hash", "expected hex SHA-256 (64 characters)");
  }
  ApiToken out = token;
  if (out.created == Timestamp()) out.created = Timestamp::Now();
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      admin_->Prepare("INSERT INTO tokens(user_id, token_hash, label, created, revoked) "
                      "VALUES(?1, ?2, ?3, ?4, ?5)"));
  st.Bind(1, out.user_id).Bind(2, out.token_hash).Bind(3, out.label);
  st.Bind(4, out.created.Format(6)).Bind(5, int64_t{out.revoked ? 1 : 0});
  Status s = st.Run();
  if (s.code() == ErrorCode::kConflict) {
    // Either the user does not exist (foreign key) or the hash collides.
    return NotFound("unknown_user_or_duplicate_token",
                    "cannot add token for user id " + std::to_string(out.user_id));
  }
  CTIHUB_RETURN_IF_ERROR(s);
  out.id = admin_->LastInsertRowid();
  return out;
}

Result<ApiToken> SqliteStore::FindTokenByHash(std::string_view token_hash) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          conn->Prepare(std::string(kTokenColumns) + "WHERE token_hash = ?1"));
  st.Bind(1, token_hash);
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("unknown_token", "no such token");
  return ReadToken(st);
}

Result<std::vector<ApiToken>> SqliteStore::ListTokens(int64_t user_id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st, conn->Prepare(std::string(kTokenColumns) + "WHERE user_id = ?1 ORDER BY id"));
  st.Bind(1, user_id);
  std::vector<ApiToken> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    CTIHUB_ASSIGN_OR_RETURN(ApiToken t, ReadToken(st));
    out.push_back(std::move(t));
  }
  return out;
}

Status SqliteStore::RevokeToken(int64_t token_id) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          admin_->Prepare("UPDATE tokens SET revoked = 1 WHERE id = ?1"));
  st.Bind(1, token_id);
  CTIHUB_RETURN_IF_ERROR(st.Run());
  if (admin_->Changes() == 0) {
    return NotFound("unknown_token", "no token with id " + std::to_string(token_id));
  }
  return Status::Ok();
}

// ---- API roots and collections ------------------------------------------------

Status SqliteStore::PutApiRoot(const ApiRoot& root) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("api root", root.name));
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      admin_->Prepare("INSERT INTO api_roots(name, title, description, max_content_length) "
                      "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET "
                      "title = excluded.title, description = excluded.description, "
                      "max_content_length = excluded.max_content_length"));
  st.Bind(1, root.name).Bind(2, root.title).Bind(3, root.description);
  st.Bind(4, root.max_content_length);
  return st.Run();
}

Result<std::vector<ApiRoot>> SqliteStore::ListApiRoots() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      conn->Prepare("SELECT name, title, description, max_content_length FROM api_roots "
                    "ORDER BY name"));
  std::vector<ApiRoot> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({st.String(0), st.String(1), st.String(2), st.Int(3)});
  }
  return out;
}

Result<Collection> SqliteStore::AddCollection(const Collection& c) {
  CTIHUB_RETURN_IF_ERROR(ValidateAclEntries(c.readers));
  CTIHUB_RETURN_IF_ERROR(ValidateAclEntries(c.writers));
  if (c.title.empty()) return InvalidArgument("bad_collection", "title is required");
  Collection out = c;
  if (out.id.empty()) out.id = Uuid::V4().ToString();
  if (!Uuid::Parse(out.id).ok()) return InvalidArgument("bad_collection", "id must be a UUID");
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            admin_->Prepare("SELECT 1 FROM api_roots WHERE name = ?1"));
    st.Bind(1, out.api_root);
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFound("unknown_api_root", "no API root '" + out.api_root + "'");
  }
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        admin_->Prepare("INSERT INTO collections(id, api_root, title, description, alias, "
                        "readers, writers) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    st.Bind(1, out.id).Bind(2, out.api_root).Bind(3, out.title).Bind(4, out.description);
    st.Bind(5, out.alias).Bind(6, JoinList(out.readers)).Bind(7, JoinList(out.writers));
    Status s = st.Run();
    if (s.code() == ErrorCode::kConflict) {
      return Conflict("collection_exists", "collection " + out.id + " already exists");
    }
    CTIHUB_RETURN_IF_ERROR(s);
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Result<std::vector<Collection>> SqliteStore::ListCollections(std::string_view api_root) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st,
                          conn->Prepare(std::string(kCollectionColumns) +
                                        "WHERE ?1 = '' OR api_root = ?1 ORDER BY api_root, rowid"));
  st.Bind(1, api_root);
  std::vector<Collection> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(ReadCollection(st));
  }
  return out;
}

Result<Collection> SqliteStore::GetCollection(std::string_view api_root, std::string_view id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      conn->Prepare(std::string(kCollectionColumns) +
                    "WHERE (?1 = '' OR api_root = ?1) AND "
                    "(id = ?2 OR (alias <> '' AND alias = ?2)) ORDER BY id <> ?2 LIMIT 1"));
  st.Bind(1, api_root).Bind(2, id);
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("unknown_collection", "no collection '" + std::string(id) + "'");
  return ReadCollection(st);
}

Status SqliteStore::RemoveCollection(std::string_view id) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st, admin_->Prepare("DELETE FROM collections WHERE id = ?1"));
    st.Bind(1, id);
    CTIHUB_RETURN_IF_ERROR(st.Run());
    if (admin_->Changes() == 0) {
      return NotFound("unknown_collection", "no collection '" + std::string(id) + "'");
    }
  }
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            admin_->Prepare("DELETE FROM objects WHERE collection = ?1"));
    st.Bind(1, id);
    CTIHUB_RETURN_IF_ERROR(st.Run());
  }
  return txn->Commit();
}

// ---- status resources ----------------------------------------------------------

Status SqliteStore::CreateStatus(const StatusResource& s) {
  if (s.id.empty()) return InvalidArgument("bad_status", "empty id");
  WriteRequest req;
  req.new_status = std::make_unique<StatusResource>(s);
  return Enqueue(std::move(req)).get().status();
}

// REQUIRES: a write transaction open on `conn`.
Status SqliteStore::InsertStatus(Connection& conn, const StatusResource& s) const {
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        conn.Prepare("INSERT INTO statuses(id, api_root, user_id, status, request_timestamp, "
                     "total_count, success_count, failure_count, pending_count, node) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    st.Bind(1, s.id).Bind(2, s.api_root).Bind(3, s.user_id);
    st.Bind(4, s.status.empty() ? std::string_view("pending") : std::string_view(s.status));
    st.Bind(5, s.request_timestamp.ToString()).Bind(6, s.total_count).Bind(7, s.success_count);
    st.Bind(8, s.failure_count).Bind(9, s.pending_count).Bind(10, opts_.node_id);
    Status r = st.Run();
    if (r.code() == ErrorCode::kConflict)
      return Conflict("status_exists", "status " + s.id + " already exists");
    CTIHUB_RETURN_IF_ERROR(r);
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      conn.Prepare("INSERT INTO status_details(status_id, kind, object_id, version, message) "
                   "VALUES(?1, ?2, ?3, ?4, ?5)"));
  for (auto [kind, details] :
       {std::pair<int64_t, const std::vector<StatusDetail>*>{0, &s.successes},
        {1, &s.failures},
        {2, &s.pendings}}) {
    for (const auto& d : *details) {
      st.Bind(1, s.id).Bind(2, kind).Bind(3, d.id).Bind(4, d.version).Bind(5, d.message);
      CTIHUB_RETURN_IF_ERROR(st.Run());
    }
  }
  return Status::Ok();
}

Result<StatusResource> SqliteStore::GetStatus(std::string_view api_root, std::string_view id) {
  auto conn = AcquireReader();
  // One read transaction so the counts and the details agree.
  CTIHUB_RETURN_IF_ERROR(conn->Exec("BEGIN"));
  struct EndRead {
    Connection& c;
    ~EndRead() { (void)c.Exec("COMMIT"); }
  } end_read{*conn};
  StatusResource out;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        conn->Prepare("SELECT id, api_root, user_id, status, request_timestamp, total_count, "
                      "success_count, failure_count, pending_count FROM statuses "
                      "WHERE id = ?1 AND (?2 = '' OR api_root = ?2)"));
    st.Bind(1, id).Bind(2, api_root);
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return NotFound("unknown_status", "no status '" + std::string(id) + "'");
    out.id = st.String(0);
    out.api_root = st.String(1);
    out.user_id = st.Int(2);
    out.status = st.String(3);
    CTIHUB_ASSIGN_OR_RETURN(out.request_timestamp, ParseStoredTimestamp(st.Text(4)));
    out.total_count = st.Int(5);
    out.success_count = st.Int(6);
    out.failure_count = st.Int(7);
    out.pending_count = st.Int(8);
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st, conn->Prepare("SELECT kind, object_id, version, message FROM status_details "
                                  "WHERE status_id = ?1 ORDER BY rowid"));
  st.Bind(1, id);
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    StatusDetail d{st.String(1), st.String(2), st.String(3)};
    switch (st.Int(0)) {
      case 0:
        out.successes.push_back(std::move(d));
        break;
      case 1:
        out.failures.push_back(std::move(d));
        break;
      default:
        out.pendings.push_back(std::move(d));
        break;
    }
  }
  return out;
}

}  // namespace ctihub::store
