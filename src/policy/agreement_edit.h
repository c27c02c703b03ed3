// Changing a hub's agreements: what `ctihub agreement add|list|revoke` and the
// console's /api/v1/agreements (webapi/agreements.h) both do.
//
// An agreement arrives as text fields (AgreementDraft: the CLI's flags, the
// API's JSON members); BuildAgreement checks each field and names the one at
// fault. AddAgreement/RevokeAgreement then check the changed agreements
// document by loading the whole policy exactly as the server loads it
// (policy.toml, the store's organisations, agreements.toml), write it to the
// PolicySource (DATA/agreements.toml, or a PostgreSQL deployment's database)
// and call `record` (the caller's audit append); a policy that would no
// longer load is refused, and if `record` fails the previous text is put
// back and the change is not kept.
//
// Thread-safety: AddAgreement and RevokeAgreement serialise with each other
// within the process (one mutex). Against another writer (the CLI beside a
// running server, another node) the write is a compare-and-set on the
// source's revision: a change that lost the race is redone on the new
// documents (a few times at most, then Conflict "policy_changed"); the file
// source's compare-and-set holds within one process only. The other
// functions are pure.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"
#include "policy/model.h"
#include "policy/policy_source.h"

namespace ctihub::policy {

// One agreement as text. Field names are the API's (docs/API.md); the CLI's
// flags are the same with '-' for '_' (--max-tlp, --withhold-sco).
struct AgreementDraft {
  std::string id;
  std::string producer;   // org:NAME or community:NAME
  std::string recipient;  // org:NAME or community:NAME
  std::string max_tlp;    // clear|green|amber|amber+strict|red
  std::string pap_ceiling = "red";
  std::vector<std::string> types;  // object types, or the one value "*"
  std::vector<std::string> strip;  // property selectors: "selector" or "type:selector"
  std::vector<std::string> withhold_sco;
  bool reshare = false;
  bool relay = false;
  std::string valid_from;  // RFC 3339, "" = now
  std::string expires;     // RFC 3339, "" = never
  std::string legal_basis;
};

// The agreement a draft describes, checked field by field (the rules of the
// agreements.toml loader, model.cc). InvalidArgument named "bad_FIELD"
// (AgreementErrorField gives FIELD back), its message the reason alone.
Result<Agreement> BuildAgreement(const AgreementDraft& draft);

// The field an error of BuildAgreement/AddAgreement/RevokeAgreement is about
// ("max_tlp", "recipient", "id", ...); "" when it is about none.
std::string_view AgreementErrorField(const Status& status);

// "active", "pending" (not yet valid), "expired" or "revoked" at `now`.
std::string_view AgreementState(const Agreement& a, Timestamp now);

// One agreement as JSON, with the names `ctihub agreement list --json` has
// always used (object_types, strip_properties, withhold_sco_types,
// revoked_at, state, ...).
std::string AgreementJson(const Agreement& a, Timestamp now);

// The store's organisations (PolicyHolder::KnownOrgsFn); nullptr: none.
using AgreementOrgsFn = std::function<Result<std::vector<KnownOrg>>()>;

// The whole policy of `source` (or DIR) as the server loads it (policy.toml optional).
Result<PolicyModel> LoadPolicyWithOrgs(PolicySource& source, const AgreementOrgsFn& known_orgs);
Result<PolicyModel> LoadPolicyWithOrgs(const std::string& dir, const AgreementOrgsFn& known_orgs);

// Called with the audit details (a JSON object) once the change is written
// and the policy loads; a failure rolls the change back.
using RecordAgreementChangeFn = std::function<Status(const std::string& details)>;

// Adds `a` to the agreements document of `source` (or DIR/agreements.toml).
// InvalidArgument "bad_producer" /
// "bad_recipient" for a party the policy does not know (or both the same),
// Conflict "agreement_exists" (field "id") for an id already defined,
// InvalidArgument "invalid_agreement" for anything else the whole policy
// refuses (FILE:LINE:COLUMN: reason), Unavailable when the file cannot be
// written or `record` fails (its status, with context), Conflict
// "policy_changed" when other writers kept changing the documents.
Status AddAgreement(PolicySource& source, const AgreementOrgsFn& known_orgs, const Agreement& a,
                    const RecordAgreementChangeFn& record);
Status AddAgreement(const std::string& dir, const AgreementOrgsFn& known_orgs, const Agreement& a,
                    const RecordAgreementChangeFn& record);

// Revokes agreement `id` as of `at`. NotFound "no_such_agreement" for an id
// the policy does not define, Conflict "already_revoked" when it is revoked
// at or before `at`, InvalidArgument "bad_reason" for an empty reason; the
// rest as AddAgreement.
Status RevokeAgreement(PolicySource& source, const AgreementOrgsFn& known_orgs,
                       const std::string& id, Timestamp at, const std::string& reason,
                       const RecordAgreementChangeFn& record);
Status RevokeAgreement(const std::string& dir, const AgreementOrgsFn& known_orgs,
                       const std::string& id, Timestamp at, const std::string& reason,
                       const RecordAgreementChangeFn& record);

}  // namespace ctihub::policy
