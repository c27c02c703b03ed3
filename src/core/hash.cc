#include "core/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>

namespace ctihub {
namespace {

template <size_t N>
std::array<uint8_t, N> Digest(const EVP_MD* md, std::string_view data) {
  std::array<uint8_t, N> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N) {
    std::abort();  // digest failure means a broken libcrypto, not bad input
  }
  return out;
}

}  // namespace

Sha1Digest Sha1(std::string_view data) { return Digest<20>(EVP_sha1(), data); }
Sha256Digest Sha256(std::string_view data) { return Digest<32>(EVP_sha256(), data); }
std::string Md5Hex(std::string_view data) { return HexEncode(Digest<16>(EVP_md5(), data)); }
std::string Sha512Hex(std::string_view data) { return HexEncode(Digest<64>(EVP_sha512(), data)); }

void SecureRandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

}  // namespace ctihub
