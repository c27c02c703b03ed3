// PolicyModel: the sharing configuration of a hub — organisations, communities,
// collection marking settings and agreements — and its TOML loader.
//
// The loader is strict: unknown keys, wrong types, unknown organisations or
// communities, bad TLP/PAP names and bad timestamps are refused with
// "FILE:LINE:COLUMN: reason". A hub never starts with a policy it cannot parse.
// Value type; thread-compatible (share a const instance).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"
#include "policy/markings.h"

namespace ctihub::policy {

struct Organisation {
  std::string name;  // as in the store and on the CLI
  // STIX identity id used as created_by_ref. Optional in policy.toml (the
  // hub's store supplies it, see KnownOrg); empty only for an organisation the
  // store knows without one: it can read, but no object is ever its own.
  std::string identity_id;
  std::string sector;
  std::string country;  // ISO 3166-1 alpha-2
  std::vector<std::string> communities;
};

struct Community {
  std::string name;
  std::string description;
};

// "org:NAME" or "community:NAME".
struct Party {
  enum class Kind : uint8_t { kOrganisation, kCommunity };
  Kind kind = Kind::kOrganisation;
  std::string name;
  std::string ToString() const;
};
Result<Party> ParseParty(std::string_view s);
// Whether `o` is the party: the organisation itself, or a member of the community.
bool PartyIncludes(const Party& p, const Organisation& o);

struct Agreement {
  std::string id;
  Party producer;
  Party recipient;
  Tlp max_tlp = Tlp::kClear;
  std::vector<std::string> object_types;        // empty = every type ("*" in TOML)
  Pap pap_ceiling = Pap::kRed;                  // objects marked above it are withheld
  std::vector<std::string> strip_properties;    // "selector" or "type:selector"
  std::vector<std::string> withhold_sco_types;  // e.g. email-addr, user-account
  bool reshare = false;
  // The recipient may write objects whose created_by_ref is the producer's
  // identity: it relays the producer's intelligence (Policy::MayRelay).
  bool relay = false;
  std::optional<Timestamp> valid_from;
  std::optional<Timestamp> expires;
  std::string legal_basis;
  std::optional<Timestamp> revoked_at;
  std::string revoked_reason;

  // In force at `now`: started, not expired, not revoked.
  bool ActiveAt(Timestamp now) const;
};

struct CollectionSettings {
  std::string name;  // collection id or alias
  std::optional<Tlp> default_tlp;
  std::optional<Pap> default_pap;
  bool public_read = false;  // anonymous readers may read its TLP:CLEAR objects
};

struct PolicyModel {
  Tlp unmarked_tlp = Tlp::kAmber;  // neither the object nor its collection has a TLP
  std::vector<Organisation> organisations;
  std::vector<Community> communities;
  std::vector<CollectionSettings> collections;
  std::vector<Agreement> agreements;

  const Organisation* FindOrganisation(std::string_view name) const;
  const Organisation* FindOrganisationByIdentity(std::string_view identity_id) const;
  const Agreement* FindAgreement(std::string_view id) const;
  Agreement* FindAgreement(std::string_view id);
  const CollectionSettings* FindCollection(std::string_view name) const;
  bool HasCommunity(std::string_view name) const;

  // Cross-reference checks (parties exist, unique ids/names, windows ordered).
  Status Validate() const;
};

// "identity--" followed by an RFC 4122 UUID (8-4-4-4-12 hex digits, variant
// 10xx), as STIX 2.1 requires of an identity's id.
bool IsIdentityId(std::string_view s);

// An organisation of the hub's store (`ctihub org add NAME`): its name and
// identity. policy.toml adds what the store does not know (sector, country,
// communities).
struct KnownOrg {
  std::string name;
  std::string identity_id;  // may be empty (organisations created before ids were assigned)
};

// Parses one policy TOML text. `source` names the file in messages.
Result<PolicyModel> ParsePolicyToml(std::string_view text, std::string_view source);

// Loads DIR/policy.toml (required unless `allow_missing`; absent, the model is
// the default one: unmarked objects AMBER, no organisations, no agreements)
// and then DIR/agreements.toml (machine-managed by `ctihub agreement`,
// optional): its [[agreement]] tables add agreements, its [[revocation]]
// tables revoke agreements of either file. A file that exists but does not
// parse is always refused.
Result<PolicyModel> LoadPolicyDir(const std::string& dir, bool allow_missing = false);

// The same, merging the store's organisations after policy.toml and before
// any agreement is checked (so agreements may name them):
//  - an organisation of the store that policy.toml does not name is added
//    (no sector, country or communities);
//  - a policy.toml organisation without `identity` takes the store's;
//  - refused (FILE:LINE:COLUMN: reason) when policy.toml gives an
//    organisation another identity than the store does, when one identity
//    would belong to two organisations, and when a policy.toml organisation
//    has no identity and the store does not know it.
Result<PolicyModel> LoadPolicyDir(const std::string& dir, bool allow_missing,
                                  const std::vector<KnownOrg>& known_orgs);

// The two documents' texts, wherever they are kept (policy_source.h: files
// in the data directory, or a PostgreSQL deployment's database).
struct PolicyTexts {
  std::optional<std::string> policy;        // policy.toml; nullopt: none (the default model)
  std::optional<std::string> agreements;    // agreements.toml; nullopt: none
  std::string policy_name = "policy.toml";  // names them in messages
  std::string agreements_name = "agreements.toml";  // (FILE:LINE:COLUMN: reason)
  std::string revision;  // PolicySource::Revision() of this reading ("" unknown)
};

// LoadPolicyDir on texts (policy.toml optional), with the store's
// organisations merged when `known_orgs` is set.
Result<PolicyModel> LoadPolicyTexts(const PolicyTexts& texts,
                                    const std::vector<KnownOrg>* known_orgs);

// The machine-managed agreements file: added agreements and revocations.
struct AgreementChanges {
  std::vector<Agreement> added;
  struct Revocation {
    std::string agreement;
    Timestamp at;
    std::string reason;
  };
  std::vector<Revocation> revocations;
};
Result<AgreementChanges> LoadAgreementChanges(const std::string& path);
// Parses the agreements file's text (no cross-references checked).
Result<AgreementChanges> ParseAgreementChangesToml(std::string_view text, std::string_view source);
// The agreements file's text (what SaveAgreementChanges writes).
std::string AgreementChangesToml(const AgreementChanges& changes);
// Writes the file atomically (temp file + rename).
Status SaveAgreementChanges(const std::string& path, const AgreementChanges& changes);
// TOML text of one agreement table (also used by `agreement show`).
std::string AgreementToToml(const Agreement& a);

// SHA-256 (hex) of everything in the model a decision can depend on, in a
// canonical text: equal on every node that loaded the same policy, whatever
// the files' order of tables or formatting (the export's ETag uses it, so a
// sensor behind a load balancer gets 304 from any node).
std::string ModelDigest(const PolicyModel& m);

}  // namespace ctihub::policy
