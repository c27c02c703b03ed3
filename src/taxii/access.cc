#include "taxii/access.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

#include "core/hash.h"
#include "core/tlp.h"
#include "stix/validate.h"

namespace ctihub::taxii {
namespace {

std::optional<policy::Tlp> TlpOf(int code) {
  if (code < 0 || code > static_cast<int>(policy::Tlp::kRed)) return std::nullopt;
  return static_cast<policy::Tlp>(code);
}
std::optional<policy::Pap> PapOf(int code) {
  if (code < 0 || code > static_cast<int>(policy::Pap::kRed)) return std::nullopt;
  return static_cast<policy::Pap>(code);
}

// The facts the store keeps in columns, moved out of `row` (ReadGate::Admit
// gives them back after the decision).
policy::ObjectFacts TakeColumnFacts(store::ObjectVersion& row) {
  policy::ObjectFacts facts;
  facts.type = std::move(row.type);
  facts.producer = std::move(row.access.producer);
  facts.tlp = TlpOf(row.access.tlp);
  facts.pap = PapOf(row.access.pap);
  facts.recipient_orgs = std::move(row.access.recipient_orgs);
  facts.has_granular_levels = row.access.granular_levels;
  facts.granular_max_known = row.access.granular_max_known;
  facts.granular_max_tlp = TlpOf(row.access.granular_max_tlp);
  facts.granular_max_pap = PapOf(row.access.granular_max_pap);
  return facts;
}

// When a reader has grants from most producers of the hub, per-producer
// clauses filter little and cost an IN-list lookup per row: the bound becomes
// "any producer up to the highest granted level", still an upper bound (the
// decision has the last word on every row).
bool CoversMostProducers(const policy::ReadScope& s, size_t organisations) {
  return s.grants.size() > 8 && s.grants.size() * 4 > organisations * 3;
}

// The store's pre-filter for `s`; nullopt when it would pass nearly every
// row: a reader with grants from most producers up to AMBER or above is only
// kept from AMBER+STRICT and RED objects of others, and evaluating the
// condition on every row of a page cost more than deciding the few rows it
// drops (bench/policy_read_bench, broad reader).
std::optional<store::AccessScope> ToStoreScope(const policy::ReadScope& s, int unmarked_tlp,
                                               size_t organisations) {
  store::AccessScope out;
  out.none = s.none;
  out.own_producer = s.own_producer;
  out.any_producer_max = static_cast<int>(s.any_producer_max);
  out.unmarked_tlp = unmarked_tlp;
  out.red_if_named = s.red_if_named && !s.own_producer.empty();
  if (!s.none && CoversMostProducers(s, organisations)) {
    for (const auto& g : s.grants) {
      out.any_producer_max = std::max(out.any_producer_max, static_cast<int>(g.max_tlp));
    }
    if (out.any_producer_max >= static_cast<int>(policy::Tlp::kAmber)) return std::nullopt;
    return out;
  }
  out.grants.reserve(s.grants.size());
  for (const auto& g : s.grants) {
    out.grants.push_back({g.producer, static_cast<int>(g.max_tlp), g.object_types});
  }
  return out;
}

// RFC 8785 text of `object` with one more string member (absent from it).
std::string CanonicalWithMember(json::Element object, std::string_view key,
                                std::string_view value) {
  json::Object obj = object.get_object().value_unsafe();
  std::vector<std::pair<std::string_view, json::Element>> members;
  for (auto field : obj) members.emplace_back(field.key, field.value);
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return json::Utf16Less(a.first, b.first); });
  std::string out;
  out.reserve(512);
  out += '{';
  bool inserted = false, first = true;
  auto sep = [&] {
    if (!first) out += ',';
    first = false;
  };
  auto put_new = [&] {
    sep();
    json::AppendQuoted(out, key);
    out += ':';
    json::AppendQuoted(out, value);
    inserted = true;
  };
  for (const auto& [k, v] : members) {
    if (!inserted && json::Utf16Less(key, k)) put_new();
    sep();
    json::AppendQuoted(out, k);
    out += ':';
    json::AppendCanonical(out, v);
  }
  if (!inserted) put_new();
  out += '}';
  return out;
}

}  // namespace

// ---- decision memo -------------------------------------------------------------

// Decisions that did not depend on the object (policy::Decision::
// depends_on_object false), by the facts they were made from: producer,
// type, TLP and PAP codes, and whether the reader is among the recipients,
// of rows without granular TLP/PAP. A page holds a few hundred such
// combinations (a broad reader of a 50-producer hub some 5,000 in all, in a
// few hundred (producer, type) slots; rows of pairs past kMaxSlots are
// decided every time) and a client pages a collection in many requests, so
// the memo is kept per thread for a few recent (policy, reader, collection)
// triples, each valid from when it was made until the reader's next
// agreement boundary (Policy::NextChange).
// Not thread-safe: a thread's own.
class DecisionMemo {
 public:
  using Entry = DecisionMemoEntry;

  DecisionMemo(std::shared_ptr<const policy::Policy> policy, std::string org, bool anonymous,
               std::string collection, Timestamp made, std::optional<Timestamp> until)
      : policy_(std::move(policy)),
        org_(std::move(org)),
        collection_(std::move(collection)),
        anonymous_(anonymous),
        made_(made),
        until_(until) {}

  const policy::Policy* policy() const { return policy_.get(); }
  bool ValidFor(const policy::Policy* p, const std::string& org, bool anonymous,
                const std::string& collection, Timestamp now) const {
    return p == policy_.get() && anonymous == anonymous_ && org == org_ &&
           collection == collection_ && made_ <= now && (!until_ || now < *until_);
  }

  // The memoised decision for a row's facts, or nullopt.
  std::optional<Entry> Find(std::string_view producer, std::string_view type, int tlp, int pap,
                            bool named) const {
    const size_t at = IndexOf(producer, type);
    if (at == kNone) return std::nullopt;
    const uint8_t code = slots_[at].cells[Cell(tlp, pap, named)];
    if (code == kUnknown) return std::nullopt;
    if (code == kWithheld) return Entry{false, nullptr, {}};
    const Outcome& served = outcomes_[code - kServedAs];
    return Entry{true, served.unless_stripped, served.via};
  }

  void Put(std::string_view producer, std::string_view type, int tlp, int pap, bool named,
           Entry entry) {
    if (producer.size() + type.size() > kKey) return;  // not memoised: decided every time
    uint8_t code = kWithheld;
    if (entry.serve) {
      auto at = std::find_if(outcomes_.begin(), outcomes_.end(), [&](const Outcome& o) {
        return o.unless_stripped == entry.unless_stripped && o.via == entry.via;
      });
      if (at == outcomes_.end()) {
        if (outcomes_.size() >= size_t{UINT8_MAX} - kServedAs) return;
        at = outcomes_.insert(outcomes_.end(), Outcome{entry.unless_stripped, entry.via});
      }
      code = static_cast<uint8_t>(kServedAs + (at - outcomes_.begin()));
    }
    size_t at = IndexOf(producer, type);
    if (at == kNone) {
      if (used_ >= kMaxSlots) return;
      if (slots_.size() < 2 * (used_ + 1)) Grow();  // at most half full
      at = Claim(producer, type);
      ++used_;
    }
    slots_[at].cells[Cell(tlp, pap, named)] = code;
  }

 private:
  // One 192-byte slot per (producer, type) seen, in an open-addressed table:
  // the decisions of its (TLP, PAP, named) cells in the first cache line and
  // the key (producer then type) in the next, so a row's decision costs one
  // hash and two adjacent lines. Under a page's stream of row data the
  // tables are rarely still in cache: with separate producer and type tables
  // and a block per producer a row cost four cache misses, most of the
  // memo's time (perf annotate).
  static constexpr size_t kCells = size_t{6} * 5 * 2;  // TLP -1..4, PAP -1..3, named
  static constexpr size_t kKey = 128;                  // producer + type bytes
  static constexpr size_t kMaxSlots = 4096;            // then decided every time
  // A cell: unknown, withheld, or served as outcomes_[code - kServedAs].
  static constexpr uint8_t kUnknown = 0, kWithheld = 1, kServedAs = 2;
  struct alignas(64) Slot {
    uint8_t used = 0;
    uint8_t producer_size = 0;
    uint8_t type_size = 0;
    uint8_t cells[kCells] = {};
    char key[kKey];
  };
  static_assert(sizeof(Slot) == 192);

  static size_t Cell(int tlp, int pap, bool named) {
    return (static_cast<size_t>(tlp + 1) * 5 + static_cast<size_t>(pap + 1)) * 2 + size_t{named};
  }

  static uint64_t Hash(std::string_view producer, std::string_view type) {
    return IdTailHash(producer) ^ std::rotl(IdTailHash(type), 31);
  }
  static bool Holds(const Slot& slot, std::string_view producer, std::string_view type) {
    return slot.producer_size == producer.size() && slot.type_size == type.size() &&
           std::memcmp(slot.key, producer.data(), producer.size()) == 0 &&
           std::memcmp(slot.key + producer.size(), type.data(), type.size()) == 0;
  }

  static constexpr size_t kNone = SIZE_MAX;
  size_t IndexOf(std::string_view producer, std::string_view type) const {
    if (slots_.empty() || producer.size() + type.size() > kKey) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(producer, type) & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (!slot.used) return kNone;
      if (Holds(slot, producer, type)) return i;
    }
  }
  // Takes an empty slot for the key. REQUIRES: a free slot; the key fits.
  size_t Claim(std::string_view producer, std::string_view type) {
    const size_t mask = slots_.size() - 1;
    size_t i = Hash(producer, type) & mask;
    while (slots_[i].used) i = (i + 1) & mask;
    Slot& slot = slots_[i];
    slot.used = 1;
    slot.producer_size = static_cast<uint8_t>(producer.size());
    slot.type_size = static_cast<uint8_t>(type.size());
    std::memcpy(slot.key, producer.data(), producer.size());
    std::memcpy(slot.key + producer.size(), type.data(), type.size());
    return i;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(64, 2 * old.size()), Slot{});
    for (const Slot& o : old) {
      if (!o.used) continue;
      const std::string_view producer(o.key, o.producer_size);
      const std::string_view type(o.key + o.producer_size, o.type_size);
      std::memcpy(slots_[Claim(producer, type)].cells, o.cells, kCells);
    }
  }

  std::shared_ptr<const policy::Policy> policy_;
  std::string org_, collection_;
  bool anonymous_;
  Timestamp made_;
  std::optional<Timestamp> until_;
  std::vector<Slot> slots_;  // power of two
  size_t used_ = 0;
  // The served outcomes met so far: the grant (for the audit record) and the
  // strip condition. A reader meets a few (one per grant it uses).
  struct Outcome {
    const void* unless_stripped;  // Decision::unless_stripped
    std::string_view via;         // Decision::via
  };
  std::vector<Outcome> outcomes_;
};

namespace {

// This thread's memo for the reader, reused when still valid. Memos of other
// policies are dropped on the way (the holder has moved on to `policy`).
std::shared_ptr<DecisionMemo> MemoFor(const std::shared_ptr<const policy::Policy>& policy,
                                      const policy::Policy::ResolvedReader& reader,
                                      const std::string& org, bool anonymous,
                                      const std::string& collection, Timestamp now) {
  constexpr size_t kRecent = 4;
  thread_local std::vector<std::shared_ptr<DecisionMemo>> recent;  // most recent last
  std::erase_if(recent, [&](const auto& m) { return m->policy() != policy.get(); });
  for (size_t i = 0; i < recent.size(); ++i) {
    if (recent[i]->ValidFor(policy.get(), org, anonymous, collection, now)) {
      std::rotate(recent.begin() + static_cast<ptrdiff_t>(i),
                  recent.begin() + static_cast<ptrdiff_t>(i) + 1, recent.end());
      return recent.back();
    }
  }
  if (recent.size() == kRecent) recent.erase(recent.begin());
  recent.push_back(std::make_shared<DecisionMemo>(policy, org, anonymous, collection, now,
                                                  policy->NextChange(reader, now)));
  return recent.back();
}

}  // namespace

policy::CollectionMarking MarkingOf(const policy::Policy& policy, const store::Collection& c) {
  if (policy.model().FindCollection(c.id) == nullptr && !c.alias.empty()) {
    return policy.CollectionFor(c.alias);
  }
  return policy.CollectionFor(c.id);
}

Result<policy::ObjectFacts> FactsOfRow(const store::ObjectVersion& row) {
  if (row.access.known) {
    store::ObjectVersion copy;
    copy.type = row.type;
    copy.access = row.access;
    policy::ObjectFacts facts = TakeColumnFacts(copy);
    facts.id = row.id;
    return facts;
  }
  json::JsonParser parser(json::ParseLimits{.reject_duplicate_keys = false});
  auto doc = parser.Parse(row.json);
  if (!doc.ok()) return InvalidArgument("stored object " + row.id + " does not parse");
  return policy::ExtractFacts(*doc);
}

std::string WriterIdentity(const policy::Policy* policy, const auth::Principal& principal) {
  if (policy == nullptr || principal.anonymous) return {};
  const policy::Organisation* org = policy->model().FindOrganisation(principal.org);
  return org != nullptr ? org->identity_id : std::string();
}

ReadGate::ReadGate(std::shared_ptr<const policy::Policy> policy, const auth::Principal& principal,
                   const store::Collection& collection, Timestamp now, bool own_memo)
    : policy_(std::move(policy)), anonymous_(principal.anonymous), now_(now) {
  if (!policy_) return;
  if (!principal.anonymous) org_ = principal.org;
  reader_ = policy_->Resolve(policy::Reader{org_, anonymous_});
  marking_ = MarkingOf(*policy_, collection);
  identity_ = WriterIdentity(policy_.get(), principal);
  memo_ = own_memo ? std::make_shared<DecisionMemo>(policy_, org_, anonymous_, collection.id, now_,
                                                    policy_->NextChange(reader_, now_))
                   : MemoFor(policy_, reader_, org_, anonymous_, collection.id, now_);
}

ReadGate ReadGate::WithoutPolicyForTest(const auth::Principal& principal,
                                        const store::Collection& collection) {
  ReadGate gate(nullptr, principal, collection);
  gate.unrestricted_ = true;
  return gate;
}

void ReadGate::Apply(store::ObjectQuery& q) {
  if (unrestricted_) return;  // explicitly no sharing policy: the store's plain path
  if (!policy_) {
    // No policy: fail closed, nothing passes.
    store::AccessScope none;
    none.none = true;
    q.scope = std::move(none);
    q.screen = nullptr;
    q.admit = [](store::ObjectVersion&) { return false; };
    return;
  }
  const policy::Tlp unmarked = marking_.default_tlp.value_or(policy_->model().unmarked_tlp);
  policy::ReadScope scope = policy_->ScopeFor(policy::Reader{org_, anonymous_}, marking_, now_);
  q.scope = ToStoreScope(scope, static_cast<int>(unmarked), policy_->model().organisations.size());
  // Rows the memo knows to withhold are dropped before the store reads
  // their JSON; a withhold entry never carries a strip condition.
  q.screen = [this](const store::ObjectVersion& row) {
    screened_ = Screen(row);
    return !screened_.known || screened_.known->serve;
  };
  q.admit = [this](store::ObjectVersion& row) { return Admit(row); };
}

bool ReadGate::IsOwn(const store::ObjectVersion& v) const {
  return !identity_.empty() && v.access.producer == identity_;
}

ReadGate::Screened ReadGate::Screen(const store::ObjectVersion& row) {
  Screened out;
  out.date_added_us = row.date_added_us;
  const store::AccessFacts& a = row.access;
  // Recipients enter a decision only as "is the reader named" (the policy's
  // `named` grant), so that bit stands for them in the memo's key.
  out.memoisable = a.known && !a.granular_levels && a.tlp >= -1 && a.tlp <= 4 && a.pap >= -1 &&
                   a.pap <= 3;  // the policy's codes (DecisionMemo packs them)
  if (!out.memoisable) return out;
  out.named = !identity_.empty() && std::find(a.recipient_orgs.begin(), a.recipient_orgs.end(),
                                              identity_) != a.recipient_orgs.end();
  out.known = memo_->Find(a.producer, row.type, a.tlp, a.pap, out.named);
  return out;
}

bool ReadGate::Admit(store::ObjectVersion& row) {
  // The row's screening, unless the store called admit without screen.
  const Screened sc = screened_.date_added_us == row.date_added_us ? screened_ : Screen(row);
  if (sc.known &&
      !policy::Policy::MayNeedStripping(sc.known->unless_stripped, row.type, row.json)) {
    if (sc.known->serve) Remember(row, sc.known->via, false);
    return sc.known->serve;
  }
  // Stored text was validated when written: no duplicate-key walk again.
  thread_local json::JsonParser parser(json::ParseLimits{.reject_duplicate_keys = false});
  policy::ObjectFacts facts;
  if (row.access.known) {
    // Moved in and given back after the decision (it does not need the id).
    facts = TakeColumnFacts(row);
  } else {
    // Written before the store kept the facts: read them from the object.
    auto doc = parser.Parse(row.json);
    if (!doc.ok()) return false;
    auto extracted = policy::ExtractFacts(*doc);
    if (!extracted.ok()) return false;
    facts = std::move(*extracted);
    row.access.producer = facts.producer;
  }
  policy::Decision d = policy_->DecideText(reader_, facts, row.json, parser, marking_, now_);
  row.access.producer = std::move(facts.producer);
  if (row.access.known) row.type = std::move(facts.type);
  if (sc.memoisable && !d.depends_on_object) {
    const store::AccessFacts& a = row.access;
    memo_->Put(a.producer, row.type, a.tlp, a.pap, sc.named,
               {d.verdict == policy::Verdict::kServe, d.unless_stripped, d.via});
  }
  switch (d.verdict) {
    case policy::Verdict::kWithhold:
      return false;
    case policy::Verdict::kServeRedacted:
      row.json = std::move(d.redacted_json);
      break;
    case policy::Verdict::kServe:
      break;
  }
  Remember(row, d.via, d.verdict == policy::Verdict::kServeRedacted);
  return true;
}

void ReadGate::Remember(const store::ObjectVersion& row, std::string_view via, bool redacted) {
  admitted_.emplace_back(row.date_added_us, ServedGrant{via, redacted});
}

const ServedGrant* ReadGate::GrantOf(const store::ObjectVersion& row) const {
  const size_t n = admitted_.size();
  for (size_t i = 0; i < n; ++i) {
    const size_t at = (next_grant_ + i) % n;
    if (admitted_[at].first != row.date_added_us) continue;
    next_grant_ = at + 1;
    return &admitted_[at].second;
  }
  return nullptr;
}

Status PrepareWrite(const policy::Policy* policy, const auth::Principal& principal,
                    const std::string& writer_identity, json::Element object, store::NewObject& out,
                    Timestamp now, UnknownProducer unknown) {
  auto facts = policy::ExtractFacts(object);
  if (!facts.ok()) return InvalidArgument("invalid STIX: " + facts.status().message());
  out.access.tlp = facts->tlp ? static_cast<int>(*facts->tlp) : -1;
  out.access.pap = facts->pap ? static_cast<int>(*facts->pap) : -1;
  out.access.recipient_orgs = std::move(facts->recipient_orgs);
  out.access.granular_levels = facts->has_granular_levels;
  out.access.granular_max_known = facts->granular_max_known;
  out.access.granular_max_tlp =
      facts->granular_max_tlp ? static_cast<int>(*facts->granular_max_tlp) : -1;
  out.access.granular_max_pap =
      facts->granular_max_pap ? static_cast<int>(*facts->granular_max_pap) : -1;
  out.access.known = true;
  const std::string& claimed = facts->producer;
  if (policy == nullptr) {
    out.access.producer = claimed;
    return Status::Ok();
  }
  if (!claimed.empty()) {
    // The marking definitions of the catalogue (TLP, PAP) are public standard
    // objects: anyone may carry them with their publisher's created_by_ref.
    const bool standard_marking = out.type == "marking-definition" &&
                                  policy::LookupMarking(out.id).kind != policy::MarkingKind::kOther;
    if (claimed != writer_identity && !standard_marking && unknown == UnknownProducer::kAsWriter &&
        !writer_identity.empty() && !policy->KnowsIdentity(claimed)) {
      out.access.producer = writer_identity;  // created_by_ref kept as the peer sent it
      return Status::Ok();
    }
    if (claimed != writer_identity && !standard_marking &&
        !policy->MayRelay(principal.org, claimed, now)) {
      return InvalidArgument("producer_not_allowed",
                             "created_by_ref " + claimed +
                                 " is not the identity of organisation '" + principal.org +
                                 "' and no relay agreement lets it relay for that producer");
    }
    out.access.producer = claimed;
    return Status::Ok();
  }
  out.access.producer = writer_identity;
  // The TLP definitions are fixed objects (core/tlp.h): never altered.
  const bool fixed_tlp =
      out.type == "marking-definition" && tlp::FindFixedMarking(out.id) != nullptr;
  if (!writer_identity.empty() && !stix::IsScoType(out.type) && !fixed_tlp) {
    out.json = CanonicalWithMember(object, "created_by_ref", writer_identity);
  }
  return Status::Ok();
}

}  // namespace ctihub::taxii
