// SqliteStore: STIX object versions. The single writer thread (group commit),
// keyset-paginated queries and deletes.
#include <algorithm>
#include <exception>
#include <set>
#include <utility>
#include <variant>

#include "store/cursor.h"
#include "store/sqlite_store.h"

namespace ctihub::store {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

constexpr size_t kDefaultLimit = 1000;
constexpr size_t kMaxLimit = 100000;
constexpr size_t kMaxFilterValues = 1000;  // per match[...] list; bounds the SQL we build

// Versions are stored as Timestamp::Format(9): fixed width, so text order is time order.
std::string VersionKey(const Timestamp& t) { return t.Format(9); }

Status ValidateNewObject(const NewObject& o) {
  if (o.id.empty() || o.id.find("--") == std::string::npos) {
    return InvalidArgument("bad_object: id '" + o.id + "' is not type--uuid");
  }
  if (o.type.empty()) return InvalidArgument("bad_object: empty type for " + o.id);
  if (o.spec_version.empty()) return InvalidArgument("bad_object: empty spec_version for " + o.id);
  if (o.json.empty()) return InvalidArgument("bad_object: empty json for " + o.id);
  return Status::Ok();
}

// A parameterised SQL text built from an ObjectQuery.
struct SqlBuilder {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;

  void Param(int64_t v) {
    sql += '?';
    params.emplace_back(v);
  }
  void Param(std::string v) {
    sql += '?';
    params.emplace_back(std::move(v));
  }
  void InList(std::string_view column, const std::vector<std::string>& values) {
    sql += " AND ";
    sql += column;
    sql += " IN (";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) sql += ',';
      Param(values[i]);
    }
    sql += ')';
  }
  void BindAll(Statement& st) const {
    int i = 1;
    for (const auto& p : params) {
      if (const auto* n = std::get_if<int64_t>(&p)) {
        st.Bind(i++, *n);
      } else {
        st.Bind(i++, std::get<std::string>(p));
      }
    }
  }
};

Status CheckFilterSizes(const ObjectQuery& q) {
  if (q.ids.size() > kMaxFilterValues || q.types.size() > kMaxFilterValues ||
      q.spec_versions.size() > kMaxFilterValues || q.versions.size() > kMaxFilterValues) {
    return LimitExceeded("too_many_filter_values: at most " + std::to_string(kMaxFilterValues) +
                         " values per match[] filter");
  }
  return Status::Ok();
}

// Appends " WHERE ..." for the filters of q (collection, date_added lower
// bound, ids, `types` (q.types or a subset of it), spec_version, version selection).
void AppendWhere(const ObjectQuery& q, const std::vector<std::string>& types, int64_t after_us,
                 SqlBuilder& b) {
  b.sql += " WHERE collection = ";
  b.Param(q.collection_id);
  b.sql += " AND date_added > ";
  b.Param(after_us);
  if (!q.ids.empty()) b.InList("id", q.ids);
  if (!types.empty()) b.InList("type", types);
  // TAXII 2.1: without match[spec_version] only the latest spec version of each object.
  if (q.spec_versions.empty()) {
    b.sql += " AND spec_latest = 1";
  } else {
    b.InList("spec_version", q.spec_versions);
  }
  if (q.version_all) return;
  std::vector<std::string> alternatives;
  if (q.version_last) alternatives.emplace_back("is_latest = 1");
  if (q.version_first) alternatives.emplace_back("is_first = 1");
  b.sql += " AND (";
  for (size_t i = 0; i < alternatives.size(); ++i) {
    if (i > 0) b.sql += " OR ";
    b.sql += alternatives[i];
  }
  if (!q.versions.empty()) {
    if (!alternatives.empty()) b.sql += " OR ";
    b.sql += "version IN (";
    for (size_t i = 0; i < q.versions.size(); ++i) {
      if (i > 0) b.sql += ',';
      b.Param(VersionKey(q.versions[i]));
    }
    b.sql += ')';
  } else if (alternatives.empty()) {
    b.sql += "is_latest = 1";  // nothing selected: the TAXII default
  }
  b.sql += ')';
}

// The SELECT of one page (limit rows). Plans: an id list looks ids up in
// (collection, id, version) and sorts the few rows; one type walks
// (collection, type, date_added); several types (up to kMaxTypeUnion) become
// a UNION ALL of per-type walks, each stopping after `limit` rows, merged by a
// small sort -- a plain `type IN (...)` would walk the whole collection when
// the types are rare. Otherwise (collection, date_added) is walked in order.
constexpr size_t kMaxTypeUnion = 16;

SqlBuilder BuildSelect(const ObjectQuery& q, int64_t after, size_t limit) {
  const std::string columns = std::string("date_added, id, type, spec_version, version, "
                                          "version_digits") + (q.include_json ? ", json" : ", ''");
  SqlBuilder b;
  if (q.ids.empty() && q.types.size() > 1 && q.types.size() <= kMaxTypeUnion) {
    // Merge the per-type walks on date_added alone, then fetch the rows of
    // the page by rowid (already in order): cheaper than merging whole rows.
    std::set<std::string> distinct(q.types.begin(), q.types.end());
    b.sql = "SELECT " + columns + " FROM objects WHERE date_added IN (";
    bool first = true;
    for (const auto& t : distinct) {
      if (!first) b.sql += " UNION ALL ";
      first = false;
      b.sql += "SELECT * FROM (SELECT date_added FROM objects";
      AppendWhere(q, {t}, after, b);
      b.sql += " ORDER BY date_added LIMIT ";
      b.Param(static_cast<int64_t>(limit));
      b.sql += ')';
    }
    b.sql += " ORDER BY 1 LIMIT ";
    b.Param(static_cast<int64_t>(limit));
    b.sql += ") ORDER BY date_added";
    return b;
  }
  b.sql = "SELECT " + columns + " FROM objects";
  // Without statistics SQLite prefers walking (collection, date_added) to skip
  // the sort; for an id list the (collection, id, version) lookup is far cheaper.
  if (!q.ids.empty()) b.sql += " INDEXED BY objects_id";
  AppendWhere(q, q.types, after, b);
  b.sql += " ORDER BY date_added LIMIT ";
  b.Param(static_cast<int64_t>(limit));
  return b;
}

Result<Timestamp> StoredVersion(std::string_view key, int64_t digits) {
  auto ts = Timestamp::Parse(key);
  if (!ts.ok()) return Internal("corrupt version in store: " + std::string(key));
  return Timestamp(ts->seconds(), ts->nanos(), static_cast<uint8_t>(std::clamp<int64_t>(digits, 0, 9)));
}

// The version text a status resource shows for an object.
std::string StatusVersionText(const NewObject& o, int64_t date_added_us) {
  return o.has_version ? o.version.ToString() : Timestamp::FromMicros(date_added_us).ToString();
}

}  // namespace

// ---- writing -------------------------------------------------------------------

std::future<Result<std::vector<WriteOutcome>>> SqliteStore::WriteObjects(
    std::string collection_id, std::vector<NewObject> objects, std::string status_id) {
  std::promise<Result<std::vector<WriteOutcome>>> done;
  for (const auto& o : objects) {
    Status s = ValidateNewObject(o);
    if (!s.ok()) {
      auto future = done.get_future();
      done.set_value(s);
      return future;
    }
  }
  WriteRequest req;
  req.collection_id = std::move(collection_id);
  req.objects = std::move(objects);
  req.status_id = std::move(status_id);
  req.done = std::move(done);
  return Enqueue(std::move(req));
}

std::future<Result<std::vector<WriteOutcome>>> SqliteStore::Enqueue(WriteRequest req) {
  auto future = req.done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(req));
      queue_cv_.notify_one();
      return future;
    }
  }
  req.done.set_value(Unavailable("store_closing: the store is shutting down"));
  return future;
}

void SqliteStore::WriterLoop() {
  for (;;) {
    std::vector<WriteRequest> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      batch = TakeBatch(lock);
    }
    CommitBatch(batch);
  }
}

// REQUIRES: queue_mu_ held, queue_ not empty.
std::vector<SqliteStore::WriteRequest> SqliteStore::TakeBatch(std::unique_lock<std::mutex>&) {
  std::vector<WriteRequest> batch;
  size_t objects = 0;
  while (!queue_.empty()) {
    size_t n = queue_.front().objects.size();
    if (!batch.empty() && objects + n > opts_.max_batch_objects) break;
    objects += n;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

void SqliteStore::CommitBatch(std::vector<WriteRequest>& batch) {
  auto results = WriteBatchTxn(batch);
  if (results.ok()) {
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move((*results)[i]));
    return;
  }
  // A request-specific failure (unknown collection, duplicate status id) is
  // isolated by retrying each request alone; a store-wide one (the database
  // is locked by another process beyond busy_timeout, disk full) fails them all.
  const bool store_wide = results.status().code() == ErrorCode::kUnavailable ||
                          results.status().code() == ErrorCode::kInternal;
  if (batch.size() > 1 && !store_wide) {
    // Isolate the request that broke the shared transaction.
    for (auto& req : batch) {
      std::vector<WriteRequest> one;
      one.push_back(std::move(req));
      CommitBatch(one);
    }
    return;
  }
  for (WriteRequest& req : batch) {
    if (!req.status_id.empty()) RecordFailure(req, results.status());
    req.done.set_value(results.status());
  }
}

// Marks the objects of a failed request as failures in its status resource,
// so the status does not stay pending forever. Best effort.
void SqliteStore::RecordFailure(const WriteRequest& req, const Status& why) {
  auto txn = Transaction::Begin(*writer_conn_);
  if (!txn.ok()) return;
  std::vector<int64_t> no_dates(req.objects.size(), 0);
  Status s = UpdateStatus(req.status_id, req.objects, {}, no_dates, why.message());
  if (s.ok()) (void)(*txn)->Commit();
}

Result<std::vector<std::vector<WriteOutcome>>> SqliteStore::WriteBatchTxn(
    std::vector<WriteRequest>& batch) {
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*writer_conn_));
  // Another process (an import run from the CLI) may have written meanwhile.
  CTIHUB_ASSIGN_OR_RETURN(int64_t max_in_db, writer_conn_->QueryInt(
                                                 "SELECT COALESCE(MAX(date_added), 0) FROM objects"));
  int64_t last = std::max(last_date_added_, max_in_db);
  std::vector<std::vector<WriteOutcome>> results;
  results.reserve(batch.size());
  for (auto& req : batch) {
    if (req.new_status) {
      CTIHUB_RETURN_IF_ERROR(InsertStatus(*writer_conn_, *req.new_status));
      results.emplace_back();
      continue;
    }
    {
      CTIHUB_ASSIGN_OR_RETURN(Statement st,
                              writer_conn_->Prepare("SELECT 1 FROM collections WHERE id = ?1"));
      st.Bind(1, req.collection_id);
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return NotFound("unknown_collection: no collection '" + req.collection_id + "'");
    }
    std::vector<WriteOutcome> outcomes;
    std::vector<int64_t> dates;
    outcomes.reserve(req.objects.size());
    dates.reserve(req.objects.size());
    for (const auto& obj : req.objects) {
      int64_t before = last;
      CTIHUB_ASSIGN_OR_RETURN(WriteOutcome o, WriteOne(req.collection_id, obj, &last));
      outcomes.push_back(o);
      dates.push_back(last != before ? last : 0);
    }
    if (!req.status_id.empty()) {
      CTIHUB_RETURN_IF_ERROR(UpdateStatus(req.status_id, req.objects, outcomes, dates, ""));
    }
    results.push_back(std::move(outcomes));
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  last_date_added_ = last;
  return results;
}

// Inserts one object version (or finds it already present) and maintains the
// is_latest / is_first / spec_latest flags of its (collection, id).
Result<WriteOutcome> SqliteStore::WriteOne(const std::string& collection_id, const NewObject& obj,
                                           int64_t* last_date_added) {
  Connection& c = *writer_conn_;
  int64_t date_added = std::max(Timestamp::Now().micros(), *last_date_added + 1);
  Timestamp version = obj.has_version ? obj.version : Timestamp::FromMicros(date_added);
  std::string key = VersionKey(version);

  // The rows that currently carry a flag, plus the same version if present.
  bool have_latest = false, have_first = false, have_spec = false;
  int64_t latest_row = 0, first_row = 0;
  std::string latest_key, first_key, max_spec;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT date_added, version, spec_version, is_latest, is_first, spec_latest "
                  "FROM objects WHERE collection = ?1 AND id = ?2 AND "
                  "(version = ?3 OR is_latest = 1 OR is_first = 1 OR spec_latest = 1)"));
    st.Bind(1, collection_id).Bind(2, obj.id).Bind(3, key);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      if (st.Text(1) == key) return WriteOutcome{false, true};
      if (st.Int(3) != 0) {
        have_latest = true;
        latest_row = st.Int(0);
        latest_key = st.String(1);
      }
      if (st.Int(4) != 0) {
        have_first = true;
        first_row = st.Int(0);
        first_key = st.String(1);
      }
      if (st.Int(5) != 0 && (!have_spec || st.Text(2) > max_spec)) {
        have_spec = true;
        max_spec = st.String(2);
      }
    }
  }
  bool is_latest = !have_latest || key > latest_key;
  bool is_first = !have_first || key < first_key;
  bool spec_latest = !have_spec || obj.spec_version >= max_spec;
  if (is_latest && have_latest) {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("UPDATE objects SET is_latest = 0 WHERE date_added = ?1"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, latest_row).Run());
  }
  if (is_first && have_first) {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("UPDATE objects SET is_first = 0 WHERE date_added = ?1"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, first_row).Run());
  }
  if (have_spec && obj.spec_version > max_spec) {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("UPDATE objects SET spec_latest = 0 WHERE collection = ?1 AND "
                                "id = ?2 AND spec_latest = 1"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, collection_id).Bind(2, obj.id).Run());
  }
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO objects(date_added, collection, id, version, version_digits, type, "
                  "spec_version, is_latest, is_first, spec_latest, json) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    st.Bind(1, date_added).Bind(2, collection_id).Bind(3, obj.id).Bind(4, key);
    st.Bind(5, int64_t{version.fraction_digits()}).Bind(6, obj.type).Bind(7, obj.spec_version);
    st.Bind(8, int64_t{is_latest}).Bind(9, int64_t{is_first}).Bind(10, int64_t{spec_latest});
    st.Bind(11, obj.json);
    CTIHUB_RETURN_IF_ERROR(st.Run());
  }
  *last_date_added = date_added;
  return WriteOutcome{true, false};
}

// Moves the status entries of `objects` from pending to success (outcomes
// given) or failure (outcomes empty, `failure_message` set), in the caller's
// transaction. Pendings are matched by object id, preferring the same version
// text, and keep the version text the requester gave; an object without a
// pending entry gets a new entry.
Status SqliteStore::UpdateStatus(const std::string& status_id, const std::vector<NewObject>& objects,
                                 const std::vector<WriteOutcome>& outcomes,
                                 const std::vector<int64_t>& date_added,
                                 const std::string& failure_message) {
  Connection& c = *writer_conn_;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT 1 FROM statuses WHERE id = ?1"));
    st.Bind(1, status_id);
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();  // nothing to update; the caller created no status
  }
  const bool success = !outcomes.empty() || objects.empty();
  const int64_t kind = success ? 0 : 1;
  CTIHUB_ASSIGN_OR_RETURN(
      Statement convert,
      c.Prepare("UPDATE status_details SET kind = ?4, message = ?5 WHERE rowid = "
                "(SELECT rowid FROM status_details WHERE status_id = ?1 AND object_id = ?2 AND "
                "kind = 2 ORDER BY version = ?3 DESC LIMIT 1)"));
  CTIHUB_ASSIGN_OR_RETURN(
      Statement insert,
      c.Prepare("INSERT INTO status_details(status_id, kind, object_id, version, message) "
                "VALUES(?1, ?4, ?2, ?3, ?5)"));
  int64_t converted = 0, added = 0;
  for (size_t i = 0; i < objects.size(); ++i) {
    const NewObject& o = objects[i];
    std::string version = StatusVersionText(o, date_added[i]);
    convert.Bind(1, status_id).Bind(2, o.id).Bind(3, version).Bind(4, kind);
    convert.Bind(5, failure_message);
    CTIHUB_RETURN_IF_ERROR(convert.Run());
    if (c.Changes() > 0) {
      ++converted;
      continue;
    }
    insert.Bind(1, status_id).Bind(2, o.id).Bind(3, version).Bind(4, kind);
    insert.Bind(5, failure_message);
    CTIHUB_RETURN_IF_ERROR(insert.Run());
    ++added;
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("UPDATE statuses SET "
                "success_count = success_count + ?2, failure_count = failure_count + ?3, "
                "pending_count = max(pending_count - ?4, 0), total_count = total_count + ?5, "
                "status = CASE WHEN pending_count - ?4 <= 0 THEN 'complete' ELSE 'pending' END "
                "WHERE id = ?1"));
  int64_t n = static_cast<int64_t>(objects.size());
  st.Bind(1, status_id).Bind(2, success ? n : 0).Bind(3, success ? 0 : n);
  st.Bind(4, converted).Bind(5, added);
  return st.Run();
}

// ---- reading -------------------------------------------------------------------

Result<ObjectPage> SqliteStore::QueryObjects(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  int64_t after = q.added_after_us.value_or(-1);
  if (!q.next.empty()) {
    CTIHUB_ASSIGN_OR_RETURN(int64_t cursor, DecodeCursor(q.next));
    after = std::max(after, cursor);
  }
  size_t limit = q.limit == 0 ? kDefaultLimit : std::min(q.limit, kMaxLimit);

  SqlBuilder b = BuildSelect(q, after, limit + 1);

  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
  b.BindAll(st);
  ObjectPage page;
  page.objects.reserve(std::min<size_t>(limit, 1024));
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (page.objects.size() == limit) {
      page.more = true;
      break;
    }
    ObjectVersion v;
    v.date_added_us = st.Int(0);
    v.id = st.String(1);
    v.type = st.String(2);
    v.spec_version = st.String(3);
    CTIHUB_ASSIGN_OR_RETURN(v.version, StoredVersion(st.Text(4), st.Int(5)));
    v.collection_id = q.collection_id;
    if (q.include_json) v.json = st.String(6);
    page.objects.push_back(std::move(v));
  }
  if (page.more) page.next = EncodeCursor(page.objects.back().date_added_us);
  return page;
}

Result<int64_t> SqliteStore::DeleteObject(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  if (q.ids.empty()) return InvalidArgument("bad_delete: an object id is required");
  SqlBuilder b;
  b.sql = "DELETE FROM objects";
  AppendWhere(q, q.types, q.added_after_us.value_or(-1), b);
  b.sql += " RETURNING id";

  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  int64_t deleted = 0;
  std::set<std::string> touched;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st, admin_->Prepare(b.sql));
    b.BindAll(st);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      ++deleted;
      touched.insert(st.String(0));
    }
  }
  // Recompute the version flags of every object that lost a version.
  CTIHUB_ASSIGN_OR_RETURN(
      Statement fix,
      admin_->Prepare(
          "UPDATE objects SET "
          "is_latest = (version = (SELECT max(version) FROM objects o WHERE o.collection = ?1 "
          "AND o.id = ?2)), "
          "is_first = (version = (SELECT min(version) FROM objects o WHERE o.collection = ?1 "
          "AND o.id = ?2)), "
          "spec_latest = (spec_version = (SELECT max(spec_version) FROM objects o WHERE "
          "o.collection = ?1 AND o.id = ?2)) "
          "WHERE collection = ?1 AND id = ?2"));
  for (const auto& id : touched) {
    CTIHUB_RETURN_IF_ERROR(fix.Bind(1, q.collection_id).Bind(2, id).Run());
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return deleted;
}

Result<int64_t> SqliteStore::CountObjects() {
  auto conn = AcquireReader();
  return conn->QueryInt("SELECT count(*) FROM objects");
}

}  // namespace ctihub::store
