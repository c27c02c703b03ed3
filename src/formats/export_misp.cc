// One MISP event holding the exported indicators and observables as
// attributes, the inverse of misp.cc (docs/formats/misp.md):
//  - an indicator whose name is "<misp type>: <value>" and whose pattern is
//    the one the importer makes for that attribute (MispAttributePattern)
//    becomes that attribute again, to_ids true; any other indicator with
//    exact values one attribute per value (type from the value's kind);
//  - observables (SCOs) and vulnerabilities not already given by an
//    indicator become attributes with to_ids false;
//  - labels become tags, TLP and PAP markings `tlp:*` / `PAP:*` tags.
// The event's own members come after its attributes (JSON members are
// unordered): its uuid is a UUIDv5 over the attributes' uuids and its
// timestamp the newest attribute's, so the same content gives the same bytes.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <unordered_set>

#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "formats/export_internal.h"
#include "formats/misp.h"
#include "policy/markings.h"

namespace ctihub::formats::exporting {
namespace {

struct Attribute {
  std::string type;
  std::string value;
};

std::string_view MispTypeOf(ValueKind k) {
  switch (k) {
    case ValueKind::kIpv4:
    case ValueKind::kIpv6:
    case ValueKind::kIpv4Cidr:
    case ValueKind::kIpv6Cidr:
      return "ip-dst";
    case ValueKind::kDomain:
      return "domain";
    case ValueKind::kUrl:
      return "url";
    case ValueKind::kEmail:
      return "email";
    case ValueKind::kMd5:
      return "md5";
    case ValueKind::kSha1:
      return "sha1";
    case ValueKind::kSha256:
      return "sha256";
    case ValueKind::kSha512:
      return "sha512";
  }
  return "";
}

std::string_view CategoryOf(std::string_view type) {
  if (type == "vulnerability") return "External analysis";
  if (type == "mutex" || type == "regkey") return "Artifacts dropped";
  if (type.starts_with("ip-") || type == "domain" || type == "domain|ip" || type == "hostname" ||
      type == "hostname|port" || type == "url" || type == "uri" || type == "mac-address" ||
      type.starts_with("x509-")) {
    return "Network activity";
  }
  return "Payload delivery";
}

std::string_view StrOf(json::Object o, std::string_view key) {
  std::string_view v;
  return o[key].get_string().get(v) == simdjson::SUCCESS ? v : std::string_view();
}

// The one hash of a `hashes` member: (MISP type suffix, value), or empty.
std::pair<std::string, std::string> OneHash(json::Object o) {
  json::Object hashes;
  if (o["hashes"].get_object().get(hashes) != simdjson::SUCCESS) return {};
  std::pair<std::string, std::string> out;
  int n = 0;
  for (auto field : hashes) {
    std::string_view v;
    if (field.value.get_string().get(v) != simdjson::SUCCESS) return {};
    std::string key(field.key);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    key.erase(std::remove(key.begin(), key.end(), '-'), key.end());
    out = {key, std::string(v)};
    ++n;
  }
  return n == 1 ? out : std::pair<std::string, std::string>();
}

// The attribute an observable or vulnerability gives back (type "" for none).
Attribute FromObject(const ObjectFacts& f) {
  json::Object o = f.object;
  std::string_view t = f.type;
  auto value = [&](std::string_view key) { return std::string(StrOf(o, key)); };
  if (t == "ipv4-addr" || t == "ipv6-addr") return {"ip-dst", value("value")};
  if (t == "domain-name") return {"domain", value("value")};
  if (t == "url") return {"url", value("value")};
  if (t == "email-addr") return {"email", value("value")};
  if (t == "mutex") return {"mutex", value("name")};
  if (t == "mac-addr") return {"mac-address", value("value")};
  if (t == "windows-registry-key") return {"regkey", value("key")};
  if (t == "vulnerability") return {"vulnerability", value("name")};
  if (t == "x509-certificate") {
    auto [hash, v] = OneHash(o);
    if (!hash.empty()) return {"x509-fingerprint-" + hash, v};
  }
  if (t == "file") {
    auto [hash, v] = OneHash(o);
    std::string name = value("name");
    if (!hash.empty() && !name.empty()) return {"filename|" + hash, name + "|" + v};
    if (!hash.empty()) return {hash, v};
    if (!name.empty()) return {"filename", name};
  }
  return {};
}

class MispExporter : public Exporter {
 public:
  MispExporter(const ExportOptions& o, ExportOutput& out) : options_(o), out_(out) {}

  std::vector<std::vector<std::string>> TypeGroups() const override {
    return {{"indicator"},
            {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file", "mutex",
             "mac-addr", "windows-registry-key", "x509-certificate", "vulnerability"}};
  }

  Status Begin() override { return out_.Write("{\"Event\":{\"Attribute\":["); }

  Result<ExportOutcome> Add(const ExportItem& item) override {
    if (!reader_.Read(item, &facts_)) return ExportOutcome::kMalformed;
    if (facts_.type == "indicator") return Indicator();
    Attribute a = FromObject(facts_);
    if (a.type.empty() || a.value.empty()) return ExportOutcome::kNotApplicable;
    if (given_.count(a.value) != 0) return ExportOutcome::kNotApplicable;  // its indicator has it
    CTIHUB_RETURN_IF_ERROR(Write(a, UuidOf(facts_.id), false));
    return ExportOutcome::kExported;
  }

  Status Finish() override {
    static const Uuid ns = *Uuid::Parse("6d0f3b2a-1c4e-5f7a-8b9c-0d1e2f3a4b5c");
    Timestamp newest = Timestamp::FromMicros(newest_ * 1000000);
    std::string tail;
    json::JsonWriter w(tail);
    w.BeginObject();  // only to let the writer place commas; its text is cut below
    w.Key("uuid").String(Uuid::V5(ns, std::to_string(hash_)).ToString());
    w.Key("info").String(options_.source + " export");
    w.Key("date").String(newest.Format(0).substr(0, 10));
    w.Key("timestamp").String(std::to_string(newest_));
    w.Key("published").Bool(false).Key("analysis").String("2");
    w.Key("threat_level_id").String("4").Key("distribution").String("0");
    w.Key("Orgc").BeginObject().Key("name").String(options_.source).EndObject();
    w.EndObject();
    return out_.Write("]," + tail.substr(1) + "}\n");
  }

 private:
  Result<ExportOutcome> Indicator() {
    ExportOutcome screened = ScreenIndicator(facts_, options_);
    if (screened != ExportOutcome::kExported) return screened;
    if (facts_.pattern_type != "stix") return ExportOutcome::kNoExactValue;
    std::vector<Attribute> attrs;
    size_t colon = facts_.name.find(": ");
    if (colon != std::string_view::npos) {
      Attribute a{std::string(facts_.name.substr(0, colon)),
                  std::string(facts_.name.substr(colon + 2))};
      if (!a.value.empty() && MispAttributePattern(a.type, a.value) == facts_.pattern) {
        attrs.push_back(std::move(a));
      }
    }
    if (attrs.empty()) {
      for (IndicatorValue& v : ExactValues(facts_.pattern)) {
        attrs.push_back({std::string(MispTypeOf(v.kind)), std::move(v.value)});
      }
    }
    if (attrs.empty()) return ExportOutcome::kNoExactValue;
    const std::string uuid(UuidOf(facts_.id));
    for (size_t i = 0; i < attrs.size(); ++i) {
      static const Uuid ns = *Uuid::Parse("0b7e2d4c-6a8f-5c1e-9d3b-2f4a6c8e0a1b");
      std::string attr_uuid =
          i == 0 ? uuid : Uuid::V5(ns, uuid + "|" + std::to_string(i)).ToString();
      Remember(attrs[i].value);
      CTIHUB_RETURN_IF_ERROR(Write(attrs[i], attr_uuid, true));
    }
    return ExportOutcome::kExported;
  }

  // The value and, for composite types ("a|b"), its parts: observables
  // repeating them are not given again.
  void Remember(const std::string& value) {
    given_.insert(value);
    size_t bar = value.find('|');
    if (bar != std::string::npos) {
      given_.insert(value.substr(0, bar));
      given_.insert(value.substr(bar + 1));
    }
  }

  Status Write(const Attribute& a, std::string_view uuid, bool to_ids) {
    int64_t ts = EpochSeconds(facts_.modified.empty() ? facts_.created : facts_.modified);
    newest_ = std::max(newest_, ts);
    for (char c : uuid) hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    text_.clear();
    if (!first_) text_ += ',';
    first_ = false;
    json::JsonWriter w(text_);
    w.BeginObject().Key("uuid").String(uuid).Key("type").String(a.type);
    w.Key("category").String(CategoryOf(a.type)).Key("value").String(a.value);
    w.Key("to_ids").Bool(to_ids).Key("timestamp").String(std::to_string(ts));
    if (!facts_.description.empty()) w.Key("comment").String(facts_.description);
    w.Key("Tag").BeginArray();
    if (facts_.tlp >= 0) {
      w.BeginObject().Key("name").String("tlp:" + std::string(TlpText(facts_.tlp))).EndObject();
    }
    if (facts_.pap >= 0) {
      std::string pap(policy::PapName(static_cast<policy::Pap>(facts_.pap)));
      for (char& c : pap) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      w.BeginObject().Key("name").String("PAP:" + pap).EndObject();
    }
    for (std::string_view label : facts_.labels) {
      w.BeginObject().Key("name").String(label).EndObject();
    }
    w.EndArray().EndObject();
    return out_.Write(text_);
  }

  const ExportOptions options_;
  ExportOutput& out_;
  FactsReader reader_;
  ObjectFacts facts_;
  std::unordered_set<std::string> given_;
  std::string text_;
  bool first_ = true;
  int64_t newest_ = 0;
  uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace

std::unique_ptr<Exporter> MakeMispExporter(const ExportOptions& o, ExportOutput& out) {
  return std::make_unique<MispExporter>(o, out);
}

}  // namespace ctihub::formats::exporting
