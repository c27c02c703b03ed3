#include "core/net.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace ctihub::net {
namespace {

// Longest text inet_pton may need to see (an IPv6 address with an embedded
// IPv4 tail is at most 45 characters); longer input is not an address.
constexpr size_t kMaxAddressText = 45;

// The N of "/N": decimal, 1-3 digits, no leading zeros. -1 if malformed.
int ParsePrefixLength(std::string_view digits) {
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) return -1;
  int bits = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    bits = bits * 10 + (c - '0');
  }
  return bits;
}

bool Pton(int family, std::string_view address, unsigned char* out) {
  if (address.empty() || address.size() > kMaxAddressText) return false;
  if (address.find('\0') != std::string_view::npos) return false;  // inet_pton would stop there
  std::array<char, kMaxAddressText + 1> text{};  // inet_pton needs a NUL-terminated string
  std::memcpy(text.data(), address.data(), address.size());
  return inet_pton(family, text.data(), out) == 1;
}

}  // namespace

bool ParseIpPrefix(std::string_view text, IpPrefix* out) {
  *out = IpPrefix{};
  std::string_view address = text;
  int bits = -1;
  if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    bits = ParsePrefixLength(text.substr(slash + 1));
    if (bits < 0) return false;
  }
  const bool v6 = address.find(':') != std::string_view::npos;
  if (!Pton(v6 ? AF_INET6 : AF_INET, address, out->addr)) return false;
  const int max_bits = v6 ? 128 : 32;
  if (bits > max_bits) return false;
  out->v6 = v6;
  out->bits = bits < 0 ? max_bits : bits;
  return true;
}

bool IsIpv4AddressOrCidr(std::string_view text) {
  IpPrefix p;
  return ParseIpPrefix(text, &p) && !p.v6;
}

bool IsIpv6AddressOrCidr(std::string_view text) {
  IpPrefix p;
  return ParseIpPrefix(text, &p) && p.v6;
}

bool PrefixContains(const IpPrefix& outer, const IpPrefix& inner) {
  if (outer.v6 != inner.v6 || outer.bits > inner.bits) return false;
  const int full = outer.bits / 8, rem = outer.bits % 8;
  if (std::memcmp(outer.addr, inner.addr, static_cast<size_t>(full)) != 0) return false;
  if (rem) {
    const auto mask = static_cast<unsigned char>(0xFF << (8 - rem));
    if ((outer.addr[full] & mask) != (inner.addr[full] & mask)) return false;
  }
  return true;
}

}  // namespace ctihub::net
