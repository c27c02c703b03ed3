// CSV import: RFC 4180 records (quoted fields may hold commas, doubled quotes
// and newlines) and `--csv-map COL=TYPE:PATH` mappings from a column (its
// header name, or its 1-based number) to a property of an SCO, e.g.
// `1=ipv4-addr:value`, `sha256=file:hashes.'SHA-256'`. Each row gives, per
// SCO type mapped, one SCO and an indicator whose pattern compares every
// mapped property (AND). Values of the types the text extractor knows
// (addresses, domains, URLs, e-mail addresses, hashes) are refanged and must
// be one such value, so a stray header or note is rejected, not stored.
// Not thread-safe (the reader); the functions are.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "formats/generate.h"

namespace ctihub::formats {

inline constexpr size_t kMaxCsvRecordBytes = 1u << 20;  // "record_too_long"

struct CsvMapping {
  std::string column;  // header name, or the 1-based number as written
  size_t index = 0;    // 0-based column, once resolved
  std::string type;    // SCO type
  std::string path;    // object path below the type
};

// Parses "COL=TYPE:PATH". InvalidArgument naming the problem.
Result<CsvMapping> ParseCsvMapping(std::string_view spec);

// Resolves each mapping's column against the header row (names) or its
// number. `header` may be empty when every mapping is numbered. Returns
// whether the first row is a header (some mapping names a column).
Result<bool> ResolveCsvColumns(std::vector<CsvMapping>& maps,
                               const std::vector<std::string>& header);

class CsvReader {
 public:
  explicit CsvReader(std::FILE* in) : in_(in) {}
  // Next record into *fields; false at the end. *line is the record's first
  // line (1-based). LimitExceeded "record_too_long" past kMaxCsvRecordBytes,
  // InvalidArgument for an unterminated quote (the reader is then finished).
  Result<bool> Next(std::vector<std::string>* fields, int64_t* line);

 private:
  int Get();
  std::FILE* in_;
  int64_t line_ = 1;
  bool done_ = false;
};

// The objects of one row; InvalidArgument "column C: reason" for a bad cell.
// An empty vector when every mapped cell is empty.
Result<std::vector<std::string>> CsvRowObjects(const std::vector<std::string>& row,
                                               const std::vector<CsvMapping>& maps,
                                               const GenerateOptions& options);

}  // namespace ctihub::formats
