// URLs as a TAXII client needs them: absolute http/https URLs split into the
// parts a connection needs, relative references resolved against a base
// (RFC 3986 section 5.2, so an API root given as "/api1/", "api1/" or
// "https://host/api1/" all work), and query strings built with percent-encoding.
// Pure functions on value types; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ctihub::taxii_client {

inline constexpr size_t kMaxUrlBytes = 8192;

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // a name, an IPv4 address or an IPv6 address without brackets
  std::string port;    // always set: the default of the scheme when absent
  std::string path;    // starts with '/'
  std::string query;   // without '?'; may be empty

  // "path?query", the request target.
  std::string Target() const;
  // scheme://host[:port] (the port only when not the scheme's default).
  std::string Origin() const;
  std::string ToString() const { return Origin() + Target(); }
  // The Host header value.
  std::string HostHeader() const;
  bool SameOrigin(const Url& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
  }
};

// Parses an absolute http:// or https:// URL. Rejects other schemes, user info
// (credentials never travel in URLs), empty hosts, bad ports, control
// characters and spaces; drops a fragment. Errors: InvalidArgument "bad_url".
Result<Url> ParseUrl(std::string_view text);

// Resolves `ref` (absolute, scheme-relative "//host/p", absolute path "/p" or
// relative path "p/") against `base` (RFC 3986 5.2, dot segments removed).
Result<Url> ResolveUrl(const Url& base, std::string_view ref);

// The same URL with a path that ends in '/' (API roots and collections are
// directories in TAXII: their resources are relative to them).
Url WithTrailingSlash(Url url);

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view s);

// "k1=v1&k2=v2", each key and value percent-encoded.
std::string BuildQuery(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace ctihub::taxii_client
