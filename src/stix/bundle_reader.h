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

#include "core/result.h"

namespace ctihub::stix {

struct BundleReaderOptions {
  size_t max_object_bytes = 64u << 20;
  size_t chunk_bytes = 1u << 20;
};

class BundleReader {
 public:
  // `file` is read from its current position; the caller keeps ownership.
  explicit BundleReader(std::FILE* file, BundleReaderOptions options = {});
  // Reads from memory; `text` must outlive the reader.
  explicit BundleReader(std::string_view text, BundleReaderOptions options = {});

  // Next object's JSON text (valid until the next call) and its byte offset in
  // the input. Returns an empty view at the end. Errors (malformed container,
  // an object over the limit, read errors) carry the byte offset.
  Result<std::string_view> Next(int64_t* offset = nullptr);

  // What the input turned out to be: "object", "array", "bundle" (after the first Next()).
  std::string_view container() const { return container_; }
  // The bundle's own "id" and "spec_version" when present (STIX 2.0 bundles carry one).
  const std::string& bundle_id() const { return bundle_id_; }
  const std::string& bundle_spec_version() const { return bundle_spec_version_; }

 private:
  class Impl;
  std::FILE* file_ = nullptr;
  std::string_view memory_;
  BundleReaderOptions options_;
  std::string container_;
  std::string bundle_id_;
  std::string bundle_spec_version_;
  // Implementation state is defined in bundle_reader.cc.
  std::string buffer_;
  size_t pos_ = 0;
  int64_t consumed_ = 0;
  int state_ = 0;
  bool eof_ = false;
};

}  // namespace ctihub::stix
