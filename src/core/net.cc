#include "core/net.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace ctihub::net {
namespace {

// Longest text inet_pton may need to see (an IPv6 address with an embedded
// IPv4 tail is at most 45 characters); longer input is not an address.
constexpr size_t kMaxAddressText = 45;

// Splits "address/prefix"; false when the prefix is present but not a
// decimal number in [0, max_prefix] without leading zeros.
bool SplitPrefix(std::string_view text, int max_prefix, std::string_view* address) {
  size_t slash = text.find('/');
  *address = text.substr(0, slash);
  if (slash == std::string_view::npos) return true;
  std::string_view prefix = text.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3 || (prefix.size() > 1 && prefix[0] == '0')) return false;
  int n = 0;
  for (char c : prefix) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return n <= max_prefix;
}

bool PtonAccepts(int family, std::string_view address) {
  if (address.empty() || address.size() > kMaxAddressText) return false;
  if (address.find('\0') != std::string_view::npos) return false;  // inet_pton would stop there
  std::array<char, kMaxAddressText + 1> text{};
  std::memcpy(text.data(), address.data(),
              address.size());  // inet_pton needs a NUL-terminated string
  std::array<unsigned char, 16> out{};
  return inet_pton(family, text.data(), out.data()) == 1;
}

}  // namespace

bool IsIpv4AddressOrCidr(std::string_view text) {
  std::string_view address;
  return SplitPrefix(text, 32, &address) && PtonAccepts(AF_INET, address);
}

bool IsIpv6AddressOrCidr(std::string_view text) {
  std::string_view address;
  return SplitPrefix(text, 128, &address) && PtonAccepts(AF_INET6, address);
}

}  // namespace ctihub::net
