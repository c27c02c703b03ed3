// Cryptographic digests (OpenSSL EVP) and hex encoding. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ctihub {

using Sha1Digest = std::array<uint8_t, 20>;
using Sha256Digest = std::array<uint8_t, 32>;

Sha1Digest Sha1(std::string_view data);
Sha256Digest Sha256(std::string_view data);
std::string Md5Hex(std::string_view data);
std::string Sha512Hex(std::string_view data);

// Lower-case hex of raw bytes.
std::string HexEncode(const uint8_t* data, size_t n);
template <size_t N>
std::string HexEncode(const std::array<uint8_t, N>& a) {
  return HexEncode(a.data(), N);
}
inline std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }
inline std::string Sha1Hex(std::string_view data) { return HexEncode(Sha1(data)); }

// Fills `n` bytes from OpenSSL's CSPRNG. Aborts if the CSPRNG fails (no safe fallback exists).
void SecureRandomBytes(uint8_t* out, size_t n);

}  // namespace ctihub
