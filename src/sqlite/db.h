// The hub's one SQLite access layer, a thin RAII wrapper over the SQLite C
// API used by the store's SQLite backend and by the audit trail: a Connection
// owns one sqlite3 handle and a cache of prepared statements (keyed by SQL
// text), a Statement is a borrowed, auto-reset handle on one of them, a
// Transaction rolls back unless committed. Only src/sqlite includes
// <sqlite3.h>; its users link ctihub_sqlite, never SQLite itself.
//
// Thread-safety: a Connection (and its statements) is used by one thread at a
// time; the store guards each connection with a mutex or a pool, the audit log
// hands its connection to its appender thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ctihub::sqlite {

// A prepared statement borrowed from a Connection's cache. Reset (and its
// bindings cleared) when it goes out of scope, so it can be reused.
// Valid while the Connection lives. Column accessors REQUIRE a row (Step()
// returned true); text views stay valid until the next Step().
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQL (?1, ?2, ...).
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view value);  // copied by SQLite
  Statement& BindNull(int index);

  // Steps once: true if a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (INSERT/UPDATE/DELETE), then resets the statement so
  // it can be bound and run again.
  Status Run();
  // Rewinds the statement and clears its bindings (for reuse in a loop).
  void Reset();
  // Rewinds the statement, keeping its bindings (rebind only what changes).
  void Rewind();

  int64_t Int(int col) const;
  std::string_view Text(int col) const;
  std::string String(int col) const { return std::string(Text(col)); }
  bool IsNull(int col) const;

 private:
  sqlite3_stmt* stmt_;
};

// How Connection::Open opens and configures a connection. Each user states its
// own durability settings in `pragmas` (the store's and the audit trail's differ).
struct OpenOptions {
  bool create = true;      // read-write: create the file if it is missing
  bool read_only = false;  // SQLITE_OPEN_READONLY (`create` is ignored)
  int busy_timeout_ms = 10000;
  int64_t cache_kib = 0;  // page cache of this connection; 0 keeps SQLite's default
  // Run after opening, before the page cache size is set, e.g.
  // "PRAGMA synchronous=FULL;"; empty: none.
  std::string pragmas;
};

class Connection {
 public:
  // Opens `path` with extended result codes and the busy timeout set, then
  // runs `opts.pragmas`. NotFound when the file cannot be opened (missing and
  // not created, unreadable directory), else the status of FromSqlite.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, const OpenOptions& opts);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results (schema, pragmas).
  Status Exec(std::string_view sql);
  // Returns a cached prepared statement for `sql` (prepared on first use).
  Result<Statement> Prepare(const std::string& sql);
  // Runs a single-value query such as "PRAGMA user_version".
  Result<int64_t> QueryInt(const std::string& sql);

  int64_t LastInsertRowid() const;
  int64_t Changes() const;
  // Status for the connection's last error, prefixed with `what`.
  Status LastError(std::string_view what) const;
  // SQLite's English text for the connection's last error (sqlite3_errmsg),
  // for callers that build their own Status; "not an error" after a success.
  std::string ErrorMessage() const;

  // Calls `on_commit(wal_pages)` after each commit of this connection to the
  // write-ahead log, with the log's size in pages. Replaces SQLite's automatic
  // checkpoint on this connection (the caller then checkpoints, see
  // CheckpointPassive). `on_commit` runs on the committing thread and must not
  // use this connection. Empty: back to no hook (and no automatic checkpoint).
  using WalCommitHook = std::function<void(int wal_pages)>;
  void SetWalCommitHook(WalCommitHook on_commit);
  // Copies what it can of the write-ahead log into the database without
  // waiting for readers or writers (SQLITE_CHECKPOINT_PASSIVE). Busy is not an
  // error worth acting on: the next checkpoint retries.
  Status CheckpointPassive();

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int wal_pages);
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  WalCommitHook wal_hook_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> Begin(Connection& conn);
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Connection& conn_;
  bool done_ = false;
};

// Maps an SQLite result code to a Status (busy/locked: Unavailable,
// constraint: Conflict, anything else: Internal).
Status FromSqlite(int rc, std::string message);

}  // namespace ctihub::sqlite
