#include "store/postgres/pg.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <utility>

namespace ctihub::store::pg {

namespace {

// PostgreSQL type oids (pg_type.dat; stable across versions).
constexpr unsigned kInt8Oid = 20;
constexpr unsigned kTextOid = 25;
constexpr unsigned kTextArrayOid = 1009;
constexpr unsigned kInt8ArrayOid = 1016;

void PutInt32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void PutInt64(std::string& out, int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xff);
}

// The binary form of a one-dimensional array without NULLs (array_send).
std::string ArrayHeader(unsigned element_oid, size_t n) {
  std::string out;
  PutInt32(out, n == 0 ? 0 : 1);  // dimensions
  PutInt32(out, 0);               // no NULLs
  PutInt32(out, element_oid);
  if (n > 0) {
    PutInt32(out, static_cast<uint32_t>(n));
    PutInt32(out, 1);  // lower bound
  }
  return out;
}

}  // namespace

// ---- Params ----------------------------------------------------------------------

Params& Params::Int(int64_t v) {
  std::string b;
  PutInt64(b, v);
  values_.push_back(std::move(b));
  types_.push_back(kInt8Oid);
  formats_.push_back(1);
  return *this;
}

Params& Params::Text(std::string_view v) {
  values_.emplace_back(v);
  types_.push_back(kTextOid);
  formats_.push_back(1);
  return *this;
}

Params& Params::IntArray(const std::vector<int64_t>& v) {
  std::string b = ArrayHeader(kInt8Oid, v.size());
  for (int64_t x : v) {
    PutInt32(b, 8);
    PutInt64(b, x);
  }
  values_.push_back(std::move(b));
  types_.push_back(kInt8ArrayOid);
  formats_.push_back(1);
  return *this;
}

Params& Params::TextArray(const std::vector<std::string>& v) {
  size_t bytes = 20;
  for (const auto& s : v) bytes += 4 + s.size();
  std::string b = ArrayHeader(kTextOid, v.size());
  b.reserve(bytes);
  for (const auto& s : v) {
    PutInt32(b, static_cast<uint32_t>(s.size()));
    b += s;
  }
  values_.push_back(std::move(b));
  types_.push_back(kTextArrayOid);
  formats_.push_back(1);
  return *this;
}

// ---- Rows ------------------------------------------------------------------------

Rows::Rows(pg_result* r) : r_(r), rows_(r != nullptr ? PQntuples(r) : 0) {}

Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (r_ != nullptr) PQclear(r_);
    r_ = o.r_;
    rows_ = o.rows_;
    o.r_ = nullptr;
    o.rows_ = 0;
  }
  return *this;
}

Rows::~Rows() {
  if (r_ != nullptr) PQclear(r_);
}

std::string_view Rows::Text(int row, int col) const {
  if (PQgetisnull(r_, row, col)) return {};
  return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
}

int64_t Rows::Int(int row, int col) const {
  std::string_view t = Text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

bool Rows::Bool(int row, int col) const {
  std::string_view t = Text(row, col);
  return t == "t" || (!t.empty() && t != "f" && t != "0");
}

int64_t Rows::Affected() const {
  const char* n = r_ != nullptr ? PQcmdTuples(r_) : "";
  int64_t v = 0;
  std::from_chars(n, n + std::strlen(n), v);
  return v;
}

// ---- Connection ------------------------------------------------------------------

bool ValidSchemaName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  for (char c : s) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url,
                                                     const std::string& schema) {
  if (!schema.empty() && !ValidSchemaName(schema)) {
    return InvalidArgument("bad_db_schema", "schema name must match [a-z_][a-z0-9_]*");
  }
  // connect_timeout first: a value in `url` overrides it (expand_dbname).
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  // The application name says which store a session serves (pg_stat_activity).
  const std::string app = schema.empty() ? "ctihub" : "ctihub/" + schema;
  const char* values[] = {"10", app.c_str(), url.c_str(), nullptr};
  pg_conn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c == nullptr) return Internal("postgres: out of memory connecting");
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Unavailable("db_unavailable", "cannot connect to PostgreSQL: " + why);
  }
  // Server notices ("schema ... already exists, skipping") are not errors:
  // libpq would print them on stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Connection> conn(new Connection(c, schema));
  CTIHUB_RETURN_IF_ERROR(conn->SetUpSession());
  return conn;
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool Connection::Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

bool Connection::InOpenTransaction() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_INTRANS;
}

Status Connection::SetUpSession() {
  // Plan every execution with its parameter values. A generic plan cannot see
  // that `date_added > $2 ... ORDER BY date_added LIMIT $7` wants an ordered
  // index walk: measured, it scanned and sorted the whole collection for each
  // page (121 ms instead of 0.7 ms at 20,000 objects, paging in O(n^2)).
  // Statements stay prepared: parsed once, planned per call (~0.1 ms).
  CTIHUB_RETURN_IF_ERROR(Exec("SET plan_cache_mode = force_custom_plan"));
  if (schema_.empty()) return Status::Ok();
  // Quoting is not needed: ValidSchemaName allows only [a-z0-9_].
  return Exec("SET search_path TO " + schema_);
}

Status Connection::EnsureConnected() {
  if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
  if (in_transaction_) return Unavailable("db_unavailable", "PostgreSQL connection lost");
  prepared_.clear();  // a new session has none of them
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Unavailable("db_unavailable", "PostgreSQL is unreachable: " + why);
  }
  return SetUpSession();
}

Status Connection::ErrorFrom(pg_result* r, std::string_view what) {
  std::string message = r != nullptr ? PQresultErrorMessage(r) : "";
  if (message.empty()) message = PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state != nullptr ? state : "";  // a copy: PQclear frees `state`
  if (r != nullptr) PQclear(r);
  std::string text = "postgres: " + std::string(what) + ": " + message;
  if (PQstatus(conn_) != CONNECTION_OK) return Unavailable("db_unavailable", text);
  // Class 23: integrity constraint violation (unique, foreign key, ...).
  const std::string_view cls = std::string_view(code).substr(0, 2);
  if (cls == "23") return Conflict(text);
  // Class 08 connection exception; 57P0x the server is shutting down or
  // starting; 53 insufficient resources; 40001/40P01 serialisation failure
  // or deadlock (retrying may succeed).
  if (cls == "08" || code.rfind("57P0", 0) == 0 || cls == "53" || code == "40001" ||
      code == "40P01") {
    return Unavailable("db_unavailable", text);
  }
  return Internal(text);
}

Result<Rows> Connection::Query(const std::string& sql, const Params& params) {
  CTIHUB_RETURN_IF_ERROR(EnsureConnected());
  std::string key = sql;
  key += '\0';
  for (unsigned t : params.types_) key += std::to_string(t) + ",";
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    // Query texts vary with the filters (IN lists, scope grants): bound what
    // the session keeps (each prepared statement holds server memory).
    if (prepared_.size() >= kMaxPreparedStatements) {
      CTIHUB_RETURN_IF_ERROR(Exec("DEALLOCATE ALL"));
      prepared_.clear();
    }
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    pg_result* r = PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(params.size()),
                             params.types_.data());
    if (r == nullptr || PQresultStatus(r) != PGRES_COMMAND_OK) return ErrorFrom(r, "prepare");
    PQclear(r);
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  const int n = static_cast<int>(params.size());
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  pg_result* r = PQexecPrepared(conn_, it->second.c_str(), n, values.data(), lengths.data(),
                                params.formats_.data(), /*resultFormat=*/0);
  if (r == nullptr) return ErrorFrom(nullptr, "query");
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ErrorFrom(r, "query");
  return Rows(r);
}

Status Connection::Exec(const std::string& sql) {
  CTIHUB_RETURN_IF_ERROR(EnsureConnected());
  pg_result* r = PQexec(conn_, sql.c_str());
  if (r == nullptr) return ErrorFrom(nullptr, "exec");
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return ErrorFrom(r, "exec");
  PQclear(r);
  return Status::Ok();
}

// ---- Transaction -----------------------------------------------------------------

Result<std::unique_ptr<Transaction>> Transaction::Begin(Connection& c, std::string_view mode) {
  std::string sql = "BEGIN";
  if (!mode.empty()) sql += " " + std::string(mode);
  CTIHUB_RETURN_IF_ERROR(c.Exec(sql));
  c.in_transaction_ = true;
  return std::unique_ptr<Transaction>(new Transaction(c));
}

Transaction::~Transaction() {
  if (done_) return;
  if (PQstatus(c_.conn_) == CONNECTION_OK) (void)c_.Exec("ROLLBACK");
  c_.in_transaction_ = false;
}

Status Transaction::Commit() {
  done_ = true;
  c_.in_transaction_ = false;
  // COMMIT of an aborted transaction "succeeds" as a ROLLBACK: refuse it.
  if (!c_.InOpenTransaction()) {
    (void)c_.Exec("ROLLBACK");
    return Unavailable("db_unavailable", "postgres: the transaction was lost before COMMIT");
  }
  return c_.Exec("COMMIT");
}

}  // namespace ctihub::store::pg
