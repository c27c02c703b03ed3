// The TAXII side of the sharing policy: where every read path meets
// policy::Policy::Decide, and where writes get their producer.
//
// Reads: a ReadGate is opened once per request for (principal, collection).
// It pins one Policy (a revocation takes effect on the next request), turns
// the policy's ReadScope into the store's pre-filter and installs the store's
// `admit` callback, which decides every row (the caller records what the page
// finally holds in the audit trail: admit also sees the look-ahead row). Objects, one object,
// versions and manifest all page through it, so `more`, `next` and the X-TAXII-Date-Added-* headers
// are computed over what the reader may see, and a withheld object is absent exactly like a missing
// one.
//
// Most rows are decided from their facts alone (producer, type, TLP, PAP);
// those decisions are memoised per (policy, reader, collection) until the
// reader's next agreement start or end, and reused by later pages.
//
// Writes: PrepareWriter gives the envelope parser the producer rules: the
// writer's organisation identity becomes `created_by_ref` when absent (and
// the producer column of SCOs, which have no created_by_ref); a foreign
// `created_by_ref` is refused unless a relay agreement allows it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/json.h"
#include "core/result.h"
#include "core/timestamp.h"
#include "policy/policy.h"
#include "policy/policy_holder.h"
#include "store/store.h"

namespace ctihub::taxii {

// The policy and audit collaborators of a Service. `ctihub serve` always
// sets both. The policy is mandatory: a Service without one answers every
// request 503 `policy_unavailable` (fail closed), unless it was built with
// WithoutPolicyForTest() -- a bare TAXII server for protocol tests, fuzzers
// and benchmarks, which then serves whatever the collection ACL allows.
struct AccessControl {
  policy::PolicyHolder* policy = nullptr;
  audit::Sink* audit = nullptr;  // an AuditLog; a test double in tests
  std::string data_dir;          // where audit::Query reads DATA/audit.db (GET /api/v1/audit)
  bool without_policy_for_test = false;  // set only by WithoutPolicyForTest()
};

// No policy and no audit, said explicitly: everything the ACL lets through is served.
inline AccessControl WithoutPolicyForTest() {
  AccessControl a;
  a.without_policy_for_test = true;
  return a;
}

class DecisionMemo;  // access.cc

// A memoised decision (see DecisionMemo in access.cc).
struct DecisionMemoEntry {
  bool serve = false;
  const void* unless_stripped = nullptr;  // policy::Decision::unless_stripped
  std::string_view via;                   // policy::Decision::via (lives with the policy)
};

// What let the reader have a row, for its object.served record: the policy's
// grant (policy::Decision::via: "own", "public", "community:X", "agreement:A",
// "reshare:A>B", "named") and whether the copy was redacted. `via` is valid as
// long as the gate that admitted the row.
struct ServedGrant {
  std::string_view via;
  bool redacted = false;
};

// A reader of one collection during one request. Not thread-safe; lives on
// the request's stack and must outlive the store calls it is applied to.
class ReadGate {
 public:
  // `policy` null: nothing is served (fail closed).
  // `now` decides agreement validity for the whole request (tests pass it).
  // `own_memo`: the gate keeps its decisions to itself instead of sharing
  // this thread's memo of the reader (see access.cc), so it may be used on
  // one thread after another (a streamed export pages on whichever worker is
  // free); a gate is still used by one thread at a time.
  ReadGate(std::shared_ptr<const policy::Policy> policy, const auth::Principal& principal,
           const store::Collection& collection, Timestamp now = Timestamp::Now(),
           bool own_memo = false);

  // A gate that leaves queries alone: everything the collection ACL lets
  // through is served. Only for a Service built with WithoutPolicyForTest().
  static ReadGate WithoutPolicyForTest(const auth::Principal& principal,
                                       const store::Collection& collection);

  // Installs the pre-filter and the per-row decision on `q`.
  void Apply(store::ObjectQuery& q);

  // The grant that admitted `row` (a row of a page this gate decided, found
  // by its date_added); nullptr for a row it did not admit, and for every row
  // of a gate without policy. The pointer is valid until the next admit.
  const ServedGrant* GrantOf(const store::ObjectVersion& row) const;

  // Whether the last admitted row belongs to the reader's own organisation.
  bool IsOwn(const store::ObjectVersion& v) const;
  // The reader's organisation identity ("" when unknown).
  const std::string& identity() const { return identity_; }

 private:
  // What the memo says of a row, from its facts alone (ObjectQuery::screen).
  struct Screened {
    int64_t date_added_us = -1;  // the row screened
    bool memoisable = false;
    bool named = false;
    std::optional<DecisionMemoEntry> known;
  };
  Screened Screen(const store::ObjectVersion& row);
  bool Admit(store::ObjectVersion& row);
  void Remember(const store::ObjectVersion& row, std::string_view via, bool redacted);

  std::shared_ptr<const policy::Policy> policy_;
  // Decisions by facts, shared with this thread's earlier requests of the
  // same reader (see DecisionMemo in access.cc).
  std::shared_ptr<DecisionMemo> memo_;
  Screened screened_;  // the last row screened, for its admit
  // The grant of every row admitted, by date_added, in admit order (GrantOf).
  std::vector<std::pair<int64_t, ServedGrant>> admitted_;
  mutable size_t next_grant_ = 0;  // where GrantOf looks first (pages follow admit order)
  policy::Policy::ResolvedReader reader_;
  policy::CollectionMarking marking_;
  std::string org_;
  std::string identity_;
  bool anonymous_ = false;
  bool unrestricted_ = false;  // WithoutPolicyForTest()
  Timestamp now_;
};

// The collection settings the policy keeps for `c` (by id, else by alias).
policy::CollectionMarking MarkingOf(const policy::Policy& policy, const store::Collection& c);

// The policy's facts of a stored version, exactly as ReadGate decides it:
// from the store's columns, or, for a version stored before them, from its
// JSON (InvalidArgument when that does not parse). For callers that explain
// or compare decisions of stored objects (`ctihub policy explain`,
// `agreement add --dry-run`).
Result<policy::ObjectFacts> FactsOfRow(const store::ObjectVersion& row);

// The STIX identity of the writer's organisation ("" when the policy knows none).
std::string WriterIdentity(const policy::Policy* policy, const auth::Principal& principal);

// Fills `out.access` from the object and applies the producer rules (see the
// file comment); when it adds created_by_ref it sets `out.json` to the
// canonical text with it, else leaves `out.json` untouched. `object` is the
// validated object, still alive in its parser. A refusal is InvalidArgument
// with a message for the status resource's failure entry.
//
// `unknown`: what to do with a created_by_ref that is no known organisation's
// identity. kRefuse (a TAXII POST, an import): producer_not_allowed, as for a
// known foreign producer. kAsWriter (a pull from a peer hub that speaks for
// the writer's organisation): kept in the object, but the version is shared
// locally as the writer's (its access producer is the writer identity).
enum class UnknownProducer { kRefuse, kAsWriter };
Status PrepareWrite(const policy::Policy* policy, const auth::Principal& principal,
                    const std::string& writer_identity, json::Element object, store::NewObject& out,
                    Timestamp now, UnknownProducer unknown = UnknownProducer::kRefuse);

}  // namespace ctihub::taxii
