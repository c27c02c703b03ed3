// Byte encodings: base64 (RFC 4648 §4, standard alphabet, padded; libsodium) and
// hex. The one implementation of each in the tree: search here before writing another.
// Thread-safe (pure functions).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub {

// Base64 of `bytes`, standard alphabet, with '=' padding.
std::string Base64Encode(std::string_view bytes);
// Decodes strict base64: standard alphabet, padding to a multiple of four, no
// whitespace, unused trailing bits zero (RFC 4648 §3.5 canonical form).
// Error: InvalidArgument named "bad_base64".
Result<std::string> Base64Decode(std::string_view text);
// True if Base64Decode would accept `text`.
bool IsBase64(std::string_view text);

// Value of one hex digit (either case), or -1.
constexpr int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// True if every character is a hex digit (either case); true for "".
bool IsHexDigits(std::string_view text);
// Lower-case hex of raw bytes.
std::string HexEncode(const uint8_t* data, size_t n);
inline std::string HexEncode(std::string_view bytes) {
  return HexEncode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}
template <size_t N>
std::string HexEncode(const std::array<uint8_t, N>& a) {
  return HexEncode(a.data(), N);
}
// Decodes an even number of hex digits (either case). Error: InvalidArgument "bad_hex".
Result<std::string> HexDecode(std::string_view text);

}  // namespace ctihub
