// The write path of `ctihub import`, shared with `ctihub match --report`:
// batches of objects validated by the TAXII envelope parser, the producer
// rules (taxii::PrepareWrite), one store transaction per batch and an
// `object.written` audit record per batch. Objects that belong together
// travel in one batch and are rejected together. Up to
// kImportBatchesInFlight batches (kImportBytesInFlight bytes) are handed to
// the store before the oldest is waited for, so reading the next batch overlaps the store's commit
// (and the store may commit several in one transaction). Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/json.h"
#include "core/result.h"
#include "policy/policy.h"
#include "store/store.h"
#include "taxii/access.h"
#include "taxii/query.h"

namespace ctihub::cli {

constexpr size_t kImportBatchObjects = 1000;
constexpr size_t kImportBatchBytes = 16u << 20;
constexpr size_t kMaxListedRejections = 1000;  // all are counted; this many are listed
// Batches handed to the store before the oldest is waited for: the store
// joins queued batches in one transaction, and larger transactions write each
// touched index page once for more objects (100k indicators: sys time 1.5 s
// with 4 in flight, 0.9-1.1 s with 16). Bounded by bytes too.
constexpr size_t kImportBatchesInFlight = 16;
constexpr size_t kImportBytesInFlight = 64u << 20;

// Where an object came from, for its rejection.
struct Origin {
  std::string file;
  int64_t line = -1;     // text and CSV
  std::string object;    // the object's id or the extracted value, when known
  std::string position;  // STIX: "object N at byte B"
};

struct Rejection {
  Origin origin;
  std::string reason;  // for people: "name: message" (or a reader's prefix before it)
};

// An object on its way to the store. `check_existing`: the importer made it
// (its timestamps are the import's), so an object with its id already in the
// collection counts as already present.
struct Pending {
  std::string json;
  Origin origin;
  bool check_existing = false;
};

struct Summary {
  int64_t read = 0;
  int64_t stored = 0;
  int64_t already_present = 0;
  int64_t rejected = 0;
  int64_t inputs_read = 0;
  int64_t inputs_unreadable = 0;
  int64_t unreadable_by_users = 0;  // stored, no producer organisation, not TLP:CLEAR
  std::vector<Rejection> rejections;
  std::map<std::string, int64_t> rejected_by_reason;  // the rejection's stable name -> count
};

// "FILE:LINE: object position" of an origin.
std::string Describe(const Origin& o);

// Writes batches of objects to one collection through the TAXII write path.
class ImportSink {
 public:
  struct Writer {
    const policy::Policy* policy = nullptr;  // null: no --org, producers as the input says
    auth::Principal principal;
    std::string identity;
    std::set<std::string> org_identities;  // for the "readable by admins only" warning
    std::string route = "cli import";      // the audit record's route (+ collection id)
    std::string actor;                     // the audit record's user ("": the local actor)
    // A created_by_ref naming no known organisation: refused, or (a pull from
    // a peer) shared locally as the writer's (taxii::PrepareWrite).
    taxii::UnknownProducer unknown_producer = taxii::UnknownProducer::kRefuse;
    // A pull: the peer the objects come from (store::NewObject::source_peer).
    std::string source_peer;
  };

  ImportSink(store::Store& hub, store::Collection collection, Writer writer,
             std::vector<std::string> default_markings, audit::AuditLog& trail, Summary& summary,
             bool quiet)
      : hub_(hub),
        collection_(std::move(collection)),
        writer_(std::move(writer)),
        default_markings_(std::move(default_markings)),
        trail_(trail),
        summary_(summary),
        quiet_(quiet) {}
  // Waits for the batches still in flight (and records them in the trail):
  // the store writes them whatever happens, so they are never left unaudited.
  ~ImportSink() { (void)Drain(); }
  ImportSink(const ImportSink&) = delete;
  ImportSink& operator=(const ImportSink&) = delete;

  // Adds objects that are stored together or not at all. After a store or
  // audit failure (error()) nothing more is added.
  void AddGroup(std::vector<Pending> group) {
    if (!error_.ok()) return;
    std::vector<Pending> ready;
    for (Pending& p : group) {
      ++summary_.read;
      std::string name, reason;
      if (!Normalise(p, &name, &reason)) {
        // One malformed member sinks its group: no half-stored indicator/SCO pair.
        for (const Pending& q : group) Reject(q.origin, name, reason);
        return;
      }
      ready.push_back(std::move(p));
    }
    size_t bytes = 0;
    for (const Pending& p : ready) bytes += p.json.size();
    if (!batch_.empty() && (batch_.size() + ready.size() > kImportBatchObjects ||
                            batch_bytes_ + bytes > kImportBatchBytes)) {
      error_ = Submit();
      if (!error_.ok()) return;
    }
    groups_.push_back({batch_.size(), ready.size()});
    for (Pending& p : ready) batch_.push_back(std::move(p));
    batch_bytes_ += bytes;
  }

  // A rejection counted under its stable `name` ("invalid STIX", "producer_not_allowed",
  // "unsupported_attribute_type", ...) and listed with `reason`, the text for people.
  void Reject(const Origin& origin, std::string_view name, const std::string& reason) {
    ++summary_.rejected;
    ++summary_.rejected_by_reason[std::string(name)];
    if (summary_.rejections.size() < kMaxListedRejections) {
      summary_.rejections.push_back({origin, reason});
    }
    if (!quiet_) std::fprintf(stderr, "ctihub: %s: %s\n", Describe(origin).c_str(), reason.c_str());
  }

  // A rejection named after `why` (Status::name()), listed as `prefix` + why.NamedMessage()
  // ("MISP: " names the reader that found it).
  void Reject(const Origin& origin, const Status& why, std::string_view prefix = {}) {
    Reject(origin, why.name(), std::string(prefix) + why.NamedMessage());
  }

  // Validates and stores the batch in one transaction and waits until every
  // batch handed to the store is durable and audited. A store or audit
  // failure is returned (the import stops: the hub is not writable).
  Status Flush();
  const Status& error() const { return error_; }

 private:
  struct Group {
    size_t first;
    size_t count;
  };

  // A batch handed to the store, not yet waited for.
  struct InFlight {
    std::future<Result<std::vector<store::WriteOutcome>>> done;
    std::vector<audit::ObjectRef> refs;
    std::vector<int> facts_tlp;
    std::vector<std::string> producers;
    std::vector<std::string> checked_ids;  // in in_flight_ids_ until done
    size_t bytes = 0;                      // the objects' JSON
  };

  // Validates the batch and hands it to the store; waits for the oldest
  // batches first while kImportBatchesInFlight (or kImportBytesInFlight) are.
  Status Submit();
  // Waits for the oldest batch in flight, counts and audits it.
  Status Complete();
  // Completes every batch in flight; the first failure is returned.
  Status Drain();

  // Checks the object's JSON and adds the default markings it lacks.
  // False when it cannot: *name is the rejection's name, *reason its text.
  bool Normalise(Pending& p, std::string* name, std::string* reason);
  std::vector<bool> RejectedGroups(const std::vector<taxii::EnvelopeItem>& items);
  Status FlushGroupsAlone(const Status& refused);
  Result<std::set<std::string>> ExistingIds(const std::vector<taxii::EnvelopeItem>& items,
                                            const std::vector<bool>& keep);
  Status Audit(const std::vector<audit::ObjectRef>& refs);
  // An object whose version is not its own (no `modified`/`created`: the
  // store would date it on arrival) or that the importer made.
  bool NeedsExistenceCheck(size_t i, const taxii::EnvelopeItem& item) const {
    return batch_[i].check_existing || !item.object.has_version;
  }

  store::Store& hub_;
  store::Collection collection_;
  Writer writer_;
  std::vector<std::string> default_markings_;
  audit::AuditLog& trail_;
  Summary& summary_;
  bool quiet_;
  json::JsonParser parser_;
  std::vector<Pending> batch_;
  std::vector<Group> groups_;
  size_t batch_bytes_ = 0;
  std::deque<InFlight> in_flight_;
  size_t in_flight_bytes_ = 0;
  // Ids that need the existence check, in batches in flight: present for the
  // check of later batches (the store has not committed them yet).
  std::multiset<std::string> in_flight_ids_;
  Status error_;
};

// Stores `objects` (STIX JSON texts, each its own group) in collection
// `collection` (id or alias, in API root `root` or any) as `principal` of
// `policy` through the ImportSink: the route of the audit record is `route`.
Result<Summary> ReportObjects(store::Store& hub, audit::AuditLog& trail,
                              const std::string& collection, const std::string& root,
                              const policy::Policy* policy, const auth::Principal& principal,
                              const std::vector<std::string>& objects, const std::string& route);

}  // namespace ctihub::cli
