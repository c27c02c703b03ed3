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

// glibc's inet_pton4 on a view (no copy, no NUL needed): exactly four decimal
// octets 0-255 separated by dots, no leading zeros, nothing else. The matcher
// parses an address per log field, so this skips Pton's copy and libc call,
// and reads an octet at a time (1-3 digits) rather than a character at a time.
bool Pton4(std::string_view address, unsigned char* out) {
  // "0.0.0.0" to "255.255.255.255": a longer or shorter text (most names a
  // log field holds) is refused before any digit is read.
  if (address.size() < 7 || address.size() > 15) return false;
  const char* p = address.data();
  const char* const end = p + address.size();
  // The digit at p, or a value above 9 at the end or for any other byte.
  auto digit = [&] {
    return p != end ? static_cast<unsigned>(static_cast<unsigned char>(*p) - '0') : 10u;
  };
  unsigned char tmp[4];
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p == end || *p != '.') return false;
      ++p;
    }
    unsigned v = digit();
    if (v > 9) return false;
    ++p;
    if (unsigned d = digit(); d <= 9) {
      if (v == 0) return false;  // a leading zero
      v = v * 10 + d;
      ++p;
      if (d = digit(); d <= 9) {
        v = v * 10 + d;
        ++p;
        if (v > 255) return false;
      }
    }
    tmp[octet] = static_cast<unsigned char>(v);
  }
  if (p != end) return false;  // a fourth digit, a fifth octet, anything else
  std::memcpy(out, tmp, 4);
  return true;
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
  if (!(v6 ? Pton(AF_INET6, address, out->addr) : Pton4(address, out->addr))) return false;
  const int max_bits = v6 ? 128 : 32;
  if (bits > max_bits) return false;
  out->v6 = v6;
  out->bits = bits < 0 ? max_bits : bits;
  return true;
}

namespace {

size_t FormatIpv4(const unsigned char* a, char* out) {
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) out[n++] = '.';
    const unsigned v = a[i];
    if (v >= 100) out[n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) out[n++] = static_cast<char>('0' + v / 10 % 10);
    out[n++] = static_cast<char>('0' + v % 10);
  }
  return n;
}

// glibc's inet_ntop6, with "%x" written by hand.
size_t FormatIpv6(const unsigned char* src, char* out) {
  unsigned words[8];
  for (size_t i = 0; i < 8; ++i)
    words[i] = (static_cast<unsigned>(src[2 * i]) << 8) | src[2 * i + 1];
  int best_base = -1, best_len = 0, cur_base = -1, cur_len = 0;
  for (int i = 0; i < 8; ++i) {
    if (words[i] == 0) {
      if (cur_base == -1) {
        cur_base = i;
        cur_len = 1;
      } else {
        ++cur_len;
      }
    } else if (cur_base != -1) {
      if (best_base == -1 || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
      }
      cur_base = -1;
    }
  }
  if (cur_base != -1 && (best_base == -1 || cur_len > best_len)) {
    best_base = cur_base;
    best_len = cur_len;
  }
  if (best_base != -1 && best_len < 2) best_base = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  size_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (best_base != -1 && i >= best_base && i < best_base + best_len) {
      if (i == best_base) out[n++] = ':';
      continue;
    }
    if (i != 0) out[n++] = ':';
    if (i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      return n + FormatIpv4(src + 12, out + n);
    }
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (words[i] >> shift) & 0xf;
      if (d == 0 && !started && shift > 0) continue;
      started = true;
      out[n++] = kHex[d];
    }
  }
  if (best_base != -1 && best_base + best_len == 8) out[n++] = ':';
  return n;
}

}  // namespace

size_t FormatIp(const unsigned char* addr, bool v6, char* out) {
  return v6 ? FormatIpv6(addr, out) : FormatIpv4(addr, out);
}

bool ParseIpv4(std::string_view text, unsigned char* out) { return Pton4(text, out); }

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
