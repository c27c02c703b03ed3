#include "sqlite/db.h"

#include <sqlite3.h>

#include <mutex>
#include <string>

namespace ctihub::sqlite {

Status FromSqlite(int rc, std::string message) {
  message += ": ";
  message += sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      return Conflict(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

// ---- Statement -----------------------------------------------------------------

Statement::~Statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  return FromSqlite(rc, std::string("sqlite step: ") + sqlite3_errmsg(db));
}

Status Statement::Run() {
  Status result;
  for (;;) {
    auto row = Step();
    if (!row.ok()) {
      result = row.status();
      break;
    }
    if (!*row) break;
  }
  sqlite3_reset(stmt_);
  return result;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Rewind() { sqlite3_reset(stmt_); }

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string_view Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// ---- Connection ----------------------------------------------------------------

namespace {
// SQLite counts every allocation under a global mutex (memory statistics)
// unless told not to before it initialises; nothing here reads the counters.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     const OpenOptions& opts) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX;
  if (opts.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (opts.create) flags |= SQLITE_OPEN_CREATE;
  }
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open database " + path;
    if (db != nullptr) msg += std::string(" (") + sqlite3_errmsg(db) + ")";
    sqlite3_close_v2(db);
    if ((rc & 0xff) == SQLITE_CANTOPEN) return NotFound(msg);
    return FromSqlite(rc, msg);
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, opts.busy_timeout_ms);
  if (!opts.pragmas.empty()) CTIHUB_RETURN_IF_ERROR(conn->Exec(opts.pragmas));
  if (opts.cache_kib > 0) {
    CTIHUB_RETURN_IF_ERROR(conn->Exec("PRAGMA cache_size=-" + std::to_string(opts.cache_kib)));
  }
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = "sqlite exec";
  if (err != nullptr) {
    msg += std::string(" (") + err + ")";
    sqlite3_free(err);
  }
  return FromSqlite(rc, msg);
}

Result<Statement> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Statement(it->second);
  // Dynamic queries (IN lists of varying length) could grow the cache without
  // bound; a simple flush keeps it small and the common shapes come back fast.
  constexpr size_t kMaxCached = 256;
  if (cache_.size() >= kMaxCached) {
    for (auto& [text, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return FromSqlite(rc, std::string("sqlite prepare (") + sqlite3_errmsg(db_) + ")");
  }
  cache_.emplace(sql, stmt);
  return Statement(stmt);
}

Result<int64_t> Connection::QueryInt(const std::string& sql) {
  CTIHUB_ASSIGN_OR_RETURN(Statement st, Prepare(sql));
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return NotFound("no row: " + sql);
  return st.Int(0);
}

int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

Status Connection::LastError(std::string_view what) const {
  return FromSqlite(sqlite3_errcode(db_), std::string(what) + " (" + sqlite3_errmsg(db_) + ")");
}

std::string Connection::ErrorMessage() const { return sqlite3_errmsg(db_); }

int Connection::OnWalCommit(void* self, sqlite3*, const char*, int wal_pages) {
  static_cast<Connection*>(self)->wal_hook_(wal_pages);
  return SQLITE_OK;
}

void Connection::SetWalCommitHook(WalCommitHook on_commit) {
  wal_hook_ = std::move(on_commit);
  if (wal_hook_) {
    sqlite3_wal_hook(db_, &Connection::OnWalCommit, this);
  } else {
    sqlite3_wal_hook(db_, nullptr, nullptr);
  }
}

Status Connection::CheckpointPassive() {
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc == SQLITE_OK) return Status::Ok();
  return FromSqlite(rc, std::string("sqlite checkpoint (") + sqlite3_errmsg(db_) + ")");
}

// ---- Transaction ---------------------------------------------------------------

Result<std::unique_ptr<Transaction>> Transaction::Begin(Connection& conn) {
  CTIHUB_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(conn));
}

Transaction::~Transaction() {
  if (!done_) (void)conn_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Status st = conn_.Exec("COMMIT");
  if (st.ok()) done_ = true;
  return st;
}

}  // namespace ctihub::sqlite
