#include "matcher/readers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>

#include "core/json.h"
#include "core/net.h"
#include "core/timestamp.h"
#include "matcher/unaligned.h"
#include "pattern/evaluator.h"

namespace ctihub::matcher {
namespace {

using json::Element;
namespace od = simdjson::ondemand;
static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING);

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool IsIp(std::string_view s) {
  net::IpPrefix p;
  return net::ParseIpPrefix(s, &p) && p.bits == (p.v6 ? 128 : 32);
}

// A DNS answer or host that is a name (not TXT data, not an address).
bool LooksLikeDomain(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.find('.') == std::string_view::npos) return false;
  for (char c : s)
    if (c == ' ' || c == '\t' || c == '/' || c == '@') return false;
  return true;
}

// "host:8080" -> "host" (not for IPv6 literals).
std::string_view StripPort(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos || host.find(':') != colon) return host;
  std::string_view port = host.substr(colon + 1);
  if (port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return host;
  return host.substr(0, colon);
}

std::string_view StripAngles(std::string_view s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') return s.substr(1, s.size() - 2);
  return s;
}

bool ParseDigits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool ParseLogTime(std::string_view text, int64_t* micros) {
  if (text.empty()) return false;
  if (text[0] >= '0' && text[0] <= '9' && text.find('-') == std::string_view::npos) {
    // Seconds since the epoch with an optional fraction.
    size_t dot = text.find('.');
    int64_t secs = 0;
    auto [p, ec] = std::from_chars(
        text.data(), text.data() + (dot == std::string_view::npos ? text.size() : dot), secs);
    if (ec != std::errc() || p != text.data() + (dot == std::string_view::npos ? text.size() : dot))
      return false;
    int64_t frac = 0;
    if (dot != std::string_view::npos) {
      int digits = 0;
      for (size_t i = dot + 1; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        if (digits < 6) {
          frac = frac * 10 + (text[i] - '0');
          ++digits;
        }
      }
      while (digits++ < 6) frac *= 10;
    }
    if (secs > 1'000'000'000'000LL) return false;
    *micros = secs * 1000000 + frac;
    return true;
  }
  // RFC 3339: the date-time, then Z or +hh:mm / +hhmm.
  size_t end = text.size();
  int offset_minutes = 0;
  if (text.back() != 'Z') {
    size_t sign = text.find_last_of("+-");
    if (sign == std::string_view::npos || sign < 19) return false;
    std::string_view off = text.substr(sign + 1);
    int h = 0, m = 0;
    if (off.size() == 4) {
      if (!ParseDigits(off, 0, 2, &h) || !ParseDigits(off, 2, 2, &m)) return false;
    } else if (off.size() == 5 && off[2] == ':') {
      if (!ParseDigits(off, 0, 2, &h) || !ParseDigits(off, 3, 2, &m)) return false;
    } else {
      return false;
    }
    offset_minutes = (text[sign] == '-' ? -1 : 1) * (h * 60 + m);
    end = sign;
  } else {
    end = text.size() - 1;
  }
  // The UTC date-time ends in 'Z' for Timestamp::Parse: the text itself when it
  // has one, else a copy on the stack (no allocation per event).
  char buf[64];
  std::string long_utc;
  std::string_view utc = text;
  if (end != text.size() - 1) {
    if (end + 1 <= sizeof buf) {
      std::memcpy(buf, text.data(), end);
      buf[end] = 'Z';
      utc = std::string_view(buf, end + 1);
    } else {
      long_utc.assign(text.substr(0, end)).push_back('Z');
      utc = long_utc;
    }
  }
  auto ts = Timestamp::Parse(utc);
  if (!ts.ok()) return false;
  *micros = ts.value().micros() - static_cast<int64_t>(offset_minutes) * 60 * 1000000;
  return true;
}

namespace {

// ":SS[.fraction]Z" at offset 16 of an RFC 3339 time: the microseconds past its
// minute, by Timestamp::Parse's rules (second 60 allowed, at least one fraction
// digit, the first 9 count, truncated to microseconds). False for another shape.
bool SecondsOfMinute(std::string_view text, int64_t* us) {
  auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (text.size() < 20 || text[16] != ':' || text.back() != 'Z' || !digit(17) || !digit(18))
    return false;
  const int64_t sec = (text[17] - '0') * 10 + (text[18] - '0');
  if (sec > 60) return false;
  size_t pos = 19;
  int64_t nanos = 0;
  if (text[pos] == '.') {
    const size_t start = ++pos;
    for (; pos < text.size() && digit(pos); ++pos)
      if (pos - start < 9) nanos = nanos * 10 + (text[pos] - '0');
    const size_t n = pos - start;
    if (n == 0) return false;
    for (size_t i = n; i < 9; ++i) nanos *= 10;
  }
  if (pos != text.size() - 1) return false;
  *us = sec * 1000000 + nanos / 1000;
  return true;
}

}  // namespace

bool LogTimeParser::Parse(std::string_view text, int64_t* micros) {
  int64_t tail = 0;
  if (valid_ && text.size() >= 20 && std::memcmp(text.data(), minute_, 16) == 0 &&
      SecondsOfMinute(text, &tail)) {
    *micros = minute_us_ + tail;
    return true;
  }
  if (!ParseLogTime(text, micros)) return false;
  // Remembered only for the shape the fast path reads: the minute's fields were
  // checked by the full parse, and the micros are linear in the seconds.
  valid_ =
      text.size() >= 20 && text.find('-') != std::string_view::npos && SecondsOfMinute(text, &tail);
  if (valid_) {
    std::memcpy(minute_, text.data(), 16);
    minute_us_ = *micros - tail;
  }
  return true;
}

void EventTime::Resolve() const {
  int64_t micros;
  if (parser_->Parse(text_, &micros)) {
    state_ = kKnown;
    micros_ = micros;
  } else {
    state_ = kNone;
  }
}

Result<Format> ParseFormat(std::string_view name) {
  if (name == "zeek-json") return Format::kZeekJson;
  if (name == "zeek-tsv") return Format::kZeekTsv;
  if (name == "suricata-eve") return Format::kSuricataEve;
  if (name == "jsonl") return Format::kJsonLines;
  if (name == "stix") return Format::kStix;
  return InvalidArgument("unknown format '" + std::string(name) +
                         "' (zeek-json, zeek-tsv, suricata-eve, jsonl, stix)");
}

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kZeekJson:
      return "zeek-json";
    case Format::kZeekTsv:
      return "zeek-tsv";
    case Format::kSuricataEve:
      return "suricata-eve";
    case Format::kJsonLines:
      return "jsonl";
    case Format::kStix:
      return "stix";
  }
  return "?";
}

Result<Format> DetectFormat(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (StartsWith(line, "#separator") || StartsWith(line, "#fields") || StartsWith(line, "#path"))
    return Format::kZeekTsv;
  if (line.empty() || (line[0] != '{' && line[0] != '['))
    return InvalidArgument(
        "cannot detect the format from the first line (neither a Zeek TSV header nor JSON): give "
        "--format");
  json::JsonParser parser(json::ParseLimits{kMaxLineBytes, 64, false});
  auto root = parser.Parse(line);
  if (!root.ok())
    return InvalidArgument("first line is not JSON (" + root.status().message() +
                           "): give --format");
  Element e = root.value();
  if (e.is_array()) return Format::kStix;
  json::Object o = e.get_object().value_unsafe();
  auto has = [&](const char* k) { return !o.at_key(k).error(); };
  std::string_view type;
  if (has("type") && o.at_key("type").get_string().get(type) == simdjson::SUCCESS &&
      (type == "bundle" || type == "observed-data"))
    return Format::kStix;
  if (has("_path") || has("@stream") || (has("ts") && has("uid"))) return Format::kZeekJson;
  if (has("event_type")) return Format::kSuricataEve;
  return Format::kJsonLines;
}

Result<FieldMapping> ParseFieldMapping(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return InvalidArgument("--map '" + std::string(text) +
                           "': expected FIELD=OBJECT_PATH, e.g. query=domain-name:value");
  return FieldMapping{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

LineReader::~LineReader() = default;

namespace {

// What a Zeek field name means (the same in JSON and TSV logs).
enum class Role : uint8_t {
  kNone,
  kTs,
  kLog,  // _path / @stream
  kOrigH,
  kRespH,
  kQuery,
  kAnswers,
  kHost,
  kUri,
  kReferrer,
  kServerName,
  kMd5,
  kSha1,
  kSha256,
  kFilename,
  kFingerprint,
  kCertChainFps,
  kSanDns,
  kSanIp,
  kSanEmail,
  kMailFrom,
  kRcptTo,
  kSrc,
  kDst,
  kCount
};

// k == lit with the length known at compile time: two (overlapping) loads of
// each, compared. GCC turned memcmp of 5, 9 or 11 bytes into library calls
// (half a million per 100,000 lines).
template <size_t N>
[[gnu::always_inline]] inline bool Is(std::string_view k, const char (&lit)[N]) {
  constexpr size_t kLength = N - 1;
  static_assert(kLength >= 1 && kLength <= 16, "role names are 1-16 bytes");
  if (k.size() != kLength) return false;
  const char* p = k.data();
  if constexpr (kLength >= 8) {
    return Load8(p) == Load8(lit) && Load8(p + kLength - 8) == Load8(lit + kLength - 8);
  } else if constexpr (kLength >= 4) {
    return Load4(p) == Load4(lit) && Load4(p + kLength - 4) == Load4(lit + kLength - 4);
  } else {
    return std::memcmp(p, lit, kLength) == 0;  // 1-3 bytes: inlined
  }
}

// The role of a Zeek field name (JSON's dotted and OTRF's underscored forms).
// ZeekRole runs for every key of every line and most keys are no role, so the
// names are found by length first, then compared with fixed-size loads: a
// miss costs a switch and a compare or two, never a library call.
[[gnu::always_inline]] inline Role ZeekRole(std::string_view k) {
  switch (k.size()) {
    case 2:
      return Is(k, "ts") ? Role::kTs : Role::kNone;
    case 3:
      if (Is(k, "uri")) return Role::kUri;
      if (Is(k, "md5")) return Role::kMd5;
      if (Is(k, "src")) return Role::kSrc;
      if (Is(k, "dst")) return Role::kDst;
      return Role::kNone;
    case 4:
      if (Is(k, "host")) return Role::kHost;
      if (Is(k, "sha1")) return Role::kSha1;
      return Role::kNone;
    case 5:
      if (Is(k, "_path")) return Role::kLog;
      if (Is(k, "query")) return Role::kQuery;
      return Role::kNone;
    case 6:
      if (Is(k, "sha256")) return Role::kSha256;
      if (Is(k, "san.ip") || Is(k, "san_ip")) return Role::kSanIp;
      if (Is(k, "rcptto")) return Role::kRcptTo;
      return Role::kNone;
    case 7:
      if (Is(k, "answers")) return Role::kAnswers;
      if (Is(k, "@stream")) return Role::kLog;
      if (Is(k, "san.dns") || Is(k, "san_dns")) return Role::kSanDns;
      return Role::kNone;
    case 8:
      if (Is(k, "referrer")) return Role::kReferrer;
      if (Is(k, "filename")) return Role::kFilename;
      if (Is(k, "mailfrom")) return Role::kMailFrom;
      return Role::kNone;
    case 9:
      if (k[0] == 'i') {
        if (Is(k, "id.orig_h") || Is(k, "id_orig_h")) return Role::kOrigH;
        if (Is(k, "id.resp_h") || Is(k, "id_resp_h")) return Role::kRespH;
      } else if (Is(k, "san.email") || Is(k, "san_email")) {
        return Role::kSanEmail;
      }
      return Role::kNone;
    case 11:
      if (Is(k, "server_name")) return Role::kServerName;
      if (Is(k, "fingerprint")) return Role::kFingerprint;
      return Role::kNone;
    case 14:
      return Is(k, "cert_chain_fps") ? Role::kCertChainFps : Role::kNone;
    default:
      return Role::kNone;
  }
}

// Adds Zeek roles to an event. `values(role, f)` calls f(string_view) for each
// value the line has for the role (arrays / sets element by element).
class ZeekApplier {
 public:
  explicit ZeekApplier(const PathRegistry* paths) : builder_(paths) {}

  EventBuilder& builder() { return builder_; }

  template <typename Values>
  void Apply(std::string_view log, Values&& values) {
    uint16_t next = 1;  // object 0: the connection
    auto each = [&](Role r, auto&& f) { values(r, f); };
    each(Role::kOrigH, [&](std::string_view v) { builder_.Add(kTrafficSrc, 0, v); });
    each(Role::kRespH, [&](std::string_view v) { builder_.Add(kTrafficDst, 0, v); });
    auto address_or_domain = [&](std::string_view v) {
      // Add on an address path takes exactly the full-length addresses.
      if (builder_.Add(kIpv4Value, next, v)) {
        ++next;
      } else if (LooksLikeDomain(v)) {
        builder_.Add(kDomainValue, next++, v);
      }
    };
    each(Role::kSrc, [&](std::string_view v) { builder_.Add(kIpv4Value, next++, v); });
    each(Role::kDst, [&](std::string_view v) { builder_.Add(kIpv4Value, next++, v); });
    if (Is(log, "dns")) {
      each(Role::kQuery, [&](std::string_view v) { builder_.Add(kDomainValue, next++, v); });
      each(Role::kAnswers, address_or_domain);
    }
    if (Is(log, "http")) {
      std::string_view host;
      each(Role::kHost, [&](std::string_view v) {
        host = StripPort(v);
        address_or_domain(host);
      });
      each(Role::kUri, [&](std::string_view v) {
        if (host.empty()) return;
        url_.assign("http://").append(host).append(v);
        builder_.Add(kUrlValue, next++, url_);
      });
      each(Role::kReferrer, [&](std::string_view v) {
        if (v.find("://") != std::string_view::npos) builder_.Add(kUrlValue, next++, v);
      });
    }
    if (Is(log, "ssl")) {
      each(Role::kServerName, [&](std::string_view v) { builder_.Add(kDomainValue, next++, v); });
      each(Role::kCertChainFps, [&](std::string_view v) { AddFingerprint(v, next++); });
    }
    if (Is(log, "files") || Is(log, "smb_files") || Is(log, "pe")) {
      uint16_t file = next++;
      each(Role::kMd5, [&](std::string_view v) { builder_.Add(kFileMd5, file, v); });
      each(Role::kSha1, [&](std::string_view v) { builder_.Add(kFileSha1, file, v); });
      each(Role::kSha256, [&](std::string_view v) { builder_.Add(kFileSha256, file, v); });
      each(Role::kFilename, [&](std::string_view v) { builder_.Add(kFileName, file, v); });
    }
    if (Is(log, "x509")) {
      each(Role::kFingerprint, [&](std::string_view v) { AddFingerprint(v, next++); });
      each(Role::kSanDns, [&](std::string_view v) { builder_.Add(kDomainValue, next++, v); });
      each(Role::kSanIp, [&](std::string_view v) { builder_.Add(kIpv4Value, next++, v); });
      each(Role::kSanEmail, [&](std::string_view v) { builder_.Add(kEmailValue, next++, v); });
    }
    if (Is(log, "smtp")) {
      each(Role::kMailFrom,
           [&](std::string_view v) { builder_.Add(kEmailValue, next++, StripAngles(v)); });
      each(Role::kRcptTo,
           [&](std::string_view v) { builder_.Add(kEmailValue, next++, StripAngles(v)); });
    }
  }

  // Zeek's certificate fingerprint: SHA-256 (64 hex) by default, SHA-1 (40) when configured so.
  void AddFingerprint(std::string_view v, uint16_t object) {
    if (v.size() == 64) builder_.Add(kX509Sha256, object, v);
    if (v.size() == 40) builder_.Add(kX509Sha1, object, v);
  }

 private:
  EventBuilder builder_;
  std::string url_;
};

// Calls f(string) for a JSON string or each string element of an array: the
// values of Zeek's fields the map reads (Zeek writes addresses, names and
// hashes as strings; a number there is no value of the role).
template <typename F>
void EachJsonString(Element e, F&& f) {
  std::string_view s;
  if (e.type() == json::Type::STRING) {
    if (e.get_string().get(s) == simdjson::SUCCESS) f(s);
    return;
  }
  json::Array arr;
  if (e.type() != json::Type::ARRAY || e.get_array().get(arr) != simdjson::SUCCESS) return;
  for (Element x : arr)
    if (x.type() == json::Type::STRING && x.get_string().get(s) == simdjson::SUCCESS) f(s);
}

// EachJsonString, and a number as text: a --map may name a port or a size.
template <typename F>
void EachJsonValue(Element e, std::string* scratch, F&& f) {
  switch (e.type()) {
    case json::Type::INT64:
    case json::Type::UINT64:
    case json::Type::DOUBLE:
      *scratch = simdjson::minify(e);
      f(std::string_view(*scratch));
      break;
    default:
      EachJsonString(e, f);
  }
}

// Sets *time from seconds since the epoch; false (and no time) out of range.
bool SetNumericTime(double seconds, EventTime* time) {
  if (!(seconds > -1e12 && seconds < 1e12)) return false;
  time->Set(static_cast<int64_t>(seconds * 1e6 + (seconds >= 0 ? 0.5 : -0.5)));
  return true;
}

// Sets *time from a JSON time: a string is handed over as text, parsed only if
// the time is asked for (it lives as long as the line's parse). False when `e`
// cannot be a time (a string is checked when parsed).
bool JsonTime(Element e, LogTimeParser* times, EventTime* time) {
  if (e.type() == json::Type::STRING) {
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return false;
    time->SetText(s, times);
    return true;
  }
  double d;
  if (e.get_double().get(d) != simdjson::SUCCESS) {
    int64_t i;
    if (e.get_int64().get(i) != simdjson::SUCCESS) return false;
    d = static_cast<double>(i);
  }
  return SetNumericTime(d, time);
}

// A value at a dotted path: the literal key first (Zeek's "id.orig_h"), then nested objects.
bool FindField(json::Object o, std::string_view field, Element* out) {
  if (o.at_key(field).get(*out) == simdjson::SUCCESS) return true;
  size_t dot = field.find('.');
  if (dot == std::string_view::npos) return false;
  Element inner;
  if (o.at_key(field.substr(0, dot)).get(inner) != simdjson::SUCCESS || !inner.is_object())
    return false;
  return FindField(inner.get_object().value_unsafe(), field.substr(dot + 1), out);
}

struct ResolvedMap {
  std::string field;
  uint32_t path;
};

Result<std::vector<ResolvedMap>> ResolveMaps(const std::vector<FieldMapping>& maps,
                                             PathRegistry* paths) {
  std::vector<ResolvedMap> out;
  for (const auto& m : maps) {
    std::string canonical;
    uint32_t id;
    if (!CanonicalPathText(m.object_path, &canonical) || !paths->Intern(canonical, &id))
      return InvalidArgument("--map " + m.field + "=" + m.object_path +
                             ": not an object path an event can carry (type:property "
                             "with keys only; refs only network-traffic:src_ref/dst_ref)");
    out.push_back(ResolvedMap{m.field, id});
  }
  return out;
}

class JsonReaderBase : public LineReader {
 public:
  JsonReaderBase(std::vector<ResolvedMap> maps, const PathRegistry* paths)
      : maps_(std::move(maps)), zeek_(paths) {}

 protected:
  Result<json::Object> ParseLine(std::string_view line) {
    if (line.size() > kMaxLineBytes) return InvalidArgument("line_too_long");
    auto root = parser_.Parse(line);
    if (!root.ok()) return root.status();
    if (!root.value().is_object()) return InvalidArgument("not a JSON object");
    return root.value().get_object().value_unsafe();
  }

  void ApplyMaps(json::Object o, uint16_t first_object) {
    uint16_t next = first_object;
    for (const auto& m : maps_) {
      Element e;
      if (!FindField(o, m.field, &e)) continue;
      EachJsonValue(e, &scratch_,
                    [&](std::string_view v) { zeek_.builder().Add(m.path, next++, v); });
    }
  }

  static bool IsBlank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
  }

  json::JsonParser parser_{json::ParseLimits{kMaxLineBytes, 64, false}};
  std::vector<ResolvedMap> maps_;
  ZeekApplier zeek_;
  std::string scratch_;
  LogTimeParser times_;
};

// The values a line's fields hold for each Zeek role, as views that live as
// long as the line's parse. A later field with the same role replaces an
// earlier one (a JSON object's last duplicate key wins, as on the DOM).
class RoleValues {
 public:
  void Clear() {
    values_.clear();
    if (++stamp_ == 0) {  // wrapped: no slot may look current
      for (Slot& s : slots_) s.stamp = 0;
      stamp_ = 1;
    }
  }
  void Start(Role r) { slots_[Index(r)] = {stamp_, Size(), Size()}; }
  // REQUIRES: Start(r) was the last Start.
  void Add(Role r, std::string_view v) {
    values_.push_back(v);
    slots_[Index(r)].end = Size();
  }
  template <typename F>
  void Each(Role r, F&& f) const {
    const Slot& s = slots_[Index(r)];
    if (s.stamp != stamp_) return;
    for (uint32_t i = s.begin; i < s.end; ++i) f(values_[i]);
  }

 private:
  struct Slot {
    uint32_t stamp = 0, begin = 0, end = 0;
  };
  static size_t Index(Role r) { return static_cast<size_t>(r); }
  uint32_t Size() const { return static_cast<uint32_t>(values_.size()); }

  std::vector<std::string_view> values_;
  std::array<Slot, static_cast<size_t>(Role::kCount)> slots_{};
  uint32_t stamp_ = 0;
};

// Zeek JSON. Lines are read with simdjson's On-Demand API: fields in document
// order, a value read only when its key is a role, without the DOM's tape of
// every value (its stage 2 was 28% of the match phase's instructions). What
// On-Demand refuses or cannot tell goes to the DOM parse, which locates the
// error (a malformed line) or reads the line (e.g. an integer beyond 64 bits).
// On-Demand checks the structure of the fields it skips, not their atoms: a
// line whose unread field holds `tru` is an event, not a malformed line.
// With --map the DOM reads every line (maps name nested paths).
class ZeekJsonReader : public JsonReaderBase {
 public:
  using JsonReaderBase::JsonReaderBase;

  Result<Outcome> Read(std::string_view line, Event* event) override {
    if (IsBlank(line)) return Outcome::kSkip;
    if (maps_.empty() && line.size() <= kMaxLineBytes && CaptureOnDemand(line)) {
      EventBuilder& b = zeek_.builder();
      b.Reset(event);
      zeek_.Apply(log_, [&](Role r, auto&& f) { values_.Each(r, f); });
      b.Finish(event);
      event->time = time_;  // after Reset, which clears it
      return Outcome::kEvent;
    }
    return ReadDom(line, event);
  }

 private:
  // Fills values_, log_ and time_ from the line; false if On-Demand
  // reports an error (the DOM decides then).
  bool CaptureOnDemand(std::string_view line) {
    values_.Clear();
    log_ = {};
    time_.Clear();
    const char* json = line.data();
    size_t allocated = line.size() + kLinePadding;
    if (!padded_lines_) {
      if (padded_.size() < allocated) padded_.resize(allocated);
      std::memcpy(padded_.data(), line.data(), line.size());
      json = padded_.data();
      allocated = padded_.size();
    }
    // Grown by doubling from 64 KiB (iterate would grow it to each longer line's size).
    const size_t capacity = on_demand_.capacity();
    if (capacity < line.size() &&
        on_demand_.allocate(std::max({line.size(), 2 * capacity, size_t{64} << 10}), kMaxDepth) !=
            simdjson::SUCCESS)
      return false;
    od::document doc;
    od::object o;
    if (on_demand_.iterate(json, line.size(), allocated).get(doc) || doc.get_object().get(o))
      return false;
    for (auto field : o) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return false;
      const Role r = ZeekRole(key);
      if (r == Role::kNone) continue;
      od::value v;
      if (field.value().get(v) || !CaptureValue(r, v)) return false;
    }
    // Past the object's end: nothing may follow (a location there is trailing content).
    return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
  }

  // A field of role r: it replaces what an earlier field of that role gave,
  // whatever its type (as the DOM keeps a duplicate key's last value).
  bool CaptureValue(Role r, od::value v) {
    if (r == Role::kTs) {
      time_.Clear();
    } else if (r == Role::kLog) {
      log_ = {};
    } else {
      values_.Start(r);
    }
    od::json_type type;
    if (v.type().get(type)) return false;
    std::string_view s;
    switch (type) {
      case od::json_type::string:
        if (v.get_string().get(s)) return false;
        if (r == Role::kTs) {
          time_.SetText(s, &times_);
        } else if (r == Role::kLog) {
          log_ = s;
        } else {
          values_.Add(r, s);
        }
        return true;
      case od::json_type::number:
        if (r != Role::kTs) return true;  // no value of a role (EachJsonString)
        double seconds;
        if (v.get_double().get(seconds)) return false;
        SetNumericTime(seconds, &time_);  // out of range: no time, as on the DOM
        return true;
      case od::json_type::array: {
        if (r == Role::kTs || r == Role::kLog) return true;  // no time, no log name
        od::array arr;
        if (v.get_array().get(arr)) return false;
        for (auto x : arr) {
          od::value e;
          if (x.get(e) || e.type().get(type)) return false;
          if (type != od::json_type::string) continue;
          if (e.get_string().get(s)) return false;
          values_.Add(r, s);
        }
        return true;
      }
      default:  // objects, booleans and null hold no value of a role
        return true;
    }
  }

  Result<Outcome> ReadDom(std::string_view line, Event* event) {
    auto obj = ParseLine(line);
    if (!obj.ok()) return obj.status();
    json::Object o = obj.value();
    // A role is present on this line when its stamp is this line's (no
    // clearing of the arrays per line).
    if (++line_stamp_ == 0) {
      seen_.fill(0);
      line_stamp_ = 1;
    }
    for (auto field : o) {
      Role r = ZeekRole(field.key);
      if (r == Role::kNone) continue;
      roles_[static_cast<size_t>(r)] = field.value;
      seen_[static_cast<size_t>(r)] = line_stamp_;
    }
    auto present = [&](Role r) { return seen_[static_cast<size_t>(r)] == line_stamp_; };
    EventBuilder& b = zeek_.builder();
    b.Reset(event);
    std::string_view log;
    if (present(Role::kLog))
      if (roles_[static_cast<size_t>(Role::kLog)].get_string().get(log) != simdjson::SUCCESS)
        log = {};
    zeek_.Apply(log, [&](Role r, auto&& f) {
      if (present(r)) EachJsonString(roles_[static_cast<size_t>(r)], f);
    });
    ApplyMaps(o, 1000);
    b.Finish(event);
    if (present(Role::kTs)) JsonTime(roles_[static_cast<size_t>(Role::kTs)], &times_, &event->time);
    return Outcome::kEvent;
  }

  static constexpr size_t kMaxDepth = 64;  // as the DOM's ParseLimits

  // On-Demand state.
  od::parser on_demand_{kMaxLineBytes};
  std::string padded_;  // the line and its padding, unless padded_lines_
  RoleValues values_;
  std::string_view log_;
  EventTime time_;

  // DOM state.
  std::array<Element, static_cast<size_t>(Role::kCount)> roles_;
  std::array<uint32_t, static_cast<size_t>(Role::kCount)> seen_{};
  uint32_t line_stamp_ = 0;
};

class SuricataReader : public JsonReaderBase {
 public:
  using JsonReaderBase::JsonReaderBase;

  Result<Outcome> Read(std::string_view line, Event* event) override {
    if (IsBlank(line)) return Outcome::kSkip;
    auto obj = ParseLine(line);
    if (!obj.ok()) return obj.status();
    json::Object o = obj.value();
    EventBuilder& b = zeek_.builder();
    b.Reset(event);
    uint16_t next = 1;
    auto str = [](json::Object x, const char* key, std::string_view* out) {
      return x.at_key(key).get_string().get(*out) == simdjson::SUCCESS;
    };
    std::string_view v;
    if (str(o, "src_ip", &v)) b.Add(kTrafficSrc, 0, v);
    if (str(o, "dest_ip", &v)) b.Add(kTrafficDst, 0, v);
    json::Object sub;
    if (o.at_key("dns").get_object().get(sub) == simdjson::SUCCESS) Dns(sub, &next);
    if (o.at_key("http").get_object().get(sub) == simdjson::SUCCESS) {
      std::string_view host;
      if (str(sub, "hostname", &host)) {
        host = StripPort(host);
        b.Add(IsIp(host) ? kIpv4Value : kDomainValue, next++, host);
        if (str(sub, "url", &v)) {
          url_.assign("http://").append(host).append(v);
          b.Add(kUrlValue, next++, url_);
        }
      }
      if (str(sub, "http_refer", &v) && v.find("://") != std::string_view::npos)
        b.Add(kUrlValue, next++, v);
    }
    if (o.at_key("tls").get_object().get(sub) == simdjson::SUCCESS) {
      if (str(sub, "sni", &v)) b.Add(kDomainValue, next++, v);
      if (str(sub, "fingerprint", &v)) {  // SHA-1 of the certificate, "aa:bb:..."
        url_.clear();
        for (char c : v)
          if (c != ':') url_.push_back(c);
        if (url_.size() == 40) b.Add(kX509Sha1, next++, url_);
      }
    }
    if (o.at_key("fileinfo").get_object().get(sub) == simdjson::SUCCESS) {
      uint16_t file = next++;
      if (str(sub, "md5", &v)) b.Add(kFileMd5, file, v);
      if (str(sub, "sha1", &v)) b.Add(kFileSha1, file, v);
      if (str(sub, "sha256", &v)) b.Add(kFileSha256, file, v);
      if (str(sub, "filename", &v)) b.Add(kFileName, file, v);
    }
    ApplyMaps(o, 1000);
    b.Finish(event);
    Element ts;
    if (o.at_key("timestamp").get(ts) == simdjson::SUCCESS) JsonTime(ts, &times_, &event->time);
    return Outcome::kEvent;
  }

 private:
  void Dns(json::Object dns, uint16_t* next) {
    EventBuilder& b = zeek_.builder();
    std::string_view v;
    auto name_or_address = [&](std::string_view s) {
      if (IsIp(s)) {
        b.Add(kIpv4Value, (*next)++, s);
      } else if (LooksLikeDomain(s)) {
        b.Add(kDomainValue, (*next)++, s);
      }
    };
    if (dns.at_key("rrname").get_string().get(v) == simdjson::SUCCESS)
      b.Add(kDomainValue, (*next)++, v);
    if (dns.at_key("rdata").get_string().get(v) == simdjson::SUCCESS) name_or_address(v);
    for (const char* list : {"queries", "answers"}) {
      json::Array arr;
      if (dns.at_key(list).get_array().get(arr) != simdjson::SUCCESS) continue;
      for (Element x : arr) {
        json::Object q;
        if (x.get_object().get(q) != simdjson::SUCCESS) continue;
        if (q.at_key("rrname").get_string().get(v) == simdjson::SUCCESS)
          b.Add(kDomainValue, (*next)++, v);
        if (q.at_key("rdata").get_string().get(v) == simdjson::SUCCESS) name_or_address(v);
      }
    }
  }

  std::string url_;
};

class JsonLinesReader : public JsonReaderBase {
 public:
  using JsonReaderBase::JsonReaderBase;

  Result<Outcome> Read(std::string_view line, Event* event) override {
    if (IsBlank(line)) return Outcome::kSkip;
    auto obj = ParseLine(line);
    if (!obj.ok()) return obj.status();
    json::Object o = obj.value();
    zeek_.builder().Reset(event);
    ApplyMaps(o, 0);
    zeek_.builder().Finish(event);
    for (const char* key : {"ts", "timestamp", "@timestamp", "time"}) {
      Element ts;
      // The first key whose value is a time (parsed now: a later key may hold one).
      if (o.at_key(key).get(ts) == simdjson::SUCCESS && JsonTime(ts, &times_, &event->time) &&
          event->time.has())
        break;
    }
    return Outcome::kEvent;
  }
};

class ZeekTsvReader : public LineReader {
 public:
  ZeekTsvReader(std::vector<ResolvedMap> maps, const PathRegistry* paths)
      : maps_(std::move(maps)), zeek_(paths) {}

  Result<Outcome> Read(std::string_view line, Event* event) override {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return Outcome::kSkip;
    if (line[0] == '#') return Header(line);
    if (columns_.empty()) return InvalidArgument("data line before the #fields header");
    cells_.clear();
    size_t at = 0;
    for (;;) {
      size_t tab = line.find(separator_, at);
      cells_.push_back(
          line.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
      if (tab == std::string_view::npos) break;
      at = tab + separator_.size();
    }
    if (cells_.size() != columns_.size())
      return InvalidArgument("has " + std::to_string(cells_.size()) + " fields, #fields names " +
                             std::to_string(columns_.size()));
    EventBuilder& b = zeek_.builder();
    b.Reset(event);
    zeek_.Apply(log_, [&](Role r, auto&& f) {
      int col = role_column_[static_cast<size_t>(r)];
      if (col >= 0) EachCell(cells_[col], f);
    });
    uint16_t next = 1000;
    // A plain reference: clang 14 cannot capture a structured binding in a lambda.
    for (const auto& column : map_columns_) {
      const auto& path = column.second;
      EachCell(cells_[column.first], [&](std::string_view v) { b.Add(path, next++, v); });
    }
    b.Finish(event);
    int ts = role_column_[static_cast<size_t>(Role::kTs)];
    if (ts >= 0 && cells_[ts] != unset_ && cells_[ts] != empty_)
      event->time.SetText(cells_[ts], &times_);
    return Outcome::kEvent;
  }

 private:
  template <typename F>
  void EachCell(std::string_view cell, F&& f) {
    if (cell == unset_ || cell == empty_ || cell.empty()) return;
    size_t at = 0;
    for (;;) {
      size_t sep = cell.find(set_separator_, at);
      f(cell.substr(at, sep == std::string_view::npos ? std::string_view::npos : sep - at));
      if (sep == std::string_view::npos) break;
      at = sep + 1;
    }
  }

  static std::string Unescape(std::string_view v) {
    // "\x09" -> tab, as Zeek writes the separator.
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 3 < v.size() + 0 && v[i + 1] == 'x') {
        int hi = HexVal(v[i + 2]), lo = HexVal(v[i + 3]);
        if (hi >= 0 && lo >= 0) {
          out.push_back(static_cast<char>(hi * 16 + lo));
          i += 3;
          continue;
        }
      }
      out.push_back(v[i]);
    }
    return out;
  }
  static int HexVal(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  Result<Outcome> Header(std::string_view line) {
    if (StartsWith(line, "#separator ")) {
      // Refused before it replaces the one in force: an empty separator would
      // make every later split find it at the same place forever (fuzz).
      std::string separator = Unescape(line.substr(11));
      if (separator.empty()) return InvalidArgument("empty #separator");
      separator_ = std::move(separator);
      return Outcome::kSkip;
    }
    size_t tab = line.find(separator_);
    std::string_view name = line.substr(0, tab);
    std::string_view rest =
        tab == std::string_view::npos ? "" : line.substr(tab + separator_.size());
    if (name == "#set_separator") {
      set_separator_ = rest.empty() ? ',' : rest[0];
    } else if (name == "#empty_field") {
      empty_ = std::string(rest);
    } else if (name == "#unset_field") {
      unset_ = std::string(rest);
    } else if (name == "#path") {
      log_ = std::string(rest);
    } else if (name == "#fields") {
      columns_.clear();
      size_t at = 0;
      for (;;) {
        size_t t = rest.find(separator_, at);
        columns_.emplace_back(
            rest.substr(at, t == std::string_view::npos ? std::string_view::npos : t - at));
        if (t == std::string_view::npos) break;
        at = t + separator_.size();
      }
      role_column_.fill(-1);
      map_columns_.clear();
      for (size_t i = 0; i < columns_.size(); ++i) {
        Role r = ZeekRole(columns_[i]);
        if (r != Role::kNone && role_column_[static_cast<size_t>(r)] < 0)
          role_column_[static_cast<size_t>(r)] = static_cast<int>(i);
        for (const auto& m : maps_)
          if (m.field == columns_[i]) map_columns_.emplace_back(static_cast<int>(i), m.path);
      }
    }
    return Outcome::kSkip;
  }

  std::vector<ResolvedMap> maps_;
  ZeekApplier zeek_;
  LogTimeParser times_;
  std::string separator_ = "\t";
  char set_separator_ = ',';
  std::string empty_ = "(empty)", unset_ = "-";
  std::string log_;
  std::vector<std::string> columns_;
  std::array<int, static_cast<size_t>(Role::kCount)> role_column_{};
  std::vector<std::pair<int, uint32_t>> map_columns_;
  std::vector<std::string_view> cells_;
};

// STIX observed-data, one JSON text per line: every observation's objects
// become fields under each known path of their type.
class StixReader : public LineReader {
 public:
  StixReader(const std::vector<ResolvedMap>& maps, const PathRegistry* paths)
      : paths_(paths), builder_(paths) {
    (void)maps;
  }

  Result<Outcome> Read(std::string_view line, Event* event) override {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return Outcome::kSkip;
    if (line.size() > kMaxLineBytes) return InvalidArgument("line_too_long");
    Status st = set_.LoadText(line, pattern::StixVersion::k21);
    if (!st.ok()) return st;
    if (set_.observations().empty()) return InvalidArgument("no observed-data");
    builder_.Reset(event);
    uint16_t object = 0;
    int64_t first_us = set_.observations().front().first_us;
    for (const auto& obs : set_.observations()) {
      first_us = std::min(first_us, obs.first_us);
      for (const auto& [id, obj] : obs.objects) AddObject(obs, obj, object++);
    }
    builder_.Finish(event);
    event->time.Set(first_us);
    return Outcome::kEvent;
  }

 private:
  static bool Lookup(Element e, const std::vector<std::string>& keys, size_t from, size_t to,
                     Element* out) {
    for (size_t i = from; i < to; ++i) {
      if (!e.is_object() ||
          e.get_object().value_unsafe().at_key(keys[i]).get(e) != simdjson::SUCCESS)
        return false;
    }
    *out = e;
    return true;
  }

  void AddObject(const pattern::Observation& obs, Element obj, uint16_t object) {
    std::string_view type;
    if (!obj.is_object() ||
        obj.get_object().value_unsafe().at_key("type").get_string().get(type) != simdjson::SUCCESS)
      return;
    for (uint32_t p = 0; p < paths_->size(); ++p) {
      const PathInfo& info = paths_->info(p);
      if (info.type != type) continue;
      Element v;
      bool ref = info.keys.size() == 2 && info.keys[0].size() > 4 &&
                 info.keys[0].compare(info.keys[0].size() - 4, 4, "_ref") == 0;
      if (ref) {
        std::string_view target;
        if (!Lookup(obj, info.keys, 0, 1, &v) || v.get_string().get(target) != simdjson::SUCCESS)
          continue;
        for (const auto& [id, o2] : obs.objects) {
          if (id != target) continue;
          std::string_view value;
          if (o2.is_object() && o2.get_object().value_unsafe().at_key("value").get_string().get(
                                    value) == simdjson::SUCCESS)
            builder_.Add(p, object, value);
        }
        continue;
      }
      std::string_view value;
      if (Lookup(obj, info.keys, 0, info.keys.size(), &v) &&
          v.get_string().get(value) == simdjson::SUCCESS)
        builder_.Add(p, object, value);
    }
  }

  const PathRegistry* paths_;
  EventBuilder builder_;
  pattern::ObservationSet set_;
};

}  // namespace

Result<std::unique_ptr<LineReader>> LineReader::Make(Format format,
                                                     const std::vector<FieldMapping>& maps,
                                                     PathRegistry* paths) {
  auto resolved = ResolveMaps(maps, paths);
  if (!resolved.ok()) return resolved.status();
  std::vector<ResolvedMap> m = std::move(resolved).value();
  if (format == Format::kJsonLines && m.empty())
    return InvalidArgument("--format jsonl needs at least one --map FIELD=OBJECT_PATH");
  switch (format) {
    case Format::kZeekJson:
      return std::unique_ptr<LineReader>(new ZeekJsonReader(std::move(m), paths));
    case Format::kZeekTsv:
      return std::unique_ptr<LineReader>(new ZeekTsvReader(std::move(m), paths));
    case Format::kSuricataEve:
      return std::unique_ptr<LineReader>(new SuricataReader(std::move(m), paths));
    case Format::kJsonLines:
      return std::unique_ptr<LineReader>(new JsonLinesReader(std::move(m), paths));
    case Format::kStix:
      return std::unique_ptr<LineReader>(new StixReader(m, paths));
  }
  return InvalidArgument("unknown format");
}

}  // namespace ctihub::matcher
