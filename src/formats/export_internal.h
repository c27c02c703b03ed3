// Shared by the exporters (export_*.cc): the facts of one object read once,
// and the rules every exporter applies to indicators (export.h). Private to
// the formats module.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "formats/export.h"

namespace ctihub::formats::exporting {

// What exporters read of an object. Views point into the parser's document
// or the item's text: valid until the next Read.
struct ObjectFacts {
  std::string_view type, id, name, description, pattern, pattern_type;
  std::string_view created_by_ref, producer, valid_from, valid_until, created, modified;
  bool revoked = false;
  std::vector<std::string_view> labels;
  std::vector<std::string_view> marking_refs;
  json::Object object;  // the whole object (SCO properties)
  int tlp = -1;         // highest TLP of marking_refs (policy::Tlp), -1 none
  int pap = -1;         // highest PAP (policy::Pap), -1 none
};

// Reads an item; false when it is not a JSON object with a type and an id.
class FactsReader {
 public:
  bool Read(const ExportItem& item, ObjectFacts* out);

 private:
  json::JsonParser parser_;
};

// The indicator rules of export.h, in order: revoked, expired, PAP in an
// active-blocking format. kExported or kExportedByOverride when it may go.
ExportOutcome ScreenIndicator(const ObjectFacts& f, const ExportOptions& options);

// "clear", "green", "amber", "amber+strict", "red"; "" for -1.
std::string_view TlpText(int tlp);
// Text safe on one line: tabs, CR and LF become spaces.
std::string OneLine(std::string_view s);
// The UUID part of a STIX id ("" when it has none).
std::string_view UuidOf(std::string_view stix_id);
// Seconds since the epoch of an RFC 3339 timestamp (0 when malformed).
int64_t EpochSeconds(std::string_view ts);

// An indicator's exact values once it passed the shared rules; the outcome
// says why not otherwise.
class ValueExporter : public Exporter {
 public:
  ValueExporter(const ExportOptions& o, ExportOutput& out) : options_(o), out_(out) {}

  // Indicators only: the shared rules, then AppendValue for each exact
  // value, then one write of line_.
  Result<ExportOutcome> Add(const ExportItem& item) override;

 protected:
  // Appends the lines of one value to line_ (none: the format has no place for it).
  virtual void AppendValue(const IndicatorValue& v) = 0;

  const ExportOptions options_;
  ExportOutput& out_;
  ObjectFacts facts_;
  std::string line_;

 private:
  FactsReader reader_;
};

std::unique_ptr<Exporter> MakeStixExporter(const ExportOptions& o, ExportOutput& out);
std::unique_ptr<Exporter> MakeMispExporter(const ExportOptions& o, ExportOutput& out);
std::unique_ptr<Exporter> MakeCsvExporter(const ExportOptions& o, ExportOutput& out);
std::unique_ptr<Exporter> MakeSuricataExporter(const ExportOptions& o, ExportOutput& out,
                                               OpenSideOutput side);
std::unique_ptr<Exporter> MakeZeekExporter(const ExportOptions& o, ExportOutput& out);
std::unique_ptr<Exporter> MakeBlocklistExporter(const ExportOptions& o, ExportOutput& out);
std::unique_ptr<Exporter> MakeRpzExporter(const ExportOptions& o, ExportOutput& out);

}  // namespace ctihub::formats::exporting
