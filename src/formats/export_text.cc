// The line formats: CSV (one row per exported value), the Zeek Intel
// framework file and plain blocklists (one value per line). Each value comes
// from the indicator's pattern (ExactValues); the shared indicator rules
// apply first (export_internal.h).
#include <string>

#include "formats/export_internal.h"

namespace ctihub::formats::exporting {
namespace {

// RFC 4180 field: quoted when it holds a comma, a quote or a line break.
void AppendCsvField(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

class CsvExporter : public ValueExporter {
 public:
  using ValueExporter::ValueExporter;

  Status Begin() override {
    return out_.Write("id,type,value,producer,tlp,valid_from,valid_until\r\n");
  }

 protected:
  void AppendValue(const IndicatorValue& v) override {
    for (std::string_view field : {facts_.id, ValueKindName(v.kind), std::string_view(v.value),
                                   facts_.producer, TlpText(facts_.tlp), facts_.valid_from}) {
      AppendCsvField(line_, field);
      line_.push_back(',');
    }
    AppendCsvField(line_, facts_.valid_until);
    line_.append("\r\n");
  }
};

// Zeek's intel types (base/frameworks/intel/main.zeek) of each value kind.
std::string_view ZeekType(ValueKind k) {
  switch (k) {
    case ValueKind::kIpv4:
    case ValueKind::kIpv6:
      return "Intel::ADDR";
    case ValueKind::kIpv4Cidr:
    case ValueKind::kIpv6Cidr:
      return "Intel::SUBNET";
    case ValueKind::kDomain:
      return "Intel::DOMAIN";
    case ValueKind::kUrl:
      return "Intel::URL";
    case ValueKind::kEmail:
      return "Intel::EMAIL";
    case ValueKind::kMd5:
    case ValueKind::kSha1:
    case ValueKind::kSha256:
    case ValueKind::kSha512:
      return "Intel::FILE_HASH";
  }
  return "";
}

class ZeekExporter : public ValueExporter {
 public:
  using ValueExporter::ValueExporter;

  Status Begin() override {
    return out_.Write("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n");
  }

 protected:
  void AppendValue(const IndicatorValue& v) override {
    std::string_view value = v.value;
    if (v.kind == ValueKind::kUrl) {
      // Zeek's HTTP analyser sees URLs as host + path, without the scheme.
      size_t scheme = value.find("://");
      if (scheme != std::string_view::npos) value.remove_prefix(scheme + 3);
    }
    std::string indicator = OneLine(value);
    if (indicator.empty() || indicator.find(' ') != std::string::npos) return;
    std::string desc = OneLine(facts_.name.empty() ? facts_.id : facts_.name);
    desc += " (" + std::string(facts_.id) + ")";
    line_ += indicator;
    line_ += '\t';
    line_ += ZeekType(v.kind);
    line_ += '\t';
    line_ += OneLine(options_.source);
    line_ += '\t';
    line_ += desc;
    line_ += "\t-\n";  // meta.url: unset
  }
};

class BlocklistExporter : public ValueExporter {
 public:
  BlocklistExporter(const ExportOptions& o, ExportOutput& out)
      : ValueExporter(o, out), only_(ParseValueKind(o.list)) {}

 protected:
  void AppendValue(const IndicatorValue& v) override {
    if (only_ && *only_ != v.kind) return;
    std::string value = OneLine(v.value);
    if (value.find(' ') != std::string::npos) return;
    line_ += value;
    line_ += '\n';
  }

 private:
  std::optional<ValueKind> only_;
};

}  // namespace

std::unique_ptr<Exporter> MakeCsvExporter(const ExportOptions& o, ExportOutput& out) {
  return std::make_unique<CsvExporter>(o, out);
}
std::unique_ptr<Exporter> MakeZeekExporter(const ExportOptions& o, ExportOutput& out) {
  return std::make_unique<ZeekExporter>(o, out);
}
std::unique_ptr<Exporter> MakeBlocklistExporter(const ExportOptions& o, ExportOutput& out) {
  return std::make_unique<BlocklistExporter>(o, out);
}

}  // namespace ctihub::formats::exporting
