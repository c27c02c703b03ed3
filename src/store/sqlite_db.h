// Thin RAII wrapper over the SQLite C API used by the SQLite store backend:
// a Connection owns one sqlite3 handle and a cache of prepared statements
// (keyed by SQL text), a Statement is a borrowed, auto-reset handle on one of
// them, a Transaction rolls back unless committed.
//
// Thread-safety: a Connection (and its statements) is used by one thread at a
// time; the store guards each connection with a mutex or a pool.
// Private to src/store.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ctihub::store::sqlite {

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

struct OpenOptions {
  bool create = true;
  int busy_timeout_ms = 10000;
  int64_t cache_kib = 16384;  // page cache per connection
};

class Connection {
 public:
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
  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
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

}  // namespace ctihub::store::sqlite
