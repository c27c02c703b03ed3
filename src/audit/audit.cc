#include "audit/audit.h"

#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "audit/chains.h"
#include "audit/witness.h"
#include "core/encoding.h"
#include "core/hash.h"
#include "core/json.h"
#include "sqlite/db.h"

namespace ctihub::audit {

// The head signs the number of checkpoints too: deleting checkpoints (no key
// needed) must break the head's signature.
std::string HeadMessage(int64_t seq, std::string_view hash, int64_t checkpoints) {
  return "ctihub-audit-head-v2\n" + std::to_string(seq) + "\n" + std::string(hash) + "\n" +
         std::to_string(checkpoints);
}

std::string CheckpointMessage(int64_t seq, std::string_view hash) {
  return "ctihub-audit-checkpoint\n" + std::to_string(seq) + "\n" + std::string(hash);
}

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit_record(
  seq INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT NULL, org TEXT NOT NULL,
  action TEXT NOT NULL, route TEXT NOT NULL, status INTEGER NOT NULL, remote TEXT NOT NULL,
  objects TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
-- The object index (who-saw, show --object): one clustered B-tree keyed by
-- object id, so each served version costs one insert, not a row plus an
-- index entry. `n` is the position in the record's object list. (Trails made
-- before it have a rowid table with an index on (object_id, seq): both work.)
CREATE TABLE IF NOT EXISTS audit_object(
  object_id TEXT NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL, PRIMARY KEY(object_id, seq, n)) WITHOUT ROWID;
-- Export records' index rows arrive in bulk (an export of 1M objects names
-- 1M ids in the store's, i.e. random, order); inserted into audit_object each
-- would land on another leaf. They are appended to audit_object_recent in seq
-- order (cheap) and, once `index_merge_rows` have gathered, moved sorted into
-- audit_export_object, keyed by (bucket, seq, n) where bucket is a fixed hash
-- of the object id (ExportIndexBucket): a merge's rows all go to the end of
-- their bucket's key range (seq only grows), so a merge writes about one leaf
-- per bucket plus the new ones, however large the index already is. A lookup
-- by object reads its bucket's rows (about 1/4096 of the export rows) and
-- scans the unmerged ones. Readers see all three tables (ObjectIndexSql).
CREATE TABLE IF NOT EXISTS audit_object_recent(
  bucket INTEGER NOT NULL, object_id TEXT NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL,
  version TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_export_object(
  bucket INTEGER NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL, object_id TEXT NOT NULL,
  version TEXT NOT NULL, PRIMARY KEY(bucket, seq, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_record_by_time ON audit_record(time);
CREATE TABLE IF NOT EXISTS audit_checkpoint(
  seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, signed_at TEXT NOT NULL, public_key TEXT NOT NULL,
  signature TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_head(
  id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,
  public_key TEXT NOT NULL, signature TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_record
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON audit_record
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
)sql";

// Heads signed before the checkpoint count was: accepted until the next commit re-signs.
std::string HeadMessageV1(int64_t seq, std::string_view hash) {
  return "ctihub-audit-head\n" + std::to_string(seq) + "\n" + std::string(hash);
}

constexpr const char* kPinnedKeyFile = "/audit.pub";

// [[id, version], ...]: a served copy adds its grant, and `true` when redacted
// ([id, version, grant, true]). Records written before grants were kept have
// only pairs, and hash the same as before.
std::string ObjectsJson(const std::vector<ObjectRef>& objs) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginArray();
  for (const auto& o : objs) {
    w.BeginArray().String(o.id).String(o.version);
    if (!o.grant.empty() || o.redacted) w.String(o.grant);
    if (o.redacted) w.Bool(true);
    w.EndArray();
  }
  w.EndArray();
  return out;
}

// SQL goes through the hub's one SQLite layer (sqlite/db.h). Every SQLite
// failure here makes the trail Unavailable (the caller fails the request
// rather than serve unaudited), named by what was being done and SQLite's text.
using sqlite::Connection;
using sqlite::Statement;

Status SqlError(const Connection& db, std::string_view what) {
  return Unavailable("audit: " + std::string(what) + ": " + db.ErrorMessage());
}

Status Exec(Connection& db, std::string_view sql) {
  if (db.Exec(sql).ok()) return Status::Ok();
  return Unavailable("audit: " + db.ErrorMessage());
}

// A statement of `db`; SqlError(what) when it cannot be prepared.
Result<Statement> Prepare(Connection& db, const std::string& sql, std::string_view what) {
  auto s = db.Prepare(sql);
  if (!s.ok()) return SqlError(db, what);
  return s;
}

// Steps `s` once: true with a row, false when done, SqlError(what) on failure.
Result<bool> Step(Connection& db, Statement& s, std::string_view what) {
  auto row = s.Step();
  if (!row.ok()) return SqlError(db, what);
  return *row;
}

// Steps `s` once and requires a row (an aggregate such as count(*)).
Status StepToRow(Connection& db, Statement& s, std::string_view what) {
  auto row = s.Step();
  if (!row.ok() || !*row) return SqlError(db, what);
  return Status::Ok();
}

// Runs an INSERT and rewinds it with its bindings cleared, ready for the next row.
Status Insert(Connection& db, Statement& s, std::string_view what) {
  auto row = s.Step();
  if (!row.ok() || *row) return SqlError(db, what);
  s.Reset();
  return Status::Ok();
}

// The writer's connection keeps SQLite's default settings; AuditLog::Open sets
// its journal and durability pragmas. Readers open the file read-only.
Result<std::unique_ptr<Connection>> OpenDb(const std::string& path, bool read_only) {
  sqlite::OpenOptions opts;
  opts.read_only = read_only;
  opts.create = !read_only;
  opts.busy_timeout_ms = 10000;
  auto c = Connection::Open(path, opts);
  if (!c.ok()) return Unavailable("audit: " + c.status().message());
  return c;
}

// A trail that exists, opened read-only; NotFound (never a new file) without one.
Result<std::unique_ptr<Connection>> OpenTrailForReading(const std::string& data_dir) {
  std::string path = data_dir + "/audit.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no audit trail");
  return OpenDb(path, true);
}

// One read transaction for the guard's life: an appender commits records,
// index, checkpoints and head together, so they must be read together.
class ReadSnapshot {
 public:
  static Result<std::unique_ptr<ReadSnapshot>> Begin(Connection& db) {
    if (Status begun = db.Exec("BEGIN"); !begun.ok())
      return Unavailable("audit: " + begun.message());
    return std::unique_ptr<ReadSnapshot>(new ReadSnapshot(db));
  }
  ~ReadSnapshot() { (void)db_.Exec("ROLLBACK"); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  explicit ReadSnapshot(Connection& db) : db_(db) {}
  Connection& db_;
};

// Whether the trail has audit_object_recent (trails opened for writing since
// 2026-12-05 do; a read-only connection to an older one must not name it).
bool HasRecentIndex(Connection& db) {
  auto s = db.Prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_object_recent'");
  if (!s.ok()) return false;
  auto row = s->Step();
  return row.ok() && *row;
}

// The bucket of an object id in audit_export_object: FNV-1a (64-bit) of the
// id modulo kExportIndexBuckets. Stored in trails: never change it.
constexpr uint64_t kExportIndexBuckets = 4096;
int64_t ExportIndexBucket(std::string_view object_id) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : object_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h % kExportIndexBuckets);
}

// The object index as one table (object_id, seq, version): audit_object and,
// when the trail has them (`recent`), the merged and the unmerged export rows.
// `bucket_param` (e.g. "?4", bound to ExportIndexBucket of the object looked
// up) limits the merged export rows to that object's bucket; "" reads all.
std::string ObjectIndexSql(bool recent, std::string_view bucket_param = {}) {
  if (!recent) return "audit_object";
  std::string sql =
      "(SELECT object_id, seq, version FROM audit_object UNION ALL "
      "SELECT object_id, seq, version FROM audit_object_recent UNION ALL "
      "SELECT object_id, seq, version FROM audit_export_object";
  if (!bucket_param.empty()) sql += " WHERE bucket = " + std::string(bucket_param);
  return sql + ")";
}

Record RowToRecord(const Statement& s) {
  Record r;
  r.seq = s.Int(0);
  auto t = Timestamp::Parse(s.Text(1));
  if (t.ok()) r.time = *t;
  r.user = s.Text(2);
  r.org = s.Text(3);
  r.action = s.Text(4);
  r.route = s.Text(5);
  r.status = static_cast<int>(s.Int(6));
  r.remote = s.Text(7);
  r.objects = ParseObjectList(s.Text(8));
  r.details = s.Text(9);
  r.prev_hash = s.Text(10);
  r.hash = s.Text(11);
  return r;
}

constexpr const char* kSelectColumns =
    "SELECT seq, time, user, org, action, route, status, remote, objects, details, prev_hash, hash "
    "FROM audit_record";

}  // namespace

// ---------------------------------------------------------------- records

// The stored text of objects and details is hashed verbatim; CanonicalRecord
// rebuilds the objects text from the parsed list, which yields the same bytes
// for anything this module wrote.
static std::string CanonicalText(const Record& r, std::string_view objects_json) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject();
  w.Key("action").String(r.action);
  w.Key("details").Raw(r.details.empty() ? std::string_view("{}") : std::string_view(r.details));
  w.Key("objects").Raw(objects_json);
  w.Key("org").String(r.org);
  w.Key("prev_hash").String(r.prev_hash);
  w.Key("remote").String(r.remote);
  w.Key("route").String(r.route);
  w.Key("seq").Int(r.seq);
  w.Key("status").Int(r.status);
  w.Key("time").String(r.time.Format(6));
  w.Key("user").String(r.user);
  w.EndObject();
  return out;
}

std::string LocalActor() {
  const uid_t uid = ::getuid();
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && *found->pw_name != '\0')
    return std::string("cli:") + found->pw_name;
  if (const char* login = ::getlogin(); login != nullptr && *login != '\0')
    return std::string("cli:") + login;
  return "cli:uid-" + std::to_string(uid);
}

std::vector<ObjectRef> ParseObjectList(std::string_view text) {
  std::vector<ObjectRef> out;
  json::JsonParser p;
  auto e = p.Parse(text);
  json::Array arr;
  if (!e.ok() || e->get_array().get(arr) != simdjson::SUCCESS) return out;
  for (json::Element entry : arr) {
    json::Array fields;
    if (entry.get_array().get(fields) != simdjson::SUCCESS) continue;
    std::string_view id, ver, grant;
    bool redacted = false;
    if (fields.at(0).get_string().get(id) != simdjson::SUCCESS) id = {};
    if (fields.at(1).get_string().get(ver) != simdjson::SUCCESS) ver = {};
    if (fields.at(2).get_string().get(grant) != simdjson::SUCCESS) grant = {};
    if (fields.at(3).get_bool().get(redacted) != simdjson::SUCCESS) redacted = false;
    out.emplace_back(std::string(id), std::string(ver), std::string(grant), redacted);
  }
  return out;
}

std::string CanonicalRecord(const Record& r) { return CanonicalText(r, ObjectsJson(r.objects)); }
std::string ComputeHash(const Record& r) { return Sha256Hex(CanonicalRecord(r)); }

std::string RecordToJson(const Record& r) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject();
  w.Key("seq").Int(r.seq);
  w.Key("time").String(r.time.Format(6));
  w.Key("user").String(r.user);
  w.Key("org").String(r.org);
  w.Key("action").String(r.action);
  w.Key("route").String(r.route);
  w.Key("status").Int(r.status);
  w.Key("remote").String(r.remote);
  w.Key("objects").BeginArray();
  for (const auto& o : r.objects) {
    w.BeginObject().Key("id").String(o.id).Key("version").String(o.version);
    if (!o.grant.empty() || o.redacted)
      w.Key("grant").String(o.grant).Key("redacted").Bool(o.redacted);
    w.EndObject();
  }
  w.EndArray();
  w.Key("details").Raw(r.details.empty() ? std::string_view("{}") : std::string_view(r.details));
  w.Key("prev_hash").String(r.prev_hash);
  w.Key("hash").String(r.hash);
  w.EndObject();
  return out;
}

// ---------------------------------------------------------------- node key

std::string NodeKey::PublicHex() const {
  return HexEncode(reinterpret_cast<const uint8_t*>(public_key.data()), public_key.size());
}

std::string NodeKey::Sign(std::string_view message) const {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), reinterpret_cast<const unsigned char*>(secret_key.data()));
  return HexEncode(sig, sizeof sig);
}

bool VerifySignature(std::string_view pk, std::string_view message, std::string_view sig_hex) {
  if (pk.size() != crypto_sign_PUBLICKEYBYTES) return false;
  auto sig = HexDecode(sig_hex);
  if (!sig.ok() || sig->size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(pk.data())) == 0;
}

Result<NodeKey> LoadNodeKey(const std::string& path) {
  if (sodium_init() < 0) return Internal("libsodium init failed");
  std::ifstream in(path);
  if (!in) return NotFound(path + ": no node key");
  std::string hex;
  in >> hex;
  auto raw = HexDecode(hex);
  if (!raw.ok() || raw->size() != crypto_sign_SECRETKEYBYTES)
    return InvalidArgument(path + ": not an Ed25519 secret key (128 hex digits)");
  NodeKey k;
  k.secret_key = *raw;
  k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(k.public_key.data()),
                               reinterpret_cast<const unsigned char*>(k.secret_key.data()));
  return k;
}

Result<NodeKey> LoadOrCreateNodeKey(const std::string& path) {
  if (sodium_init() < 0) return Internal("libsodium init failed");
  auto existing = LoadNodeKey(path);
  if (existing.ok() || existing.status().code() != ErrorCode::kNotFound) return existing;
  NodeKey k;
  k.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  k.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(k.public_key.data()),
                      reinterpret_cast<unsigned char*>(k.secret_key.data()));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    // Lost a race with another process: use its key.
    if (errno == EEXIST) return LoadNodeKey(path);
    return Unavailable(path + ": cannot create node key");
  }
  std::string hex =
      HexEncode(reinterpret_cast<const uint8_t*>(k.secret_key.data()), k.secret_key.size()) + "\n";
  bool ok =
      ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(hex.data(), hex.size());
  if (!ok) return Unavailable(path + ": cannot write node key");
  return k;
}

Result<std::string> LoadPinnedKey(const std::string& data_dir) {
  const std::string path = data_dir + kPinnedKeyFile;
  std::ifstream in(path);
  if (!in) return NotFound(path + ": no pinned audit key");
  std::string hex;
  in >> hex;
  auto raw = HexDecode(hex);
  if (!raw.ok() || raw->size() != crypto_sign_PUBLICKEYBYTES)
    return InvalidArgument(path + ": not an Ed25519 public key (64 hex digits)");
  return *raw;
}

namespace {

Status WritePinnedKey(const std::string& data_dir, const NodeKey& key) {
  const std::string path = data_dir + kPinnedKeyFile;
  std::ofstream out(path, std::ios::trunc);
  out << key.PublicHex() << "\n";
  out.flush();
  if (!out) return Unavailable(path + ": cannot write the pinned audit key");
  return Status::Ok();
}

// The node key of a trail: created (and pinned) only for a new trail; a
// missing or different key for an existing one is an error, never a fresh key.
Result<NodeKey> NodeKeyForTrail(const std::string& data_dir, bool trail_has_records) {
  const std::string key_path = data_dir + "/node.key";
  auto pinned = LoadPinnedKey(data_dir);
  if (!pinned.ok() && pinned.status().code() != ErrorCode::kNotFound) return pinned.status();
  auto key = LoadNodeKey(key_path);
  if (!key.ok() && key.status().code() != ErrorCode::kNotFound) return key.status();
  if (!key.ok()) {
    if (pinned.ok() || trail_has_records)
      return Unavailable(key_path + " is missing but the audit trail is signed by the pinned key " +
                         data_dir + kPinnedKeyFile +
                         ": restore node.key (a new key would not verify the trail)");
    CTIHUB_ASSIGN_OR_RETURN(NodeKey created, LoadOrCreateNodeKey(key_path));
    CTIHUB_RETURN_IF_ERROR(WritePinnedKey(data_dir, created));
    return created;
  }
  if (!pinned.ok()) {
    CTIHUB_RETURN_IF_ERROR(WritePinnedKey(data_dir, *key));  // trails from before the pin
  } else if (*pinned != key->public_key) {
    return Unavailable(key_path + " is not the key pinned in " + data_dir + kPinnedKeyFile);
  }
  return key;
}

// Rows in audit_object_recent: it is append-only and emptied whole, so its
// rowids are contiguous (two B-tree descents, not a count over every row).
Result<int64_t> RecentIndexRows(Connection& db) {
  CTIHUB_ASSIGN_OR_RETURN(
      Statement s,
      Prepare(db, "SELECT coalesce(max(rowid) - min(rowid) + 1, 0) FROM audit_object_recent",
              "count recent object index"));
  CTIHUB_RETURN_IF_ERROR(StepToRow(db, s, "count recent object index"));
  return s.Int(0);
}

// Inside the caller's write transaction: once `threshold` rows have gathered
// in audit_object_recent (by any process), moves them into audit_object in
// key order, so the merge visits each leaf of the index at most once.
Status MergeRecentIndex(Connection& db, int64_t threshold) {
  CTIHUB_ASSIGN_OR_RETURN(int64_t rows, RecentIndexRows(db));
  if (rows < threshold) return Status::Ok();
  CTIHUB_RETURN_IF_ERROR(Exec(db,
                              "INSERT INTO audit_export_object(bucket, seq, n, object_id, "
                              "version) SELECT bucket, seq, n, object_id, version FROM "
                              "audit_object_recent ORDER BY bucket, seq, n; "
                              "DELETE FROM audit_object_recent;"));
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- AuditLog

struct AuditLog::Db {
  std::unique_ptr<Connection> conn;
  bool object_position = true;  // audit_object has the `n` column (trails since 2026-11-29)
};

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& data_dir, Options options) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->options_ = options;
  log->db_ = std::make_unique<Db>();
  CTIHUB_ASSIGN_OR_RETURN(log->db_->conn, OpenDb(data_dir + "/audit.db", false));
  Connection& db = *log->db_->conn;
  // 32 MiB of page cache: the object index takes random inserts.
  CTIHUB_RETURN_IF_ERROR(
      Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-32768;"));
  CTIHUB_RETURN_IF_ERROR(Exec(db, kSchema));
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement s,
        Prepare(db, "SELECT count(*) FROM pragma_table_info('audit_object') WHERE name = 'n'",
                "read schema"));
    CTIHUB_RETURN_IF_ERROR(StepToRow(db, s, "read schema"));
    log->db_->object_position = s.Int(0) > 0;
  }
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement s, Prepare(db, "SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1",
                             "read last record"));
    auto row = s.Step();
    if (row.ok() && *row) {
      log->last_seq_ = s.Int(0);
      log->last_hash_ = s.String(1);
    }
  }
  log->committed_seq_ = log->last_seq_;
  if (options.sign) {
    CTIHUB_ASSIGN_OR_RETURN(NodeKey k, NodeKeyForTrail(data_dir, log->last_seq_ > 0));
    log->key_ = std::move(k);
  }
  log->thread_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status AuditLog::Append(Record r) {
  if (r.details.empty()) {
    r.details = "{}";
  } else {
    json::JsonParser p;
    auto e = p.Parse(r.details);
    if (!e.ok() || !e->is_object()) return InvalidArgument("audit: details must be a JSON object");
    r.details = json::CanonicalJson(*e);
  }
  if (r.time == Timestamp()) r.time = Timestamp::Now();
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] {
    return (queue_.size() < options_.max_queue &&
            (queue_.empty() || queued_objects_ < options_.max_queue_objects)) ||
           !failed_.ok() || stop_;
  });
  if (!failed_.ok()) return failed_;
  if (stop_) return Unavailable("audit: log is closing");
  queued_objects_ += r.objects.size();
  queue_.push_back(std::move(r));
  ++enqueued_;
  lk.unlock();
  work_cv_.notify_one();
  return Status::Ok();
}

Status AuditLog::Flush() {
  std::unique_lock<std::mutex> lk(mu_);
  uint64_t target = enqueued_;
  done_cv_.wait(lk, [&] { return committed_ >= target || !failed_.ok(); });
  return failed_;
}

int64_t AuditLog::committed_seq() const {
  std::lock_guard<std::mutex> lk(mu_);
  return committed_seq_;
}

void AuditLog::Run() {
  std::vector<Record> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      work_cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        queued_objects_ -= queue_.front().objects.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    done_cv_.notify_all();  // queue space for back-pressured appenders
    Status st = CommitBatch(batch);
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!st.ok()) {
        failed_ = st;
      } else {
        committed_ += batch.size();
        committed_seq_ = last_seq_;
      }
    }
    batch.clear();
    done_cv_.notify_all();
    if (!st.ok()) return;
  }
}

Status AuditLog::CommitBatch(std::vector<Record>& batch) {
  Connection& db = *db_->conn;
  // BEGIN IMMEDIATE; every early return below rolls back (after the error
  // text is taken), a failed COMMIT too.
  auto txn = sqlite::Transaction::Begin(db);
  if (!txn.ok()) return Unavailable("audit: " + db.ErrorMessage());
  // Another process (the server and `ctihub user add`, ...) may have appended
  // since our last commit: the cached head would fork the chain. Re-read it
  // under the write lock BEGIN IMMEDIATE holds until COMMIT.
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement last, Prepare(db, "SELECT seq, hash FROM audit_record ORDER BY seq DESC LIMIT 1",
                                "read the chain head"));
    CTIHUB_ASSIGN_OR_RETURN(bool row, Step(db, last, "read the chain head"));
    if (row) {
      last_seq_ = last.Int(0);
      last_hash_ = last.String(1);
    } else {
      last_seq_ = 0;
      last_hash_.clear();
    }
  }
  int64_t seq = last_seq_;
  std::string hash = last_hash_;
  CTIHUB_ASSIGN_OR_RETURN(
      Statement ins,
      Prepare(db,
              "INSERT INTO audit_record(seq, time, user, org, action, route, status, remote, "
              "objects, details, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
              "prepare"));
  CTIHUB_ASSIGN_OR_RETURN(
      Statement obj,
      Prepare(db,
              db_->object_position
                  ? "INSERT INTO audit_object(object_id, version, seq, n) VALUES(?,?,?,?)"
                  : "INSERT INTO audit_object(object_id, version, seq) VALUES(?,?,?)",
              "prepare"));
  CTIHUB_ASSIGN_OR_RETURN(Statement cp,
                          Prepare(db,
                                  "INSERT INTO audit_checkpoint(seq, hash, signed_at, public_key, "
                                  "signature) VALUES(?,?,?,?,?)",
                                  "prepare"));
  // Export records' rows go to audit_object_recent (see the schema).
  const bool bulk_index = db_->object_position && options_.index_merge_rows > 0;
  CTIHUB_ASSIGN_OR_RETURN(
      Statement recent,
      Prepare(db,
              "INSERT INTO audit_object_recent(bucket, object_id, seq, n, version) "
              "VALUES(?,?,?,?,?)",
              "prepare"));
  struct IndexRow {
    const ObjectRef* ref;
    int64_t seq, n;
  };
  std::vector<IndexRow> index_rows;
  int64_t recent_rows = 0;
  for (Record& r : batch) {
    r.seq = ++seq;
    r.prev_hash = hash;
    std::string objects = ObjectsJson(r.objects);
    r.hash = Sha256Hex(CanonicalText(r, objects));
    hash = r.hash;
    ins.Bind(1, r.seq).Bind(2, r.time.Format(6)).Bind(3, r.user).Bind(4, r.org).Bind(5, r.action);
    ins.Bind(6, r.route).Bind(7, static_cast<int64_t>(r.status)).Bind(8, r.remote).Bind(9, objects);
    ins.Bind(10, r.details).Bind(11, r.prev_hash).Bind(12, r.hash);
    CTIHUB_RETURN_IF_ERROR(Insert(db, ins, "insert record"));
    int64_t position = 0;
    if (bulk_index && r.action == action::kExport) {
      for (const auto& o : r.objects) {
        recent.Bind(1, ExportIndexBucket(o.id)).Bind(2, o.id).Bind(3, r.seq);
        recent.Bind(4, position++).Bind(5, o.version);
        CTIHUB_RETURN_IF_ERROR(Insert(db, recent, "insert recent object index"));
        ++recent_rows;
      }
    } else {
      for (const auto& o : r.objects) index_rows.push_back({&o, r.seq, position++});
    }
    if (key_ && options_.checkpoint_every > 0 && r.seq % options_.checkpoint_every == 0) {
      cp.Bind(1, r.seq)
          .Bind(2, r.hash)
          .Bind(3, Timestamp::Now().Format(6))
          .Bind(4, key_->PublicHex());
      cp.Bind(5, key_->Sign(CheckpointMessage(r.seq, r.hash)));
      CTIHUB_RETURN_IF_ERROR(Insert(db, cp, "insert checkpoint"));
    }
  }
  // The object index in key order: a batch's rows (an export's come in the
  // store's order, i.e. random ids) would otherwise each land on another leaf
  // of the clustered B-tree, read and re-written through the WAL row after
  // row; in order, a batch visits each leaf once (docs/PERFORMANCE.md, export).
  std::sort(index_rows.begin(), index_rows.end(), [](const IndexRow& a, const IndexRow& b) {
    if (int c = a.ref->id.compare(b.ref->id); c != 0) return c < 0;
    return std::tie(a.seq, a.n) < std::tie(b.seq, b.n);
  });
  for (const IndexRow& row : index_rows) {
    obj.Bind(1, row.ref->id).Bind(2, row.ref->version).Bind(3, row.seq);
    if (db_->object_position) obj.Bind(4, row.n);
    CTIHUB_RETURN_IF_ERROR(Insert(db, obj, "insert object index"));
  }
  if (recent_rows > 0) CTIHUB_RETURN_IF_ERROR(MergeRecentIndex(db, options_.index_merge_rows));
  int64_t checkpoints = 0;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement n, Prepare(db, "SELECT count(*) FROM audit_checkpoint", "count checkpoints"));
    CTIHUB_RETURN_IF_ERROR(StepToRow(db, n, "count checkpoints"));
    checkpoints = n.Int(0);
  }
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement head,
                            Prepare(db,
                                    "INSERT OR REPLACE INTO audit_head(id, seq, hash, "
                                    "public_key, signature) VALUES(1,?,?,?,?)",
                                    "update head"));
    head.Bind(1, seq).Bind(2, hash);
    head.Bind(3, key_ ? key_->PublicHex() : std::string());
    head.Bind(4, key_ ? key_->Sign(HeadMessage(seq, hash, checkpoints)) : std::string());
    CTIHUB_RETURN_IF_ERROR(Insert(db, head, "update head"));
  }
  if (!(*txn)->Commit().ok()) return Unavailable("audit: " + db.ErrorMessage());
  last_seq_ = seq;
  last_hash_ = hash;
  return Status::Ok();
}

// ---------------------------------------------------------------- verify

namespace {

// The key Verify checks against: the one given, else the pinned one; never none.
Result<std::string> VerifyKey(const std::string& data_dir, std::string_view given_hex) {
  if (!given_hex.empty()) {
    auto raw = HexDecode(given_hex);
    if (!raw.ok() || raw->size() != crypto_sign_PUBLICKEYBYTES)
      return InvalidArgument("--pubkey: not an Ed25519 public key (64 hex digits)");
    return *raw;
  }
  auto pinned = LoadPinnedKey(data_dir);
  if (pinned.ok() || pinned.status().code() != ErrorCode::kNotFound) return pinned;
  return NotFound(
      "no public key to check the trail against: pass --pubkey HEX (printed by "
      "`ctihub init`) or restore " +
      data_dir + kPinnedKeyFile);
}

}  // namespace

Result<SignedHead> ReadSignedHead(const std::string& data_dir) {
  std::string path = data_dir + "/audit.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no audit trail");
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenDb(path, true));
  Connection& db = *conn;
  // One statement, one snapshot: the head and the checkpoints it counts are
  // committed together.
  SignedHead head;
  CTIHUB_ASSIGN_OR_RETURN(
      Statement h,
      Prepare(db,
              "SELECT seq, hash, public_key, signature, (SELECT count(*) FROM audit_checkpoint) "
              "FROM audit_head WHERE id = 1",
              "read head"));
  auto row = h.Step();
  if (!row.ok() || !*row) return NotFound("no_head", path + ": the trail has no signed head");
  head.seq = h.Int(0);
  head.hash = std::string(h.Text(1));
  head.public_key = std::string(h.Text(2));
  head.signature = std::string(h.Text(3));
  head.checkpoints = h.Int(4);
  if (head.signature.empty() || head.public_key.empty())
    return Conflict("unsigned_head", path + ": the trail's head is not signed (no node key)");
  return head;
}

bool SignedHeadIsValid(const SignedHead& head) {
  auto key = HexDecode(head.public_key);
  if (!key.ok()) return false;
  return VerifySignature(*key, HeadMessage(head.seq, head.hash, head.checkpoints), head.signature);
}

Result<VerifyReport> Verify(const std::string& data_dir, const VerifyOptions& options) {
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenTrailForReading(data_dir));
  CTIHUB_ASSIGN_OR_RETURN(std::string pk, VerifyKey(data_dir, options.public_key_hex));
  Connection& db = *conn;
  // One snapshot for the whole walk: read apart, a head newer than the
  // records read looked like a truncation (a live hub's verify said broken).
  CTIHUB_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(db));
  VerifyReport rep;
  auto broken = [&](int64_t seq, std::string reason) {
    rep.intact = false;
    rep.first_broken_seq = seq;
    rep.reason = std::move(reason);
    return rep;
  };
  // The object index (who-saw, show --object) must match the hashed object lists.
  std::unordered_map<int64_t, int64_t> indexed;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement ix,
        Prepare(db,
                "SELECT seq, count(*) FROM " + ObjectIndexSql(HasRecentIndex(db)) + " GROUP BY seq",
                "read object index"));
    for (;;) {
      auto row = ix.Step();
      if (!row.ok() || !*row) break;  // as before: an error here ends the index early
      indexed[ix.Int(0)] = ix.Int(1);
    }
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement s, Prepare(db, std::string(kSelectColumns) + " ORDER BY rowid", "read records"));
  int64_t expected = 1;
  std::string prev;
  std::vector<std::pair<int64_t, std::string>> hashes;  // seq -> hash, for checkpoints
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, Step(db, s, "read records"));
    if (!row) break;
    Record r = RowToRecord(s);
    std::string objects = s.String(8);
    if (r.seq != expected) {
      if (r.seq > expected)
        return broken(expected, "record " + std::to_string(expected) +
                                    " is missing (deleted); next is " + std::to_string(r.seq));
      return broken(r.seq, "record " + std::to_string(r.seq) + " out of order");
    }
    if (r.prev_hash != prev) return broken(r.seq, "prev_hash does not match the previous record");
    if (Sha256Hex(CanonicalText(r, objects)) != r.hash || s.Text(1) != r.time.Format(6))
      return broken(r.seq, "record content does not match its hash (changed)");
    auto ix = indexed.find(r.seq);
    int64_t n_indexed = ix == indexed.end() ? 0 : ix->second;
    if (n_indexed != static_cast<int64_t>(r.objects.size()))
      return broken(r.seq, "object index does not match the record's objects");
    if (ix != indexed.end()) indexed.erase(ix);
    prev = r.hash;
    hashes.emplace_back(r.seq, r.hash);
    ++expected;
    ++rep.records;
  }
  const int64_t last = expected - 1;
  rep.head_hash = prev;
  if (last == 0)
    return broken(1,
                  "the trail is empty: a hub's trail starts with its hub.init record "
                  "(records, checkpoints and head deleted?)");
  // A head seen elsewhere: the trail must still hold it, unchanged.
  if (options.expect_seq > 0) {
    if (options.expect_seq > last)
      return broken(last + 1, "truncated: record " + std::to_string(options.expect_seq) +
                                  " was seen elsewhere but the trail ends at " +
                                  std::to_string(last));
    if (hashes[static_cast<size_t>(options.expect_seq - 1)].second != options.expect_hash)
      return broken(options.expect_seq, "record " + std::to_string(options.expect_seq) +
                                            " does not have the hash seen elsewhere (rewritten)");
  }
  int64_t checkpoints = 0;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement n, Prepare(db, "SELECT count(*) FROM audit_checkpoint", "count checkpoints"));
    CTIHUB_RETURN_IF_ERROR(StepToRow(db, n, "count checkpoints"));
    checkpoints = n.Int(0);
  }
  // Head: must name the last record and be signed by the pinned key over the
  // record count, hash and number of checkpoints.
  CTIHUB_ASSIGN_OR_RETURN(
      Statement h,
      Prepare(db, "SELECT seq, hash, public_key, signature FROM audit_head WHERE id = 1",
              "read head"));
  auto head_row = h.Step();
  if (!head_row.ok() || !*head_row) return broken(last, "the signed head is missing");
  const int64_t hs = h.Int(0);
  const std::string hh = h.String(1), hsig = h.String(3);
  if (hs > last)
    return broken(last + 1, "truncated: the head names record " + std::to_string(hs) +
                                " but the trail ends at " + std::to_string(last));
  if (hs < last) return broken(hs + 1, "records after the signed head");
  if (hh != prev) return broken(last, "head hash does not match the last record");
  if (hsig.empty() || !(VerifySignature(pk, HeadMessage(hs, hh, checkpoints), hsig) ||
                        VerifySignature(pk, HeadMessageV1(hs, hh), hsig)))
    return broken(last,
                  "head signature is invalid for the pinned key (or checkpoints were "
                  "deleted: the head signs their number, " +
                      std::to_string(checkpoints) + " now)");
  rep.signed_head = true;
  // Checkpoints: each must match the chain and carry a valid signature.
  CTIHUB_ASSIGN_OR_RETURN(
      Statement c, Prepare(db, "SELECT seq, hash, signature FROM audit_checkpoint ORDER BY seq",
                           "read checkpoints"));
  for (;;) {
    auto row = c.Step();
    if (!row.ok() || !*row) break;  // as before: an error ends the checkpoints
    int64_t cs = c.Int(0);
    std::string ch = c.String(1);
    if (cs > last)
      return broken(last + 1,
                    "truncated: checkpoint at record " + std::to_string(cs) + " is past the end");
    if (cs < 1 || hashes[static_cast<size_t>(cs - 1)].second != ch)
      return broken(cs, "checkpoint hash does not match record " + std::to_string(cs));
    if (!VerifySignature(pk, CheckpointMessage(cs, ch), c.String(2)))
      return broken(cs, "checkpoint signature is invalid for the pinned key");
    ++rep.checkpoints;
  }
  if (!indexed.empty())
    return broken(indexed.begin()->first, "object index names a record that does not exist");
  if (options.store_versions) {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<ObjectRef> missing,
                            UnrecordedVersions(data_dir, options.store_versions));
    rep.store_checked = true;
    if (!missing.empty())
      return broken(0, std::to_string(missing.size()) +
                           " stored object version(s) have no object.written record (first: " +
                           missing[0].id + " " + missing[0].version + ")");
  }
  return rep;
}

// ---------------------------------------------------------- chain copies

Result<ChainPiece> ReadChainPiece(const std::string& data_dir, int64_t after_seq, size_t limit,
                                  size_t max_bytes) {
  const std::string path = data_dir + "/audit.db";  // named in messages
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenTrailForReading(data_dir));
  Connection& db = *conn;
  // One snapshot: the head, its checkpoints and the records it covers.
  CTIHUB_ASSIGN_OR_RETURN(auto snapshot, ReadSnapshot::Begin(db));
  ChainPiece piece;
  ChainSeal head;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement h,
        Prepare(db,
                "SELECT seq, hash, public_key, signature, (SELECT count(*) FROM audit_checkpoint) "
                "FROM audit_head WHERE id = 1",
                "read head"));
    CTIHUB_ASSIGN_OR_RETURN(bool row, Step(db, h, "read head"));
    if (!row) return NotFound("no_head", path + ": the trail has no signed head");
    head = {h.Int(0), h.String(1), h.Int(4), h.String(3)};
    piece.public_key_hex = h.String(2);
  }
  if (head.signature.empty() || piece.public_key_hex.empty())
    return Conflict("unsigned_head", path + ": the trail's head is not signed (no node key)");
  piece.head_seq = head.seq;
  CTIHUB_ASSIGN_OR_RETURN(
      Statement s,
      Prepare(db, std::string(kSelectColumns) + " WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
              "read records"));
  s.Bind(1, after_seq).Bind(2, head.seq).Bind(3, static_cast<int64_t>(limit));
  size_t bytes = 0;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, Step(db, s, "read records"));
    if (!row) break;
    Record r = RowToRecord(s);
    ChainEntry e{r.seq, r.hash, r.prev_hash, r.action, CanonicalText(r, s.Text(8))};
    if (Sha256Hex(e.text) != e.hash || s.Text(1) != r.time.Format(6))
      return Conflict("audit_trail_changed", path + ": record " + std::to_string(r.seq) +
                                                 " does not match its hash (changed)");
    bytes += e.text.size();
    piece.records.push_back(std::move(e));
    if (bytes >= max_bytes) break;
  }
  const int64_t last = piece.records.empty() ? after_seq : piece.records.back().seq;
  CTIHUB_ASSIGN_OR_RETURN(
      Statement c,
      Prepare(db,
              "SELECT seq, hash, signature FROM audit_checkpoint WHERE seq > ? AND seq <= ? "
              "ORDER BY seq",
              "read checkpoints"));
  c.Bind(1, after_seq).Bind(2, last);
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, Step(db, c, "read checkpoints"));
    if (!row) break;
    piece.checkpoints.push_back({c.Int(0), c.String(1), 0, c.String(2)});
  }
  if (last == head.seq) piece.head = head;
  return piece;
}

Record CrossCheckRecord(const std::vector<WitnessedHead>& heads) {
  Record r;
  r.user = std::string(kAuditActor);
  r.action = std::string(action::kCrossCheck);
  r.route = "audit crosscheck";
  json::JsonWriter w(r.details);
  w.BeginObject().Key("nodes").BeginArray();
  for (const WitnessedHead& h : heads) {
    w.BeginObject().Key("hash").String(h.hash).Key("node").String(h.node).Key("seq").Int(h.seq);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return r;
}

// ---------------------------------------------------------------- queries

namespace {

// The WHERE clause of `f` (parameters ?1..?6, ?9; paging ?8, ?10 when `paged`).
// `recent`: the trail has audit_object_recent (HasRecentIndex).
std::string WhereClause(const Filter& f, bool paged, bool recent) {
  std::string sql = " WHERE 1=1";
  if (!f.user.empty()) sql += " AND user = ?1";
  if (!f.org.empty()) sql += " AND org = ?2";
  if (!f.action.empty()) sql += " AND action = ?3";
  if (f.since) sql += " AND time >= ?4";
  if (f.until) sql += " AND time < ?5";
  if (!f.object_id.empty())
    sql +=
        " AND seq IN (SELECT seq FROM " + ObjectIndexSql(recent, "?11") + " WHERE object_id = ?6)";
  if (!f.org_or_naming_objects.empty()) sql += " AND (org = ?9 OR objects != '[]')";
  if (paged && f.after_seq > 0) sql += " AND seq > ?8";
  if (paged && f.before_seq > 0) sql += " AND seq < ?10";
  return sql;
}

void BindFilter(Statement& s, const Filter& f, bool paged, bool recent) {
  if (!f.user.empty()) s.Bind(1, f.user);
  if (!f.org.empty()) s.Bind(2, f.org);
  if (!f.action.empty()) s.Bind(3, f.action);
  if (f.since) s.Bind(4, f.since->Format(6));
  if (f.until) s.Bind(5, f.until->Format(6));
  if (!f.object_id.empty()) s.Bind(6, f.object_id);
  if (!f.object_id.empty() && recent) s.Bind(11, ExportIndexBucket(f.object_id));
  if (!f.org_or_naming_objects.empty()) s.Bind(9, f.org_or_naming_objects);
  if (paged && f.after_seq > 0) s.Bind(8, f.after_seq);
  if (paged && f.before_seq > 0) s.Bind(10, f.before_seq);
}

}  // namespace

Result<std::vector<Record>> Query(const std::string& data_dir, const Filter& f) {
  std::string path = data_dir + "/audit.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no audit trail");
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenDb(path, true));
  const bool recent = HasRecentIndex(*conn);
  std::string sql = kSelectColumns + WhereClause(f, true, recent);
  sql += f.newest_first ? " ORDER BY seq DESC LIMIT ?7" : " ORDER BY seq LIMIT ?7";
  CTIHUB_ASSIGN_OR_RETURN(Statement s, Prepare(*conn, sql, "query"));
  BindFilter(s, f, true, recent);
  s.Bind(7, f.limit > 0 ? f.limit : int64_t{1} << 62);
  std::vector<Record> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, Step(*conn, s, "query"));
    if (!row) break;
    out.push_back(RowToRecord(s));
  }
  return out;
}

Result<int64_t> Count(const std::string& data_dir, const Filter& f) {
  std::string path = data_dir + "/audit.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no audit trail");
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenDb(path, true));
  const bool recent = HasRecentIndex(*conn);
  std::string sql = "SELECT count(*) FROM audit_record" + WhereClause(f, false, recent);
  CTIHUB_ASSIGN_OR_RETURN(Statement s, Prepare(*conn, sql, "count"));
  BindFilter(s, f, false, recent);
  CTIHUB_RETURN_IF_ERROR(StepToRow(*conn, s, "count"));
  return s.Int(0);
}

Result<int64_t> UnmergedIndexRowsForTest(const std::string& data_dir) {
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenDb(data_dir + "/audit.db", true));
  if (!HasRecentIndex(*conn)) return int64_t{0};
  return RecentIndexRows(*conn);
}

namespace {

// The records of `actions` (at most three) that name `object_id`, oldest
// first, each with the named version's grant.
Result<std::vector<Viewing>> RecordsNaming(const std::string& data_dir, std::string_view object_id,
                                           std::string_view a1, std::string_view a2,
                                           std::string_view a3) {
  std::string path = data_dir + "/audit.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no audit trail");
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenDb(path, true));
  const bool recent = HasRecentIndex(*conn);
  CTIHUB_ASSIGN_OR_RETURN(
      Statement s,
      Prepare(
          *conn,
          "SELECT r.seq, r.time, r.user, r.org, o.version, r.action, r.route, r.objects "
          "FROM " +
              ObjectIndexSql(recent, "?4") +
              " o "
              "JOIN audit_record r ON r.seq = o.seq WHERE o.object_id = ?1 AND r.action IN (?2, "
              "?3, ?5) ORDER BY r.seq",
          "who-saw"));
  s.Bind(1, object_id).Bind(2, a1).Bind(3, a2);
  s.Bind(5, a3);
  if (recent) s.Bind(4, ExportIndexBucket(object_id));
  std::vector<Viewing> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, Step(*conn, s, "who-saw"));
    if (!row) break;
    Viewing v;
    v.seq = s.Int(0);
    auto t = Timestamp::Parse(s.Text(1));
    if (t.ok()) v.time = *t;
    v.user = s.String(2);
    v.org = s.String(3);
    v.version = s.String(4);
    v.action = s.String(5);
    v.route = s.String(6);
    for (ObjectRef& o : ParseObjectList(s.Text(7))) {
      if (o.id != object_id || o.version != v.version) continue;
      v.grant = std::move(o.grant);
      v.redacted = o.redacted;
      break;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

Result<std::vector<Viewing>> WhoSaw(const std::string& data_dir, std::string_view object_id) {
  return RecordsNaming(data_dir, object_id, action::kObjectServed, action::kExport,
                       action::kSyncPushed);
}

Result<std::vector<Viewing>> WhereFrom(const std::string& data_dir, std::string_view object_id) {
  return RecordsNaming(data_dir, object_id, action::kObjectWritten, action::kObjectWritten,
                       action::kObjectWritten);
}

std::string SourcePeer(std::string_view route) {
  constexpr std::string_view kPrefix = "sync peer ";
  if (!route.starts_with(kPrefix)) return "";
  route.remove_prefix(kPrefix.size());
  return std::string(route.substr(0, route.find(' ')));
}

// ---------------------------------------------------------------- store cross-check

namespace {

constexpr size_t kListPage = 1000;
constexpr size_t kObjectsPerRecoveredRecord = 1000;

// The last reconciliation's watermark; 0 (check everything) when there is none
// or its details cannot be read.
Result<int64_t> ReconciledThrough(Connection& db) {
  CTIHUB_ASSIGN_OR_RETURN(
      Statement s,
      Prepare(db, "SELECT details FROM audit_record WHERE action = ?1 ORDER BY seq DESC LIMIT 1",
              "read the last reconciliation"));
  s.Bind(1, action::kStoreReconciled);
  CTIHUB_ASSIGN_OR_RETURN(bool row, Step(db, s, "read the last reconciliation"));
  if (!row) return int64_t{0};
  std::string details = s.String(0);
  json::JsonParser p;
  auto e = p.Parse(details);
  int64_t through = 0;
  if (!e.ok() || (*e)["through_date_added"].get_int64().get(through) != simdjson::SUCCESS)
    return int64_t{0};
  return through;
}

}  // namespace

Result<std::vector<ObjectRef>> UnrecordedVersions(const std::string& data_dir,
                                                  const StoredVersionLister& list, int64_t after_us,
                                                  int64_t* through) {
  CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenTrailForReading(data_dir));
  Connection& db = *conn;
  CTIHUB_ASSIGN_OR_RETURN(
      Statement written,
      Prepare(db,
              "SELECT 1 FROM audit_object o JOIN audit_record r ON r.seq = o.seq "
              "WHERE o.object_id = ?1 AND (o.version = ?2 OR o.version = '') AND r.action = ?3 "
              "LIMIT 1",
              "prepare the cross-check"));
  std::vector<ObjectRef> missing;
  int64_t last = after_us;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<StoredVersion> page, list(last, kListPage));
    for (StoredVersion& v : page) {
      written.Bind(1, v.ref.id).Bind(2, v.ref.version).Bind(3, action::kObjectWritten);
      auto row = written.Step();
      if (!row.ok()) return SqlError(db, "cross-check");
      written.Reset();
      if (!*row) missing.push_back(std::move(v.ref));
      last = std::max(last, v.date_added_us);
    }
    if (page.size() < kListPage) break;
  }
  if (through != nullptr) *through = last;
  return missing;
}

Result<ReconcileReport> ReconcileWrites(AuditLog& log, const std::string& data_dir,
                                        const StoredVersionLister& list) {
  CTIHUB_RETURN_IF_ERROR(log.Flush());
  ReconcileReport rep;
  {
    CTIHUB_ASSIGN_OR_RETURN(auto conn, OpenTrailForReading(data_dir));
    CTIHUB_ASSIGN_OR_RETURN(rep.checked_after, ReconciledThrough(*conn));
  }
  CTIHUB_ASSIGN_OR_RETURN(std::vector<ObjectRef> missing,
                          UnrecordedVersions(data_dir, list, rep.checked_after, &rep.through));
  rep.recovered = static_cast<int64_t>(missing.size());
  for (size_t i = 0; i < missing.size(); i += kObjectsPerRecoveredRecord) {
    Record rec;
    rec.user = std::string(kRecoveryActor);
    rec.action = std::string(action::kObjectWritten);
    rec.route = "recovery";
    rec.details =
        R"({"recovered":true,"reason":"stored before a stop that lost its object.written record"})";
    const size_t end = std::min(missing.size(), i + kObjectsPerRecoveredRecord);
    rec.objects.assign(std::make_move_iterator(missing.begin() + static_cast<ptrdiff_t>(i)),
                       std::make_move_iterator(missing.begin() + static_cast<ptrdiff_t>(end)));
    CTIHUB_RETURN_IF_ERROR(log.Append(std::move(rec)));
  }
  Record done;
  done.user = std::string(kRecoveryActor);
  done.action = std::string(action::kStoreReconciled);
  done.route = "recovery";
  done.details = "{\"checked_after\":" + std::to_string(rep.checked_after) +
                 ",\"recovered\":" + std::to_string(rep.recovered) +
                 ",\"through_date_added\":" + std::to_string(rep.through) + "}";
  CTIHUB_RETURN_IF_ERROR(log.Append(std::move(done)));
  CTIHUB_RETURN_IF_ERROR(log.Flush());
  return rep;
}

}  // namespace ctihub::audit
