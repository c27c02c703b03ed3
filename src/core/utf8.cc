#include "core/utf8.h"

namespace ctihub {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  const size_t left = s.size() - i;
  // Second-byte ranges from RFC 3629 §4 rule out overlongs, surrogates and > U+10FFFF.
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && IsContinuation(at(1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3) return 0;
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
    return at(1) >= lo && at(1) <= hi && IsContinuation(at(2)) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4) return 0;
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
    return at(1) >= lo && at(1) <= hi && IsContinuation(at(2)) && IsContinuation(at(3)) ? 4 : 0;
  }
  return 0;
}

bool NextCodePoint(std::string_view s, size_t* i, char32_t* cp) {
  const size_t n = Utf8SequenceLength(s, *i);
  if (n == 0) return false;
  const unsigned char lead = static_cast<unsigned char>(s[*i]);
  char32_t v = n == 1 ? lead : lead & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) v = v << 6 | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *cp = v;
  *i += n;
  return true;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool DecodeUtf8(std::string_view s, std::u32string* out) {
  out->clear();
  size_t i = 0;
  char32_t cp = 0;
  while (i < s.size()) {
    if (!NextCodePoint(s, &i, &cp)) return false;
    out->push_back(cp);
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace ctihub
