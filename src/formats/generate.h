// STIX 2.1 objects made by importers from plain values (free text, CSV
// cells): SCOs with deterministic ids (STIX 2.1 section 2.9), indicators and
// vulnerabilities whose ids are UUIDv5 over the producer and the pattern (or
// CVE id), so importing the same value twice names the same objects and
// `ctihub import` can tell they are already present. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"
#include "formats/text_extract.h"

namespace ctihub::formats {

struct GenerateOptions {
  std::string producer;  // who imports (organisation name, "" for none): part of generated ids
  Timestamp now;         // created / modified / valid_from of generated SDOs
};

// One property of an SCO, as an object path below the type: "value",
// "name", "hashes.MD5", "hashes.'SHA-256'" (quotes as in STIX patterns).
struct ScoProperty {
  std::string path;
  std::string value;
};

// `[type:path = 'value' AND ...]` with the values escaped for a pattern;
// CIDR values of ipv4-addr/ipv6-addr compare with ISSUBSET.
std::string ComparisonPattern(std::string_view type, const std::vector<ScoProperty>& props);

// The SCO `type` with `props` (string values) and its deterministic id.
// InvalidArgument for an empty or malformed path.
Result<std::string> MakeSco(std::string_view type, const std::vector<ScoProperty>& props);

// An indicator for `pattern` (pattern_type stix) named `name`.
std::string MakeIndicator(std::string_view pattern, std::string_view name,
                          const GenerateOptions& options);

// The objects for one extracted indicator: its SCO and an indicator, or a
// vulnerability (with its CVE external reference) for a CVE id.
Result<std::vector<std::string>> IocObjects(const Ioc& ioc, const GenerateOptions& options);

}  // namespace ctihub::formats
