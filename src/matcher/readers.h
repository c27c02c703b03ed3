// Log readers of the bulk matcher: one log line is one event (readers never
// build STIX objects; EventToStix does that only when the engine needs it).
//
//   zeek-json     Zeek JSON logs (json-streaming `_path`, OTRF `@stream`, dotted
//                 or underscored field names)
//   zeek-tsv      Zeek TSV logs (the `#fields` header decides the columns)
//   suricata-eve  Suricata EVE JSON (dns, http, tls, fileinfo, flow, alert, ...)
//   jsonl         JSON lines, fields given with --map FIELD=OBJECT_PATH
//   stix          STIX observed-data, one bundle or object per line
//
// The maps of each format are documented in docs/formats/match.md. A
// LineReader is not thread-safe (one per input); it reuses its JSON parser and
// buffers, so a warm line allocates nothing on the common paths.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "matcher/event.h"

namespace ctihub::matcher {

enum class Format { kZeekJson, kZeekTsv, kSuricataEve, kJsonLines, kStix };

// "zeek-json", ... ; InvalidArgument naming the accepted names otherwise.
Result<Format> ParseFormat(std::string_view name);
std::string_view FormatName(Format format);
// Detects the format from the first non-blank line of an input. InvalidArgument
// when it is none of them.
Result<Format> DetectFormat(std::string_view first_line);

// A `--map FIELD=OBJECT_PATH` entry: FIELD is a top-level key, or a dotted
// path into nested objects; the value (a string, a number or an array of them)
// goes to OBJECT_PATH (STIX object path syntax).
struct FieldMapping {
  std::string field;
  std::string object_path;
};
// Parses "FIELD=OBJECT_PATH"; InvalidArgument when malformed.
Result<FieldMapping> ParseFieldMapping(std::string_view text);

constexpr size_t kMaxLineBytes = 1u << 20;  // "line_too_long": a longer line is malformed
// Readable bytes a line source may promise after each line (simdjson's padding).
constexpr size_t kLinePadding = 64;

class LineReader {
 public:
  // Interns the mapped object paths into `paths` (which must outlive the
  // reader). InvalidArgument for a path an event cannot carry.
  static Result<std::unique_ptr<LineReader>> Make(Format format,
                                                  const std::vector<FieldMapping>& maps,
                                                  PathRegistry* paths);
  virtual ~LineReader();

  enum class Outcome { kEvent, kSkip };  // kSkip: blank, comment or header line
  // Reads one line (without its newline) into *event; the event's views stay
  // valid until the next call. InvalidArgument with the reason for a
  // malformed line (the caller counts and skips it).
  virtual Result<Outcome> Read(std::string_view line, Event* event) = 0;

  // The caller promises kLinePadding readable bytes (any content) after every
  // line it passes to Read, in the same buffer: a JSON reader then parses the
  // line in place instead of copying it next to padding of its own.
  void set_padded_lines(bool padded) { padded_lines_ = padded; }

 protected:
  LineReader() = default;
  bool padded_lines_ = false;
};

// Parses the times logs carry: RFC 3339 with `Z` or a numeric offset
// (`+0000`, `+01:00`), or seconds since the epoch ("1521911721.123456").
bool ParseLogTime(std::string_view text, int64_t* micros);

// ParseLogTime with a memo of the last UTC minute: consecutive log lines
// mostly share it, so a time "YYYY-MM-DDTHH:MM:SS[.fraction]Z" in the same
// minute as the last one parsed only reads its seconds. Always the result of
// ParseLogTime. One per reader (not thread-safe).
class LogTimeParser {
 public:
  bool Parse(std::string_view text, int64_t* micros);

 private:
  char minute_[16] = {};  // "YYYY-MM-DDTHH:MM" of the last time parsed in full
  int64_t minute_us_ = 0;
  bool valid_ = false;
};

}  // namespace ctihub::matcher
