// One import input: a file (plain or gzip, detected by content, read
// transparently) or standard input ("-"), opened for streaming. The first
// bytes can be looked at (Peek) to detect the format before reading starts;
// file() then yields every byte from the beginning. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub::formats {

class Input {
 public:
  // "-" is standard input. NotFound / InvalidArgument with the path and the
  // system's reason when the file cannot be opened.
  static Result<std::unique_ptr<Input>> Open(const std::string& path);
  ~Input();
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  const std::string& path() const { return path_; }
  // Up to `n` first (decompressed) bytes; fewer at the end of the input.
  // REQUIRES: file() not called yet.
  std::string_view Peek(size_t n);
  // The whole (decompressed) input as a stdio stream owned by this object,
  // valid until it is destroyed. A read error sets ferror(); error() says why.
  std::FILE* file();
  std::string error() const { return error_; }
  // Bytes of the underlying file consumed so far (compressed bytes for .gz),
  // for progress against size_on_disk().
  int64_t consumed() const;
  // Size of the file on disk; -1 for standard input and pipes.
  int64_t size_on_disk() const { return size_on_disk_; }

 private:
  Input() = default;
  static ssize_t ReadCookie(void* cookie, char* buf, size_t size);
  ssize_t Read(char* buf, size_t size);

  std::string path_;
  void* gz_ = nullptr;  // gzFile
  std::string head_;    // peeked bytes not yet handed out
  size_t head_pos_ = 0;
  std::FILE* file_ = nullptr;
  std::string error_;
  int64_t size_on_disk_ = -1;
};

}  // namespace ctihub::formats
