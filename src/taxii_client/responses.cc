#include "taxii_client/responses.h"

#include <charconv>
#include <cstring>
#include <ctime>

namespace ctihub::taxii_client {
namespace {

constexpr size_t kMaxSummaryBytes = 300;

Status Bad(std::string_view what, const std::string& why) {
  return InvalidArgument("bad_response", std::string(what) + ": " + why);
}

// Reads an optional string member; a present member of another type is an error.
Status OptString(json::Object o, std::string_view key, std::string_view what, std::string* out) {
  json::Element e;
  if (o[key].get(e) != simdjson::SUCCESS) return Status::Ok();
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS)
    return Bad(what, "'" + std::string(key) + "' is not a string");
  *out = std::string(s);
  return Status::Ok();
}

Status OptBool(json::Object o, std::string_view key, std::string_view what, bool* out) {
  json::Element e;
  if (o[key].get(e) != simdjson::SUCCESS) return Status::Ok();
  if (e.get_bool().get(*out) != simdjson::SUCCESS)
    return Bad(what, "'" + std::string(key) + "' is not a boolean");
  return Status::Ok();
}

Status OptInt(json::Object o, std::string_view key, std::string_view what, int64_t* out) {
  json::Element e;
  if (o[key].get(e) != simdjson::SUCCESS) return Status::Ok();
  if (e.get_int64().get(*out) == simdjson::SUCCESS) return Status::Ok();
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS && d >= 0 && d < 9.2e18 &&
      d == static_cast<double>(static_cast<int64_t>(d))) {
    *out = static_cast<int64_t>(d);
    return Status::Ok();
  }
  return Bad(what, "'" + std::string(key) + "' is not an integer");
}

Status OptStringArray(json::Object o, std::string_view key, std::string_view what,
                      std::vector<std::string>* out) {
  json::Element e;
  if (o[key].get(e) != simdjson::SUCCESS) return Status::Ok();
  json::Array a;
  if (e.get_array().get(a) != simdjson::SUCCESS)
    return Bad(what, "'" + std::string(key) + "' is not an array");
  for (json::Element item : a) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS)
      return Bad(what, "'" + std::string(key) + "' has a member that is not a string");
    out->emplace_back(s);
  }
  return Status::Ok();
}

// Optional array of objects; absent gives an empty array.
Result<std::vector<json::Object>> OptObjectArray(json::Object o, std::string_view key,
                                                 std::string_view what) {
  std::vector<json::Object> out;
  json::Element e;
  if (o[key].get(e) != simdjson::SUCCESS) return out;
  json::Array a;
  if (e.get_array().get(a) != simdjson::SUCCESS)
    return Bad(what, "'" + std::string(key) + "' is not an array");
  for (json::Element item : a) {
    json::Object member;
    if (item.get_object().get(member) != simdjson::SUCCESS)
      return Bad(what, "'" + std::string(key) + "' has a member that is not an object");
    out.push_back(member);
  }
  return out;
}

Status ParsePaging(json::Object o, std::string_view what, bool* more, std::string* next) {
  CTIHUB_RETURN_IF_ERROR(OptBool(o, "more", what, more));
  json::Element e;
  if (o["next"].get(e) == simdjson::SUCCESS) {
    // TAXII says string; some servers send a number. Both are opaque tokens.
    std::string_view s;
    int64_t n = 0;
    if (e.get_string().get(s) == simdjson::SUCCESS) {
      *next = std::string(s);
    } else if (e.get_int64().get(n) == simdjson::SUCCESS) {
      *next = std::to_string(n);
    } else if (!e.is_null()) {
      return Bad(what, "'next' is neither a string nor a number");
    }
  }
  return Status::Ok();
}

Status ParseDetails(json::Object o, std::string_view key, std::vector<StatusDetail>* out) {
  CTIHUB_ASSIGN_OR_RETURN(auto items, OptObjectArray(o, key, "status"));
  for (json::Object item : items) {
    StatusDetail d;
    CTIHUB_RETURN_IF_ERROR(OptString(item, "id", "status", &d.id));
    CTIHUB_RETURN_IF_ERROR(OptString(item, "version", "status", &d.version));
    CTIHUB_RETURN_IF_ERROR(OptString(item, "message", "status", &d.message));
    out->push_back(std::move(d));
  }
  return Status::Ok();
}

std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, kMaxSummaryBytes)) {
    out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  return out;
}

}  // namespace

std::string ErrorInfo::Summary() const {
  std::string s = Printable(title);
  if (!description.empty()) s += ": " + Printable(description);
  if (!error_id.empty()) s += " (" + Printable(error_id) + ")";
  return s;
}

json::ParseLimits ResponseParser::DefaultLimits() {
  json::ParseLimits limits;
  limits.max_bytes = 256u << 20;  // the transport's response limit is the real bound
  limits.max_depth = 128;
  limits.reject_duplicate_keys = false;  // an envelope's objects are checked by the write path
  return limits;
}

ResponseParser::ResponseParser(json::ParseLimits limits) : parser_(limits) {}

Result<json::Object> ResponseParser::ParseObject(std::string_view body, std::string_view what) {
  auto root = parser_.Parse(body);
  if (!root.ok()) return Bad(what, "not JSON: " + root.status().message());
  json::Object o;
  if (root->get_object().get(o) != simdjson::SUCCESS) return Bad(what, "not a JSON object");
  return o;
}

Result<Discovery> ResponseParser::ParseDiscovery(std::string_view body) {
  CTIHUB_ASSIGN_OR_RETURN(json::Object o, ParseObject(body, "discovery"));
  Discovery d;
  CTIHUB_RETURN_IF_ERROR(OptString(o, "title", "discovery", &d.title));
  CTIHUB_RETURN_IF_ERROR(OptString(o, "default", "discovery", &d.default_root));
  CTIHUB_RETURN_IF_ERROR(OptStringArray(o, "api_roots", "discovery", &d.api_roots));
  return d;
}

Result<ApiRootInfo> ResponseParser::ParseApiRoot(std::string_view body) {
  CTIHUB_ASSIGN_OR_RETURN(json::Object o, ParseObject(body, "API root"));
  ApiRootInfo a;
  CTIHUB_RETURN_IF_ERROR(OptString(o, "title", "API root", &a.title));
  CTIHUB_RETURN_IF_ERROR(OptStringArray(o, "versions", "API root", &a.versions));
  CTIHUB_RETURN_IF_ERROR(OptInt(o, "max_content_length", "API root", &a.max_content_length));
  if (a.max_content_length < 0) return Bad("API root", "negative max_content_length");
  return a;
}

Result<std::vector<CollectionInfo>> ResponseParser::ParseCollections(std::string_view body) {
  CTIHUB_ASSIGN_OR_RETURN(json::Object o, ParseObject(body, "collections"));
  CTIHUB_ASSIGN_OR_RETURN(auto items, OptObjectArray(o, "collections", "collections"));
  std::vector<CollectionInfo> out;
  for (json::Object item : items) {
    CollectionInfo c;
    CTIHUB_RETURN_IF_ERROR(OptString(item, "id", "collections", &c.id));
    if (c.id.empty()) return Bad("collections", "a collection without an id");
    CTIHUB_RETURN_IF_ERROR(OptString(item, "title", "collections", &c.title));
    CTIHUB_RETURN_IF_ERROR(OptBool(item, "can_read", "collections", &c.can_read));
    CTIHUB_RETURN_IF_ERROR(OptBool(item, "can_write", "collections", &c.can_write));
    json::Element alias;
    std::string_view one;
    if (item["alias"].get(alias) == simdjson::SUCCESS && alias.get_string().get(one) == 0) {
      c.alias.emplace_back(one);  // TAXII says string; some servers send a list
    } else {
      CTIHUB_RETURN_IF_ERROR(OptStringArray(item, "alias", "collections", &c.alias));
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<ObjectsPage> ResponseParser::ParseObjectsPage(std::string_view body) {
  ObjectsPage page;
  if (body.empty()) return page;  // some servers answer an empty body for no objects
  CTIHUB_ASSIGN_OR_RETURN(json::Object o, ParseObject(body, "envelope"));
  CTIHUB_RETURN_IF_ERROR(ParsePaging(o, "envelope", &page.more, &page.next));
  json::Element objects;
  if (o["objects"].get(objects) != simdjson::SUCCESS) return page;
  json::Array a;
  if (objects.get_array().get(a) != simdjson::SUCCESS)
    return Bad("envelope", "'objects' is not an array");
  page.objects.reserve(a.size());
  for (json::Element e : a) {
    PageObject obj;
    obj.text = simdjson::minify(e);
    json::Object so;
    if (e.get_object().get(so) == simdjson::SUCCESS) {
      std::string_view s;
      if (so["id"].get_string().get(s) == simdjson::SUCCESS) obj.id = std::string(s);
      if (so["modified"].get_string().get(s) == simdjson::SUCCESS ||
          so["created"].get_string().get(s) == simdjson::SUCCESS)
        obj.version = std::string(s);
    }
    page.objects.push_back(std::move(obj));
  }
  return page;
}

Result<ManifestPage> ResponseParser::ParseManifestPage(std::string_view body) {
  ManifestPage page;
  if (body.empty()) return page;
  CTIHUB_ASSIGN_OR_RETURN(json::Object o, ParseObject(body, "manifest"));
  CTIHUB_RETURN_IF_ERROR(ParsePaging(o, "manifest", &page.more, &page.next));
  CTIHUB_ASSIGN_OR_RETURN(auto items, OptObjectArray(o, "objects", "manifest"));
  for (json::Object item : items) {
    ManifestEntry m;
    CTIHUB_RETURN_IF_ERROR(OptString(item, "id", "manifest", &m.id));
    if (m.id.empty()) return Bad("manifest", "an entry without an id");
    CTIHUB_RETURN_IF_ERROR(OptString(item, "date_added", "manifest", &m.date_added));
    CTIHUB_RETURN_IF_ERROR(OptString(item, "version", "manifest", &m.version));
    CTIHUB_RETURN_IF_ERROR(OptString(item, "media_type", "manifest", &m.media_type));
    page.entries.push_back(std::move(m));
  }
  return page;
}

Result<StatusInfo> ResponseParser::ParseStatus(std::string_view body) {
  CTIHUB_ASSIGN_OR_RETURN(json::Object o, ParseObject(body, "status"));
  StatusInfo s;
  CTIHUB_RETURN_IF_ERROR(OptString(o, "id", "status", &s.id));
  CTIHUB_RETURN_IF_ERROR(OptString(o, "status", "status", &s.status));
  if (s.id.empty()) return Bad("status", "no id");
  if (s.status != "pending" && s.status != "complete")
    return Bad("status", "status is '" + Printable(s.status) + "', not pending or complete");
  CTIHUB_RETURN_IF_ERROR(OptInt(o, "total_count", "status", &s.total_count));
  CTIHUB_RETURN_IF_ERROR(OptInt(o, "success_count", "status", &s.success_count));
  CTIHUB_RETURN_IF_ERROR(OptInt(o, "failure_count", "status", &s.failure_count));
  CTIHUB_RETURN_IF_ERROR(OptInt(o, "pending_count", "status", &s.pending_count));
  CTIHUB_RETURN_IF_ERROR(ParseDetails(o, "successes", &s.successes));
  CTIHUB_RETURN_IF_ERROR(ParseDetails(o, "failures", &s.failures));
  return s;
}

ErrorInfo ResponseParser::ParseError(std::string_view body) {
  ErrorInfo info;
  auto o = ParseObject(body, "error");
  if (o.ok()) {
    (void)OptString(*o, "title", "error", &info.title);
    (void)OptString(*o, "description", "error", &info.description);
    (void)OptString(*o, "error_id", "error", &info.error_id);
  }
  if (info.title.empty()) info.title = Printable(body.substr(0, 120));
  return info;
}

std::optional<int64_t> ParseRetryAfter(std::string_view value, int64_t now_unix) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && p == value.data() + value.size())
    return seconds < 0 ? std::nullopt : std::optional<int64_t>(seconds);
  if (ec == std::errc::result_out_of_range) return std::nullopt;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  if (value.size() != 29 || value.substr(25) != " GMT") return std::nullopt;
  std::string text(value);
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const int64_t when = timegm(&tm);
  return when <= now_unix ? 0 : when - now_unix;
}

}  // namespace ctihub::taxii_client
