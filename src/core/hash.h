// Cryptographic digests (OpenSSL EVP) and their hex forms; a fast hash for
// STIX ids in hash tables. Thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/encoding.h"  // HexEncode

namespace ctihub {

using Sha1Digest = std::array<uint8_t, 20>;
using Sha256Digest = std::array<uint8_t, 32>;

Sha1Digest Sha1(std::string_view data);
Sha256Digest Sha256(std::string_view data);
std::string Md5Hex(std::string_view data);
std::string Sha512Hex(std::string_view data);

inline std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }
inline std::string Sha1Hex(std::string_view data) { return HexEncode(Sha1(data)); }

// A non-cryptographic hash for table lookups of STIX ids ("identity--<UUID>"
// and the like), on the hot read path: the last 16 bytes (the UUID's random
// tail; shorter strings zero-padded) and the length, read as two words and
// mixed with MurmurHash3's 64-bit finaliser, so every input bit reaches the
// low bits a power-of-two table uses (ids often differ only in their last
// bytes). Strings that share their tail collide; callers compare keys.
inline uint64_t IdTailHash(std::string_view s) {
  char tail[16] = {};
  const size_t n = std::min<size_t>(s.size(), sizeof tail);
  std::memcpy(tail, s.data() + s.size() - n, n);
  uint64_t a, b;
  std::memcpy(&a, tail, 8);
  std::memcpy(&b, tail + 8, 8);
  uint64_t h = a ^ std::rotl(b, 29) ^ s.size();
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  return h ^ (h >> 33);
}

// Fills `n` bytes from OpenSSL's CSPRNG. Aborts if the CSPRNG fails (no safe fallback exists).
void SecureRandomBytes(uint8_t* out, size_t n);

}  // namespace ctihub
