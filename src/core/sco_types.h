// The STIX 2.1 Cyber-observable Object types (STIX 2.1 section 6): the one list
// in the tree, shared by the validator (stix) and the pattern engine (pattern),
// which may not depend on each other. Thread-safe (constants).
#pragma once

#include <algorithm>
#include <iterator>
#include <string_view>

namespace ctihub {

inline constexpr std::string_view kStixScoTypes[] = {"artifact",
                                                     "autonomous-system",
                                                     "directory",
                                                     "domain-name",
                                                     "email-addr",
                                                     "email-message",
                                                     "file",
                                                     "ipv4-addr",
                                                     "ipv6-addr",
                                                     "mac-addr",
                                                     "mutex",
                                                     "network-traffic",
                                                     "process",
                                                     "software",
                                                     "url",
                                                     "user-account",
                                                     "windows-registry-key",
                                                     "x509-certificate"};

// True if `type` is one of the predefined SCO types (custom SCOs are not).
inline bool IsStixScoType(std::string_view type) {
  return std::find(std::begin(kStixScoTypes), std::end(kStixScoTypes), type) !=
         std::end(kStixScoTypes);
}

}  // namespace ctihub
