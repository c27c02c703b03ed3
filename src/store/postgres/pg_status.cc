// PostgresStore: TAXII status resources.
//
// A status's details are kept as runs (schema step 9 -> 10): one
// status_entries row per run of consecutive details of one kind and message,
// holding the run's object ids and versions as arrays. A POST of 1,000
// objects is then one row written when it is accepted and one row updated
// (kind only: the arrays stay where they are) when its write commits, instead
// of 1,000 rows inserted and 1,000 rows updated with their index entries
// (docs/SCALING.md "Ingest"). The rare per-object changes (a request whose
// objects are not exactly the status's pending ones, crash recovery) read the
// details, change them in memory, and write the status's runs again.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/columns.h"
#include "store/postgres/pg_store.h"

namespace ctihub::store {

using pg::Connection;
using pg::Params;
using pg::Rows;
using pg::Transaction;

namespace {

constexpr int64_t kSuccess = 0;
constexpr int64_t kFailure = 1;
constexpr int64_t kPending = 2;

struct Entry {
  int64_t kind = kPending;
  std::string id;
  std::string version;
  std::string message;
};

// Every detail of status `status_id`, in order.
Result<std::vector<Entry>> LoadEntries(Connection& c, std::string_view status_id) {
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, c.Query("SELECT e.kind, e.message, u.o, u.v FROM status_entries e "
                      "CROSS JOIN LATERAL unnest(e.object_ids, e.versions) WITH ORDINALITY "
                      "AS u(o, v, n) WHERE e.status_id = $1 ORDER BY e.seq, u.n",
                      Params().Text(status_id)));
  std::vector<Entry> out;
  out.reserve(static_cast<size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    out.push_back(Entry{r.Int(i, 0), r.String(i, 2), r.String(i, 3), r.String(i, 1)});
  }
  return out;
}

// Appends `entries` to the status's details in order: one row per run of one
// kind and message, in one statement (seq follows the runs' order).
Status AppendEntries(Connection& c, std::string_view status_id, const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  std::vector<int64_t> runs, kinds;
  std::vector<std::string> ids, versions, messages;
  int64_t run = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (i > 0 && (e.kind != entries[i - 1].kind || e.message != entries[i - 1].message)) ++run;
    runs.push_back(run);
    kinds.push_back(e.kind);
    ids.push_back(e.id);
    versions.push_back(e.version);
    messages.push_back(e.message);
  }
  return c.Run(
      "INSERT INTO status_entries(status_id, kind, object_ids, versions, message) "
      "SELECT $1, k, array_agg(o ORDER BY n), array_agg(v ORDER BY n), m "
      "FROM unnest($2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[]) "
      "WITH ORDINALITY AS d(r, k, o, v, m, n) GROUP BY r, k, m ORDER BY r",
      Params()
          .Text(status_id)
          .IntArray(runs)
          .IntArray(kinds)
          .TextArray(ids)
          .TextArray(versions)
          .TextArray(messages));
}

// Replaces the status's details with `entries`.
Status ReplaceEntries(Connection& c, std::string_view status_id,
                      const std::vector<Entry>& entries) {
  CTIHUB_RETURN_IF_ERROR(
      c.Run("DELETE FROM status_entries WHERE status_id = $1", Params().Text(status_id)));
  return AppendEntries(c, status_id, entries);
}

// Whether the ids of `objects` are, as a multiset, the ids of the pending
// entries of status `status_id` (sqlite_objects.cc ObjectsArePendings).
Result<bool> ObjectsArePendings(Connection& c, const std::string& status_id,
                                const std::vector<NewObject>& objects) {
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, c.Query("SELECT u.o FROM status_entries e CROSS JOIN LATERAL unnest(e.object_ids) "
                      "AS u(o) WHERE e.status_id = $1 AND e.kind = 2",
                      Params().Text(status_id)));
  if (static_cast<size_t>(r.size()) != objects.size()) return false;
  std::vector<std::string_view> pending, ids;
  pending.reserve(objects.size());
  ids.reserve(objects.size());
  for (int i = 0; i < r.size(); ++i) pending.push_back(r.Text(i, 0));
  for (const NewObject& o : objects) ids.emplace_back(o.id);
  std::sort(pending.begin(), pending.end());
  std::sort(ids.begin(), ids.end());
  return pending == ids;
}

// Moves the first pending entry of `id` (the one of `version` if there is
// one) to `kind`, or appends a new entry when none is pending: what
// SqliteStore::UpdateStatus does per object. Returns whether one moved.
bool SettleOne(std::vector<Entry>& entries, const std::string& id, const std::string& version,
               int64_t kind, const std::string& message) {
  Entry* first = nullptr;
  for (Entry& e : entries) {
    if (e.kind != kPending || e.id != id) continue;
    if (e.version == version) {
      first = &e;
      break;
    }
    if (first == nullptr) first = &e;
  }
  if (first != nullptr) {
    first->kind = kind;
    first->message = message;
    return true;
  }
  entries.push_back(Entry{kind, id, version, message});
  return false;
}

}  // namespace

// Committed on a pooled connection, not through the writer: the POST that
// creates a status answers 202 once the status is durable (visible from every
// node), without waiting for the batch the writer is committing meanwhile (it
// did when statuses joined the writer's transactions: bench/taxii's single
// client then got its last 202 about 1 s before the end of a 12 s ingest, as
// the writer's pace). The objects' write is queued after this returns, so the
// writer's UpdateStatus finds the status.
Status PostgresStore::CreateStatus(const StatusResource& s) {
  if (s.id.empty()) return InvalidArgument("bad_status", "empty id");
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*conn));
  CTIHUB_RETURN_IF_ERROR(InsertStatus(*conn, s));
  return txn->Commit();
}

// REQUIRES: a transaction open on `conn`.
Status PostgresStore::InsertStatus(Connection& conn, const StatusResource& s) const {
  Status r = conn.Run(
      "INSERT INTO statuses(id, api_root, user_id, status, request_timestamp, total_count, "
      "success_count, failure_count, pending_count, node) "
      "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      Params()
          .Text(s.id)
          .Text(s.api_root)
          .Int(s.user_id)
          .Text(s.status.empty() ? std::string_view("pending") : std::string_view(s.status))
          .Text(s.request_timestamp.ToString())
          .Int(s.total_count)
          .Int(s.success_count)
          .Int(s.failure_count)
          .Int(s.pending_count)
          .Text(opts_.node_id));
  if (r.code() == ErrorCode::kConflict) {
    return Conflict("status_exists", "status " + s.id + " already exists");
  }
  CTIHUB_RETURN_IF_ERROR(r);
  std::vector<Entry> entries;
  entries.reserve(s.successes.size() + s.failures.size() + s.pendings.size());
  for (auto [kind, details] :
       {std::pair<int64_t, const std::vector<StatusDetail>*>{kSuccess, &s.successes},
        {kFailure, &s.failures},
        {kPending, &s.pendings}}) {
    for (const auto& d : *details) entries.push_back(Entry{kind, d.id, d.version, d.message});
  }
  return AppendEntries(conn, s.id, entries);
}

Result<StatusResource> PostgresStore::GetStatus(std::string_view api_root, std::string_view id) {
  auto conn = AcquireReader();
  // One snapshot so the counts and the details agree.
  CTIHUB_ASSIGN_OR_RETURN(auto txn,
                          Transaction::Begin(*conn, "ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  StatusResource out;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Rows r, conn->Query("SELECT id, api_root, user_id, status, request_timestamp, total_count, "
                            "success_count, failure_count, pending_count FROM statuses "
                            "WHERE id = $1 AND ($2 = '' OR api_root = $2)",
                            Params().Text(id).Text(api_root)));
    if (r.empty()) return NotFound("unknown_status", "no status '" + std::string(id) + "'");
    out.id = r.String(0, 0);
    out.api_root = r.String(0, 1);
    out.user_id = r.Int(0, 2);
    out.status = r.String(0, 3);
    CTIHUB_ASSIGN_OR_RETURN(out.request_timestamp, ParseStoredTimestamp(r.Text(0, 4)));
    out.total_count = r.Int(0, 5);
    out.success_count = r.Int(0, 6);
    out.failure_count = r.Int(0, 7);
    out.pending_count = r.Int(0, 8);
  }
  CTIHUB_ASSIGN_OR_RETURN(std::vector<Entry> entries, LoadEntries(*conn, id));
  for (Entry& e : entries) {
    StatusDetail d{std::move(e.id), std::move(e.version), std::move(e.message)};
    if (e.kind == kSuccess) {
      out.successes.push_back(std::move(d));
    } else if (e.kind == kFailure) {
      out.failures.push_back(std::move(d));
    } else {
      out.pendings.push_back(std::move(d));
    }
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return out;
}

// Moves the status entries of `objects` from pending to success (outcomes
// given) or failure (outcomes empty, `failure_message` set), in the caller's
// transaction, exactly as SqliteStore::UpdateStatus does. The status row is
// locked first: crash recovery (FinishStatusDetails, on another connection)
// rewrites the same details.
Status PostgresStore::UpdateStatus(const std::string& status_id,
                                   const std::vector<NewObject>& objects,
                                   const std::vector<WriteOutcome>& outcomes,
                                   const std::vector<int64_t>& date_added,
                                   const std::string& failure_message) {
  Connection& c = *writer_conn_;
  {
    CTIHUB_ASSIGN_OR_RETURN(Rows r, c.Query("SELECT 1 FROM statuses WHERE id = $1 FOR UPDATE",
                                            Params().Text(status_id)));
    if (r.empty()) return Status::Ok();  // nothing to update; the caller created no status
  }
  const bool success = !outcomes.empty() || objects.empty();
  const int64_t kind = success ? kSuccess : kFailure;
  int64_t converted = 0, added = 0;
  CTIHUB_ASSIGN_OR_RETURN(bool all_pending, ObjectsArePendings(c, status_id, objects));
  if (all_pending) {
    CTIHUB_RETURN_IF_ERROR(
        c.Run("UPDATE status_entries SET kind = $2, message = $3 WHERE status_id = $1 AND kind = 2",
              Params().Text(status_id).Int(kind).Text(failure_message)));
    converted = static_cast<int64_t>(objects.size());
  } else if (!objects.empty()) {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<Entry> entries, LoadEntries(c, status_id));
    for (size_t i = 0; i < objects.size(); ++i) {
      const std::string version = StatusVersionText(objects[i], date_added[i]);
      ++(SettleOne(entries, objects[i].id, version, kind, failure_message) ? converted : added);
    }
    CTIHUB_RETURN_IF_ERROR(ReplaceEntries(c, status_id, entries));
  }
  const auto n = static_cast<int64_t>(objects.size());
  return c.Run(
      "UPDATE statuses SET "
      "success_count = success_count + $2, failure_count = failure_count + $3, "
      "pending_count = greatest(pending_count - $4, 0), total_count = total_count + $5, "
      "status = CASE WHEN pending_count - $4 <= 0 THEN 'complete' ELSE 'pending' END "
      "WHERE id = $1",
      Params().Text(status_id).Int(success ? n : 0).Int(success ? 0 : n).Int(converted).Int(added));
}

Result<int64_t> PostgresStore::FinishPendingStatuses(std::string_view reason) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  CTIHUB_ASSIGN_OR_RETURN(
      Rows pending, admin_->Query("SELECT id, api_root FROM statuses WHERE status = 'pending' AND "
                                  "(node = $1 OR node = '') ORDER BY id FOR UPDATE",
                                  Params().Text(opts_.node_id)));
  for (int i = 0; i < pending.size(); ++i) {
    CTIHUB_RETURN_IF_ERROR(FinishStatusDetails(pending.String(i, 0), pending.String(i, 1), reason));
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return static_cast<int64_t>(pending.size());
}

Status PostgresStore::FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                                          std::string_view reason) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  CTIHUB_ASSIGN_OR_RETURN(
      Rows r, admin_->Query("SELECT 1 FROM statuses WHERE id = $1 AND api_root = $2 AND "
                            "status = 'pending' FOR UPDATE",
                            Params().Text(status_id).Text(api_root)));
  if (r.empty()) return Status::Ok();
  CTIHUB_RETURN_IF_ERROR(
      FinishStatusDetails(std::string(status_id), std::string(api_root), reason));
  return txn->Commit();
}

// A pending detail's version is the text the client sent (or empty for an
// object without one): it is durable when that version, or for an empty one
// any version, of the object is stored in a collection of the API root.
Status PostgresStore::FinishStatusDetails(const std::string& status_id, const std::string& api_root,
                                          std::string_view reason) {
  Connection& c = *admin_;
  CTIHUB_ASSIGN_OR_RETURN(std::vector<Entry> entries, LoadEntries(c, status_id));
  int64_t successes = 0, failures = 0;
  for (Entry& e : entries) {
    if (e.kind != kPending) continue;
    std::string key;
    if (auto ts = Timestamp::Parse(e.version); ts.ok()) key = VersionKey(*ts);
    CTIHUB_ASSIGN_OR_RETURN(
        Rows stored,
        c.Query("SELECT 1 FROM objects o JOIN collections c ON c.id = o.collection "
                "WHERE c.api_root = $1 AND o.id = $2 AND ($3 = '' OR o.version = $3) LIMIT 1",
                Params().Text(api_root).Text(e.id).Text(key)));
    const bool durable = !stored.empty();
    e.kind = durable ? kSuccess : kFailure;
    e.message = durable ? "" : std::string(reason);
    ++(durable ? successes : failures);
  }
  CTIHUB_RETURN_IF_ERROR(ReplaceEntries(c, status_id, entries));
  return c.Run(
      "UPDATE statuses SET success_count = success_count + $2, "
      "failure_count = failure_count + $3, pending_count = 0, status = 'complete' "
      "WHERE id = $1",
      Params().Text(status_id).Int(successes).Int(failures));
}

}  // namespace ctihub::store
