// Implementation of export.h (format names, exact values of patterns) and of
// the shared rules in export_internal.h.
#include "formats/export.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/net.h"
#include "formats/export_internal.h"
#include "pattern/parser.h"
#include "policy/markings.h"

namespace ctihub::formats {

namespace {

struct FormatName {
  ExportFormat format;
  std::string_view name;
  std::string_view media_type;
};

constexpr std::array<FormatName, 7> kFormats = {{
    {ExportFormat::kStix, "stix", "application/stix+json;version=2.1"},
    {ExportFormat::kMisp, "misp", "application/json"},
    {ExportFormat::kCsv, "csv", "text/csv; charset=utf-8"},
    {ExportFormat::kSuricata, "suricata", "text/plain; charset=utf-8"},
    {ExportFormat::kZeek, "zeek", "text/plain; charset=utf-8"},
    {ExportFormat::kBlocklist, "blocklist", "text/plain; charset=utf-8"},
    {ExportFormat::kRpz, "rpz", "text/dns"},
}};

constexpr std::array<std::string_view, 11> kKindNames = {
    "ipv4-addr",  "ipv6-addr", "ipv4-cidr", "ipv6-cidr", "domain-name", "url",
    "email-addr", "md5",       "sha1",      "sha256",    "sha512"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHex(std::string_view s, size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

// An address or CIDR of one family; "/32" and "/128" are plain addresses.
std::optional<IndicatorValue> Address(bool v6, std::string_view text) {
  net::IpPrefix p;
  if (!net::ParseIpPrefix(text, &p) || p.v6 != v6) return std::nullopt;
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || p.bits == (v6 ? 128 : 32)) {
    return IndicatorValue{v6 ? ValueKind::kIpv6 : ValueKind::kIpv4,
                          std::string(text.substr(0, slash))};
  }
  return IndicatorValue{v6 ? ValueKind::kIpv6Cidr : ValueKind::kIpv4Cidr, std::string(text)};
}

// The value one exact comparison names on `path`, if the path is one we export.
std::optional<IndicatorValue> ValueOn(const pattern::ObjectPath& path, std::string_view v,
                                      bool subset) {
  const auto& st = path.steps;
  auto key_is = [&](size_t i, std::string_view k) {
    return st.size() > i && st[i].kind == pattern::PathStep::Kind::kKey && st[i].key == k;
  };
  if (v.empty()) return std::nullopt;
  const bool value_path = st.size() == 1 && key_is(0, "value");
  if (path.type == "ipv4-addr" || path.type == "ipv6-addr") {
    if (!value_path) return std::nullopt;
    return Address(path.type == "ipv6-addr", v);
  }
  if (subset) return std::nullopt;  // ISSUBSET only means something for addresses
  if (value_path && path.type == "domain-name") {
    if (v.find_first_of(" \t\r\n/:@") != std::string_view::npos) return std::nullopt;
    return IndicatorValue{ValueKind::kDomain, Lower(v)};
  }
  if (value_path && path.type == "url") return IndicatorValue{ValueKind::kUrl, std::string(v)};
  if (value_path && path.type == "email-addr") {
    return IndicatorValue{ValueKind::kEmail, std::string(v)};
  }
  if (path.type == "file" && st.size() == 2 && key_is(0, "hashes") &&
      st[1].kind == pattern::PathStep::Kind::kKey) {
    static constexpr std::pair<std::string_view, std::pair<ValueKind, size_t>> kHashes[] = {
        {"MD5", {ValueKind::kMd5, 32}},
        {"SHA-1", {ValueKind::kSha1, 40}},
        {"SHA-256", {ValueKind::kSha256, 64}},
        {"SHA-512", {ValueKind::kSha512, 128}},
    };
    for (const auto& [name, kind_len] : kHashes) {
      if (st[1].key == name && IsHex(v, kind_len.second)) {
        return IndicatorValue{kind_len.first, Lower(v)};
      }
    }
  }
  return std::nullopt;
}

// Exact values of a comparison expression; nothing under AND or a negation.
void FromComparison(const pattern::CompExpr& c, std::vector<IndicatorValue>* out) {
  using K = pattern::CompExpr::Kind;
  if (c.kind == K::kOr) {
    for (const auto& child : c.children) FromComparison(*child, out);
    return;
  }
  if (c.kind != K::kTest || c.negated) return;
  auto add = [&](const pattern::Literal& l, bool subset) {
    if (l.kind != pattern::LiteralKind::kString) return;
    if (auto v = ValueOn(c.path, l.bytes, subset)) out->push_back(std::move(*v));
  };
  if (c.op == pattern::CmpOp::kEq) add(c.literal, false);
  if (c.op == pattern::CmpOp::kIsSubset) add(c.literal, true);
  if (c.op == pattern::CmpOp::kIn) {
    for (const auto& l : c.set) add(l, false);
  }
}

void FromObservation(const pattern::ObsExpr& o, std::vector<IndicatorValue>* out) {
  using K = pattern::ObsExpr::Kind;
  if (o.kind == K::kLeaf && o.comparison) return FromComparison(*o.comparison, out);
  if (o.kind == K::kOr) {
    for (const auto& child : o.children) FromObservation(*child, out);
  }
}

}  // namespace

std::optional<ExportFormat> ParseExportFormat(std::string_view name) {
  for (const auto& f : kFormats) {
    if (f.name == name) return f.format;
  }
  return std::nullopt;
}

std::string_view ExportFormatName(ExportFormat f) { return kFormats[static_cast<size_t>(f)].name; }

std::string_view ExportMediaType(ExportFormat f) {
  return kFormats[static_cast<size_t>(f)].media_type;
}

bool IsActiveBlocking(ExportFormat f) {
  return f == ExportFormat::kSuricata || f == ExportFormat::kBlocklist || f == ExportFormat::kRpz;
}

std::string_view ValueKindName(ValueKind k) { return kKindNames[static_cast<size_t>(k)]; }

std::optional<ValueKind> ParseValueKind(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<ValueKind>(i);
  }
  return std::nullopt;
}

std::vector<IndicatorValue> ExactValues(std::string_view text) {
  std::vector<IndicatorValue> out;
  auto parsed = pattern::ParsePattern(text);
  if (!parsed.ok() || !parsed->root) return out;
  FromObservation(*parsed->root, &out);
  // One value once (an OR may repeat it).
  std::vector<IndicatorValue> unique;
  for (auto& v : out) {
    bool seen = std::any_of(unique.begin(), unique.end(), [&](const IndicatorValue& u) {
      return u.kind == v.kind && u.value == v.value;
    });
    if (!seen) unique.push_back(std::move(v));
  }
  return unique;
}

Status CheckExportList(const ExportOptions& o) {
  if (o.list.empty()) return {};
  if (o.format == ExportFormat::kSuricata) {
    if (o.list == "filemd5" || o.list == "filesha1" || o.list == "filesha256") return {};
    return InvalidArgument("list '" + o.list + "': suricata has filemd5, filesha1, filesha256");
  }
  if (o.format == ExportFormat::kBlocklist) {
    if (ParseValueKind(o.list)) return {};
    std::string names;
    for (std::string_view n : kKindNames) names += (names.empty() ? "" : ", ") + std::string(n);
    return InvalidArgument("list '" + o.list + "': blocklist kinds are " + names);
  }
  return InvalidArgument("list '" + o.list + "': only suricata and blocklist have lists");
}

std::string_view ExportOutcomeName(ExportOutcome o) {
  switch (o) {
    case ExportOutcome::kExported:
      return "exported";
    case ExportOutcome::kExportedByOverride:
      return "exported_pap_override";
    case ExportOutcome::kNotApplicable:
      return "not_applicable";
    case ExportOutcome::kRevoked:
      return "revoked";
    case ExportOutcome::kExpired:
      return "expired";
    case ExportOutcome::kPapRestricted:
      return "pap_restricted";
    case ExportOutcome::kNoExactValue:
      return "no_exact_value";
    case ExportOutcome::kMalformed:
      return "malformed";
  }
  return "unknown";
}

std::vector<std::vector<std::string>> Exporter::TypeGroups() const { return {{"indicator"}}; }

Result<std::unique_ptr<Exporter>> MakeExporter(const ExportOptions& o, ExportOutput& out,
                                               OpenSideOutput side) {
  CTIHUB_RETURN_IF_ERROR(CheckExportList(o));
  switch (o.format) {
    case ExportFormat::kStix:
      return exporting::MakeStixExporter(o, out);
    case ExportFormat::kMisp:
      return exporting::MakeMispExporter(o, out);
    case ExportFormat::kCsv:
      return exporting::MakeCsvExporter(o, out);
    case ExportFormat::kSuricata:
      return exporting::MakeSuricataExporter(o, out, std::move(side));
    case ExportFormat::kZeek:
      return exporting::MakeZeekExporter(o, out);
    case ExportFormat::kBlocklist:
      return exporting::MakeBlocklistExporter(o, out);
    case ExportFormat::kRpz:
      return exporting::MakeRpzExporter(o, out);
  }
  return InvalidArgument("unknown export format");
}

// ---- export_internal.h ----

namespace exporting {

namespace {

std::string_view StrOf(json::Object o, std::string_view key) {
  std::string_view v;
  return o[key].get_string().get(v) == simdjson::SUCCESS ? v : std::string_view();
}

void StringsOf(json::Object o, std::string_view key, std::vector<std::string_view>* out) {
  out->clear();
  json::Array a;
  if (o[key].get_array().get(a) != simdjson::SUCCESS) return;
  for (json::Element e : a) {
    std::string_view s;
    if (e.get_string().get(s) == simdjson::SUCCESS) out->push_back(s);
  }
}

}  // namespace

bool FactsReader::Read(const ExportItem& item, ObjectFacts* f) {
  auto el = parser_.Parse(item.json);
  if (!el.ok() || el->get_object().get(f->object) != simdjson::SUCCESS) return false;
  json::Object o = f->object;
  f->type = StrOf(o, "type");
  f->id = StrOf(o, "id");
  if (f->type.empty() || f->id.empty()) return false;
  f->name = StrOf(o, "name");
  f->description = StrOf(o, "description");
  f->pattern = StrOf(o, "pattern");
  f->pattern_type = StrOf(o, "pattern_type");
  f->created_by_ref = StrOf(o, "created_by_ref");
  f->producer = item.producer.empty() ? f->created_by_ref : item.producer;
  f->valid_from = StrOf(o, "valid_from");
  f->valid_until = StrOf(o, "valid_until");
  f->created = StrOf(o, "created");
  f->modified = StrOf(o, "modified");
  bool revoked = false;
  f->revoked = o["revoked"].get_bool().get(revoked) == simdjson::SUCCESS && revoked;
  StringsOf(o, "labels", &f->labels);
  StringsOf(o, "object_marking_refs", &f->marking_refs);
  f->tlp = f->pap = -1;
  for (std::string_view ref : f->marking_refs) {
    policy::MarkingInfo m = policy::LookupMarking(ref);
    if (m.kind == policy::MarkingKind::kTlp) f->tlp = std::max(f->tlp, static_cast<int>(m.tlp));
    if (m.kind == policy::MarkingKind::kPap) f->pap = std::max(f->pap, static_cast<int>(m.pap));
  }
  return true;
}

ExportOutcome ScreenIndicator(const ObjectFacts& f, const ExportOptions& options) {
  if (f.revoked) return ExportOutcome::kRevoked;
  if (!f.valid_until.empty()) {
    auto until = Timestamp::Parse(f.valid_until);
    if (until.ok() && until->micros() <= options.now.micros()) return ExportOutcome::kExpired;
  }
  if (IsActiveBlocking(options.format) && f.pap >= 0 &&
      !policy::AllowsActiveBlocking(static_cast<policy::Pap>(f.pap))) {
    return options.include_pap_restricted ? ExportOutcome::kExportedByOverride
                                          : ExportOutcome::kPapRestricted;
  }
  return ExportOutcome::kExported;
}

std::string_view TlpText(int tlp) {
  return tlp < 0 ? std::string_view() : policy::TlpName(static_cast<policy::Tlp>(tlp));
}

std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

std::string_view UuidOf(std::string_view stix_id) {
  size_t p = stix_id.find("--");
  return p == std::string_view::npos ? std::string_view() : stix_id.substr(p + 2);
}

int64_t EpochSeconds(std::string_view ts) {
  auto t = Timestamp::Parse(ts);
  return t.ok() ? t->micros() / 1000000 : 0;
}

Result<ExportOutcome> ValueExporter::Add(const ExportItem& item) {
  if (!reader_.Read(item, &facts_)) return ExportOutcome::kMalformed;
  if (facts_.type != "indicator") return ExportOutcome::kNotApplicable;
  ExportOutcome screened = ScreenIndicator(facts_, options_);
  if (screened != ExportOutcome::kExported && screened != ExportOutcome::kExportedByOverride) {
    return screened;
  }
  if (facts_.pattern_type != "stix") return ExportOutcome::kNoExactValue;
  std::vector<IndicatorValue> values = ExactValues(facts_.pattern);
  if (values.empty()) return ExportOutcome::kNoExactValue;
  line_.clear();
  for (const IndicatorValue& v : values) AppendValue(v);
  if (line_.empty()) return ExportOutcome::kNotApplicable;
  CTIHUB_RETURN_IF_ERROR(out_.Write(line_));
  return screened;
}

}  // namespace exporting
}  // namespace ctihub::formats
