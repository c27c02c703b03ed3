// SqliteStore: STIX object versions. The single writer thread (group commit),
// keyset-paginated queries and deletes.
#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>

#include "store/checks.h"
#include "store/columns.h"
#include "store/cursor.h"
#include "store/sql_query.h"
#include "store/sqlite_store.h"

namespace ctihub::store {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

using sql::BuildNeighbours;
using sql::BuildSelect;
using sql::Dialect;
using sql::kFactsColumn;
using sql::kFirstColumn;
using sql::kLatestColumn;
using sql::SqlBuilder;
using sql::Versions;

void BindAll(const SqlBuilder& b, Statement& st) {
  int i = 1;
  for (const auto& p : b.params) {
    if (const auto* n = std::get_if<int64_t>(&p)) {
      st.Bind(i++, *n);
    } else {
      st.Bind(i++, std::get<std::string>(p));
    }
  }
}

// The access facts, type and date_added of the current row of a SELECT
// built by BuildSelect (what ObjectQuery::screen looks at).
void ReadFacts(const Statement& st, ObjectVersion& v) {
  v.date_added_us = st.Int(0);
  v.type = st.Text(2);
  AccessFacts& a = v.access;
  a.producer = st.Text(kFactsColumn);
  a.tlp = static_cast<int>(st.Int(kFactsColumn + 1));
  a.pap = static_cast<int>(st.Int(kFactsColumn + 2));
  std::string_view recipients = st.Text(kFactsColumn + 3);
  if (recipients.empty()) {
    a.recipient_orgs.clear();
  } else {
    a.recipient_orgs = DecodeRecipients(recipients);
  }
  DecodeGranular(st.Int(kFactsColumn + 4), a);
  a.known = st.Int(kFactsColumn + 5) != 0;
}

// The rest of the row after ReadFacts: id, spec version, version, JSON.
Status ReadRest(const Statement& st, const std::string& collection_id, bool include_json,
                ObjectVersion& v) {
  v.id = st.Text(1);
  v.spec_version = st.Text(3);
  CTIHUB_ASSIGN_OR_RETURN(v.version, StoredVersion(st.Text(4), st.Int(5)));
  v.collection_id = collection_id;
  if (include_json) {
    v.json = st.Text(6);
  } else {
    v.json.clear();
  }
  return Status::Ok();
}

// One row of a SELECT built by BuildSelect.
Result<ObjectVersion> ReadRow(const Statement& st, const std::string& collection_id,
                              bool include_json) {
  ObjectVersion v;
  ReadFacts(st, v);
  CTIHUB_RETURN_IF_ERROR(ReadRest(st, collection_id, include_json, v));
  return v;
}

// sql::VersionPicker's neighbour reads on the page's reader connection: one
// prepared statement per side, bound once but for ?2..?4.
class SqliteNeighbours {
 public:
  SqliteNeighbours(const ObjectQuery& q, Connection& conn) : q_(q), conn_(conn) {}

  Result<std::optional<std::string>> FirstAdmitted(bool newer, std::string_view id,
                                                   std::string_view key, std::string_view far_end) {
    std::optional<Statement>& select = newer ? newer_ : older_;
    if (!select) {
      SqlBuilder b = BuildNeighbours(Dialect::kSqlite, q_, newer);
      CTIHUB_ASSIGN_OR_RETURN(Statement prepared, conn_.Prepare(b.sql));
      BindAll(b, prepared);
      select.emplace(std::move(prepared));
    } else {
      select->Rewind();
    }
    Statement& st = *select;
    st.Bind(2, id).Bind(3, key).Bind(4, far_end);
    ObjectVersion n;
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return std::optional<std::string>();
      ReadFacts(st, n);
      if (q_.screen && !q_.screen(n)) continue;
      CTIHUB_RETURN_IF_ERROR(ReadRest(st, q_.collection_id, /*include_json=*/true, n));
      if (q_.admit(n)) return std::optional<std::string>(st.String(4));
    }
  }

 private:
  const ObjectQuery& q_;
  Connection& conn_;
  std::optional<Statement> newer_, older_;
};

// QueryObjects with an `admit` callback: one SELECT of the rows that pass
// the SQL filters, LIMIT the scan budget, stepped until the page holds
// `limit` admitted rows and one more admitted row was seen (the look-ahead
// for `more`), or the rows or the budget run out. `admit` runs between
// steps, on the reader connection's snapshot: the connection is held for
// one page's decisions (sub-microsecond each; a redaction a few more), as
// the plain path holds it for one page's rows. (Reading in chunks on fresh
// connections cost a re-prepared statement and re-read rows per chunk.)
// `st` is the prepared SELECT (BuildSelect with JSON); a row's facts are
// read first, the rest only for rows `screen` lets through. With `picker`
// the SELECT passed every version and the picker applies match[version].
Result<ObjectPage> QueryAdmitted(const ObjectQuery& q, size_t limit, size_t budget, Statement& st,
                                 sql::VersionPicker* picker) {
  ObjectPage page;
  page.objects.reserve(std::min<size_t>(limit, 1024));
  size_t examined = 0;
  int64_t cursor = 0;  // date_added of the last row examined
  ObjectVersion v;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      if (examined == budget) {  // the scan budget ran out first
        page.more = true;
        page.next = EncodeCursor(cursor);
      }
      return page;
    }
    ReadFacts(st, v);
    ++examined;
    cursor = v.date_added_us;
    if (q.screen && !q.screen(v)) continue;
    if (picker != nullptr) {  // before the row's JSON: most older versions are not picked
      CTIHUB_ASSIGN_OR_RETURN(bool picked,
                              picker->Picked(st.Text(1), st.Text(4), st.Int(kLatestColumn) != 0,
                                             st.Int(kFirstColumn) != 0));
      if (!picked) continue;
    }
    CTIHUB_RETURN_IF_ERROR(ReadRest(st, q.collection_id, /*include_json=*/true, v));
    if (!q.admit(v)) continue;
    if (page.objects.size() == limit) {  // the look-ahead found one more
      page.more = true;
      page.next = EncodeCursor(page.objects.back().date_added_us);
      return page;
    }
    page.objects.push_back(std::move(v));
  }
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
  req.done.set_value(Unavailable("store_closing", "the store is shutting down"));
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
    CheckpointIfLogTooLong();
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
  Status s = UpdateStatus(req.status_id, req.objects, {}, no_dates, why.NamedMessage());
  if (s.ok()) (void)(*txn)->Commit();
}

Result<std::vector<std::vector<WriteOutcome>>> SqliteStore::WriteBatchTxn(
    std::vector<WriteRequest>& batch) {
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*writer_conn_));
  // Another process (an import run from the CLI) may have written meanwhile.
  CTIHUB_ASSIGN_OR_RETURN(
      int64_t max_in_db,
      writer_conn_->QueryInt("SELECT COALESCE(MAX(date_added), 0) FROM objects"));
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
      if (!row) return NotFound("unknown_collection", "no collection '" + req.collection_id + "'");
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
  // Status resources created while this batch was being written join its
  // transaction: one commit and one fsync for both. Before, a POST's
  // CreateStatus waited behind the batch of the previous POST and its fsync,
  // then paid an fsync of its own (issue 11). Only from the front of the
  // queue, so a status is never committed after objects queued behind it.
  for (;;) {
    WriteRequest late;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (queue_.empty() || !queue_.front().new_status) break;
      late = std::move(queue_.front());
      queue_.pop_front();
    }
    Status inserted = InsertStatus(*writer_conn_, *late.new_status);
    batch.push_back(std::move(late));  // CommitBatch answers it, whatever happens
    CTIHUB_RETURN_IF_ERROR(inserted);
    results.emplace_back();
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  ++commits_;
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
        c.Prepare(
            "INSERT INTO objects(date_added, collection, id, version, version_digits, type, "
            "spec_version, is_latest, is_first, spec_latest, json, producer, tlp, pap, "
            "recipients, granular, facts, source_peer, node) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 1, "
            "?17, ?18)"));
    st.Bind(1, date_added).Bind(2, collection_id).Bind(3, obj.id).Bind(4, key);
    st.Bind(5, int64_t{version.fraction_digits()}).Bind(6, obj.type).Bind(7, obj.spec_version);
    st.Bind(8, int64_t{is_latest}).Bind(9, int64_t{is_first}).Bind(10, int64_t{spec_latest});
    st.Bind(11, obj.json);
    const AccessFacts& a = obj.access;
    st.Bind(12, a.producer).Bind(13, int64_t{a.tlp}).Bind(14, int64_t{a.pap});
    st.Bind(15, EncodeRecipients(a.recipient_orgs)).Bind(16, EncodeGranular(a));
    st.Bind(17, obj.source_peer).Bind(18, opts_.node_id);
    CTIHUB_RETURN_IF_ERROR(st.Run());
  }
  {
    // The search index, in the same transaction (schema step 2 -> 3).
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("INSERT INTO object_text(rowid, body) VALUES(?1, ?2)"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, date_added).Bind(2, SearchTextOf(obj.json)).Run());
  }
  {
    // The reference index, in the same transaction (schema step 3 -> 4).
    const std::vector<std::string> refs = ReferencedIdsOf(obj.json);
    if (!refs.empty()) {
      CTIHUB_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("INSERT INTO object_refs(ref_id, date_added) VALUES(?1, ?2)"));
      for (const std::string& ref : refs)
        CTIHUB_RETURN_IF_ERROR(st.Bind(1, ref).Bind(2, date_added).Run());
    }
  }
  *last_date_added = date_added;
  return WriteOutcome{true, false};
}

namespace {

// Whether the ids of `objects` are, as a multiset, the ids of the pending
// entries of status `status_id`: what a POST hands the writer (the status
// lists each object it queues as pending, once), so the common case
// converts every pending entry in one statement instead of one per object.
Result<bool> ObjectsArePendings(Connection& c, const std::string& status_id,
                                const std::vector<NewObject>& objects) {
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT object_id FROM status_details WHERE status_id = ?1 AND kind = 2"));
  st.Bind(1, status_id);
  std::vector<std::string> pending;
  pending.reserve(objects.size());
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (pending.size() == objects.size()) return false;
    pending.push_back(st.String(0));
  }
  if (pending.size() != objects.size()) return false;
  std::vector<std::string_view> ids;
  ids.reserve(objects.size());
  for (const NewObject& o : objects) ids.emplace_back(o.id);
  std::sort(pending.begin(), pending.end());
  std::sort(ids.begin(), ids.end());
  return std::equal(pending.begin(), pending.end(), ids.begin(), ids.end());
}

}  // namespace

// Moves the status entries of `objects` from pending to success (outcomes
// given) or failure (outcomes empty, `failure_message` set), in the caller's
// transaction. Pendings are matched by object id, preferring the same version
// text, and keep the version text the requester gave; an object without a
// pending entry gets a new entry.
Status SqliteStore::UpdateStatus(const std::string& status_id,
                                 const std::vector<NewObject>& objects,
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
  int64_t converted = 0, added = 0;
  CTIHUB_ASSIGN_OR_RETURN(bool all_pending, ObjectsArePendings(c, status_id, objects));
  if (all_pending) {
    // Each object converts one pending entry of its id, so converting them
    // all in one statement leaves the rows exactly as the loop below would
    // (rowids, version texts and order unchanged).
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("UPDATE status_details SET kind = ?2, message = ?3 "
                                      "WHERE status_id = ?1 AND kind = 2"));
    st.Bind(1, status_id).Bind(2, kind).Bind(3, failure_message);
    CTIHUB_RETURN_IF_ERROR(st.Run());
    converted = static_cast<int64_t>(objects.size());
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement convert,
      c.Prepare("UPDATE status_details SET kind = ?4, message = ?5 WHERE rowid = "
                "(SELECT rowid FROM status_details WHERE status_id = ?1 AND object_id = ?2 AND "
                "kind = 2 ORDER BY version = ?3 DESC LIMIT 1)"));
  CTIHUB_ASSIGN_OR_RETURN(
      Statement insert,
      c.Prepare("INSERT INTO status_details(status_id, kind, object_id, version, message) "
                "VALUES(?1, ?4, ?2, ?3, ?5)"));
  for (size_t i = 0; i < objects.size() && !all_pending; ++i) {
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
  size_t limit = q.limit == 0 ? kDefaultPageLimit : std::min(q.limit, kMaxPageLimit);
  if (q.scope && q.scope->none) return ObjectPage{};
  if (q.admit) {
    const size_t budget = q.max_scan != 0 ? q.max_scan : 20 * limit + 10000;
    // first/last among the versions the reader may see (VersionPicker).
    const bool pick_versions = !q.version_all && (q.version_first || q.version_last);
    SqlBuilder b = BuildSelect(Dialect::kSqlite, q, after, budget, /*include_json=*/true,
                               pick_versions ? Versions::kByCaller : Versions::kInSql);
    auto conn = AcquireReader();
    CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
    BindAll(b, st);
    std::optional<SqliteNeighbours> neighbours;
    std::optional<sql::VersionPicker> picker;
    if (pick_versions) {
      neighbours.emplace(q, *conn);
      picker.emplace(q, [&n = *neighbours](bool newer, std::string_view id, std::string_view key,
                                           std::string_view far_end) {
        return n.FirstAdmitted(newer, id, key, far_end);
      });
    }
    return QueryAdmitted(q, limit, budget, st, picker ? &*picker : nullptr);
  }

  SqlBuilder b = BuildSelect(Dialect::kSqlite, q, after, limit + 1, q.include_json);

  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
  BindAll(b, st);
  ObjectPage page;
  page.objects.reserve(std::min<size_t>(limit, 1024));
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (page.objects.size() == limit) {
      page.more = true;
      break;
    }
    CTIHUB_ASSIGN_OR_RETURN(ObjectVersion v, ReadRow(st, q.collection_id, q.include_json));
    page.objects.push_back(std::move(v));
  }
  if (page.more) page.next = EncodeCursor(page.objects.back().date_added_us);
  return page;
}

Result<int64_t> SqliteStore::DeleteObject(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  if (q.ids.empty()) return InvalidArgument("bad_delete", "an object id is required");
  SqlBuilder b(Dialect::kSqlite);
  b.sql = "DELETE FROM objects";
  // No scope, no admit: a delete removes what the filters select.
  sql::AppendWhere(q, q.types, q.added_after_us.value_or(-1), /*scope=*/nullptr, Versions::kInSql,
                   b);
  b.sql += " RETURNING id";

  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  int64_t deleted = 0;
  std::set<std::string> touched;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st, admin_->Prepare(b.sql));
    BindAll(b, st);
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

namespace {

// The FTS5 query of SearchQuery::words: every word quoted as a phrase (a
// '"' inside doubled), as a prefix, all required. No operator the user typed
// survives quoting; a word without letters or digits is an empty phrase,
// which matches nothing.
std::string Fts5Query(const std::vector<std::string>& words) {
  std::string q;
  for (const auto& w : words) {
    if (!q.empty()) q += " AND ";
    q += '"';
    for (char ch : w) {
      if (ch == '"') q += '"';
      q += ch;
    }
    q += "\"*";
  }
  return q;
}

}  // namespace

// With words the FTS index is walked by rowid (= date_added) downwards and
// each hit's row looked up (CROSS JOIN keeps that order); without, the
// objects table itself. Filters on date_added become rowid bounds of the walk.
Status SqliteStore::SearchObjects(const SearchQuery& q,
                                  const std::function<bool(SearchHit&)>& visit) {
  if (q.collection_ids.empty()) return Status::Ok();
  if (q.collection_ids.size() > 1000 || q.types.size() > 1000 || q.words.size() > 64 ||
      q.tlps.size() > 16 || q.producers.size() > 1000) {
    return InvalidArgument("bad_filter", "too many search filter values");
  }
  const bool text = !q.words.empty();
  SqlBuilder b(Dialect::kSqlite);
  b.sql =
      "SELECT o.date_added, o.id, o.type, o.spec_version, o.version, o.version_digits, "
      "o.json, o.producer, o.tlp, o.pap, o.recipients, o.granular, o.facts, o.collection";
  const std::string walk = text ? "t.rowid" : "o.date_added";
  if (text) {
    b.sql +=
        " FROM object_text t CROSS JOIN objects o ON o.date_added = t.rowid "
        "WHERE object_text MATCH ";
    b.Param(Fts5Query(q.words));
    b.sql += " AND ";
  } else {
    b.sql += " FROM objects o WHERE ";
  }
  b.sql += "o.is_latest = 1 AND o.collection IN (";
  for (size_t i = 0; i < q.collection_ids.size(); ++i) {
    if (i > 0) b.sql += ", ";
    b.Param(q.collection_ids[i]);
  }
  b.sql += ')';
  if (!q.types.empty()) {
    b.sql += " AND o.type IN (";
    for (size_t i = 0; i < q.types.size(); ++i) {
      if (i > 0) b.sql += ", ";
      b.Param(q.types[i]);
    }
    b.sql += ')';
  }
  if (!q.tlps.empty()) {
    b.sql += " AND o.tlp IN (";
    for (size_t i = 0; i < q.tlps.size(); ++i) {
      if (i > 0) b.sql += ", ";
      b.Param(int64_t{q.tlps[i]});
    }
    b.sql += ')';
  }
  if (!q.producers.empty()) {
    b.sql += " AND o.producer IN (";
    for (size_t i = 0; i < q.producers.size(); ++i) {
      if (i > 0) b.sql += ", ";
      b.Param(q.producers[i]);
    }
    b.sql += ')';
  }
  if (q.added_after_us) {
    b.sql += " AND " + walk + " > ";
    b.Param(*q.added_after_us);
  }
  if (q.added_before_us) {
    b.sql += " AND " + walk + " < ";
    b.Param(*q.added_before_us);
  }
  if (q.below_date_added_us) {
    b.sql += " AND " + walk + " < ";
    b.Param(*q.below_date_added_us);
  }
  b.sql += " ORDER BY " + walk + " DESC";
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
  BindAll(b, st);
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    SearchHit hit;
    ReadFacts(st, hit.object);
    const std::string collection = st.String(13);
    CTIHUB_RETURN_IF_ERROR(ReadRest(st, collection, /*include_json=*/true, hit.object));
    if (!visit(hit)) return Status::Ok();
  }
}

// The object_refs primary key (ref_id, date_added) walked downwards, each
// row's object looked up by its date_added.
Result<std::vector<Referrer>> SqliteStore::ReferencesTo(
    std::string_view id, const std::vector<std::string>& collection_ids, size_t limit) {
  std::vector<Referrer> out;
  if (collection_ids.empty() || limit == 0) return out;
  if (collection_ids.size() > 1000) return InvalidArgument("bad_filter", "too many collections");
  SqlBuilder b(Dialect::kSqlite);
  b.sql =
      "SELECT o.collection, o.id, max(r.date_added) AS newest FROM object_refs r "
      "CROSS JOIN objects o ON o.date_added = r.date_added WHERE r.ref_id = ";
  b.Param(std::string(id));
  b.InList("o.collection", collection_ids);
  b.sql += " GROUP BY o.collection, o.id ORDER BY newest DESC LIMIT ";
  b.Param(static_cast<int64_t>(std::min(limit, kMaxPageLimit)));
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
  BindAll(b, st);
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(Referrer{st.String(0), st.String(1)});
  }
}

Result<int64_t> SqliteStore::CountObjects() {
  auto conn = AcquireReader();
  return conn->QueryInt("SELECT count(*) FROM objects");
}

// Served by the objects_added index (collection, date_added).
Result<CollectionState> SqliteStore::CollectionStateOf(std::string_view collection_id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st, conn->Prepare("SELECT count(*), coalesce(max(date_added), 0) FROM objects "
                                  "WHERE collection = ?1"));
  st.Bind(1, collection_id);
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  CollectionState out;
  if (row) {
    out.versions = st.Int(0);
    out.newest_date_added_us = st.Int(1);
  }
  return out;
}

// ---- crash recovery ------------------------------------------------------------

Result<std::vector<StoredVersionRef>> SqliteStore::ListVersionsAddedAfter(int64_t after_us,
                                                                          size_t limit) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      conn->Prepare("SELECT date_added, collection, id, version, version_digits FROM objects "
                    "WHERE date_added > ?1 AND (node = ?3 OR node = '') ORDER BY date_added "
                    "LIMIT ?2"));
  st.Bind(1, after_us).Bind(2, static_cast<int64_t>(std::min(limit, kMaxPageLimit)));
  st.Bind(3, opts_.node_id);
  std::vector<StoredVersionRef> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    StoredVersionRef v;
    v.date_added_us = st.Int(0);
    v.collection_id = st.String(1);
    v.id = st.String(2);
    CTIHUB_ASSIGN_OR_RETURN(v.version, StoredVersion(st.Text(3), st.Int(4)));
    out.push_back(std::move(v));
  }
  return out;
}

Result<int64_t> SqliteStore::FinishPendingStatuses(std::string_view reason) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  std::vector<std::pair<std::string, std::string>> pending;  // (id, api_root)
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        admin_->Prepare("SELECT id, api_root FROM statuses WHERE status = 'pending' AND "
                        "(node = ?1 OR node = '')"));
    st.Bind(1, opts_.node_id);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      pending.emplace_back(st.String(0), st.String(1));
    }
  }
  for (const auto& [id, api_root] : pending) {
    CTIHUB_RETURN_IF_ERROR(FinishStatusDetails(id, api_root, reason));
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return static_cast<int64_t>(pending.size());
}

// A pending detail's version is the text the client sent (or empty for an
// object without one): it is durable when that version, or for an empty one
// any version, of the object is stored in a collection of the API root.
Status SqliteStore::FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                                        std::string_view reason) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  bool pending = false;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            admin_->Prepare("SELECT 1 FROM statuses WHERE id = ?1 "
                                            "AND api_root = ?2 AND status = 'pending'"));
    st.Bind(1, status_id).Bind(2, api_root);
    CTIHUB_ASSIGN_OR_RETURN(pending, st.Step());
  }
  if (!pending) return Status::Ok();
  CTIHUB_RETURN_IF_ERROR(
      FinishStatusDetails(std::string(status_id), std::string(api_root), reason));
  return txn->Commit();
}

Status SqliteStore::FinishStatusDetails(const std::string& status_id, const std::string& api_root,
                                        std::string_view reason) {
  Connection& c = *admin_;
  struct Detail {
    int64_t rowid;
    std::string object_id;
    std::string version;
  };
  std::vector<Detail> details;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("SELECT rowid, object_id, version FROM status_details "
                                      "WHERE status_id = ?1 AND kind = 2 ORDER BY rowid"));
    st.Bind(1, status_id);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      details.push_back({st.Int(0), st.String(1), st.String(2)});
    }
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement stored,
      c.Prepare("SELECT 1 FROM objects o JOIN collections c ON c.id = o.collection "
                "WHERE c.api_root = ?1 AND o.id = ?2 AND (?3 = '' OR o.version = ?3) LIMIT 1"));
  CTIHUB_ASSIGN_OR_RETURN(
      Statement finish,
      c.Prepare("UPDATE status_details SET kind = ?2, message = ?3 WHERE rowid = ?1"));
  int64_t successes = 0, failures = 0;
  for (const Detail& d : details) {
    std::string key;
    if (auto ts = Timestamp::Parse(d.version); ts.ok()) key = VersionKey(*ts);
    stored.Bind(1, api_root).Bind(2, d.object_id).Bind(3, key);
    CTIHUB_ASSIGN_OR_RETURN(bool durable, stored.Step());
    stored.Reset();
    finish.Bind(1, d.rowid).Bind(2, int64_t{durable ? 0 : 1});
    finish.Bind(3, durable ? std::string_view("") : reason);
    CTIHUB_RETURN_IF_ERROR(finish.Run());
    ++(durable ? successes : failures);
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("UPDATE statuses SET success_count = success_count + ?2, "
                "failure_count = failure_count + ?3, pending_count = 0, status = 'complete' "
                "WHERE id = ?1"));
  st.Bind(1, status_id).Bind(2, successes).Bind(3, failures);
  return st.Run();
}

}  // namespace ctihub::store
