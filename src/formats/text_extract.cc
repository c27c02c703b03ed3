// Implementation of text_extract.h. The extractor works on one refanged line:
// URLs are found first (by their scheme) and masked, then the rest is split
// into tokens of host/address/hash characters, each trimmed of punctuation and
// classified; a token that is none of them is split at ':', '/' and '@' and its
// parts classified in turn ("1.2.3.4:443", "md5:<hash>", "evil.com/x.exe").
#include "formats/text_extract.h"

#include <libpsl.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <set>

#include "core/encoding.h"
#include "core/net.h"

namespace ctihub::formats {
namespace {

// ASCII only, without the locale: std::isalnum/std::tolower calls were most
// of the extractor's time, and indicators are ASCII.
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsDigit(c) || IsAsciiLetter(c); }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// The first byte of `s` in `set`, or npos: string_view::find_first_of calls
// memchr once per byte of `s`, which showed in the extractor's profile.
size_t FindAnyOf(std::string_view s, std::string_view set) {
  for (size_t i = 0; i < s.size(); ++i) {
    for (char m : set) {
      if (s[i] == m) return i;
    }
  }
  return std::string_view::npos;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

// The Public Suffix List of the `publicsuffix` package (or libpsl's built-in
// copy), loaded on first use and kept for the life of the process.
const psl_ctx_t* PublicSuffixList() {
  static const psl_ctx_t* const list = psl_latest(nullptr);
  return list;
}

// --- classification --------------------------------------------------------

bool IsHostLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// "10.0.0.1" and "10.0.0.0/8" but not "010.0.0.1" (octal to some parsers).
bool IsIpv4(std::string_view s) {
  if (!net::IsIpv4AddressOrCidr(s)) return false;
  std::string_view addr = s.substr(0, s.find('/'));
  for (size_t i = 0; i < addr.size(); ++i) {
    bool octet_start = i == 0 || addr[i - 1] == '.';
    if (octet_start && addr[i] == '0' && i + 1 < addr.size() && IsDigit(addr[i + 1])) return false;
  }
  return true;
}

// IPv6 (optionally with a prefix length), not the unspecified address "::".
bool IsIpv6(std::string_view s) {
  if (s.substr(0, s.find('/')) == "::") return false;
  return net::IsIpv6AddressOrCidr(s);
}

bool IsCve(std::string_view s) {
  if (!StartsWithNoCase(s, "cve-") || s.size() < 13 || s.size() > 16) return false;
  std::string_view rest = s.substr(4);
  if (rest[4] != '-') return false;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (i != 4 && !IsDigit(rest[i])) return false;
  }
  return true;
}

bool HashType(std::string_view s, IocType* type) {
  if (!IsHexDigits(s)) return false;
  switch (s.size()) {
    case 32:
      *type = IocType::kMd5;
      return true;
    case 40:
      *type = IocType::kSha1;
      return true;
    case 64:
      *type = IocType::kSha256;
      return true;
    case 128:
      *type = IocType::kSha512;
      return true;
    default:
      return false;
  }
}

// RFC 5322 dot-atom local part, restricted to what a token can hold.
bool IsEmailLocalPart(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  if (s.find("..") != std::string_view::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsAlnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '%';
  });
}

// --- URLs ------------------------------------------------------------------

bool IsUrlScheme(std::string_view scheme) {
  std::string s = ToLower(scheme);
  return s == "http" || s == "https" || s == "ftp" || s == "ftps" || s == "sftp";
}

bool EndsUrl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u <= ' ' || u == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' ||
         c == '{' || c == '}' || c == '|' || c == '\\' || c == '^';
}

// Drops trailing punctuation that belongs to the sentence, and a closing
// bracket that the URL did not open ("(see http://a.com/x)").
std::string_view TrimUrlEnd(std::string_view url) {
  while (!url.empty()) {
    char c = url.back();
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?') {
      url.remove_suffix(1);
    } else if (c == ')' || c == ']') {
      char open = c == ')' ? '(' : '[';
      if (std::count(url.begin(), url.end(), open) >= std::count(url.begin(), url.end(), c)) break;
      url.remove_suffix(1);
    } else {
      break;
    }
  }
  return url;
}

// The URL with its scheme and host lower-cased, or "" when its host is not a
// domain name, an IPv4 address or a bracketed IPv6 address.
std::string NormaliseUrl(std::string_view url) {
  size_t sep = url.find("://");
  std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  size_t authority_end = FindAnyOf(rest, "/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  size_t at = authority.rfind('@');
  std::string_view userinfo = at == std::string_view::npos ? "" : authority.substr(0, at + 1);
  std::string_view hostport = at == std::string_view::npos ? authority : authority.substr(at + 1);
  std::string_view host = hostport, port;
  if (!hostport.empty() && hostport.front() == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return {};
    host = hostport.substr(0, close + 1);
    port = hostport.substr(close + 1);
    if (!IsIpv6(host.substr(1, host.size() - 2)) || host.find('/') != std::string_view::npos) {
      return {};
    }
  } else {
    size_t colon = hostport.find(':');
    if (colon != std::string_view::npos) {
      host = hostport.substr(0, colon);
      port = hostport.substr(colon);
    }
    bool ipv4 = IsIpv4(host) && host.find('/') == std::string_view::npos;
    if (!ipv4 && !IsDomainName(host)) return {};
  }
  if (!port.empty() && (port.front() != ':' || port.size() < 2 || port.size() > 6 ||
                        !std::all_of(port.begin() + 1, port.end(), IsDigit))) {
    return {};
  }
  return ToLower(scheme) + "://" + std::string(userinfo) + ToLower(host) + std::string(port) +
         std::string(tail);
}

class LineExtractor {
 public:
  explicit LineExtractor(std::string line) : line_(std::move(line)) {}

  std::vector<Ioc> Run() {
    ExtractUrls();
    ExtractTokens();
    return std::move(found_);
  }

 private:
  static bool IsTokenChar(char c) {
    return IsAlnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '/' || c == '@' ||
           c == '+' || c == '%';
  }

  void Add(IocType type, std::string value) {
    if (!seen_.emplace(static_cast<int>(type), value).second) return;
    found_.push_back({type, std::move(value)});
  }

  // Finds "scheme://", takes the URL up to its end, and blanks it out so its
  // host is not found again as a domain.
  void ExtractUrls() {
    size_t from = 0;
    for (;;) {
      size_t sep = line_.find("://", from);
      if (sep == std::string::npos) return;
      size_t start = sep;
      while (start > 0 && (IsAlnum(line_[start - 1]) || line_[start - 1] == '+' ||
                           line_[start - 1] == '-' || line_[start - 1] == '.')) {
        --start;
      }
      size_t end = sep + 3;
      while (end < line_.size() && !EndsUrl(line_[end])) ++end;
      from = sep + 3;
      if (!IsUrlScheme(std::string_view(line_).substr(start, sep - start))) continue;
      std::string_view url = TrimUrlEnd(std::string_view(line_).substr(start, end - start));
      std::string value = NormaliseUrl(url);
      if (value.empty()) continue;
      Add(IocType::kUrl, std::move(value));
      std::fill(line_.begin() + static_cast<std::ptrdiff_t>(start),
                line_.begin() + static_cast<std::ptrdiff_t>(start + url.size()), ' ');
      from = start + url.size();
    }
  }

  void ExtractTokens() {
    size_t i = 0;
    while (i < line_.size()) {
      if (!IsTokenChar(line_[i])) {
        ++i;
        continue;
      }
      size_t start = i;
      while (i < line_.size() && IsTokenChar(line_[i])) ++i;
      Classify(std::string_view(line_).substr(start, i - start), 0);
    }
  }

  static std::string UpperCve(std::string_view token) {
    std::string v(token);
    for (char& c : v) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
    }
    return v;
  }

  // Sentence punctuation around a token; a leading or trailing "::" is kept
  // (IPv6 "::1", "fe80::").
  static std::string_view Trim(std::string_view t) {
    auto punct = [](char c) {
      return c == '.' || c == '-' || c == ':' || c == '/' || c == '_' || c == '+' || c == '@' ||
             c == '%';
    };
    while (!t.empty() && punct(t.front()) && t.substr(0, 2) != "::") t.remove_prefix(1);
    while (!t.empty() && punct(t.back()) && !(t.size() >= 2 && t.substr(t.size() - 2) == "::")) {
      t.remove_suffix(1);
    }
    return t;
  }

  void Classify(std::string_view token, int depth) {
    token = Trim(token);
    if (token.empty() || depth > 3) return;
    IocType hash;
    if (FindAnyOf(token, ".:/@") == std::string_view::npos) {
      // A word: only a hash or a CVE id can be one (most tokens of prose).
      if (HashType(token, &hash)) return Add(hash, ToLower(token));
      if (IsCve(token)) return Add(IocType::kCve, UpperCve(token));
      return;
    }
    if (IsCve(token)) return Add(IocType::kCve, UpperCve(token));
    if (HashType(token, &hash)) return Add(hash, ToLower(token));
    if (IsIpv4(token)) return Add(IocType::kIpv4, std::string(token));
    if (IsIpv6(token)) return Add(IocType::kIpv6, ToLower(token));
    size_t at = token.rfind('@');
    if (at != std::string_view::npos && token.find('/') == std::string_view::npos &&
        token.find(':') == std::string_view::npos) {
      std::string_view local = token.substr(0, at), domain = token.substr(at + 1);
      if (IsEmailLocalPart(local) && IsDomainName(domain)) {
        return Add(IocType::kEmail, std::string(local) + "@" + ToLower(domain));
      }
    }
    if (IsDomainName(token)) return Add(IocType::kDomain, ToLower(token));
    SplitAndClassify(token, depth);
  }

  // "evil.com/x.exe" -> "evil.com"; "1.2.3.4:443" -> "1.2.3.4"; "mailto:a@b.com"
  // -> "a@b.com". Splits at the first of '/', ':', '@' the token holds, so an
  // e-mail address survives the split at ':'.
  void SplitAndClassify(std::string_view token, int depth) {
    char sep = 0;
    for (char c : {'/', ':', '@'}) {
      if (token.find(c) != std::string_view::npos) {
        sep = c;
        break;
      }
    }
    if (sep == 0) return;  // nothing to split at: the token is nothing we know
    size_t start = 0;
    for (size_t i = 0; i <= token.size(); ++i) {
      if (i < token.size() && token[i] != sep) continue;
      Classify(token.substr(start, i - start), depth + 1);
      start = i + 1;
    }
  }

  std::string line_;
  std::vector<Ioc> found_;
  std::set<std::pair<int, std::string>> seen_;
};

}  // namespace

std::string_view IocTypeName(IocType type) {
  switch (type) {
    case IocType::kIpv4:
      return "ipv4";
    case IocType::kIpv6:
      return "ipv6";
    case IocType::kDomain:
      return "domain";
    case IocType::kUrl:
      return "url";
    case IocType::kEmail:
      return "email";
    case IocType::kMd5:
      return "md5";
    case IocType::kSha1:
      return "sha1";
    case IocType::kSha256:
      return "sha256";
    case IocType::kSha512:
      return "sha512";
    case IocType::kCve:
      return "cve";
  }
  return "unknown";
}

namespace {

// The bytes a defanged spelling can start with, both cases; a spelling with a
// leading space (" [dot] ") is found at its second byte, so the spaces of
// prose are not candidates. Refang copies the runs between candidates whole.
constexpr std::array<bool, 256> DefangStarts() {
  std::array<bool, 256> starts{};
  for (const DefangSpelling& d : kDefangSpellings) {
    const char c = d.from[0] == ' ' ? d.from[1] : d.from[0];
    starts[static_cast<unsigned char>(c)] = true;
    if (c >= 'a' && c <= 'z') starts[static_cast<unsigned char>(c - ('a' - 'A'))] = true;
  }
  return starts;
}
constexpr std::array<bool, 256> kDefangStarts = DefangStarts();

// The defang starting at text[at], or null.
const DefangSpelling* DefangAt(std::string_view text, size_t at) {
  const char first = Lower(text[at]);
  for (const DefangSpelling& d : kDefangSpellings) {
    if (d.from[0] != first) continue;
    if (d.word_start && at > 0 && IsAlnum(text[at - 1])) continue;
    if (StartsWithNoCase(text.substr(at), d.from)) return &d;
  }
  return nullptr;
}

}  // namespace

std::string Refang(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0, copied = 0;  // text[copied, i) is not yet in `out`
  while (i < text.size()) {
    if (!kDefangStarts[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    // " [dot] " before "[dot]": the spaced spelling swallows its spaces.
    size_t at = i > copied && text[i - 1] == ' ' ? i - 1 : i;
    const DefangSpelling* d = DefangAt(text, at);
    if (d == nullptr && at != i) d = DefangAt(text, at = i);
    if (d == nullptr) {
      ++i;
      continue;
    }
    out.append(text.substr(copied, at - copied));
    out += d->to;
    i = at + d->from.size();
    copied = i;
  }
  out.append(text.substr(copied));
  return out;
}

namespace {

// Whether the lower-case, NUL-terminated `tld` (`size` bytes) is a top-level
// domain of the list. Answers are kept per thread in a small direct-mapped
// table (a feed names few top-level domains; the lookup was a third of the
// extractor's time on a list of domains and URLs).
bool IsTopLevelDomain(const psl_ctx_t* psl, const char* tld, size_t size) {
  struct Slot {
    std::array<char, 24> name{};  // NUL-terminated; empty: unused
    bool is_tld = false;
  };
  thread_local std::array<Slot, 64> cache;
  if (size >= sizeof(Slot::name)) {
    return psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
  }
  uint32_t hash = 2166136261u;  // FNV-1a
  for (size_t i = 0; i < size; ++i) hash = (hash ^ static_cast<unsigned char>(tld[i])) * 16777619u;
  Slot& slot = cache[hash % cache.size()];
  if (std::string_view(slot.name.data()) == std::string_view(tld, size)) return slot.is_tld;
  slot.is_tld = psl_is_public_suffix2(psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
  std::copy_n(tld, size + 1, slot.name.begin());
  return slot.is_tld;
}

}  // namespace

Status PublicSuffixListStatus() {
  if (PublicSuffixList() != nullptr) return Status::Ok();
  return Unavailable("public_suffix_list_missing",
                     "the Public Suffix List cannot be loaded (install the publicsuffix package)");
}

bool IsDomainName(std::string_view name) {
  const psl_ctx_t* psl = PublicSuffixList();
  if (psl == nullptr || name.empty() || name.size() > 253) return false;
  size_t labels = 0, start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') continue;
    if (!IsHostLabel(name.substr(start, i - start))) return false;
    ++labels;
    start = i + 1;
  }
  if (labels < 2) return false;
  // Lower-cased into a buffer on the stack (no allocation per candidate).
  std::array<char, 256> lower{};
  std::transform(name.begin(), name.end(), lower.begin(), Lower);
  const size_t dot = name.rfind('.');
  const char* tld = lower.data() + dot + 1;
  if (std::all_of(name.begin() + static_cast<std::ptrdiff_t>(dot) + 1, name.end(), IsDigit)) {
    return false;
  }
  if (!IsTopLevelDomain(psl, tld, name.size() - dot - 1)) return false;
  return psl_is_public_suffix2(psl, lower.data(), PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) == 0;
}

std::vector<Ioc> ExtractIocs(std::string_view line) {
  if (line.size() > kMaxTextLineBytes) line = line.substr(0, kMaxTextLineBytes);
  return LineExtractor(Refang(line)).Run();
}

}  // namespace ctihub::formats
