// PostgresStore: STIX object versions. The single writer thread (group
// commit, date_added in commit order), keyset-paginated queries, deletes and
// crash recovery. The query SQL is store/sql_query.h's, shared with SQLite.
#include <algorithm>
#include <chrono>
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
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store.h"
#include "store/sql_query.h"

namespace ctihub::store {

using pg::Connection;
using pg::Params;
using pg::Rows;
using pg::Transaction;
using sql::Dialect;
using sql::kFactsColumn;
using sql::kFirstColumn;
using sql::kLatestColumn;
using sql::SqlBuilder;
using sql::Versions;

namespace {

Params ToParams(const SqlBuilder& b) {
  Params p;
  for (const auto& v : b.params) {
    if (const auto* n = std::get_if<int64_t>(&v)) {
      p.Int(*n);
    } else {
      p.Text(std::get<std::string>(v));
    }
  }
  return p;
}

// The access facts, type and date_added of row i of a SELECT built by
// sql::BuildSelect (what ObjectQuery::screen looks at).
void ReadFacts(const Rows& r, int i, ObjectVersion& v) {
  v.date_added_us = r.Int(i, 0);
  v.type = r.Text(i, 2);
  AccessFacts& a = v.access;
  a.producer = r.Text(i, kFactsColumn);
  a.tlp = static_cast<int>(r.Int(i, kFactsColumn + 1));
  a.pap = static_cast<int>(r.Int(i, kFactsColumn + 2));
  std::string_view recipients = r.Text(i, kFactsColumn + 3);
  if (recipients.empty()) {
    a.recipient_orgs.clear();
  } else {
    a.recipient_orgs = DecodeRecipients(recipients);
  }
  DecodeGranular(r.Int(i, kFactsColumn + 4), a);
  a.known = r.Int(i, kFactsColumn + 5) != 0;
}

// The rest of the row after ReadFacts: id, spec version, version, JSON.
Status ReadRest(const Rows& r, int i, const std::string& collection_id, bool include_json,
                ObjectVersion& v) {
  v.id = r.Text(i, 1);
  v.spec_version = r.Text(i, 3);
  CTIHUB_ASSIGN_OR_RETURN(v.version, StoredVersion(r.Text(i, 4), r.Int(i, 5)));
  v.collection_id = collection_id;
  if (include_json) {
    v.json = r.Text(i, 6);
  } else {
    v.json.clear();
  }
  return Status::Ok();
}

// sql::VersionPicker's neighbour reads, on the page's connection and snapshot.
class PgNeighbours {
 public:
  PgNeighbours(const ObjectQuery& q, Connection& conn)
      : q_(q),
        conn_(conn),
        newer_(sql::BuildNeighbours(Dialect::kPostgres, q, /*newer=*/true)),
        older_(sql::BuildNeighbours(Dialect::kPostgres, q, /*newer=*/false)) {}

  Result<std::optional<std::string>> FirstAdmitted(bool newer, std::string_view id,
                                                   std::string_view key, std::string_view far_end) {
    SqlBuilder& b = newer ? newer_ : older_;
    b.params[1] = std::string(id);
    b.params[2] = std::string(key);
    b.params[3] = std::string(far_end);
    CTIHUB_ASSIGN_OR_RETURN(Rows r, conn_.Query(b.sql, ToParams(b)));
    ObjectVersion n;
    for (int i = 0; i < r.size(); ++i) {
      ReadFacts(r, i, n);
      if (q_.screen && !q_.screen(n)) continue;
      CTIHUB_RETURN_IF_ERROR(ReadRest(r, i, q_.collection_id, /*include_json=*/true, n));
      if (q_.admit(n)) return std::optional<std::string>(r.String(i, 4));
    }
    return std::optional<std::string>();
  }

 private:
  const ObjectQuery& q_;
  Connection& conn_;
  SqlBuilder newer_, older_;
};

// QueryObjects with an `admit` callback (store.h): the rows that pass the SQL
// filters are read in chunks after a date_added cursor (limit + 1 rows first,
// then doubling, up to the scan budget), all in the caller's one snapshot, so
// `admit` never runs while libpq holds a result open and the neighbour reads
// of the version picker can run between rows. Stops when the page holds
// `limit` admitted rows and one more admitted row was seen (the look-ahead for
// `more`), or the rows or the budget run out: the same answers as SQLite's
// single stepped SELECT.
Result<ObjectPage> QueryAdmitted(Connection& conn, const ObjectQuery& q, int64_t after,
                                 size_t limit, size_t budget, bool pick_versions,
                                 sql::VersionPicker* picker) {
  ObjectPage page;
  page.objects.reserve(std::min<size_t>(limit, 1024));
  size_t examined = 0;
  int64_t cursor = after;  // date_added of the last row examined
  size_t chunk = limit + 1;
  ObjectVersion v;
  for (;;) {
    if (examined == budget) {  // the scan budget ran out first
      page.more = true;
      page.next = EncodeCursor(cursor);
      return page;
    }
    const size_t want = std::min(budget - examined, chunk);
    chunk = std::min<size_t>(chunk * 2, 8192);
    SqlBuilder b = sql::BuildSelect(Dialect::kPostgres, q, cursor, want, /*include_json=*/true,
                                    pick_versions ? Versions::kByCaller : Versions::kInSql);
    CTIHUB_ASSIGN_OR_RETURN(Rows r, conn.Query(b.sql, ToParams(b)));
    for (int i = 0; i < r.size(); ++i) {
      ReadFacts(r, i, v);
      ++examined;
      cursor = v.date_added_us;
      if (q.screen && !q.screen(v)) continue;
      if (picker != nullptr) {  // before the row's JSON: most older versions are not picked
        CTIHUB_ASSIGN_OR_RETURN(
            bool picked, picker->Picked(r.Text(i, 1), r.Text(i, 4), r.Int(i, kLatestColumn) != 0,
                                        r.Int(i, kFirstColumn) != 0));
        if (!picked) continue;
      }
      CTIHUB_RETURN_IF_ERROR(ReadRest(r, i, q.collection_id, /*include_json=*/true, v));
      if (!q.admit(v)) continue;
      if (page.objects.size() == limit) {  // the look-ahead found one more
        page.more = true;
        page.next = EncodeCursor(page.objects.back().date_added_us);
        return page;
      }
      page.objects.push_back(std::move(v));
    }
    if (static_cast<size_t>(r.size()) < want) return page;  // no more rows
  }
}

// What the writer knows of one object's stored versions while it writes a
// request: the versions present, and which rows carry the flags. A row is
// either stored before the request (`pending` false, `row` its date_added) or
// one of the request's own inserts (`pending` true, `row` its index).
struct FlagRef {
  bool pending = false;
  int64_t row = 0;
};
struct ObjectState {
  std::set<std::string> present;  // version keys stored (or being inserted)
  bool have_latest = false, have_first = false, have_spec = false;
  std::string latest_key, first_key, max_spec;
  FlagRef latest, first;
  std::vector<size_t> inserts;  // this request's inserts of the object
};

// The rows one request inserts, column by column (one multi-row INSERT).
struct Inserts {
  std::vector<int64_t> date_added, version_digits, is_latest, is_first, spec_latest, tlp, pap,
      granular;
  std::vector<std::string> id, version, type, spec_version, json, producer, recipients;
  std::vector<std::string> search;  // SearchLexemesOf(json): the search column's tokens
  std::vector<std::string> source_peer;
  // The reference index (object_refs): one row per id a version references.
  std::vector<std::string> ref_ids;
  std::vector<int64_t> ref_rows;

  size_t Add(int64_t date, const NewObject& o, const std::string& key, const Timestamp& version_ts,
             bool latest, bool first, bool spec) {
    date_added.push_back(date);
    id.push_back(o.id);
    version.push_back(key);
    version_digits.push_back(version_ts.fraction_digits());
    type.push_back(o.type);
    spec_version.push_back(o.spec_version);
    is_latest.push_back(latest ? 1 : 0);
    is_first.push_back(first ? 1 : 0);
    spec_latest.push_back(spec ? 1 : 0);
    json.push_back(o.json);
    producer.push_back(o.access.producer);
    tlp.push_back(o.access.tlp);
    pap.push_back(o.access.pap);
    recipients.push_back(EncodeRecipients(o.access.recipient_orgs));
    granular.push_back(EncodeGranular(o.access));
    search.push_back(SearchLexemesOf(o.json));
    source_peer.push_back(o.source_peer);
    for (std::string& ref : ReferencedIdsOf(o.json)) {
      ref_ids.push_back(std::move(ref));
      ref_rows.push_back(date);
    }
    return date_added.size() - 1;
  }
};

}  // namespace

// ---- writing -------------------------------------------------------------------

std::future<Result<std::vector<WriteOutcome>>> PostgresStore::WriteObjects(
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

// Blocks while the queue holds max_queued_objects (a request always enters an
// empty queue): the POST that queues a write answers 202 without waiting for
// the writer, so this bound is what stops a client that sends faster than the
// database commits from filling the node's memory. Past max_queue_wait (a
// database that stopped answering) the write fails Unavailable "store_busy",
// so no request thread waits for ever.
std::future<Result<std::vector<WriteOutcome>>> PostgresStore::Enqueue(WriteRequest req) {
  auto future = req.done.get_future();
  {
    std::unique_lock<std::mutex> lock(queue_mu_);
    const size_t n = req.objects.size();
    const bool room = space_cv_.wait_for(lock, opts_.max_queue_wait, [&] {
      return stopping_ || queued_objects_ == 0 || queued_objects_ + n <= opts_.max_queued_objects;
    });
    if (!room) {
      lock.unlock();
      req.done.set_value(Unavailable("store_busy",
                                     "the writer's queue stayed full (the database "
                                     "is not keeping up)"));
      return future;
    }
    if (!stopping_) {
      queued_objects_ += n;
      queue_.push_back(std::move(req));
      queue_cv_.notify_one();
      return future;
    }
  }
  req.done.set_value(Unavailable("store_closing", "the store is shutting down"));
  return future;
}

void PostgresStore::WriterLoop() {
  for (;;) {
    std::vector<WriteRequest> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      batch = TakeBatch();
    }
    CommitBatch(batch);
  }
}

// REQUIRES: queue_mu_ held, queue_ not empty.
std::vector<PostgresStore::WriteRequest> PostgresStore::TakeBatch() {
  std::vector<WriteRequest> batch;
  size_t objects = 0;
  while (!queue_.empty()) {
    size_t n = queue_.front().objects.size();
    if (!batch.empty() && objects + n > opts_.max_batch_objects) break;
    objects += n;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_objects_ -= objects;
  space_cv_.notify_all();
  return batch;
}

void PostgresStore::CommitBatch(std::vector<WriteRequest>& batch) {
  auto results = WriteBatchTxn(batch);
  if (results.ok()) {
    int64_t stored = 0;
    for (const auto& outcomes : *results) {
      for (const WriteOutcome& o : outcomes) stored += o.stored ? 1 : 0;
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move((*results)[i]));
    NoteInserted(stored);
    return;
  }
  // A request-specific failure (an unknown collection) is
  // isolated by retrying each request alone; a store-wide one (the database
  // is unreachable) fails them all.
  const bool store_wide = results.status().code() == ErrorCode::kUnavailable ||
                          results.status().code() == ErrorCode::kInternal;
  if (batch.size() > 1 && !store_wide) {
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

// Index maintenance, off the writer's commit path: the writer only counts
// the rows it inserted and wakes this thread (NoteInserted), which keeps two
// things up with them on its own connection, so that a batch's commit never
// waits for either:
// - The search index's pending list. objects_search is a GIN index with
//   fastupdate: an insert appends its entries to a pending list, and the
//   inserting backend merges the list into the index when it outgrows
//   gin_pending_list_limit, inside that insert. That merge was over 40% of
//   the writer's INSERT (docs/SCALING.md "Ingest"). Schema step 9 -> 10 sets
//   the limit to 64 MB so the writer does not reach it, and this thread
//   merges the list every kCleanEveryRows rows (searches scan the unmerged
//   list, so it stays short) or, with rows pending, every kCleanEvery.
// - The planner's statistics. Without them (a fresh or freshly loaded table,
//   before autovacuum's ANALYZE, which waits for its next round) the planner
//   guesses a few rows and answers a page by scanning and sorting the whole
//   collection (220 ms a page at 100,000 objects instead of under 1 ms). So
//   the objects table is analyzed once the rows added since its last
//   ANALYZE (by any node: PostgreSQL's own counts) reach half the rows then
//   (at least kAnalyzeMinRows): a handful of times per bulk load, each a
//   bounded sample of the columns the plans depend on (not the JSON: sampling
//   it cost 220 ms an ANALYZE).
// One node at a time does either (a try-lock; the others skip their turn):
// with each node counting only its own rows, two nodes ran every ANALYZE
// twice. Both are best effort: autovacuum remains the backstop of each, and
// a failure (the database away) is retried with the next rows.
void PostgresStore::NoteInserted(int64_t rows) {
  if (rows == 0) return;
  {
    std::lock_guard<std::mutex> lock(maint_mu_);
    maint_inserted_ += rows;
  }
  maint_cv_.notify_one();
}

void PostgresStore::MaintenanceLoop() {
  constexpr int64_t kCleanEveryRows = 10000;
  constexpr auto kCleanEvery = std::chrono::seconds(2);
  int64_t uncleaned = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(maint_mu_);
      maint_cv_.wait_for(lock, kCleanEvery, [&] {
        return maint_stopping_ || uncleaned + maint_inserted_ >= kCleanEveryRows;
      });
      if (maint_stopping_) return;
      uncleaned += maint_inserted_;
      maint_inserted_ = 0;
    }
    if (uncleaned == 0) continue;
    if (!maint_conn_) {
      auto c = Connection::Open(opts_.url, opts_.schema);
      if (!c.ok()) continue;
      maint_conn_ = std::move(*c);
    }
    if (MaintainIndexes(*maint_conn_).ok()) uncleaned = 0;
  }
}

// One turn of MaintenanceLoop: OK also when another node holds the turn.
Status PostgresStore::MaintainIndexes(Connection& c) {
  constexpr int64_t kAnalyzeMinRows = 10000;
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(c));
  CTIHUB_ASSIGN_OR_RETURN(Rows turn, c.Query(pg::kMaintenanceTryLockSql));
  if (!turn.Bool(0, 0)) return Status::Ok();
  CTIHUB_RETURN_IF_ERROR(c.Run("SELECT gin_clean_pending_list('objects_search'::regclass)"));
  // reltuples: the rows the last ANALYZE (or VACUUM) counted, -1 before the
  // first; n_live_tup: that count plus the rows inserted since, less those
  // deleted. (Not n_mod_since_analyze: an ANALYZE of some columns leaves it.)
  CTIHUB_ASSIGN_OR_RETURN(Rows stats,
                          c.Query("SELECT s.n_live_tup, greatest(c.reltuples, 0)::int8 "
                                  "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                                  "WHERE s.relid = 'objects'::regclass"));
  if (!stats.empty()) {
    const int64_t analyzed = stats.Int(0, 1);
    if (stats.Int(0, 0) - analyzed >= std::max(kAnalyzeMinRows, analyzed / 2)) {
      CTIHUB_RETURN_IF_ERROR(
          c.Exec("ANALYZE objects (collection, date_added, id, type, spec_latest)"));
    }
  }
  return txn->Commit();
}

// Marks the objects of a failed request as failures in its status resource,
// so the status does not stay pending forever. Best effort.
void PostgresStore::RecordFailure(const WriteRequest& req, const Status& why) {
  auto txn = Transaction::Begin(*writer_conn_);
  if (!txn.ok()) return;
  std::vector<int64_t> no_dates(req.objects.size(), 0);
  Status s = UpdateStatus(req.status_id, req.objects, {}, no_dates, why.NamedMessage());
  if (s.ok()) (void)(*txn)->Commit();
}

// One transaction for the whole batch. date_added across nodes: the objects
// advisory lock is taken first and held until COMMIT returns (a
// transaction-scoped lock is released after the commit is visible), and
// date_added starts above the largest committed one, so date_added order is
// commit order: a reader that has seen date_added D has seen every version
// with a smaller one, and a version committed later always gets a larger one.
Result<std::vector<std::vector<WriteOutcome>>> PostgresStore::WriteBatchTxn(
    const std::vector<WriteRequest>& batch) {
  Connection& c = *writer_conn_;
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(c));
  CTIHUB_RETURN_IF_ERROR(c.Run(pg::kObjectsLockSql));
  CTIHUB_ASSIGN_OR_RETURN(Rows max_row,
                          c.Query("SELECT COALESCE(MAX(date_added), 0) FROM objects"));
  int64_t last = max_row.Int(0, 0);
  std::vector<std::vector<WriteOutcome>> results;
  results.reserve(batch.size());
  for (const auto& req : batch) {
    CTIHUB_ASSIGN_OR_RETURN(Rows known, c.Query("SELECT 1 FROM collections WHERE id = $1",
                                                Params().Text(req.collection_id)));
    if (known.empty()) {
      return NotFound("unknown_collection", "no collection '" + req.collection_id + "'");
    }
    std::vector<int64_t> dates;
    CTIHUB_ASSIGN_OR_RETURN(std::vector<WriteOutcome> outcomes,
                            WriteRequestObjects(req, &last, &dates));
    if (!req.status_id.empty()) {
      CTIHUB_RETURN_IF_ERROR(UpdateStatus(req.status_id, req.objects, outcomes, dates, ""));
    }
    results.push_back(std::move(outcomes));
  }
  if (opts_.before_commit_for_test) opts_.before_commit_for_test();
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  ++commits_;
  return results;
}

// Inserts the request's versions (skipping those already present) and keeps
// the is_latest / is_first / spec_latest flags of each (collection, id) as
// SQLite's per-object writer does, in a fixed number of statements: one read
// of the flagged and same-version rows of the request's ids, the flag updates
// of older rows, one multi-row INSERT.
Result<std::vector<WriteOutcome>> PostgresStore::WriteRequestObjects(const WriteRequest& req,
                                                                     int64_t* last,
                                                                     std::vector<int64_t>* dates) {
  Connection& c = *writer_conn_;
  const std::vector<NewObject>& objs = req.objects;
  const int64_t now = Timestamp::Now().micros();
  // date_added and the version key of each object (a version-less object's
  // version is its date_added). An object found present leaves its date
  // unused: a gap, never a repeat.
  std::vector<int64_t> date(objs.size());
  std::vector<std::string> key(objs.size());
  std::vector<Timestamp> version(objs.size());
  std::set<std::string> ids;
  for (size_t i = 0; i < objs.size(); ++i) {
    date[i] = std::max(now, *last + 1);
    *last = date[i];
    version[i] = objs[i].has_version ? objs[i].version : Timestamp::FromMicros(date[i]);
    key[i] = VersionKey(version[i]);
    ids.insert(objs[i].id);
  }
  if (objs.empty()) return std::vector<WriteOutcome>{};
  const int64_t first_new = date.front();

  std::unordered_map<std::string, ObjectState> state;
  {
    std::set<std::string> keys(key.begin(), key.end());
    CTIHUB_ASSIGN_OR_RETURN(
        Rows r,
        c.Query("SELECT date_added, id, version, spec_version, is_latest, is_first, spec_latest "
                "FROM objects WHERE collection = $1 AND id = ANY($2) AND "
                "(is_latest = 1 OR is_first = 1 OR spec_latest = 1 OR version = ANY($3))",
                Params().Text(req.collection_id).TextArrayOf(ids).TextArrayOf(keys)));
    for (int i = 0; i < r.size(); ++i) {
      ObjectState& s = state[r.String(i, 1)];
      std::string k = r.String(i, 2);
      if (r.Int(i, 4) != 0) {
        s.have_latest = true;
        s.latest = {false, r.Int(i, 0)};
        s.latest_key = k;
      }
      if (r.Int(i, 5) != 0) {
        s.have_first = true;
        s.first = {false, r.Int(i, 0)};
        s.first_key = k;
      }
      if (r.Int(i, 6) != 0 && (!s.have_spec || r.Text(i, 3) > s.max_spec)) {
        s.have_spec = true;
        s.max_spec = r.String(i, 3);
      }
      s.present.insert(std::move(k));
    }
  }

  Inserts ins;
  std::vector<int64_t> clear_latest, clear_first;
  std::set<std::string> clear_spec;  // ids whose stored spec_latest rows lose the flag
  std::vector<WriteOutcome> outcomes;
  outcomes.reserve(objs.size());
  dates->assign(objs.size(), 0);
  for (size_t i = 0; i < objs.size(); ++i) {
    const NewObject& o = objs[i];
    ObjectState& s = state[o.id];
    if (s.present.count(key[i]) > 0) {
      outcomes.push_back(WriteOutcome{false, true});
      continue;
    }
    const bool is_latest = !s.have_latest || key[i] > s.latest_key;
    const bool is_first = !s.have_first || key[i] < s.first_key;
    const bool spec_latest = !s.have_spec || o.spec_version >= s.max_spec;
    if (is_latest && s.have_latest) {
      if (s.latest.pending) {
        ins.is_latest[static_cast<size_t>(s.latest.row)] = 0;
      } else {
        clear_latest.push_back(s.latest.row);
      }
    }
    if (is_first && s.have_first) {
      if (s.first.pending) {
        ins.is_first[static_cast<size_t>(s.first.row)] = 0;
      } else {
        clear_first.push_back(s.first.row);
      }
    }
    if (s.have_spec && o.spec_version > s.max_spec) {
      clear_spec.insert(o.id);
      for (size_t n : s.inserts) ins.spec_latest[n] = 0;
    }
    size_t n = ins.Add(date[i], o, key[i], version[i], is_latest, is_first, spec_latest);
    s.inserts.push_back(n);
    if (is_latest) {
      s.have_latest = true;
      s.latest = {true, static_cast<int64_t>(n)};
      s.latest_key = key[i];
    }
    if (is_first) {
      s.have_first = true;
      s.first = {true, static_cast<int64_t>(n)};
      s.first_key = key[i];
    }
    if (spec_latest) {
      s.have_spec = true;
      s.max_spec = o.spec_version;
    }
    s.present.insert(key[i]);
    (*dates)[i] = date[i];
    outcomes.push_back(WriteOutcome{true, false});
  }

  if (!clear_latest.empty()) {
    CTIHUB_RETURN_IF_ERROR(c.Run("UPDATE objects SET is_latest = 0 WHERE date_added = ANY($1)",
                                 Params().IntArray(clear_latest)));
  }
  if (!clear_first.empty()) {
    CTIHUB_RETURN_IF_ERROR(c.Run("UPDATE objects SET is_first = 0 WHERE date_added = ANY($1)",
                                 Params().IntArray(clear_first)));
  }
  if (!clear_spec.empty()) {
    CTIHUB_RETURN_IF_ERROR(
        c.Run("UPDATE objects SET spec_latest = 0 WHERE collection = $1 AND id = ANY($2) AND "
              "spec_latest = 1 AND date_added < $3",
              Params().Text(req.collection_id).TextArrayOf(clear_spec).Int(first_new)));
  }
  if (!ins.date_added.empty()) {
    CTIHUB_RETURN_IF_ERROR(c.Run(
        "INSERT INTO objects(date_added, collection, id, version, version_digits, type, "
        "spec_version, is_latest, is_first, spec_latest, json, producer, tlp, pap, recipients, "
        "granular, facts, search, source_peer, node) "
        "SELECT d, $1, i, v, vd, t, sv, il, fi, sl, j, p, tl, pa, r, g, 1, "
        "array_to_tsvector(string_to_array(s, ' ')), sp, $19 FROM "
        "unnest($2::int8[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::text[], "
        "$8::int8[], $9::int8[], $10::int8[], $11::text[], $12::text[], $13::int8[], "
        "$14::int8[], $15::text[], $16::int8[], $17::text[], $18::text[]) "
        "AS u(d, i, v, vd, t, sv, il, fi, sl, j, p, tl, pa, r, g, s, sp)",
        Params()
            .Text(req.collection_id)
            .IntArray(ins.date_added)
            .TextArray(ins.id)
            .TextArray(ins.version)
            .IntArray(ins.version_digits)
            .TextArray(ins.type)
            .TextArray(ins.spec_version)
            .IntArray(ins.is_latest)
            .IntArray(ins.is_first)
            .IntArray(ins.spec_latest)
            .TextArray(ins.json)
            .TextArray(ins.producer)
            .IntArray(ins.tlp)
            .IntArray(ins.pap)
            .TextArray(ins.recipients)
            .IntArray(ins.granular)
            .TextArray(ins.search)
            .TextArray(ins.source_peer)
            .Text(opts_.node_id)));
  }
  if (!ins.ref_ids.empty()) {
    CTIHUB_RETURN_IF_ERROR(
        c.Run("INSERT INTO object_refs(ref_id, date_added) SELECT * FROM unnest($1::text[], "
              "$2::int8[])",
              Params().TextArray(ins.ref_ids).IntArray(ins.ref_rows)));
  }
  return outcomes;
}

// ---- reading -------------------------------------------------------------------

Result<ObjectPage> PostgresStore::QueryObjects(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  int64_t after = q.added_after_us.value_or(-1);
  if (!q.next.empty()) {
    CTIHUB_ASSIGN_OR_RETURN(int64_t cursor, DecodeCursor(q.next));
    after = std::max(after, cursor);
  }
  size_t limit = q.limit == 0 ? kDefaultPageLimit : std::min(q.limit, kMaxPageLimit);
  if (q.scope && q.scope->none) return ObjectPage{};
  auto conn = AcquireReader();
  if (q.admit) {
    const size_t budget = q.max_scan != 0 ? q.max_scan : 20 * limit + 10000;
    // first/last among the versions the reader may see (sql::VersionPicker).
    const bool pick_versions = !q.version_all && (q.version_first || q.version_last);
    // One snapshot for the page's chunks and neighbour reads.
    CTIHUB_ASSIGN_OR_RETURN(auto txn,
                            Transaction::Begin(*conn, "ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    std::optional<PgNeighbours> neighbours;
    std::optional<sql::VersionPicker> picker;
    if (pick_versions) {
      neighbours.emplace(q, *conn);
      picker.emplace(q, [&n = *neighbours](bool newer, std::string_view id, std::string_view key,
                                           std::string_view far_end) {
        return n.FirstAdmitted(newer, id, key, far_end);
      });
    }
    CTIHUB_ASSIGN_OR_RETURN(
        ObjectPage page,
        QueryAdmitted(*conn, q, after, limit, budget, pick_versions, picker ? &*picker : nullptr));
    CTIHUB_RETURN_IF_ERROR(txn->Commit());
    return page;
  }

  SqlBuilder b = sql::BuildSelect(Dialect::kPostgres, q, after, limit + 1, q.include_json);
  CTIHUB_ASSIGN_OR_RETURN(Rows r, conn->Query(b.sql, ToParams(b)));
  ObjectPage page;
  page.objects.reserve(std::min<size_t>(limit, static_cast<size_t>(r.size())));
  for (int i = 0; i < r.size(); ++i) {
    if (page.objects.size() == limit) {
      page.more = true;
      break;
    }
    ObjectVersion v;
    ReadFacts(r, i, v);
    CTIHUB_RETURN_IF_ERROR(ReadRest(r, i, q.collection_id, q.include_json, v));
    page.objects.push_back(std::move(v));
  }
  if (page.more) page.next = EncodeCursor(page.objects.back().date_added_us);
  return page;
}

Result<std::vector<Referrer>> PostgresStore::ReferencesTo(
    std::string_view id, const std::vector<std::string>& collection_ids, size_t limit) {
  std::vector<Referrer> out;
  if (collection_ids.empty() || limit == 0) return out;
  if (collection_ids.size() > 1000) return InvalidArgument("bad_filter", "too many collections");
  SqlBuilder b(Dialect::kPostgres);
  b.sql =
      "SELECT o.collection, o.id, max(r.date_added) AS newest FROM object_refs r "
      "JOIN objects o ON o.date_added = r.date_added WHERE r.ref_id = ";
  b.Param(std::string(id));
  b.InList("o.collection", collection_ids);
  b.sql += " GROUP BY o.collection, o.id ORDER BY newest DESC LIMIT ";
  b.Param(static_cast<int64_t>(std::min(limit, kMaxPageLimit)));
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r, conn->Query(b.sql, ToParams(b)));
  for (int i = 0; i < r.size(); ++i) out.push_back(Referrer{r.String(i, 0), r.String(i, 1)});
  return out;
}

// Search (store.h): the SQL filters select the newest versions, newest first,
// kSearchChunk rows at a time (keyset on date_added); with words, the GIN
// index over the search column (schema 3) pre-selects rows holding every
// token, and the words are then matched here on SearchTextOf(json), the test
// the in-memory store applies, so every backend finds the same objects.
Status PostgresStore::SearchObjects(const SearchQuery& q,
                                    const std::function<bool(SearchHit&)>& visit) {
  constexpr int64_t kSearchChunk = 500;
  if (q.collection_ids.empty()) return Status::Ok();
  if (q.collection_ids.size() > 1000 || q.types.size() > 1000 || q.words.size() > 64 ||
      q.tlps.size() > 16 || q.producers.size() > 1000) {
    return InvalidArgument("bad_filter", "too many search filter values");
  }
  std::optional<int64_t> below = q.below_date_added_us;
  if (q.added_before_us) below = below ? std::min(*below, *q.added_before_us) : *q.added_before_us;
  // The GIN index pre-selects rows holding every token as a prefix; phrases
  // and order are checked below on the text (SearchTextMatches).
  const std::string tsquery = SearchTsQuery(q.words);
  if (!q.words.empty() && tsquery.empty()) return Status::Ok();  // a word matching nothing
  auto conn = AcquireReader();
  for (;;) {
    SqlBuilder b(Dialect::kPostgres);
    b.sql = "SELECT " + sql::SelectColumns(/*include_json=*/true) +
            ", collection FROM objects WHERE is_latest = 1";
    b.InList("collection", q.collection_ids);
    if (!q.types.empty()) b.InList("type", q.types);
    if (!q.producers.empty()) b.InList("producer", q.producers);
    if (!tsquery.empty()) {
      b.sql += " AND search @@ ";
      b.Param(tsquery);
      b.sql += "::tsquery";
    }
    if (!q.tlps.empty()) {
      b.sql += " AND tlp IN (";
      for (size_t i = 0; i < q.tlps.size(); ++i) {
        if (i > 0) b.sql += ',';
        b.Param(int64_t{q.tlps[i]});
      }
      b.sql += ')';
    }
    if (q.added_after_us) {
      b.sql += " AND date_added > ";
      b.Param(*q.added_after_us);
    }
    if (below) {
      b.sql += " AND date_added < ";
      b.Param(*below);
    }
    b.sql += " ORDER BY date_added DESC LIMIT ";
    b.Param(kSearchChunk);
    CTIHUB_ASSIGN_OR_RETURN(Rows r, conn->Query(b.sql, ToParams(b)));
    for (int i = 0; i < r.size(); ++i) {
      SearchHit hit;
      ReadFacts(r, i, hit.object);
      CTIHUB_RETURN_IF_ERROR(ReadRest(r, i, r.String(i, 13), /*include_json=*/true, hit.object));
      below = hit.object.date_added_us;
      if (!q.words.empty() && !SearchTextMatches(SearchTextOf(hit.object.json), q.words)) continue;
      if (!visit(hit)) return Status::Ok();
    }
    if (r.size() < kSearchChunk) return Status::Ok();
  }
}

Result<int64_t> PostgresStore::DeleteObject(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  if (q.ids.empty()) return InvalidArgument("bad_delete", "an object id is required");
  SqlBuilder b(Dialect::kPostgres);
  b.sql = "DELETE FROM objects";
  // No scope, no admit: a delete removes what the filters select.
  sql::AppendWhere(q, q.types, q.added_after_us.value_or(-1), /*scope=*/nullptr, Versions::kInSql,
                   b);
  b.sql += " RETURNING id";

  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  // The version flags change: ordered with every other object write.
  CTIHUB_RETURN_IF_ERROR(admin_->Run(pg::kObjectsLockSql));
  CTIHUB_ASSIGN_OR_RETURN(Rows deleted, admin_->Query(b.sql, ToParams(b)));
  std::set<std::string> touched;
  for (int i = 0; i < deleted.size(); ++i) touched.insert(deleted.String(i, 0));
  // Recompute the version flags of every object that lost a version.
  for (const auto& id : touched) {
    CTIHUB_RETURN_IF_ERROR(admin_->Run(
        "UPDATE objects SET "
        "is_latest = CASE WHEN version = (SELECT max(o.version) FROM objects o WHERE "
        "o.collection = $1 AND o.id = $2) THEN 1 ELSE 0 END, "
        "is_first = CASE WHEN version = (SELECT min(o.version) FROM objects o WHERE "
        "o.collection = $1 AND o.id = $2) THEN 1 ELSE 0 END, "
        "spec_latest = CASE WHEN spec_version = (SELECT max(o.spec_version) FROM objects o WHERE "
        "o.collection = $1 AND o.id = $2) THEN 1 ELSE 0 END "
        "WHERE collection = $1 AND id = $2",
        Params().Text(q.collection_id).Text(id)));
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return static_cast<int64_t>(deleted.size());
}

Result<int64_t> PostgresStore::CountObjects() {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r, conn->Query("SELECT count(*) FROM objects"));
  return r.Int(0, 0);
}

// One round trip on a reader connection (reconnecting it if the server came back).
Status PostgresStore::Ping() {
  auto conn = AcquireReader();
  return conn->Run("SELECT 1");
}

Result<CollectionState> PostgresStore::CollectionStateOf(std::string_view collection_id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Rows r,
                          conn->Query("SELECT count(*), coalesce(max(date_added), 0) FROM objects "
                                      "WHERE collection = $1",
                                      Params().Text(collection_id)));
  CollectionState out;
  if (!r.empty()) {
    out.versions = r.Int(0, 0);
    out.newest_date_added_us = r.Int(0, 1);
  }
  return out;
}

// ---- crash recovery ------------------------------------------------------------

Result<std::vector<StoredVersionRef>> PostgresStore::ListVersionsAddedAfter(int64_t after_us,
                                                                            size_t limit) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r,
      conn->Query(
          // Each arm an ordered range of objects_node, so the limit stops both early.
          "SELECT date_added, collection, id, version, version_digits FROM ("
          "(SELECT date_added, collection, id, version, version_digits FROM objects "
          "WHERE node = $3 AND date_added > $1 ORDER BY date_added LIMIT $2) UNION ALL "
          "(SELECT date_added, collection, id, version, version_digits FROM objects "
          "WHERE node = '' AND $3 <> '' AND date_added > $1 ORDER BY date_added LIMIT $2)) u "
          "ORDER BY date_added LIMIT $2",
          Params()
              .Int(after_us)
              .Int(static_cast<int64_t>(std::min(limit, kMaxPageLimit)))
              .Text(opts_.node_id)));
  std::vector<StoredVersionRef> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    StoredVersionRef v;
    v.date_added_us = r.Int(i, 0);
    v.collection_id = r.String(i, 1);
    v.id = r.String(i, 2);
    CTIHUB_ASSIGN_OR_RETURN(v.version, StoredVersion(r.Text(i, 3), r.Int(i, 4)));
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace ctihub::store
