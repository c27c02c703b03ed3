#include "taxii/access.h"

#include <algorithm>
#include <utility>

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

// When a reader has grants from most producers of the hub, per-producer
// clauses filter little and cost an IN-list lookup per row: the bound becomes
// "any producer up to the highest granted level", still an upper bound (the
// decision has the last word on every row).
bool CoversMostProducers(const policy::ReadScope& s, size_t organisations) {
  return s.grants.size() > 8 && s.grants.size() * 4 > organisations * 3;
}

store::AccessScope ToStoreScope(const policy::ReadScope& s, int unmarked_tlp, size_t organisations) {
  store::AccessScope out;
  out.none = s.none;
  out.own_producer = s.own_producer;
  out.any_producer_max = static_cast<int>(s.any_producer_max);
  out.unmarked_tlp = unmarked_tlp;
  out.red_if_named = s.red_if_named && !s.own_producer.empty();
  if (CoversMostProducers(s, organisations)) {
    for (const auto& g : s.grants) {
      out.any_producer_max = std::max(out.any_producer_max, static_cast<int>(g.max_tlp));
    }
    return out;
  }
  out.grants.reserve(s.grants.size());
  for (const auto& g : s.grants) {
    out.grants.push_back({g.producer, static_cast<int>(g.max_tlp), g.object_types});
  }
  return out;
}

// RFC 8785 text of `object` with one more string member (absent from it).
std::string CanonicalWithMember(json::Element object, std::string_view key, std::string_view value) {
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

policy::CollectionMarking MarkingOf(const policy::Policy& policy, const store::Collection& c) {
  if (policy.model().FindCollection(c.id) == nullptr && !c.alias.empty()) {
    return policy.CollectionFor(c.alias);
  }
  return policy.CollectionFor(c.id);
}

std::string WriterIdentity(const policy::Policy* policy, const auth::Principal& principal) {
  if (policy == nullptr || principal.anonymous) return {};
  const policy::Organisation* org = policy->model().FindOrganisation(principal.org);
  return org != nullptr ? org->identity_id : std::string();
}

ReadGate::ReadGate(std::shared_ptr<const policy::Policy> policy, const auth::Principal& principal,
                   const store::Collection& collection)
    : policy_(std::move(policy)), anonymous_(principal.anonymous), now_(Timestamp::Now()) {
  if (!policy_) return;
  if (!principal.anonymous) org_ = principal.org;
  reader_ = policy_->Resolve(policy::Reader{org_, anonymous_});
  marking_ = MarkingOf(*policy_, collection);
  identity_ = WriterIdentity(policy_.get(), principal);
}

void ReadGate::Apply(store::ObjectQuery& q) {
  if (!policy_) return;  // no sharing policy: the store's plain path
  const policy::Tlp unmarked = marking_.default_tlp.value_or(policy_->model().unmarked_tlp);
  policy::ReadScope scope = policy_->ScopeFor(policy::Reader{org_, anonymous_}, marking_, now_);
  q.scope = ToStoreScope(scope, static_cast<int>(unmarked), policy_->model().organisations.size());
  q.admit = [this](store::ObjectVersion& row) { return Admit(row); };
}

bool ReadGate::IsOwn(const store::ObjectVersion& v) const {
  return !identity_.empty() && v.access.producer == identity_;
}

bool ReadGate::Admit(store::ObjectVersion& row) {
  thread_local json::JsonParser parser;
  policy::ObjectFacts facts;
  if (row.access.known) {
    facts.type = row.type;  // (the decision does not need the id)
    facts.producer = std::move(row.access.producer);  // given back after the decision
    facts.tlp = TlpOf(row.access.tlp);
    facts.pap = PapOf(row.access.pap);
    facts.recipient_orgs = std::move(row.access.recipient_orgs);
    facts.has_granular_levels = row.access.granular_levels;
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
  switch (d.verdict) {
    case policy::Verdict::kWithhold:
      return false;
    case policy::Verdict::kServeRedacted:
      row.json = std::move(d.redacted_json);
      break;
    case policy::Verdict::kServe:
      break;
  }
  return true;
}

Status PrepareWrite(const policy::Policy* policy, const auth::Principal& principal,
                    const std::string& writer_identity, json::Element object, store::NewObject& out,
                    Timestamp now) {
  auto facts = policy::ExtractFacts(object);
  if (!facts.ok()) return InvalidArgument("invalid STIX: " + facts.status().message());
  out.access.tlp = facts->tlp ? static_cast<int>(*facts->tlp) : -1;
  out.access.pap = facts->pap ? static_cast<int>(*facts->pap) : -1;
  out.access.recipient_orgs = std::move(facts->recipient_orgs);
  out.access.granular_levels = facts->has_granular_levels;
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
    if (claimed != writer_identity && !standard_marking &&
        !policy->MayRelay(principal.org, claimed, now)) {
      return InvalidArgument("producer_not_allowed: created_by_ref " + claimed +
                             " is not the identity of organisation '" + principal.org +
                             "' and no relay agreement lets it relay for that producer");
    }
    out.access.producer = claimed;
    return Status::Ok();
  }
  out.access.producer = writer_identity;
  if (!writer_identity.empty() && !stix::IsScoType(out.type)) {
    out.json = CanonicalWithMember(object, "created_by_ref", writer_identity);
  }
  return Status::Ok();
}

}  // namespace ctihub::taxii
