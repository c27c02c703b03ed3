#include "taxii/query.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/encoding.h"
#include "core/timestamp.h"
#include "pattern/pattern.h"
#include "stix/validate.h"

namespace ctihub::taxii {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Splits on `sep`, keeping empty pieces.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

Status BadFilter(std::string_view name, std::string_view why) {
  return InvalidArgument("bad_filter", std::string(name) + ": " + std::string(why));
}

// A parsed media type: lower-cased type/subtype and parameters.
struct MediaType {
  std::string type;  // "application/taxii+json"
  std::vector<std::pair<std::string, std::string>> params;
  const std::string* Param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

MediaType ParseMediaType(std::string_view s) {
  MediaType mt;
  auto parts = Split(s, ';');
  mt.type = Lower(Trim(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = Trim(parts[i]);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view value = Trim(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    mt.params.emplace_back(Lower(Trim(p.substr(0, eq))), std::string(value));
  }
  return mt;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return InvalidArgument("bad_target", "truncated percent escape");
      int hi = HexDigitValue(s[i + 1]);
      int lo = HexDigitValue(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("bad_target", "bad percent escape");
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return InvalidArgument("bad_target", "NUL byte in target");
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<Target> ParseTarget(std::string_view target) {
  if (target.size() > kMaxTargetBytes)
    return LimitExceeded("target_too_long", "request target too long");
  if (target.empty() || target.front() != '/') {
    return InvalidArgument("bad_target", "request target must be an absolute path");
  }
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f)
      return InvalidArgument("bad_target", "control character or space in target");
  }
  Target out;
  std::string_view path = target;
  std::string_view query;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (size_t h = query.find('#'); h != std::string_view::npos) query = query.substr(0, h);
  out.trailing_slash = path.size() > 1 && path.back() == '/';
  for (std::string_view raw : Split(path.substr(1), '/')) {
    if (raw.empty()) continue;
    CTIHUB_ASSIGN_OR_RETURN(std::string seg, PercentDecode(raw, false));
    if (seg == "." || seg == ".." || seg.find('/') != std::string::npos) {
      return InvalidArgument("bad_target", "dot segment or encoded slash in path");
    }
    if (out.segments.size() >= kMaxPathSegments)
      return InvalidArgument("bad_target", "too many path segments");
    out.segments.push_back(std::move(seg));
  }
  if (!query.empty()) {
    for (std::string_view pair : Split(query, '&')) {
      if (pair.empty()) continue;
      if (out.params.size() >= kMaxQueryParams) {
        return LimitExceeded("too_many_params", "more than 256 query parameters");
      }
      size_t eq = pair.find('=');
      std::string_view k = pair.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      CTIHUB_ASSIGN_OR_RETURN(std::string key, PercentDecode(k, true));
      CTIHUB_ASSIGN_OR_RETURN(std::string value, PercentDecode(v, true));
      out.params.emplace_back(std::move(key), std::move(value));
    }
  }
  return out;
}

Result<store::ObjectQuery> ParseFilters(
    const std::vector<std::pair<std::string, std::string>>& params, Endpoint endpoint,
    size_t default_limit, size_t max_limit) {
  store::ObjectQuery q;
  q.limit = std::clamp<size_t>(default_limit, 1, std::max<size_t>(max_limit, 1));
  const bool paged = endpoint != Endpoint::kDeleteObject;
  const bool takes_id_type = endpoint == Endpoint::kObjects || endpoint == Endpoint::kManifest;
  const bool takes_version = endpoint != Endpoint::kVersions;
  bool saw_version = false, saw_added_after = false, saw_limit = false, saw_next = false;
  size_t values = 0;
  for (const auto& param : params) {
    // Named references, not a structured binding: clang 14 cannot capture bindings in lambdas.
    const std::string& key = param.first;
    const std::string& value = param.second;
    auto each = [&](auto&& fn) -> Status {
      for (std::string_view raw : Split(value, ',')) {
        std::string_view v = Trim(raw);
        if (v.empty()) return BadFilter(key, "empty value");
        if (++values > kMaxFilterValues) {
          return LimitExceeded("too_many_filter_values", "more than 1000 filter values");
        }
        CTIHUB_RETURN_IF_ERROR(fn(v));
      }
      return Status::Ok();
    };
    if (key == "added_after" && paged) {
      if (saw_added_after) return BadFilter(key, "given more than once");
      saw_added_after = true;
      auto ts = Timestamp::Parse(value);
      if (!ts.ok()) return BadFilter(key, ts.status().message());
      q.added_after_us = ts->micros();
    } else if (key == "limit" && paged) {
      if (saw_limit) return BadFilter(key, "given more than once");
      saw_limit = true;
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        if (ec == std::errc::result_out_of_range && !value.empty() && value[0] != '-') {
          n = static_cast<int64_t>(max_limit);
        } else {
          return BadFilter(key, "not an integer");
        }
      }
      if (n <= 0) return BadFilter(key, "must be a positive integer");
      q.limit = std::min<uint64_t>(static_cast<uint64_t>(n), std::max<size_t>(max_limit, 1));
    } else if (key == "next" && paged) {
      if (saw_next) return BadFilter(key, "given more than once");
      saw_next = true;
      if (value.empty() || value.size() > 1024) return BadFilter(key, "bad next token");
      q.next = value;
    } else if (key == "match[id]" && takes_id_type) {
      CTIHUB_RETURN_IF_ERROR(each([&](std::string_view v) -> Status {
        size_t dd = v.find("--");
        if (dd == std::string_view::npos || dd == 0 || v.size() > 300)
          return BadFilter(key, "not a STIX id");
        q.ids.emplace_back(v);
        return Status::Ok();
      }));
    } else if (key == "match[type]" && takes_id_type) {
      CTIHUB_RETURN_IF_ERROR(each([&](std::string_view v) -> Status {
        if (v.size() > 250) return BadFilter(key, "type too long");
        for (char c : v) {
          if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return BadFilter(key, "not a STIX type name");
          }
        }
        q.types.emplace_back(v);
        return Status::Ok();
      }));
    } else if (key == "match[version]" && takes_version) {
      if (!saw_version) {
        saw_version = true;
        q.version_last = false;
      }
      CTIHUB_RETURN_IF_ERROR(each([&](std::string_view v) -> Status {
        if (v == "first") {
          q.version_first = true;
        } else if (v == "last") {
          q.version_last = true;
        } else if (v == "all") {
          q.version_all = true;
        } else {
          auto ts = Timestamp::Parse(v);
          if (!ts.ok()) return BadFilter(key, "not first, last, all or a timestamp");
          q.versions.push_back(*ts);
        }
        return Status::Ok();
      }));
    } else if (key == "match[spec_version]") {
      CTIHUB_RETURN_IF_ERROR(each([&](std::string_view v) -> Status {
        if (v != "2.0" && v != "2.1") return BadFilter(key, "must be 2.0 or 2.1");
        q.spec_versions.emplace_back(v);
        return Status::Ok();
      }));
    }
    // Anything else: TAXII servers ignore filters they do not support.
  }
  if (endpoint == Endpoint::kVersions) {
    q.version_all = true;
    q.version_last = false;
    q.version_first = false;
    q.versions.clear();
    q.include_json = false;
  }
  if (endpoint == Endpoint::kManifest) q.include_json = false;
  return q;
}

bool AcceptsTaxii21(std::string_view accept) {
  if (Trim(accept).empty()) return true;
  for (std::string_view range : Split(accept, ',')) {
    if (Trim(range).empty()) continue;
    MediaType mt = ParseMediaType(range);
    if (const std::string* q = mt.Param("q")) {
      double v = 1;
      auto [p, ec] = std::from_chars(q->data(), q->data() + q->size(), v);
      if (ec == std::errc() && v <= 0) continue;
    }
    if (mt.type == "*/*" || mt.type == "application/*") return true;
    if (mt.type == "application/taxii+json") {
      const std::string* version = mt.Param("version");
      if (version == nullptr || *version == "2.1") return true;
    }
  }
  return false;
}

bool IsTaxii21ContentType(std::string_view content_type) {
  MediaType mt = ParseMediaType(content_type);
  if (mt.type != "application/taxii+json") return false;
  const std::string* version = mt.Param("version");
  if (version != nullptr && *version != "2.1") return false;
  if (const std::string* cs = mt.Param("charset"); cs != nullptr && Lower(*cs) != "utf-8")
    return false;
  return true;
}

Result<std::vector<EnvelopeItem>> ParseEnvelope(std::string_view body,
                                                const EnvelopeOptions& opts) {
  // An empty view may have a null data(): simdjson would memcpy from it.
  if (body.empty()) return InvalidArgument("invalid_json", "empty body");
  thread_local json::JsonParser parser;
  auto root = parser.Parse(body);
  if (!root.ok()) {
    if (root.status().code() == ErrorCode::kLimitExceeded) {
      return LimitExceeded("envelope_too_large", root.status().message());
    }
    return InvalidArgument("invalid_json", root.status().message());
  }
  json::Object envelope;
  if (root->get_object().get(envelope) != simdjson::SUCCESS) {
    return InvalidArgument("invalid_envelope", "the body is not a JSON object");
  }
  std::vector<EnvelopeItem> items;
  json::Element objects_el;
  if (envelope["objects"].get(objects_el) != simdjson::SUCCESS) return items;  // no objects
  json::Array objects;
  if (objects_el.get_array().get(objects) != simdjson::SUCCESS) {
    return InvalidArgument("invalid_envelope", "\"objects\" is not an array");
  }
  if (objects.size() > opts.max_objects) {
    return LimitExceeded("too_many_objects", "the envelope has " + std::to_string(objects.size()) +
                                                 " objects; the limit is " +
                                                 std::to_string(opts.max_objects));
  }
  items.reserve(objects.size());
  std::set<std::pair<std::string, std::string>> seen;
  for (json::Element obj : objects) {
    EnvelopeItem item;
    if (!obj.is_object()) {
      item.reason = "not a JSON object";
      item.message = "not a JSON object";
      items.push_back(std::move(item));
      continue;
    }
    stix::Report report = stix::Validate(obj);
    item.id = report.id;
    std::string_view modified, created, spec_version = "2.1";
    if (obj["modified"].get_string().get(modified) != simdjson::SUCCESS) modified = {};
    if (obj["created"].get_string().get(created) != simdjson::SUCCESS) created = {};
    if (obj["spec_version"].get_string().get(spec_version) != simdjson::SUCCESS)
      spec_version = "2.1";
    item.version = !modified.empty() ? std::string(modified) : std::string(created);
    if (!report.valid()) {
      const stix::Issue& first = report.errors.front();
      item.reason = "invalid STIX";
      item.message = "invalid STIX: " + first.path + ": " + first.message;
      if (report.errors.size() > 1) {
        item.message += " (and " + std::to_string(report.errors.size() - 1) + " more)";
      }
      items.push_back(std::move(item));
      continue;
    }
    if (!report.has_id || !report.has_type) {
      item.reason = "invalid STIX";
      item.message = "invalid STIX: the object has no id or type";
      items.push_back(std::move(item));
      continue;
    }
    if (spec_version != "2.1" && spec_version != "2.0") {
      item.reason = "unsupported spec_version";
      item.message = "unsupported spec_version";
      items.push_back(std::move(item));
      continue;
    }
    if (opts.validate_patterns && report.type == "indicator") {
      std::string_view pattern_type, pattern;
      if (obj["pattern_type"].get_string().get(pattern_type) == simdjson::SUCCESS &&
          pattern_type == "stix" && obj["pattern"].get_string().get(pattern) == simdjson::SUCCESS) {
        pattern::PatternOptions po;
        po.version = spec_version == "2.0" ? pattern::StixVersion::k20 : pattern::StixVersion::k21;
        Status st = pattern::ValidatePattern(pattern, po);
        if (!st.ok()) {
          item.reason = "invalid pattern";
          item.message = "invalid pattern: " + st.NamedMessage();
          items.push_back(std::move(item));
          continue;
        }
      }
    }
    store::NewObject& no = item.object;
    no.id = report.id;
    no.type = report.type;
    no.spec_version = std::string(spec_version);
    if (!item.version.empty()) {
      auto ts = Timestamp::Parse(item.version);
      if (!ts.ok()) {
        item.reason = "invalid STIX";
        item.message = "invalid STIX: bad modified/created timestamp";
        items.push_back(std::move(item));
        continue;
      }
      no.version = *ts;
      no.has_version = true;
      item.version = ts->ToString();
    }
    if (opts.prepare) {
      Status prepared = opts.prepare(obj, no);
      if (!prepared.ok()) {
        // prepare names its refusals ("producer_not_allowed"); unnamed is the object's
        // access facts not reading, an invalid object.
        item.reason = std::string(prepared.NameOr("invalid STIX"));
        item.message = prepared.NamedMessage();
        items.push_back(std::move(item));
        continue;
      }
    }
    if (no.json.empty()) no.json = json::CanonicalJson(obj);  // prepare may have written it
    item.ok = true;
    if (!seen.emplace(item.id, item.version).second) item.duplicate = true;
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace ctihub::taxii
