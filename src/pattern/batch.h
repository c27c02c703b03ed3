// The `ctihub pattern validate|match --batch` JSON Lines protocol: one JSON
// result line per non-blank input line, in input order.
//
//   validate: in {"id","pattern","stix_version"}
//             out {"id","result":"valid"|"invalid","message"}
//   match:    in {"id","pattern","stix_version","observed":[...]}
//             out {"id","result":"match"|"nomatch"|"error","message"[,"bindings":[...]]}
//
// BatchRunner answers lines one at a time; RunBatch() streams a whole file.
// Compiled patterns are cached by (pattern text, STIX version), so a feed that
// repeats patterns compiles each once; the JSON parser, the observation set
// and the buffers are reused, so a warm line allocates nothing on the common
// paths. Not thread-safe: one BatchRunner per thread.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub::pattern {

enum class BatchMode { kValidate, kMatch };

// Limits of the batch protocol.
constexpr size_t kMaxBatchLineBytes = 64u
                                      << 20;  // "batch_line_too_long": answered with an error line
constexpr size_t kMaxCachedPatterns =
    10000;  // compiled patterns kept per STIX version (then cleared)

class BatchRunner {
 public:
  explicit BatchRunner(BatchMode mode);
  ~BatchRunner();
  BatchRunner(const BatchRunner&) = delete;
  BatchRunner& operator=(const BatchRunner&) = delete;

  // Appends the answer to one input line (no trailing newline) to `out`.
  // Never fails: a bad line gets an "invalid" / "error" answer.
  void AnswerLine(std::string_view line, std::string* out);

  // The answer line as a string (tests).
  std::string Answer(std::string_view line);

  // Patterns compiled so far (cache misses): lets tests see the cache work.
  size_t compilations() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads JSON Lines from `in` until EOF and writes one answer line per non-blank
// line to `out` (buffered), reading 1 MiB at a time: memory stays bounded by
// the longest line. A line of kMaxBatchLineBytes or more is answered with an
// error and skipped.
// Returns InvalidArgument / Unavailable when reading or writing fails.
Status RunBatch(std::FILE* in, std::FILE* out, BatchMode mode);

}  // namespace ctihub::pattern
