#include "policy/agreement_edit.h"

#include <functional>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>

#include "core/json.h"
#include "policy/policy_source.h"

namespace ctihub::policy {
namespace {

constexpr std::string_view kFieldPrefix = "bad_";

// AddAgreement and RevokeAgreement read, change and write one file.
std::mutex& EditMutex() {
  static std::mutex mu;
  return mu;
}

Status FieldError(std::string_view field, std::string message) {
  return InvalidArgument(std::string(kFieldPrefix) + std::string(field), std::move(message));
}

// The rules of the loader for a property selector (model.cc ParseAgreement).
bool IsSelector(const std::string& s) {
  return !s.empty() && s.front() != '.' && s.back() != '.' && s.find("..") == std::string::npos;
}

Status CheckTypes(const std::vector<std::string>& types) {
  if (types.empty()) return FieldError("types", "is required (use '*' for every type)");
  for (const auto& t : types) {
    if (t.empty()) return FieldError("types", "empty object type");
    if (t == "*" && types.size() != 1) return FieldError("types", "'*' must be alone");
  }
  return Status::Ok();
}

Status CheckParties(const PolicyModel& m, const Agreement& a) {
  for (auto [party, field] :
       {std::pair{&a.producer, "producer"}, std::pair{&a.recipient, "recipient"}}) {
    const bool known = party->kind == Party::Kind::kOrganisation
                           ? m.FindOrganisation(party->name) != nullptr
                           : m.HasCommunity(party->name);
    if (!known) return FieldError(field, "unknown " + party->ToString());
  }
  if (a.producer.kind == a.recipient.kind && a.producer.name == a.recipient.name) {
    return FieldError("recipient", "producer and recipient are the same");
  }
  return Status::Ok();
}

// Changes `changes` (the agreements document as read) given the policy in
// force; returns the audit details of the change.
using ChangeFn =
    std::function<Result<std::string>(const PolicyModel& current, AgreementChanges& changes)>;

// How often an edit is redone when another writer changed the documents
// between its read and its write.
constexpr int kEditAttempts = 5;

// One edit of the agreements document: read both documents, apply `change`,
// check the whole policy still loads, write it back (compare-and-set on the
// revision read: redone when another writer got in between), record the
// change; on a failed record the previous text is put back.
Status Edit(PolicySource& source, const AgreementOrgsFn& known_orgs, const ChangeFn& change,
            const RecordAgreementChangeFn& record) {
  std::optional<std::vector<KnownOrg>> orgs;
  if (known_orgs) {
    auto read = known_orgs();
    if (!read.ok()) {
      return Unavailable("policy_unreadable",
                         "the policy in force does not load: " + read.status().NamedMessage());
    }
    orgs = std::move(*read);
  }
  const std::vector<KnownOrg>* known = orgs ? &*orgs : nullptr;
  for (int attempt = 1;; ++attempt) {
    auto texts = source.Read();
    if (!texts.ok()) {
      return Unavailable("policy_unreadable",
                         "the policy cannot be read: " + texts.status().NamedMessage());
    }
    // The policy in force; one that does not load is the hub's problem, not the request's.
    auto model = LoadPolicyTexts(*texts, known);
    if (!model.ok()) {
      return Unavailable("policy_unreadable",
                         "the policy in force does not load: " + model.status().NamedMessage());
    }
    AgreementChanges changes;
    if (texts->agreements) {
      CTIHUB_ASSIGN_OR_RETURN(
          changes, ParseAgreementChangesToml(*texts->agreements, texts->agreements_name));
    }
    CTIHUB_ASSIGN_OR_RETURN(std::string details, change(*model, changes));
    // The TOML round trip validates every field again with the loader's rules.
    PolicyTexts next = *texts;
    next.agreements = AgreementChangesToml(changes);
    auto checked = LoadPolicyTexts(next, known);
    if (!checked.ok()) {
      return InvalidArgument("invalid_agreement", "refused: " + checked.status().NamedMessage());
    }
    Status st = source.Write(kAgreementsDocument, next.agreements, texts->revision);
    if (st.name() == "policy_changed" && attempt < kEditAttempts) continue;
    if (st.name() == "policy_changed") return st;
    if (!st.ok()) return Unavailable("agreements_unwritable", st.NamedMessage());
    st = record ? record(details) : Status::Ok();
    if (!st.ok()) {
      auto now = source.Revision();
      if (now.ok()) (void)source.Write(kAgreementsDocument, texts->agreements, *now);
      return Unavailable("audit_unavailable",
                         "audit append failed, change not kept: " + st.NamedMessage());
    }
    return Status::Ok();
  }
}

}  // namespace

Result<Agreement> BuildAgreement(const AgreementDraft& d) {
  Agreement ag;
  if (d.id.empty()) return FieldError("id", "must not be empty");
  ag.id = d.id;
  for (auto [text, slot, field] : {std::tuple{&d.producer, &ag.producer, "producer"},
                                   std::tuple{&d.recipient, &ag.recipient, "recipient"}}) {
    auto p = ParseParty(*text);
    if (!p.ok()) return FieldError(field, p.status().NamedMessage());
    *slot = *p;
  }
  auto tlp = ParseTlp(d.max_tlp);
  if (!tlp) return FieldError("max_tlp", "unknown TLP level '" + d.max_tlp + "'");
  ag.max_tlp = *tlp;
  auto pap = ParsePap(d.pap_ceiling);
  if (!pap) return FieldError("pap_ceiling", "unknown PAP level '" + d.pap_ceiling + "'");
  ag.pap_ceiling = *pap;
  CTIHUB_RETURN_IF_ERROR(CheckTypes(d.types));
  if (d.types[0] != "*") ag.object_types = d.types;
  for (const auto& s : d.strip) {
    if (!IsSelector(s)) return FieldError("strip", "bad property selector '" + s + "'");
  }
  ag.strip_properties = d.strip;
  for (const auto& s : d.withhold_sco) {
    if (s.empty()) return FieldError("withhold_sco", "empty SCO type");
  }
  ag.withhold_sco_types = d.withhold_sco;
  ag.reshare = d.reshare;
  ag.relay = d.relay;
  for (auto [text, slot, field] : {std::tuple{&d.valid_from, &ag.valid_from, "valid_from"},
                                   std::tuple{&d.expires, &ag.expires, "expires"}}) {
    if (text->empty()) continue;
    auto t = Timestamp::Parse(*text);
    if (!t.ok()) return FieldError(field, t.status().NamedMessage());
    *slot = *t;
  }
  if (ag.valid_from && ag.expires && !(*ag.valid_from < *ag.expires)) {
    return FieldError("expires", "must be after valid_from");
  }
  if (ag.max_tlp == Tlp::kAmberStrict && ag.reshare) {
    return FieldError("reshare", "an AMBER+STRICT agreement cannot allow re-sharing");
  }
  if (ag.max_tlp == Tlp::kAmberStrict && ag.recipient.kind == Party::Kind::kCommunity) {
    return FieldError("recipient", "AMBER+STRICT needs a recipient organisation, not a community");
  }
  if (d.legal_basis.empty()) return FieldError("legal_basis", "must not be empty");
  ag.legal_basis = d.legal_basis;
  return ag;
}

std::string_view AgreementErrorField(const Status& status) {
  const std::string_view name = status.name();
  if (name == "agreement_exists" || name == "no_such_agreement" || name == "already_revoked") {
    return "id";
  }
  if (name.substr(0, kFieldPrefix.size()) != kFieldPrefix) return {};
  // Only the names FieldError gives: another module's "bad_..." names no field.
  const std::string_view field = name.substr(kFieldPrefix.size());
  for (std::string_view known :
       {"id", "producer", "recipient", "max_tlp", "pap_ceiling", "types", "strip", "withhold_sco",
        "reshare", "valid_from", "expires", "legal_basis", "reason"}) {
    if (field == known) return field;
  }
  return {};
}

std::string_view AgreementState(const Agreement& a, Timestamp now) {
  if (a.ActiveAt(now)) return "active";
  if (a.revoked_at && !(now < *a.revoked_at)) return "revoked";
  if (a.valid_from && now < *a.valid_from) return "pending";
  return "expired";
}

std::string AgreementJson(const Agreement& a, Timestamp now) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject();
  w.Key("id").String(a.id);
  w.Key("producer").String(a.producer.ToString());
  w.Key("recipient").String(a.recipient.ToString());
  w.Key("max_tlp").String(TlpName(a.max_tlp));
  w.Key("object_types").BeginArray();
  if (a.object_types.empty()) w.String("*");
  for (const auto& t : a.object_types) w.String(t);
  w.EndArray();
  w.Key("pap_ceiling").String(PapName(a.pap_ceiling));
  w.Key("strip_properties").BeginArray();
  for (const auto& t : a.strip_properties) w.String(t);
  w.EndArray();
  w.Key("withhold_sco_types").BeginArray();
  for (const auto& t : a.withhold_sco_types) w.String(t);
  w.EndArray();
  w.Key("reshare").Bool(a.reshare);
  w.Key("relay").Bool(a.relay);
  w.Key("valid_from")
      .StringOrNull(a.valid_from ? a.valid_from->ToString() : "", a.valid_from.has_value());
  w.Key("expires").StringOrNull(a.expires ? a.expires->ToString() : "", a.expires.has_value());
  w.Key("legal_basis").String(a.legal_basis);
  w.Key("revoked_at")
      .StringOrNull(a.revoked_at ? a.revoked_at->ToString() : "", a.revoked_at.has_value());
  if (!a.revoked_reason.empty()) w.Key("revoked_reason").String(a.revoked_reason);
  w.Key("state").String(AgreementState(a, now));
  w.EndObject();
  return out;
}

Result<PolicyModel> LoadPolicyWithOrgs(PolicySource& source, const AgreementOrgsFn& known_orgs) {
  if (!known_orgs) return LoadPolicyFrom(source, nullptr);
  CTIHUB_ASSIGN_OR_RETURN(std::vector<KnownOrg> orgs, known_orgs());
  return LoadPolicyFrom(source, &orgs);
}

Result<PolicyModel> LoadPolicyWithOrgs(const std::string& dir, const AgreementOrgsFn& known_orgs) {
  return LoadPolicyWithOrgs(*FilePolicySource(dir), known_orgs);
}

Status AddAgreement(PolicySource& source, const AgreementOrgsFn& known_orgs, const Agreement& a,
                    const RecordAgreementChangeFn& record) {
  std::lock_guard<std::mutex> lock(EditMutex());
  return Edit(
      source, known_orgs,
      [&a](const PolicyModel& model, AgreementChanges& changes) -> Result<std::string> {
        if (model.FindAgreement(a.id) != nullptr) {
          return Conflict("agreement_exists", "agreement '" + a.id + "' already defined");
        }
        CTIHUB_RETURN_IF_ERROR(CheckParties(model, a));
        changes.added.push_back(a);
        return AgreementJson(a, Timestamp::Now());
      },
      record);
}

Status AddAgreement(const std::string& dir, const AgreementOrgsFn& known_orgs, const Agreement& a,
                    const RecordAgreementChangeFn& record) {
  return AddAgreement(*FilePolicySource(dir), known_orgs, a, record);
}

Status RevokeAgreement(PolicySource& source, const AgreementOrgsFn& known_orgs,
                       const std::string& id, Timestamp at, const std::string& reason,
                       const RecordAgreementChangeFn& record) {
  if (reason.empty()) return FieldError("reason", "must not be empty");
  std::lock_guard<std::mutex> lock(EditMutex());
  return Edit(
      source, known_orgs,
      [&](const PolicyModel& model, AgreementChanges& changes) -> Result<std::string> {
        const Agreement* ag = model.FindAgreement(id);
        if (ag == nullptr) return NotFound("no_such_agreement", "no agreement '" + id + "'");
        if (ag->revoked_at && !(at < *ag->revoked_at)) {
          return Conflict("already_revoked", "agreement '" + id + "' is already revoked");
        }
        changes.revocations.push_back({id, at, reason});
        std::string details;
        json::JsonWriter w(details);
        w.BeginObject();
        w.Key("agreement").String(id);
        w.Key("revoked_at").String(at.ToString());
        w.Key("reason").String(reason);
        w.EndObject();
        return details;
      },
      record);
}

Status RevokeAgreement(const std::string& dir, const AgreementOrgsFn& known_orgs,
                       const std::string& id, Timestamp at, const std::string& reason,
                       const RecordAgreementChangeFn& record) {
  return RevokeAgreement(*FilePolicySource(dir), known_orgs, id, at, reason, record);
}

}  // namespace ctihub::policy
