// Streaming reader for STIX input of any size: one object, a JSON array of
// objects, or a bundle {"type":"bundle","objects":[...]}. Reads the source in
// chunks and yields the raw text of each object in turn, so a multi-GB bundle
// is never loaded whole; memory is bounded by the largest single object
// (limit: max_object_bytes). Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ctihub::stix {

struct BundleReaderOptions {
  size_t max_object_bytes = 64u << 20;
  size_t chunk_bytes = 1u << 20;
};

// The stable names of the reader's rejections (Status::name()); also "empty_input" and
// "read_error".
inline constexpr std::string_view kMalformedJson = "malformed_json";
inline constexpr std::string_view kObjectTooLarge = "object_too_large";
inline constexpr std::string_view kNotUtf8 = "not_utf8";

class BundleReader {
 public:
  // `file` is read from its current position; the caller keeps ownership.
  explicit BundleReader(std::FILE* file, BundleReaderOptions options = {});
  // Reads from memory; `text` must outlive the reader.
  explicit BundleReader(std::string_view text, BundleReaderOptions options = {});

  // Next object's JSON text (valid until the next call) and its byte offset in
  // the input. Returns an empty view at the end. Errors (malformed container,
  // an object over the limit, read errors, UTF-16 input) carry the byte offset
  // ("at byte N: ..."); after an error the reader is finished and further calls
  // return an empty view. The yielded text is only delimited here, not
  // validated: parse it with ParseObject() (parse.h).
  Result<std::string_view> Next(int64_t* offset = nullptr);

  // What the input turned out to be: "object", "array", "bundle" (after the first Next()).
  std::string_view container() const { return container_; }
  // The bundle's own "id" and "spec_version" when present (STIX 2.0 bundles carry one).
  const std::string& bundle_id() const { return bundle_id_; }
  const std::string& bundle_spec_version() const { return bundle_spec_version_; }
  // The member names of the top-level bundle object, in input order ("objects"
  // included); complete once Next() has returned the end.
  const std::vector<std::string>& bundle_keys() const { return bundle_keys_; }

  // 1-based line and byte column of an input offset. REQUIRES: `offset` is at
  // or after the start of the text last returned by Next() (or an offset an
  // error of the last Next() reported), and offsets are asked in increasing
  // order. Counting is incremental, so the cost is linear in the input.
  struct Position {
    int64_t line = 1;
    int64_t column = 1;
  };
  Position PositionOf(int64_t offset);
  // Where the top-level value starts (the bundle's own position).
  Position top_position() const { return top_position_; }

 private:
  class Impl;
  std::FILE* file_ = nullptr;
  std::string_view memory_;
  BundleReaderOptions options_;
  std::string container_;
  std::string bundle_id_;
  std::string bundle_spec_version_;
  std::vector<std::string> bundle_keys_;
  // Line counting: newlines before lines_counted_to_ (absolute offset) are in line_.
  int64_t lines_counted_to_ = 0;
  int64_t line_ = 1;
  int64_t line_start_ = 0;  // absolute offset where the current line begins
  void CountLinesTo(int64_t offset);
  Position top_position_;
  // Window over the input: memory_ itself, or buffer_ holding the bytes read
  // from file_ that are still needed. consumed_ is the input offset of window[0].
  const char* data() const { return file_ ? buffer_.data() : memory_.data(); }
  size_t size() const { return file_ ? buffer_.size() : memory_.size(); }
  bool Fill();                             // reads one more chunk; false at end of input
  void Compact(size_t keep_from);          // drops window bytes before keep_from
  bool SkipWs();                           // false at end of input
  Result<size_t> ScanValue(size_t start);  // end index of the value starting at start
  Result<size_t> ScanString(size_t start, size_t limit_from);
  // The reader's rejection, named `name` (kObjectTooLarge is a LimitExceeded, a read error is
  // Unavailable "read_error", the rest InvalidArgument); the reader is done after it.
  Status Fail(int64_t offset, const std::string& reason, std::string_view name = kMalformedJson);
  Result<std::string_view> Step(int64_t* offset);

  std::string buffer_;
  size_t pos_ = 0;
  int64_t consumed_ = 0;
  int state_ = 0;
  bool eof_ = false;
  int read_errno_ = 0;      // set when fread failed (not just end of file)
  bool in_bundle_ = false;  // streaming the "objects" array of a bundle
  bool first_element_ = true;
  bool type_seen_ = false;
  std::string top_type_;
  size_t top_start_ = 0;
};

}  // namespace ctihub::stix
