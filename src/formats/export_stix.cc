// The STIX 2.1 bundle exporter: every object handed to it (the reader's
// copies, redactions included), one bundle. Indicators follow the shared
// rules (revoked and expired ones are left out); other objects pass as they
// are. The bundle's id comes last (members of a JSON object are unordered):
// a UUIDv5 over the exported ids and versions, so the same content gives the
// same bytes (an HTTP ETag stays put).
#include <cstdint>

#include "core/uuid.h"
#include "formats/export_internal.h"

namespace ctihub::formats::exporting {
namespace {

class StixExporter : public Exporter {
 public:
  StixExporter(const ExportOptions& o, ExportOutput& out) : options_(o), out_(out) {}

  std::vector<std::vector<std::string>> TypeGroups() const override { return {{}}; }

  Status Begin() override { return out_.Write("{\"type\":\"bundle\",\"objects\":["); }

  Result<ExportOutcome> Add(const ExportItem& item) override {
    if (!reader_.Read(item, &facts_)) return ExportOutcome::kMalformed;
    if (facts_.type == "indicator") {
      ExportOutcome o = ScreenIndicator(facts_, options_);
      if (o != ExportOutcome::kExported) return o;
    }
    Mix(facts_.id);
    Mix(facts_.modified);
    CTIHUB_RETURN_IF_ERROR(out_.Write(first_ ? std::string_view() : std::string_view(",")));
    first_ = false;
    CTIHUB_RETURN_IF_ERROR(out_.Write(item.json));
    return ExportOutcome::kExported;
  }

  Status Finish() override {
    static const Uuid ns = *Uuid::Parse("2c5e8f1a-7b3d-5e4f-9a6b-1c2d3e4f5a6b");
    std::string tail = "],\"id\":\"bundle--" + Uuid::V5(ns, std::to_string(hash_)).ToString();
    return out_.Write(tail + "\"}\n");
  }

 private:
  // FNV-1a over the exported ids and versions.
  void Mix(std::string_view s) {
    for (char c : s) hash_ = (hash_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    hash_ = (hash_ ^ 0xff) * 1099511628211ull;
  }

  const ExportOptions options_;
  ExportOutput& out_;
  FactsReader reader_;
  ObjectFacts facts_;
  bool first_ = true;
  uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace

std::unique_ptr<Exporter> MakeStixExporter(const ExportOptions& o, ExportOutput& out) {
  return std::make_unique<StixExporter>(o, out);
}

}  // namespace ctihub::formats::exporting
