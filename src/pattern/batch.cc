#include "pattern/batch.h"

#include "pattern/evaluator.h"
#include "pattern/parser.h"

namespace ctihub::pattern {
namespace {

bool ParseVersion(std::string_view s, StixVersion* v) {
  if (s == "2.1") { *v = StixVersion::k21; return true; }
  if (s == "2.0") { *v = StixVersion::k20; return true; }
  return false;
}

struct BatchLine {
  std::string id;
  std::string pattern;
  StixVersion version = StixVersion::k21;
  json::Element observed;
};

Status ReadBatchLine(json::JsonParser& parser, std::string_view line, bool want_observed, BatchLine* out) {
  auto root = parser.Parse(line);
  if (!root.ok()) return InvalidArgument("invalid JSON line: " + root.status().message());
  if (root->type() != json::Type::OBJECT) return InvalidArgument("line is not a JSON object");
  json::Object o = root->get_object().value_unsafe();
  std::string_view id;
  if (o.at_key("id").get(id) != simdjson::SUCCESS) return InvalidArgument("missing string 'id'");
  out->id = std::string(id);
  std::string_view pat;
  if (o.at_key("pattern").get(pat) != simdjson::SUCCESS) return InvalidArgument("missing string 'pattern'");
  out->pattern = std::string(pat);
  json::Element v;
  if (o.at_key("stix_version").get(v) == simdjson::SUCCESS) {
    std::string_view vs;
    if (v.get(vs) != simdjson::SUCCESS || !ParseVersion(vs, &out->version))
      return InvalidArgument("stix_version must be \"2.0\" or \"2.1\"");
  }
  if (want_observed) {
    if (o.at_key("observed").get(out->observed) != simdjson::SUCCESS) return InvalidArgument("missing 'observed' array");
    if (out->observed.type() != json::Type::ARRAY) return InvalidArgument("'observed' must be an array");
  }
  return Status::Ok();
}

// Messages may quote pattern text, which need not be valid UTF-8: replace
// invalid sequences with U+FFFD so every output line is valid JSON text.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size() && !(n == 2 && c < 0xC2);
    for (size_t k = 1; ok && k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) ok = false;
    if (ok && n == 3) {
      unsigned cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6);
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
    }
    if (ok && n == 4) {
      unsigned cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12);
      if (cp < 0x10000 || cp > 0x10FFFF) ok = false;
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) {
    if (!s.empty()) s += "; ";
    s += w;
  }
  return s;
}

}  // namespace

std::string ValidateBatchLine(json::JsonParser& parser, std::string_view line) {
  BatchLine bl;
  Status st = ReadBatchLine(parser, line, false, &bl);
  std::string result = "valid", message;
  if (st.ok()) {
    PatternOptions opt;
    opt.version = bl.version;
    auto parsed = ParsePattern(bl.pattern, opt);
    if (!parsed.ok()) {
      result = "invalid";
      message = parsed.status().message();
    } else {
      message = Joined(parsed->warnings);
    }
  } else {
    result = "invalid";
    message = st.message();
  }
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("id").String(bl.id).Key("result").String(result).Key("message").String(ValidUtf8(message)).EndObject();
  return out;
}

std::string MatchBatchLine(json::JsonParser& parser, std::string_view line) {
  BatchLine bl;
  std::string result = "error", message;
  std::vector<size_t> bindings;
  Status st = ReadBatchLine(parser, line, true, &bl);
  if (st.ok()) {
    PatternOptions opt;
    opt.version = bl.version;
    auto cp = CompiledPattern::Compile(bl.pattern, opt);
    if (!cp.ok()) {
      message = "invalid pattern: " + cp.status().message();
    } else {
      ObservationSet set;
      Status ls = set.LoadElement(bl.observed, bl.version);
      if (!ls.ok()) {
        message = "invalid observed data: " + ls.message();
      } else {
        auto m = (*cp)->Match(set.observations());
        if (!m.ok()) {
          message = m.status().message();
        } else if (m->matched) {
          result = "match";
          bindings = m->bindings;
        } else {
          result = "nomatch";
        }
      }
    }
  } else {
    message = st.message();
  }
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("id").String(bl.id).Key("result").String(result).Key("message").String(ValidUtf8(message));
  if (result == "match") {
    w.Key("bindings").BeginArray();
    for (size_t b : bindings) w.Int(static_cast<int64_t>(b));
    w.EndArray();
  }
  w.EndObject();
  return out;
}

}  // namespace ctihub::pattern
