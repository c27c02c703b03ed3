// Parsing of the untrusted parts of a TAXII request: the request target (path
// segments and query parameters, percent-decoded), the URL filters of the
// objects/manifest/versions endpoints, media types (Accept, Content-Type) and
// the envelope of a POST. Every function is pure, thread-safe and returns
// InvalidArgument (or LimitExceeded) with a stable rejection name
// (Status::name(), "bad_filter") instead of failing any other way.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "store/store.h"

namespace ctihub::taxii {

// Named limits of the request target.
inline constexpr size_t kMaxTargetBytes = 8192;
inline constexpr size_t kMaxQueryParams = 256;
inline constexpr size_t kMaxPathSegments = 16;
inline constexpr size_t kMaxFilterValues = 1000;  // values of all match[...] filters together

struct Target {
  std::vector<std::string> segments;  // percent-decoded path segments, empty ones dropped
  bool trailing_slash = false;
  std::vector<std::pair<std::string, std::string>> params;  // percent-decoded, in order
};

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Rejects bad
// escapes and decoded NUL bytes.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);

// Splits "path?query" into decoded segments and parameters.
Result<Target> ParseTarget(std::string_view target);

// Which filters an endpoint takes (TAXII 2.1 section 3.4 table).
enum class Endpoint { kObjects, kObject, kManifest, kVersions, kDeleteObject };

// Builds the store query of an endpoint from its URL parameters. Unknown
// parameters are ignored, as TAXII requires; a known filter with a bad value is
// InvalidArgument. `limit` is clamped to [1, max_limit]; 0 or negative is an error.
Result<store::ObjectQuery> ParseFilters(
    const std::vector<std::pair<std::string, std::string>>& params, Endpoint endpoint,
    size_t default_limit, size_t max_limit);

// Media types. Accept: true when the client accepts the TAXII 2.1 media type
// (absent header, */*, application/*, application/taxii+json with no version
// or version=2.1; q=0 excludes). Content-Type: true for application/taxii+json
// with no version or version=2.1 (parameters such as charset=utf-8 allowed).
bool AcceptsTaxii21(std::string_view accept);
bool IsTaxii21ContentType(std::string_view content_type);

// One object of a POSTed envelope, ready for the store or listed as a failure.
struct EnvelopeItem {
  bool ok = false;
  std::string id;          // may be empty when the object has no string id
  std::string version;     // timestamp text of the version ("" when none)
  std::string message;     // failure reason, for people
  std::string reason;      // failure's stable name ("invalid STIX", "producer_not_allowed")
  bool duplicate = false;  // same id and version as an earlier item of the envelope
  store::NewObject object;
};

struct EnvelopeOptions {
  size_t max_objects = 10000;
  bool validate_patterns = true;
  // Called for each valid object while the parsed object is alive, before
  // its canonical JSON is made: fills the access facts and may write
  // `out.json` itself (the canonical text with created_by_ref added); when it
  // leaves `out.json` empty the parser canonicalises the object as it is.
  // A non-OK status makes the item a failure with its message.
  std::function<Status(json::Element object, store::NewObject& out)> prepare;
};

// Parses an envelope {"objects": [...]} (a STIX bundle is accepted too), validates
// each object (STIX core rules, patterns) and normalises it to canonical JSON.
// Whole-envelope problems (not JSON, not an object, "objects" not an array, too
// many objects) are errors; per-object problems are items with ok == false.
Result<std::vector<EnvelopeItem>> ParseEnvelope(std::string_view body, const EnvelopeOptions& opts);

}  // namespace ctihub::taxii
