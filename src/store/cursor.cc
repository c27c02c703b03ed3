#include "store/cursor.h"

#include <cstdio>

#include "core/hash.h"

namespace ctihub::store {
namespace {

constexpr std::string_view kTag = "c1";
constexpr size_t kValueDigits = 16;
constexpr size_t kCheckDigits = 8;

std::string Checksum(std::string_view value_hex) {
  std::string input = "ctihub-cursor-";
  input += kTag;
  input += value_hex;
  return Sha256Hex(input).substr(0, kCheckDigits);
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string EncodeCursor(int64_t date_added_us) {
  char value[kValueDigits + 1];
  std::snprintf(value, sizeof value, "%016llx",
                static_cast<unsigned long long>(static_cast<uint64_t>(date_added_us)));
  std::string out(kTag);
  out.append(value, kValueDigits);
  out += Checksum(std::string_view(value, kValueDigits));
  return out;
}

Result<int64_t> DecodeCursor(std::string_view token) {
  auto bad = [] { return InvalidArgument("bad_cursor", "the next token is not valid"); };
  if (token.size() != kTag.size() + kValueDigits + kCheckDigits) return bad();
  if (token.substr(0, kTag.size()) != kTag) return bad();
  std::string_view value = token.substr(kTag.size(), kValueDigits);
  std::string_view check = token.substr(kTag.size() + kValueDigits);
  if (!IsLowerHex(value) || !IsLowerHex(check)) return bad();
  if (Checksum(value) != check) return bad();
  uint64_t v = 0;
  for (char c : value) v = v * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  if (v > static_cast<uint64_t>(INT64_MAX)) return bad();
  return static_cast<int64_t>(v);
}

}  // namespace ctihub::store
