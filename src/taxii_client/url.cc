#include "taxii_client/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/net.h"

namespace ctihub::taxii_client {
namespace {

Status BadUrl(std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 200));
  return InvalidArgument("bad_url", "'" + shown + "': " + std::string(why));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool HasForbiddenByte(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

std::string DefaultPort(std::string_view scheme) { return scheme == "https" ? "443" : "80"; }

// RFC 3986 5.2.4: removes "." and ".." segments.
std::string RemoveDotSegments(std::string_view in) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  const bool absolute = !in.empty() && in[0] == '/';
  if (absolute) pos = 1;
  bool trailing = false;
  while (pos <= in.size()) {
    size_t end = in.find('/', pos);
    if (end == std::string_view::npos) end = in.size();
    std::string_view seg = in.substr(pos, end - pos);
    const bool last = end == in.size();
    if (seg == ".") {
      trailing = last;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = last;
    } else {
      out.push_back(seg);
      trailing = false;
    }
    pos = end + 1;
  }
  std::string result = absolute ? "/" : "";
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) result += '/';
    result += out[i];
  }
  if (trailing && (result.empty() || result.back() != '/')) result += '/';
  return result.empty() ? "/" : result;
}

// Splits "path?query#fragment" into path and query, dropping the fragment.
void SplitPathQuery(std::string_view rest, std::string* path, std::string* query) {
  rest = rest.substr(0, rest.find('#'));
  const size_t q = rest.find('?');
  *path = std::string(rest.substr(0, q));
  *query = q == std::string_view::npos ? "" : std::string(rest.substr(q + 1));
}

// RFC 3986 reg-name as host names are written (letters, digits, "-._~" and
// percent-escapes); anything else would not survive a round trip through
// ToString (a ':' in a name reads back as an IPv6 literal).
bool IsHostName(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
  });
}

bool IsIpv6Address(std::string_view host) {
  return host.find('/') == std::string_view::npos && net::IsIpv6AddressOrCidr(host);
}

Status ParseAuthority(std::string_view text, std::string_view authority, Url* url) {
  if (authority.find('@') != std::string_view::npos)
    return BadUrl(text, "user info in a URL is not accepted (give credentials by option)");
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(text, "unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return BadUrl(text, "junk after IPv6 address");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return BadUrl(text, "no host");
  const bool bracketed = !authority.empty() && authority[0] == '[';
  if (bracketed ? !IsIpv6Address(host) : !IsHostName(host))
    return BadUrl(text, bracketed ? "not an IPv6 address in brackets" : "bad host name");
  url->host = Lower(host);
  if (port.empty()) {
    url->port = DefaultPort(url->scheme);
    return Status::Ok();
  }
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535)
    return BadUrl(text, "bad port");
  url->port = std::to_string(value);
  return Status::Ok();
}

}  // namespace

std::string Url::Target() const { return query.empty() ? path : path + "?" + query; }

std::string Url::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != DefaultPort(scheme)) h += ":" + port;
  return h;
}

std::string Url::Origin() const { return scheme + "://" + HostHeader(); }

Result<Url> ParseUrl(std::string_view text) {
  if (text.size() > kMaxUrlBytes) return BadUrl(text, "longer than 8192 bytes");
  if (HasForbiddenByte(text)) return BadUrl(text, "control character or space");
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos) return BadUrl(text, "not an absolute http(s) URL");
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https")
    return BadUrl(text, "scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);
  const size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  CTIHUB_RETURN_IF_ERROR(ParseAuthority(text, authority, &url));
  std::string path;
  SplitPathQuery(auth_end == std::string_view::npos ? "" : rest.substr(auth_end), &path,
                 &url.query);
  url.path = RemoveDotSegments(path.empty() ? "/" : path);
  return url;
}

Result<Url> ResolveUrl(const Url& base, std::string_view ref) {
  if (ref.size() > kMaxUrlBytes) return BadUrl(ref, "longer than 8192 bytes");
  if (HasForbiddenByte(ref)) return BadUrl(ref, "control character or space");
  const size_t colon = ref.find(':');
  const size_t slash = ref.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash))
    return ParseUrl(ref);  // has a scheme
  if (ref.substr(0, 2) == "//") return ParseUrl(base.scheme + ":" + std::string(ref));
  Url url = base;
  std::string path;
  SplitPathQuery(ref, &path, &url.query);
  if (path.empty()) {
    if (ref.empty() || ref[0] == '#') url.query = base.query;
    return url;
  }
  if (path[0] != '/') {
    const size_t last = base.path.rfind('/');
    path = base.path.substr(0, last + 1) + path;
  }
  url.path = RemoveDotSegments(path);
  return url;
}

Url WithTrailingSlash(Url url) {
  if (url.path.empty() || url.path.back() != '/') url.path += '/';
  return url;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string BuildQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += PercentEncode(k);
    out += '=';
    out += PercentEncode(v);
  }
  return out;
}

}  // namespace ctihub::taxii_client
