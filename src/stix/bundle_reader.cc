#include "stix/bundle_reader.h"

#include <cerrno>
#include <cstring>

namespace ctihub::stix {
namespace {

enum State : int {
  kStart = 0,
  kTopMembers,  // inside the top-level object, before a key (or after a member)
  kArray,       // inside the top-level array or the bundle's "objects" array
  kTrailing,    // after the top-level value: only white space may follow
  kDone,
};

inline bool IsWs(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

BundleReader::BundleReader(std::FILE* file, BundleReaderOptions options)
    : file_(file), options_(options) {
  if (options_.chunk_bytes == 0) options_.chunk_bytes = 1u << 20;
}

BundleReader::BundleReader(std::string_view text, BundleReaderOptions options)
    : memory_(text), options_(options) {
  eof_ = true;
}

bool BundleReader::Fill() {
  if (eof_ || !file_) return false;
  size_t old = buffer_.size();
  buffer_.resize(old + options_.chunk_bytes);
  size_t got = std::fread(buffer_.data() + old, 1, options_.chunk_bytes, file_);
  buffer_.resize(old + got);
  if (got == 0) {
    eof_ = true;
    if (std::ferror(file_)) read_errno_ = errno ? errno : EIO;
    return false;
  }
  return true;
}

void BundleReader::CountLinesTo(int64_t offset) {
  int64_t window_end = consumed_ + static_cast<int64_t>(size());
  if (offset > window_end) offset = window_end;
  // Bytes before consumed_ were counted when Compact dropped them.
  int64_t from = lines_counted_to_ > consumed_ ? lines_counted_to_ : consumed_;
  if (offset <= from) return;
  const char* d = data();
  const char* p = d + (from - consumed_);
  const char* end = d + (offset - consumed_);
  while (const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
    p = static_cast<const char*>(nl) + 1;
    ++line_;
    line_start_ = consumed_ + (p - d);
  }
  lines_counted_to_ = offset;
}

BundleReader::Position BundleReader::PositionOf(int64_t offset) {
  CountLinesTo(offset);
  // An offset before the current line (against the REQUIRES) still gets column >= 1.
  return {line_, offset >= line_start_ ? offset - line_start_ + 1 : 1};
}

void BundleReader::Compact(size_t keep_from) {
  // Dropping the prefix moves the rest of the window: only do it once the
  // prefix is at least as large as what remains, so the copying stays linear.
  if (!file_ || keep_from == 0 || keep_from < buffer_.size() - keep_from) return;
  CountLinesTo(consumed_ + static_cast<int64_t>(keep_from));  // those bytes are about to go
  buffer_.erase(0, keep_from);
  consumed_ += static_cast<int64_t>(keep_from);
  pos_ -= keep_from;
  top_start_ = top_start_ >= keep_from ? top_start_ - keep_from : 0;
}

bool BundleReader::SkipWs() {
  for (;;) {
    const char* d = data();
    size_t n = size();
    while (pos_ < n && IsWs(d[pos_])) ++pos_;
    if (pos_ < n) return true;
    if (!Fill()) return false;
  }
}

Status BundleReader::Fail(int64_t offset, const std::string& reason, std::string_view name) {
  state_ = kDone;
  if (read_errno_ != 0) {
    return Unavailable("read_error", "at byte " +
                                         std::to_string(consumed_ + static_cast<int64_t>(size())) +
                                         ": read error: " + std::strerror(read_errno_));
  }
  std::string msg = "at byte " + std::to_string(offset) + ": " + reason;
  if (name == kObjectTooLarge) return LimitExceeded(std::string(name), std::move(msg));
  return InvalidArgument(std::string(name), std::move(msg));
}

// Scans a string whose opening quote is at `start`; returns the index after the
// closing quote. `limit_from` is where the enclosing object began (size limit).
Result<size_t> BundleReader::ScanString(size_t start, size_t limit_from) {
  size_t i = start + 1;
  for (;;) {
    const char* d = data();
    size_t n = size();
    const void* q = i < n ? std::memchr(d + i, '"', n - i) : nullptr;
    if (q) {
      size_t qi = static_cast<size_t>(static_cast<const char*>(q) - d);
      size_t j = qi;
      while (j > start + 1 && d[j - 1] == '\\') --j;
      if (((qi - j) & 1) == 0) return qi + 1;
      i = qi + 1;
      continue;
    }
    i = n;
    if (n - limit_from > options_.max_object_bytes) {
      return Fail(consumed_ + static_cast<int64_t>(limit_from),
                  "object is larger than the limit of " +
                      std::to_string(options_.max_object_bytes) + " bytes",
                  kObjectTooLarge);
    }
    if (!Fill())
      return Fail(consumed_ + static_cast<int64_t>(start),
                  "unterminated string (unexpected end of input)");
  }
}

Result<size_t> BundleReader::ScanValue(size_t start) {
  size_t i = start;
  int64_t depth = 0;
  for (;;) {
    const char* d = data();
    size_t n = size();
    while (i < n) {
      char c = d[i];
      if (c == '"') {
        CTIHUB_ASSIGN_OR_RETURN(i, ScanString(i, start));
        d = data();
        n = size();
        if (depth == 0) return i;
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          if (i == start) return Fail(consumed_ + static_cast<int64_t>(i), "expected a value");
          return i;  // end of a scalar directly followed by a closing bracket
        }
        if (--depth == 0) return i + 1;
      } else if (depth == 0 && (c == ',' || IsWs(c))) {
        if (i == start) return Fail(consumed_ + static_cast<int64_t>(i), "expected a value");
        return i;  // end of a scalar
      }
      ++i;
    }
    if (n - start > options_.max_object_bytes) {
      return Fail(consumed_ + static_cast<int64_t>(start),
                  "object is larger than the limit of " +
                      std::to_string(options_.max_object_bytes) + " bytes",
                  kObjectTooLarge);
    }
    if (!Fill()) {
      if (depth == 0 && i > start) return i;  // scalar at the very end
      return Fail(consumed_ + static_cast<int64_t>(n), "unexpected end of input (truncated JSON)");
    }
  }
}

Result<std::string_view> BundleReader::Next(int64_t* offset) {
  if (state_ == kDone) return std::string_view();
  // The previous view is no longer needed. While the top-level object is not
  // yet known to be a bundle, its text must stay in the window.
  if (state_ != kTopMembers || in_bundle_) Compact(pos_);
  return Step(offset);
}

Result<std::string_view> BundleReader::Step(int64_t* offset) {
  for (;;) {
    switch (state_) {
      case kStart: {
        // Encoding checks on the first bytes.
        while (size() < 4 && Fill()) {
        }
        std::string_view head(data(), size() < 4 ? size() : 4);
        if (head.size() >= 2 && ((head[0] == '\xff' && head[1] == '\xfe') ||
                                 (head[0] == '\xfe' && head[1] == '\xff'))) {
          return Fail(0, "input is UTF-16 (byte order mark); STIX JSON must be UTF-8", kNotUtf8);
        }
        if (head.size() >= 2 && (head[0] == '\0' || head[1] == '\0')) {
          return Fail(0, "input looks like UTF-16 or UTF-32 (NUL bytes); STIX JSON must be UTF-8",
                      kNotUtf8);
        }
        if (head.size() >= 3 && head.substr(0, 3) == "\xef\xbb\xbf")
          pos_ = 3;  // UTF-8 BOM: ignored (RFC 8259 §8.1)
        if (!SkipWs())
          return Fail(consumed_ + static_cast<int64_t>(pos_),
                      "empty input: expected a STIX object, an array or a bundle", "empty_input");
        char c = data()[pos_];
        top_position_ = PositionOf(consumed_ + static_cast<int64_t>(pos_));
        if (c == '[') {
          container_ = "array";
          ++pos_;
          first_element_ = true;
          state_ = kArray;
        } else if (c == '{') {
          container_ = "object";
          Compact(pos_);
          top_start_ = pos_;
          ++pos_;
          first_element_ = true;
          state_ = kTopMembers;
        } else {
          return Fail(consumed_ + static_cast<int64_t>(pos_),
                      "expected '{' or '[' at the start of STIX input");
        }
        break;
      }
      case kTopMembers: {
        if (!in_bundle_ && pos_ - top_start_ > options_.max_object_bytes) {
          return Fail(consumed_ + static_cast<int64_t>(top_start_),
                      "object is larger than the limit of " +
                          std::to_string(options_.max_object_bytes) + " bytes",
                      kObjectTooLarge);
        }
        if (!SkipWs())
          return Fail(consumed_ + static_cast<int64_t>(pos_),
                      "unexpected end of input: unterminated object");
        char c = data()[pos_];
        if (!first_element_) {
          if (c == '}') {
            ++pos_;
            state_ = kTrailing;
            if (in_bundle_ || top_type_ == "bundle") break;
            // A single STIX object: yield all of it.
            if (offset) *offset = consumed_ + static_cast<int64_t>(top_start_);
            return std::string_view(data() + top_start_, pos_ - top_start_);
          }
          if (c != ',')
            return Fail(consumed_ + static_cast<int64_t>(pos_),
                        "expected ',' or '}' in the top-level object");
          ++pos_;
          if (!SkipWs())
            return Fail(consumed_ + static_cast<int64_t>(pos_),
                        "unexpected end of input: unterminated object");
          c = data()[pos_];
        } else if (c == '}') {
          ++pos_;
          state_ = kTrailing;
          if (top_type_ == "bundle") break;
          if (offset) *offset = consumed_ + static_cast<int64_t>(top_start_);
          return std::string_view(data() + top_start_, pos_ - top_start_);
        }
        first_element_ = false;
        if (c != '"')
          return Fail(consumed_ + static_cast<int64_t>(pos_),
                      "expected a string key in the top-level object");
        size_t key_start = pos_;
        CTIHUB_ASSIGN_OR_RETURN(size_t key_end,
                                ScanString(key_start, in_bundle_ ? key_start : top_start_));
        std::string key(data() + key_start + 1, key_end - key_start - 2);
        bundle_keys_.push_back(key);
        pos_ = key_end;
        if (!SkipWs() || data()[pos_] != ':')
          return Fail(consumed_ + static_cast<int64_t>(pos_), "expected ':' after a key");
        ++pos_;
        if (!SkipWs())
          return Fail(consumed_ + static_cast<int64_t>(pos_),
                      "unexpected end of input: expected a value");
        char v = data()[pos_];
        if (key == "objects" && v == '[' && (!type_seen_ || top_type_ == "bundle") && !in_bundle_) {
          container_ = "bundle";
          in_bundle_ = true;
          ++pos_;
          first_element_ = true;
          state_ = kArray;
          break;
        }
        size_t value_start = pos_;
        CTIHUB_ASSIGN_OR_RETURN(size_t value_end, ScanValue(value_start));
        pos_ = value_end;
        if (v == '"' && value_end - value_start >= 2) {
          std::string s(data() + value_start + 1, value_end - value_start - 2);
          if (key == "type") {
            type_seen_ = true;
            top_type_ = s;
            if (s == "bundle") container_ = "bundle";
          } else if (key == "id") {
            bundle_id_ = s;
          } else if (key == "spec_version") {
            bundle_spec_version_ = s;
          }
        }
        if (!in_bundle_ && type_seen_ && top_type_ != "bundle") {
          // A single object: scan it whole from its start.
          CTIHUB_ASSIGN_OR_RETURN(size_t end, ScanValue(top_start_));
          pos_ = end;
          state_ = kTrailing;
          bundle_id_.clear();
          bundle_spec_version_.clear();
          bundle_keys_.clear();
          if (offset) *offset = consumed_ + static_cast<int64_t>(top_start_);
          return std::string_view(data() + top_start_, end - top_start_);
        }
        break;
      }
      case kArray: {
        if (!SkipWs())
          return Fail(consumed_ + static_cast<int64_t>(pos_),
                      "unexpected end of input: unterminated array");
        char c = data()[pos_];
        if (c == ']') {
          ++pos_;
          if (in_bundle_) {
            state_ = kTopMembers;
            first_element_ = false;
          } else {
            state_ = kTrailing;
          }
          break;
        }
        if (!first_element_) {
          if (c != ',')
            return Fail(consumed_ + static_cast<int64_t>(pos_),
                        "expected ',' or ']' between objects");
          ++pos_;
          if (!SkipWs())
            return Fail(consumed_ + static_cast<int64_t>(pos_),
                        "unexpected end of input: unterminated array");
        }
        first_element_ = false;
        Compact(pos_);
        size_t start = pos_;
        CTIHUB_ASSIGN_OR_RETURN(size_t end, ScanValue(start));
        pos_ = end;
        if (offset) *offset = consumed_ + static_cast<int64_t>(start);
        return std::string_view(data() + start, end - start);
      }
      case kTrailing: {
        Compact(pos_);
        if (!SkipWs()) {
          state_ = kDone;
          return std::string_view();
        }
        return Fail(consumed_ + static_cast<int64_t>(pos_),
                    "unexpected content after the top-level JSON value");
      }
      default:
        return std::string_view();
    }
  }
}

}  // namespace ctihub::stix
