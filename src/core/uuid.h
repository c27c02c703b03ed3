// RFC 4122 UUIDs: v4 from the CSPRNG, v5 (SHA-1, name-based). Value type.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub {

class Uuid {
 public:
  Uuid() = default;
  explicit Uuid(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  static Uuid V4();
  static Uuid V5(const Uuid& name_space, std::string_view name);
  // Parses the canonical 8-4-4-4-12 hex form (either case).
  static Result<Uuid> Parse(std::string_view text);

  int version() const { return bytes_[6] >> 4; }
  // RFC 4122 variant (10xx).
  bool is_rfc4122_variant() const { return (bytes_[8] & 0xc0) == 0x80; }
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  std::string ToString() const;  // lower-case canonical form

  friend bool operator==(const Uuid&, const Uuid&) = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

}  // namespace ctihub
