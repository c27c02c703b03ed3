// IP addresses and CIDR prefixes (IPv4 dotted quad, the IPv6 text forms of RFC 4291
// §2.2 including an embedded IPv4 tail), parsed by inet_pton: the one IP parser of
// ctihub. Stateless; thread-safe.
#pragma once

#include <string_view>

namespace ctihub::net {

// An address with a prefix length: "10.0.0.0/8", "2001:db8::/32"; a bare address has
// the full length (32 or 128). `addr` is in network order, IPv4 in its first 4 bytes.
struct IpPrefix {
  bool v6 = false;
  unsigned char addr[16] = {};
  int bits = 0;
};

// Parses an IPv4 or IPv6 address (as inet_pton accepts it), optionally followed by
// "/N" (decimal, no leading zeros, N <= 32 or 128). False on anything else: zone ids,
// whitespace, NUL bytes, octets with leading zeros, host names. Host bits below the
// prefix are kept as written.
bool ParseIpPrefix(std::string_view text, IpPrefix* out);

// A bare IPv4 address as inet_pton(AF_INET) accepts it (four decimal octets,
// no leading zeros), without copying: `out` receives its 4 bytes. Such text is
// already the address's canonical (inet_ntop) form.
bool ParseIpv4(std::string_view text, unsigned char* out);

// The text inet_ntop gives for an address (`addr` as in IpPrefix), written to
// `out` (room for 46 bytes, no NUL): "a.b.c.d", or RFC 5952-style IPv6 with
// glibc's choices (the first longest run of two or more zero groups as "::",
// "::a.b.c.d" / "::ffff:a.b.c.d" for IPv4-compatible and -mapped addresses).
// Returns the length. No printf: the matcher formats an address per log field.
size_t FormatIp(const unsigned char* addr, bool v6, char* out);

// "a.b.c.d" optionally followed by "/N" with N in 0-32.
bool IsIpv4AddressOrCidr(std::string_view text);

// An RFC 4291 text address optionally followed by "/N" with N in 0-128.
bool IsIpv6AddressOrCidr(std::string_view text);

// True if `inner` lies within `outer` (same family, outer prefix no longer).
bool PrefixContains(const IpPrefix& outer, const IpPrefix& inner);

}  // namespace ctihub::net
