// A DNS Response Policy Zone (RPZ) for the domains of exported indicators:
// each name and its subdomains answer NXDOMAIN (`CNAME .`). Owner names are
// relative to the zone's origin, which the resolver's configuration gives
// (`response-policy { zone "rpz.example"; }`). The SOA comes last: its serial
// is the newest exported indicator's `modified` in seconds (mod 2^32), so the
// same content gives the same zone. Names that are not valid DNS owner names
// (a label over 63 bytes, bytes other than letters, digits, '-' and '_', a
// name over 200 bytes, leaving room for the origin) are left out.
#include <algorithm>
#include <cstdint>
#include <unordered_set>

#include "formats/export_internal.h"

namespace ctihub::formats::exporting {
namespace {

bool ValidOwnerName(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    if (++label > 63) return false;
  }
  return label > 0;
}

class RpzExporter : public ValueExporter {
 public:
  using ValueExporter::ValueExporter;

  Status Begin() override {
    return out_.Write("; ctihub response policy zone (" + OneLine(options_.source) +
                      ")\n$TTL 300\n@ IN NS localhost.\n");
  }

  Status Finish() override {
    uint32_t serial = static_cast<uint32_t>(newest_ % 4294967296);
    return out_.Write("@ IN SOA localhost. hostmaster.localhost. " +
                      std::to_string(std::max<uint32_t>(serial, 1)) + " 3600 600 604800 300\n");
  }

 protected:
  void AppendValue(const IndicatorValue& v) override {
    if (v.kind != ValueKind::kDomain) return;
    std::string name = v.value;
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (!ValidOwnerName(name)) return;
    newest_ = std::max(newest_, EpochSeconds(facts_.modified));
    line_ += "; " + std::string(facts_.id) + "\n";
    if (!names_.insert(name).second) return;  // named above already: the comment says who else
    line_ += name + " CNAME .\n*." + name + " CNAME .\n";
  }

 private:
  std::unordered_set<std::string> names_;
  int64_t newest_ = 0;
};

}  // namespace

std::unique_ptr<Exporter> MakeRpzExporter(const ExportOptions& o, ExportOutput& out) {
  return std::make_unique<RpzExporter>(o, out);
}

}  // namespace ctihub::formats::exporting
