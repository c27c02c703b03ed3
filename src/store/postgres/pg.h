// A thin RAII layer over libpq for the PostgreSQL store (the only code that
// includes <libpq-fe.h>): a Connection owns one PGconn and a cache of named
// prepared statements (keyed by SQL text and parameter types, bounded), Params carries
// typed parameters (text in binary format with explicit lengths, so no byte is
// reinterpreted or cut off; integers as int8; arrays as int8[]/text[]
// literals), Rows is one complete result. Errors become Status values: a
// unique or foreign-key violation is Conflict, a lost connection or a server
// shutting down is Unavailable (the connection reconnects on its next use),
// everything else Internal.
//
// Thread-safety: a Connection is used by one thread at a time; the store
// guards each one with a mutex or a pool. Private to src/store/postgres.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

struct pg_conn;
struct pg_result;

namespace ctihub::store::pg {

// Parameters of one statement, $1..$n in the order they were added.
class Params {
 public:
  Params& Int(int64_t v);
  Params& Text(std::string_view v);
  Params& IntArray(const std::vector<int64_t>& v);
  Params& TextArray(const std::vector<std::string>& v);
  template <typename Container>
  Params& TextArrayOf(const Container& c) {
    return TextArray(std::vector<std::string>(c.begin(), c.end()));
  }
  size_t size() const { return values_.size(); }
  // The number the next parameter gets ("$N").
  std::string Next() const { return "$" + std::to_string(values_.size() + 1); }

 private:
  friend class Connection;
  std::vector<std::string> values_;
  std::vector<unsigned> types_;  // PostgreSQL type oids
  std::vector<int> formats_;     // 1 binary, 0 text
};

// One complete result. Text-format values; a NULL reads as "" / 0.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* r);
  Rows(Rows&& o) noexcept : r_(o.r_), rows_(o.rows_) { o.r_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept;
  ~Rows();

  int size() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  std::string_view Text(int row, int col) const;
  std::string String(int row, int col) const { return std::string(Text(row, col)); }
  int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const;  // 't' or a non-zero integer
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t Affected() const;

 private:
  pg_result* r_ = nullptr;
  int rows_ = 0;
};

class Connection {
 public:
  // Prepared statements a session keeps at most; past it they are all
  // deallocated and prepared again as used.
  static constexpr size_t kMaxPreparedStatements = 256;

  // Connects to `url` (a libpq connection URI or key=value string) and, when
  // `schema` is not empty, sets the search_path to it. Unavailable when the
  // server cannot be reached.
  static Result<std::unique_ptr<Connection>> Open(const std::string& url,
                                                  const std::string& schema);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` as a prepared statement (prepared once per connection).
  Result<Rows> Query(const std::string& sql, const Params& params = Params());
  Status Run(const std::string& sql, const Params& params = Params()) {
    return Query(sql, params).status();
  }
  // Runs one or more statements without parameters (simple protocol).
  Status Exec(const std::string& sql);

  // Whether the connection is still usable (false after the server went away).
  bool Healthy() const;

 private:
  Connection(pg_conn* c, std::string schema) : conn_(c), schema_(std::move(schema)) {}
  // Reconnects a broken connection (statements are prepared again).
  Status EnsureConnected();
  // Session settings: custom plans, the search_path.
  Status SetUpSession();
  Status ErrorFrom(pg_result* r, std::string_view what);

  friend class Transaction;
  // Whether the session has the open transaction a Transaction began.
  bool InOpenTransaction() const;

  pg_conn* conn_;
  std::string schema_;
  // A Transaction is open: a lost connection is not replaced under it (the
  // statements after a reconnect would run outside it), it fails.
  bool in_transaction_ = false;
  std::unordered_map<std::string, std::string> prepared_;  // key -> statement name
};

// RAII transaction: BEGIN on creation, ROLLBACK on destruction unless committed.
class Transaction {
 public:
  // `mode` follows BEGIN, e.g. "ISOLATION LEVEL REPEATABLE READ READ ONLY".
  static Result<std::unique_ptr<Transaction>> Begin(Connection& c, std::string_view mode = "");
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Connection& c) : c_(c) {}
  Connection& c_;
  bool done_ = false;
};

// A schema name the store accepts: [a-z_][a-z0-9_]{0,62} (no quoting needed).
bool ValidSchemaName(std::string_view s);

}  // namespace ctihub::store::pg
