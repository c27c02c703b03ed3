// Reading import inputs (STIX 2.0/2.1, MISP, CSV, free text; plain or gzip)
// into an ImportSink: what `ctihub import` does with its files, and what the
// console's uploads (console_import.h) go through. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/import_sink.h"
#include "formats/generate.h"

namespace ctihub::cli {

// How inputs are read: the format (auto: per input, by content and file
// name) and, for CSV, the column maps (COL=TYPE:PATH, as --csv-map).
struct ImportReading {
  std::string format = "auto";  // auto | stix | misp | csv | text
  std::vector<std::string> csv_maps;
};

// Called as reading goes: bytes of the inputs consumed so far (compressed
// bytes for .gz) and objects read.
using ImportTick = std::function<void(int64_t bytes, int64_t objects)>;

// Whether `format` is one ImportReading knows.
bool IsImportFormat(std::string_view format);

// Reads each file into `sink`; an input that cannot be read at all is
// rejected (file, reason) and counted in summary.inputs_unreadable, the others
// in summary.inputs_read. Stops after a store or audit failure (sink.error()).
// The caller flushes the sink.
void ImportFiles(const std::vector<std::string>& files, const ImportReading& reading,
                 ImportSink& sink, Summary& summary, const formats::GenerateOptions& gen,
                 const ImportTick& tick);

}  // namespace ctihub::cli
