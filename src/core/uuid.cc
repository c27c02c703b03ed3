#include "core/uuid.h"

#include "core/encoding.h"
#include "core/hash.h"

namespace ctihub {

Uuid Uuid::V4() {
  std::array<uint8_t, 16> b;
  SecureRandomBytes(b.data(), b.size());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return Uuid(b);
}

Uuid Uuid::V5(const Uuid& name_space, std::string_view name) {
  std::string input(reinterpret_cast<const char*>(name_space.bytes_.data()), 16);
  input.append(name);
  Sha1Digest d = Sha1(input);
  std::array<uint8_t, 16> b;
  for (size_t i = 0; i < 16; ++i) b[i] = d[i];
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x50);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return Uuid(b);
}

Result<Uuid> Uuid::Parse(std::string_view s) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
    return InvalidArgument("UUID must have the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
  }
  std::array<uint8_t, 16> b{};
  size_t j = 0;
  for (size_t i = 0; i < 36 && j < 16;) {
    if (s[i] == '-') {
      ++i;
      continue;
    }
    int hi = HexDigitValue(s[i]), lo = HexDigitValue(s[i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("UUID has a non-hex digit");
    b[j++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return Uuid(b);
}

std::string Uuid::ToString() const {
  std::string hex = HexEncode(bytes_);
  std::string out;
  out.reserve(36);
  out.append(hex, 0, 8).append("-").append(hex, 8, 4).append("-").append(hex, 12, 4);
  out.append("-").append(hex, 16, 4).append("-").append(hex, 20, 12);
  return out;
}

}  // namespace ctihub
