// The single access decision. Every read path (TAXII objects/manifest/versions,
// export, search, sync push, match) calls Policy::Decide for each object
// version and serves exactly what it returns; no read path has its own copy of
// the rules. A withheld object must answer exactly like a missing one.
//
// Policy is immutable once built: share one `std::shared_ptr<const Policy>`
// between threads and swap the pointer when the configuration changes
// (revocations take effect on the next decision). Decide is thread-safe.
//
// Semantics (src/policy/README.md):
//  - the producer (created_by_ref, or the store's producer column) always sees its own objects;
//  - CLEAR: any authenticated reader; anonymous readers only on public collections;
//  - GREEN: organisations sharing a community with the producer, and agreement recipients;
//  - AMBER: recipients of an agreement (an organisation, or each member of a
//    recipient community) and, when that agreement allows re-sharing, the
//    recipients of their own agreements (one hop, capped at AMBER);
//  - AMBER+STRICT: the recipient organisation of a direct agreement only;
//  - RED: only organisations named in the object's recipient_orgs extension.
//  Agreements further limit object types, PAP, SCO types, and strip properties.
//  Granular markings above what the chosen grant allows are removed; if a
//  required property would go, the object is withheld.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "core/timestamp.h"
#include "policy/markings.h"
#include "policy/model.h"

namespace ctihub::policy {

// A parsed granular-marking selector: "labels.[1]" -> {"labels", 1}.
struct PathSegment {
  std::string key;     // when index < 0
  int64_t index = -1;  // list position
  friend bool operator==(const PathSegment&, const PathSegment&) = default;
};
using Path = std::vector<PathSegment>;
Result<Path> ParseSelector(std::string_view selector);
std::string SelectorToString(const Path& p);

struct GranularFact {
  MarkingInfo marking;  // kOther for statements, lang entries and unknown definitions
  std::vector<Path> selectors;
  bool malformed = false;  // a selector that does not parse: fail closed
};

// What the policy needs to know about one object version. Cheap to build
// (one pass over the top-level members); the store can also fill it from its
// columns when there are no granular markings.
struct ObjectFacts {
  std::string id;
  std::string type;
  std::string producer;    // identity id: created_by_ref unless the store overrides it
  std::optional<Tlp> tlp;  // highest TLP among object_marking_refs
  std::optional<Pap> pap;  // highest PAP among object_marking_refs
  std::vector<std::string> recipient_orgs;  // RED recipients extension
  std::vector<GranularFact> granular;       // only those with a TLP or PAP marking matter
  bool has_granular_levels = false;         // some granular marking carries TLP/PAP
  // The highest TLP and PAP among granular markings (nullopt: none), when
  // known: ExtractFacts sets them; the store keeps them in a column. A
  // grant that covers both removes nothing granular, so deciding for it
  // needs no selectors (DecideText then parses nothing).
  bool granular_max_known = false;
  std::optional<Tlp> granular_max_tlp;
  std::optional<Pap> granular_max_pap;
};

// Reads the facts from a STIX object. InvalidArgument if it is not an object
// or lacks id/type.
Result<ObjectFacts> ExtractFacts(json::Element object);

struct Reader {
  std::string org;  // organisation name; empty when anonymous
  bool anonymous = false;
};

struct CollectionMarking {
  std::optional<Tlp> default_tlp;
  std::optional<Pap> default_pap;
  bool public_read = false;
};

enum class Verdict : uint8_t { kServe, kServeRedacted, kWithhold };
std::string_view VerdictName(Verdict v);

struct Decision {
  Verdict verdict = Verdict::kWithhold;
  std::string redacted_json;  // canonical JSON (RFC 8785) when kServeRedacted
  // The grant used: "own", "public", "community:X", "agreement:A", "reshare:A>B",
  // "named"; or the stable reason name when withheld ("no-grant",
  // "type-not-in-agreement", "pap-above-ceiling", "sco-type-withheld",
  // "required-property-redacted", "malformed-granular-selector", "malformed-object").
  // Valid as long as the Policy that decided lives.
  std::string_view via;
  // False when the object's content played no part: then, for the same
  // reader, collection and time, every object with the same facts (producer,
  // type, TLP, PAP; no recipients, no granular TLP/PAP) gets this decision.
  // Callers deciding many rows may reuse it (taxii::ReadGate does)...
  bool depends_on_object = true;
  // ... for those objects whose text has none of the properties an
  // agreement strips, when this is set (Policy::MayNeedStripping tells).
  // Valid as long as the Policy that decided lives.
  const void* unless_stripped = nullptr;
};

// One grant the decision considered (Policy::Explain), in the order it
// considered them.
struct GrantStep {
  // "own", "named", "public", "community:X", "agreement:A", "reshare:A>B".
  std::string via;
  Tlp max = Tlp::kClear;  // the highest TLP the grant covers
  // What became of it:
  //  "decided"            it decided the decision (served, or served redacted);
  //  "redacts-more"       it would serve, but removing more than the grant that decided;
  //  "not-reached"        a grant considered before it decided;
  //  "tlp-above-ceiling"  the object's TLP is above `max`;
  //  "not-active"         an agreement behind it is not in force at the time decided;
  //  or the withholding reason it gave (Decision::via: "type-not-in-agreement",
  //  "pap-above-ceiling", "sco-type-withheld", "required-property-redacted", ...).
  std::string outcome;
  std::vector<std::string> removals;  // selectors it removes (served redacted, redacts-more)
};

// What a decision looked at: filled by the decision itself (Policy::Explain
// passes one to the code Decide runs), so an explanation cannot disagree with
// the decision it explains.
struct DecisionTrace {
  Tlp tlp = Tlp::kAmber;         // the effective TLP: the object's, else the collection's default,
  Pap pap = Pap::kClear;         // else the hub's `unmarked_tlp`; PAP likewise (unmarked: CLEAR)
  bool tlp_marked = false;       // the object carries a TLP marking
  std::vector<GrantStep> steps;  // the grants tried, in order
  std::vector<GrantStep> skipped;  // grants the TLP or the time ruled out before trying
};

// Why one agreement of the model did, or did not, decide (Policy::Explain).
struct AgreementNote {
  std::string agreement;
  // "decided", "redacts-more", "not-reached", "tlp-above-ceiling", "not-yet-valid",
  // "expired", "revoked", the withholding reasons of GrantStep::outcome, and,
  // for an agreement that gives the reader no grant for this producer:
  // "own-object" (the reader produced it), "wrong-recipient",
  // "producer-not-covered", "reshare-not-allowed", "reshare-types-disjoint".
  std::string reason;
  std::string detail;  // one human sentence
};

struct Explanation {
  Decision decision;  // exactly what Decide returns for the same inputs
  DecisionTrace trace;
  std::string type;           // the object's type
  std::string reader_org;     // "" when anonymous
  bool reader_known = false;  // the organisation is in the policy
  std::string producer;       // identity id ("" unknown)
  std::string producer_org;   // its organisation's name ("" when none has that identity)
  // The selectors removed from the served copy (Verdict::kServeRedacted).
  std::vector<std::string> redactions;
  std::vector<AgreementNote> agreements;  // every agreement of the model, in model order
};

// One (producer, highest TLP) pair a reader may see: the store query's
// pre-filter (an upper bound; Decide has the last word).
struct ProducerGrant {
  std::string producer;  // identity id
  Tlp max_tlp = Tlp::kClear;
  std::vector<std::string> object_types;  // empty = any
};
struct ReadScope {
  bool none = false;                   // anonymous reader of a non-public collection
  std::string own_producer;            // identity id: every object of it
  Tlp any_producer_max = Tlp::kClear;  // objects of any producer up to this level
  std::vector<ProducerGrant> grants;
  bool red_if_named = false;  // RED objects naming own_producer in recipient_orgs
};

class Policy {
 public:
  // REQUIRES: model.Validate() ok (the loaders guarantee it).
  explicit Policy(PolicyModel model);
  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  // The decision. `object` is the stored version's JSON (used only when
  // something has to be removed). `now` decides agreement validity.
  Decision Decide(const Reader& reader, const ObjectFacts& facts, json::Element object,
                  const CollectionMarking& collection, Timestamp now) const;

  // The same decision from the stored text, for the hot read path: the facts
  // come from the store's columns and `object_json` is parsed (with `parser`,
  // one per thread) only when something may have to be removed — a granular
  // TLP/PAP marking, or a strip rule whose property name occurs in the text.
  // Facts may come from columns (id, type, producer, tlp, pap, recipient_orgs,
  // has_granular_levels, granular_max_*); when has_granular_levels is set and
  // `granular` is empty, the selectors are read from the text if a grant
  // does not cover the granular levels (or they are not known).
  // REQUIRES: object_json is the stored canonical JSON (RFC 8785: property
  // names unescaped) of the object `facts` describe.
  Decision DecideText(const Reader& reader, const ObjectFacts& facts, std::string_view object_json,
                      json::JsonParser& parser, const CollectionMarking& collection,
                      Timestamp now) const;

  // A reader looked up once per request (a page decides many objects for one
  // reader). Valid as long as this Policy lives.
  struct ResolvedReader {
    const void* index = nullptr;  // the reader's compiled grants; nullptr: unknown org / anonymous
    bool anonymous = false;
  };
  ResolvedReader Resolve(const Reader& reader) const;
  Decision DecideText(const ResolvedReader& reader, const ObjectFacts& facts,
                      std::string_view object_json, json::JsonParser& parser,
                      const CollectionMarking& collection, Timestamp now) const;

  // Whether the stored canonical `text` of an object of `type` may hold a
  // property that Decision::unless_stripped (non-null) strips.
  static bool MayNeedStripping(const void* unless_stripped, std::string_view type,
                               std::string_view text);

  // The first instant after `t` at which one of the reader's agreements
  // starts or ends (nullopt: none does): until then, decisions made at `t`
  // that did not depend on the object (Decision::depends_on_object) hold.
  std::optional<Timestamp> NextChange(const ResolvedReader& reader, Timestamp t) const;

  // The decision DecideText makes for the same arguments, with what it looked
  // at and, for every agreement of the model, why it did or did not decide.
  // The decision is made by the same code as Decide's (a trace is passed
  // through it), never recomputed.
  Explanation Explain(const Reader& reader, const ObjectFacts& facts, std::string_view object_json,
                      json::JsonParser& parser, const CollectionMarking& collection,
                      Timestamp now) const;

  // Convenience: extracts the facts and decides. Withholds unparseable objects.
  Decision DecideJson(const Reader& reader, json::Element object,
                      const CollectionMarking& collection, Timestamp now) const;

  ReadScope ScopeFor(const Reader& reader, const CollectionMarking& collection,
                     Timestamp now) const;

  // The collection settings from the model (defaults when not configured).
  CollectionMarking CollectionFor(std::string_view collection_name_or_alias) const;

  // The STIX identity id of an organisation; "" when the organisation is
  // unknown or has no identity. Valid as long as this Policy lives.
  std::string_view IdentityOf(std::string_view org_name) const;

  // Is `identity` the STIX identity of an organisation of the model?
  bool KnowsIdentity(std::string_view identity) const;

  // Writes: may `writer_org` store objects whose created_by_ref is
  // `producer_identity` (another organisation's)? True when an agreement
  // active at `now` has relay = true, its producer is the organisation owning
  // `producer_identity` (or a community it belongs to) and its recipient is
  // `writer_org` (or a community it belongs to). False for unknown
  // organisations and identities. A writer's own identity is not a relay:
  // callers compare it with IdentityOf(writer_org) first.
  bool MayRelay(std::string_view writer_org, std::string_view producer_identity,
                Timestamp now) const;

  // Every re-share grant of the compiled model: a producer's objects that
  // reach a reader through an agreement allowing re-sharing and one of its
  // recipient's own agreements (one hop). Sorted by (reader, producer, via).
  struct ReshareChain {
    std::string reader_org;
    std::string producer_org;
    std::string via;  // "reshare:A>B", as Decision::via names it
    Tlp max = Tlp::kClear;
    std::vector<std::string> object_types;  // empty = any
    friend bool operator==(const ReshareChain&, const ReshareChain&) = default;
  };
  std::vector<ReshareChain> ReshareChains() const;

  const PolicyModel& model() const { return model_; }
  // Which Policy this is: unique among the Policy objects this process made
  // (a reload makes a new one), so with a process nonce it versions what a
  // reader's decisions depend on (the export's ETag).
  uint64_t generation() const { return generation_; }
  // ModelDigest(model()): the same on every node that loaded the same policy.
  const std::string& digest() const { return digest_; }

  // Defined in policy.cc only.
  struct Route;
  struct Rules;
  struct LazyObject;

 private:
  struct ReaderIndex;
  // `trace` (null on every read path) records what the decision looked at.
  Decision DecideImpl(const ResolvedReader& reader, const ObjectFacts& facts, LazyObject& object,
                      const CollectionMarking& collection, Timestamp now,
                      DecisionTrace* trace = nullptr) const;
  // Why agreement `a` did or did not decide `e` (explain.cc).
  AgreementNote NoteFor(const Agreement& a, const Explanation& e, Timestamp now) const;
  const std::vector<Route>* RoutesFor(const ReaderIndex& r, std::string_view producer) const;

  uint64_t generation_;
  PolicyModel model_;
  std::string digest_;
  std::vector<std::unique_ptr<Rules>> rules_;
  std::unordered_map<std::string, std::unique_ptr<ReaderIndex>> readers_;  // by org name
  const Organisation* OrgByName(std::string_view name) const;
  const Organisation* OrgByIdentity(std::string_view identity) const;
  std::unordered_map<std::string_view, const Organisation*> org_by_name_;      // into model_
  std::unordered_map<std::string_view, const Organisation*> org_by_identity_;  // into model_
  std::vector<const Agreement*> relay_agreements_;  // into model_: the ones with relay = true
};

}  // namespace ctihub::policy
