// Parsing of what a TAXII 2.1 server answers: discovery, API root, collections,
// envelopes (objects pages), manifests, status resources, error objects and
// Retry-After. The server is untrusted: every function is pure, bounded by the
// JsonParser limits, and returns InvalidArgument "bad_response" (or
// LimitExceeded) with the reason instead of failing any other way. Fields the
// client does not need are ignored; fields it needs with a wrong type are errors.
// Thread-compatible: one ResponseParser per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ctihub::taxii_client {

struct Discovery {
  std::string title;
  std::string default_root;            // as sent (maybe relative); empty when absent
  std::vector<std::string> api_roots;  // as sent (maybe relative)
};

struct ApiRootInfo {
  std::string title;
  std::vector<std::string> versions;
  int64_t max_content_length = 0;  // 0: not given
};

struct CollectionInfo {
  std::string id;
  std::string title;
  std::vector<std::string> alias;
  bool can_read = false;
  bool can_write = false;
};

// One object of a page: its JSON text (minified as received, key order kept)
// and what identifies its version.
struct PageObject {
  std::string text;
  std::string id;       // empty when missing or not a string
  std::string version;  // modified, else created, else empty
};

// One page of the objects or manifest endpoint. `date_added_first/last` come
// from the X-TAXII-Date-Added-First/Last headers (empty when absent).
struct ObjectsPage {
  bool more = false;
  std::string next;
  std::vector<PageObject> objects;
  std::string date_added_first;
  std::string date_added_last;
};

struct ManifestEntry {
  std::string id;
  std::string date_added;
  std::string version;
  std::string media_type;
};

struct ManifestPage {
  bool more = false;
  std::string next;
  std::vector<ManifestEntry> entries;
  std::string date_added_first;
  std::string date_added_last;
};

struct StatusDetail {
  std::string id;
  std::string version;
  std::string message;
};

struct StatusInfo {
  std::string id;
  std::string status;  // "pending" or "complete"
  int64_t total_count = 0;
  int64_t success_count = 0;
  int64_t failure_count = 0;
  int64_t pending_count = 0;
  std::vector<StatusDetail> successes;
  std::vector<StatusDetail> failures;
  bool complete() const { return status == "complete"; }
};

// A TAXII error object, as far as it is readable (never fails: a body that is
// not an error object gives its first bytes as the title).
struct ErrorInfo {
  std::string title;
  std::string description;
  std::string error_id;
  // "title: description (error_id)", trimmed to a readable length.
  std::string Summary() const;
};

class ResponseParser {
 public:
  explicit ResponseParser(json::ParseLimits limits = DefaultLimits());
  static json::ParseLimits DefaultLimits();

  Result<Discovery> ParseDiscovery(std::string_view body);
  Result<ApiRootInfo> ParseApiRoot(std::string_view body);
  Result<std::vector<CollectionInfo>> ParseCollections(std::string_view body);
  Result<ObjectsPage> ParseObjectsPage(std::string_view body);
  Result<ManifestPage> ParseManifestPage(std::string_view body);
  Result<StatusInfo> ParseStatus(std::string_view body);
  ErrorInfo ParseError(std::string_view body);

 private:
  Result<json::Object> ParseObject(std::string_view body, std::string_view what);
  json::JsonParser parser_;
};

// Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. Returns the
// delay in seconds from `now_unix` (0 for a date in the past); nullopt when
// the value is neither.
std::optional<int64_t> ParseRetryAfter(std::string_view value, int64_t now_unix);

}  // namespace ctihub::taxii_client
