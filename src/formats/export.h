// Export formats: readable STIX objects out to the formats sensors and other
// platforms load (docs/formats/export.md): a STIX 2.1 bundle, one MISP event,
// CSV, Suricata 7 rules (with filemd5/filesha1/filesha256 list files), a Zeek
// Intel framework file, plain blocklists and a DNS RPZ zone.
//
// The caller (taxii/export.h) reads the objects a reader may see, through the
// read gate, and hands them to an Exporter one at a time in the order of its
// TypeGroups(); the exporter writes as it goes, so memory stays bounded by
// what a format must remember (Suricata sids, RPZ names, MISP values), never
// by the output. Rules every exporter applies to indicators:
//   - revoked indicators and those whose valid_until has passed are left out;
//   - in active-blocking formats (suricata, blocklist, rpz) indicators marked
//     PAP:AMBER or PAP:RED are left out unless include_pap_restricted (the
//     caller audits the override: ExportOutcome::kExportedByOverride);
//   - values come from the pattern, parsed by the pattern engine: only exact
//     comparisons (`=`, `IN`, ISSUBSET of a CIDR) joined by OR are exported;
//     an indicator whose pattern needs more (AND, NOT, LIKE, MATCHES,
//     qualifiers, observation operators) cannot be a plain value and is left
//     out of the value formats (it stays in STIX).
// An Exporter belongs to one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"

namespace ctihub::formats {

enum class ExportFormat { kStix, kMisp, kCsv, kSuricata, kZeek, kBlocklist, kRpz };

// "stix", "misp", "csv", "suricata", "zeek", "blocklist", "rpz".
std::optional<ExportFormat> ParseExportFormat(std::string_view name);
std::string_view ExportFormatName(ExportFormat f);
// Formats a sensor blocks with (PAP applies): suricata, blocklist, rpz.
bool IsActiveBlocking(ExportFormat f);
// The HTTP media type of a format's main output.
std::string_view ExportMediaType(ExportFormat f);

// ---- exact values of simple patterns ----

enum class ValueKind {
  kIpv4,
  kIpv6,
  kIpv4Cidr,
  kIpv6Cidr,
  kDomain,
  kUrl,
  kEmail,
  kMd5,
  kSha1,
  kSha256,
  kSha512,
};

// "ipv4-addr", "ipv6-addr", "ipv4-cidr", "ipv6-cidr", "domain-name", "url",
// "email-addr", "md5", "sha1", "sha256", "sha512".
std::string_view ValueKindName(ValueKind k);
std::optional<ValueKind> ParseValueKind(std::string_view name);

struct IndicatorValue {
  ValueKind kind = ValueKind::kDomain;
  std::string value;
};

// The exact values a STIX 2.1 pattern matches, when it is a disjunction of
// exact comparisons on ipv4-addr/ipv6-addr/domain-name/url/email-addr values
// and file hashes (MD5, SHA-1, SHA-256, SHA-512); empty for any other
// pattern (see the file comment) and for one that does not parse. Hashes
// come back in lower case, addresses and CIDRs checked by core/net.h.
std::vector<IndicatorValue> ExactValues(std::string_view pattern);

// ---- exporters ----

struct ExportOptions {
  ExportFormat format = ExportFormat::kStix;
  bool include_pap_restricted = false;
  Timestamp now = Timestamp::Now();  // decides valid_until
  // suricata: "" the rules, or "filemd5" | "filesha1" | "filesha256": that
  // list file alone (what an HTTP client fetches beside the rules).
  // blocklist: "" every kind, or a ValueKind name: that kind alone.
  std::string list;
  std::string source = "ctihub";  // Zeek meta.source, MISP Orgc, RPZ comments
};

// Checks `options.list` against its format. InvalidArgument naming the choices.
Status CheckExportList(const ExportOptions& options);

// Why an object was or was not exported.
enum class ExportOutcome {
  kExported,
  kExportedByOverride,  // PAP:AMBER/RED in an active-blocking format, include_pap_restricted
  kNotApplicable,       // a type or value the format does not carry
  kRevoked,
  kExpired,
  kPapRestricted,
  kNoExactValue,  // an indicator whose pattern is not a plain value (see ExactValues)
  kMalformed,     // not a JSON object with a type and id
};
std::string_view ExportOutcomeName(ExportOutcome o);

// One readable object: its JSON (the reader's copy, redactions applied) and
// the producer column beside it (identity id, "" unknown). Views valid for
// the call only.
struct ExportItem {
  std::string_view json;
  std::string_view producer;
};

// Where an export goes: a file, a socket body, a string in tests.
class ExportOutput {
 public:
  virtual ~ExportOutput() = default;
  virtual Status Write(std::string_view bytes) = 0;
};

class StringOutput : public ExportOutput {
 public:
  Status Write(std::string_view bytes) override {
    text.append(bytes);
    return {};
  }
  std::string text;
};

// Opens a file written beside the main output (the Suricata hash lists, by
// file name). Unset: the rules name the lists but nothing writes them (an
// HTTP client fetches each with ExportOptions::list).
using OpenSideOutput =
    std::function<Result<std::unique_ptr<ExportOutput>>(std::string_view file_name)>;

// The list files the Suricata rules name.
inline constexpr std::string_view kSuricataMd5List = "ctihub-md5.list";
inline constexpr std::string_view kSuricataSha1List = "ctihub-sha1.list";
inline constexpr std::string_view kSuricataSha256List = "ctihub-sha256.list";

class Exporter {
 public:
  virtual ~Exporter() = default;
  // The STIX types to hand to Add, group after group (an empty group: every
  // type). MISP takes indicators before the observables they may repeat.
  virtual std::vector<std::vector<std::string>> TypeGroups() const;
  // Writes the format's header, if any.
  virtual Status Begin() { return {}; }
  // Exports one object, or says why not. An error is the output's (stop).
  virtual Result<ExportOutcome> Add(const ExportItem& item) = 0;
  // Writes what closes the format (bundle end, SOA, hash rules).
  virtual Status Finish() { return {}; }
};

// InvalidArgument for a bad options.list. `out` (and what `side` opens) must
// outlive the exporter.
Result<std::unique_ptr<Exporter>> MakeExporter(const ExportOptions& options, ExportOutput& out,
                                               OpenSideOutput side = {});

}  // namespace ctihub::formats
