// The marking catalogue: TLP 2.0 (FIRST) and TLP 1.0 (STIX 2.1) marking
// definitions mapped to one TLP level, PAP marking definitions (OASIS PAP
// extension) mapped to a PAP level, and the ctihub RED-recipients extension.
// Everything here is constant data; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ctihub::policy {

// Ordered: a reader entitled to level L may see every level <= L.
// AMBER+STRICT sits above AMBER because it is narrower (never re-shared).
enum class Tlp : uint8_t { kClear = 0, kGreen = 1, kAmber = 2, kAmberStrict = 3, kRed = 4 };
enum class Pap : uint8_t { kClear = 0, kGreen = 1, kAmber = 2, kRed = 3 };

std::string_view TlpName(Tlp t);  // "clear", "green", "amber", "amber+strict", "red"
std::string_view PapName(Pap p);  // "clear", "green", "amber", "red"
// Accepts the names above in any case, with or without a "tlp:"/"pap:" prefix;
// "white" is TLP 1.0 / PAP 1.0 for clear.
std::optional<Tlp> ParseTlp(std::string_view s);
std::optional<Pap> ParsePap(std::string_view s);

// TLP 2.0 extension (OASIS cti-stix-common-objects).
inline constexpr std::string_view kTlp2ExtensionId =
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
// PAP extension (OASIS cti-stix-common-objects, pap-marking-definition-f8d).
inline constexpr std::string_view kPapExtensionId =
    "extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b";
// ctihub's RED-recipients property extension (src/policy/README.md):
//   "extensions": {"extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2":
//       {"extension_type": "property-extension", "recipient_orgs": ["identity--..."]}}
// names the organisations (by STIX identity id) that may read a TLP:RED object
// or the TLP:RED granular parts of an object.
inline constexpr std::string_view kRecipientsExtensionId =
    "extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2";

// The redaction marker (src/policy/README.md): a property extension on every
// served copy the policy removed something from,
//   "extensions": {"extension-definition--5d1b3c8e-7a2f-4c61-9e0d-3b8a6f2c4d17":
//     {"extension_type": "property-extension",
//      "redacted_selectors": ["x_personal", "labels.[1]", ...]}}
// listing the producer-version selectors removed, so no recipient (or peer
// hub) mistakes the copy for the producer's version.
inline constexpr std::string_view kRedactedExtensionId =
    "extension-definition--5d1b3c8e-7a2f-4c61-9e0d-3b8a6f2c4d17";
inline constexpr std::string_view kRecipientsProperty = "recipient_orgs";

// PAP: may the object feed active blocking (firewall, DNS RPZ, proxy
// blocklists)? Only PAP:CLEAR and PAP:GREEN; exporters need an audited
// override (audit action "policy.override") for AMBER and RED.
inline bool AllowsActiveBlocking(Pap p) { return p <= Pap::kGreen; }

enum class MarkingKind : uint8_t { kTlp, kPap, kOther };
struct MarkingInfo {
  MarkingKind kind = MarkingKind::kOther;
  Tlp tlp = Tlp::kClear;  // when kind == kTlp
  Pap pap = Pap::kClear;  // when kind == kPap
};

// Looks a marking-definition id up in the catalogue. Anything not in it
// (statement markings, custom definitions) is kOther: kept and served, no
// effect on access.
MarkingInfo LookupMarking(std::string_view marking_definition_id);

// The TLP 2.0 marking-definition id of a level (what a collection default
// or a redacted copy refers to).
std::string_view Tlp2MarkingId(Tlp t);
std::string_view PapMarkingId(Pap p);

}  // namespace ctihub::policy
