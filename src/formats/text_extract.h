// Free-text indicator extraction: refangs defanged text ("hxxp://evil[.]com")
// and finds IPv4/IPv6 addresses and CIDRs, domain names (the top-level domain
// must be in the Public Suffix List, so `file.exe` or `readme.txt` is not a
// domain), URLs, e-mail addresses, MD5/SHA-1/SHA-256/SHA-512 hashes and CVE
// ids. Used by `ctihub import --format text|csv`. Thread-safe: the Public
// Suffix List is loaded once and only read afterwards.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ctihub::formats {

// Longest line the extractor looks at; longer lines are rejected by the
// importer as "line_too_long" (a minified blob is not free text).
inline constexpr size_t kMaxTextLineBytes = 1u << 20;

enum class IocType { kIpv4, kIpv6, kDomain, kUrl, kEmail, kMd5, kSha1, kSha256, kSha512, kCve };

// Stable short name: "ipv4", "ipv6", "domain", "url", "email", "md5", "sha1",
// "sha256", "sha512", "cve".
std::string_view IocTypeName(IocType type);

struct Ioc {
  IocType type;
  std::string value;  // normalised: lower-case hosts and hashes, upper-case CVE ids;
                      // an address with a prefix length is a CIDR ("10.0.0.0/8")
  friend bool operator==(const Ioc&, const Ioc&) = default;
};

// The defanged spellings Refang undoes and what they stand for, matched
// case-insensitively; at each position the first that matches wins.
struct DefangSpelling {
  std::string_view from;  // lower case
  std::string_view to;
  bool word_start;  // only where no letter or digit precedes (schemes)
};
inline constexpr std::array<DefangSpelling, 27> kDefangSpellings = {{
    {" [dot] ", ".", false},  {" (dot) ", ".", false},    {" [.] ", ".", false},
    {" [at] ", "@", false},   {" (at) ", "@", false},     {"[dot]", ".", false},
    {"(dot)", ".", false},    {"{dot}", ".", false},      {"[.]", ".", false},
    {"(.)", ".", false},      {"{.}", ".", false},        {"\\.", ".", false},
    {"[://]", "://", false},  {"[:]", ":", false},        {"[/]", "/", false},
    {"[@]", "@", false},      {"(@)", "@", false},        {"[at]", "@", false},
    {"(at)", "@", false},     {"{at}", "@", false},       {"hxxp", "http", true},
    {"hxtp", "http", true},   {"htxp", "http", true},     {"h**p", "http", true},
    {"h[tt]p", "http", true}, {"fxp://", "ftp://", true}, {"fxps://", "ftps://", true},
}};

// Undoes the usual defanging (kDefangSpellings): hxxp/hXXp/hxtp/h**p/fxp
// schemes, [.] (.) {.} [dot] (dot) {dot} \. for dots, [:] [://] [/] for
// separators, [@] (@) [at] (at) {at} for '@'. Never adds or removes newlines.
std::string Refang(std::string_view text);

// True when `name` is a syntactically valid host name whose top-level domain
// is in the Public Suffix List and which is not itself an ICANN public suffix
// ("co.uk"). Case-insensitive. False when the list is not available.
bool IsDomainName(std::string_view name);

// Unavailable when the Public Suffix List
// cannot be loaded (package `publicsuffix`): importers fail closed on it
// rather than treat every word with a dot as a domain.
Status PublicSuffixListStatus();

// The indicators in one line of text, refanged first, each value once, in
// order of first appearance. A URL's host is part of the URL, not extracted
// again as a domain.
std::vector<Ioc> ExtractIocs(std::string_view line);

}  // namespace ctihub::formats
