// IP address text forms (inet_pton based): the one IP parser of ctihub.
// Stateless; thread-safe.
#pragma once

#include <string_view>

namespace ctihub::net {

// "a.b.c.d" (dotted quad, as inet_pton accepts it) optionally followed by
// "/N" with N in 0-32.
bool IsIpv4AddressOrCidr(std::string_view text);

// An RFC 4291 text address (as inet_pton accepts it) optionally followed by
// "/N" with N in 0-128.
bool IsIpv6AddressOrCidr(std::string_view text);

}  // namespace ctihub::net
