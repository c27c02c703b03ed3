#include "formats/text_extract.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <string_view>

namespace ctihub::formats {
namespace {

// "type:value type:value ..." for a compact table.
std::string Describe(const std::vector<Ioc>& iocs) {
  std::string out;
  for (const Ioc& ioc : iocs) {
    if (!out.empty()) out += ' ';
    out += std::string(IocTypeName(ioc.type)) + ":" + ioc.value;
  }
  return out;
}

struct Case {
  const char* text;
  const char* expected;
};

const std::string kMd5 = "d41d8cd98f00b204e9800998ecf8427e";
const std::string kSha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
const std::string kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Tricky extraction and refanging cases: what an analyst pastes from reports,
// chats and defanged feeds, and the look-alikes that must not be indicators.
const Case kCases[] = {
    // IPv4
    {"seen from 203.0.113.7 today", "ipv4:203.0.113.7"},
    {"203.0.113[.]7", "ipv4:203.0.113.7"},
    {"203[.]0[.]113[.]7", "ipv4:203.0.113.7"},
    {"203(.)0(.)113(.)7", "ipv4:203.0.113.7"},
    {"203{.}0{.}113{.}7", "ipv4:203.0.113.7"},
    {"203[dot]0[dot]113[dot]7", "ipv4:203.0.113.7"},
    {"c2 at 198.51.100.23:8443", "ipv4:198.51.100.23"},
    {"range 10.0.0.0/8 blocked", "ipv4:10.0.0.0/8"},
    {"192.168.1.0[/]24", "ipv4:192.168.1.0/24"},
    {"(198.51.100.1)", "ipv4:198.51.100.1"},
    {"ip=198.51.100.2,", "ipv4:198.51.100.2"},
    {"256.1.1.1 is not an address", ""},
    {"version 1.2.3.4.5 released", ""},
    {"octal-looking 010.1.1.1", ""},
    {"1.2.3 is too short", ""},
    // IPv6
    {"v6 2001:db8::1 seen", "ipv6:2001:db8::1"},
    {"2001:DB8:0:0:8:800:200C:417A", "ipv6:2001:db8:0:0:8:800:200c:417a"},
    {"loopback ::1.", "ipv6:::1"},
    {"prefix 2001:db8::/32", "ipv6:2001:db8::/32"},
    {"link fe80::1ff:fe23:4567:890a", "ipv6:fe80::1ff:fe23:4567:890a"},
    {"at 12:30:45 the job ran", ""},
    {"mac 00:1a:2b:3c:4d:5e", ""},
    {"std::string and ::", ""},
    // domains
    {"evil.com", "domain:evil.com"},
    {"Visit EVIL.Example.ORG now", "domain:evil.example.org"},
    {"evil[.]com", "domain:evil.com"},
    {"evil[dot]co[dot]uk", "domain:evil.co.uk"},
    {"evil (dot) com", "domain:evil.com"},
    {"evil\\.com", "domain:evil.com"},
    {"the end is evil.com.", "domain:evil.com"},
    {"xn--80ak6aa92e.com", "domain:xn--80ak6aa92e.com"},
    {"file.exe", ""},
    {"readme.txt and notes.docx", ""},
    {"co.uk alone is a suffix", ""},
    {"-bad-.com", ""},
    {"under_score.com", ""},
    {"user.github.io", "domain:user.github.io"},
    {"evil.com:8080", "domain:evil.com"},
    {"evil.com/payload.exe", "domain:evil.com"},
    {"single label localhost", ""},
    // URLs
    {"hxxp://evil[.]com/a", "url:http://evil.com/a"},
    {"hXXps://evil[.]com/login?x=1", "url:https://evil.com/login?x=1"},
    {"h**p://198.51.100.5/x.sh", "url:http://198.51.100.5/x.sh"},
    {"http[:]//evil.com/p", "url:http://evil.com/p"},
    {"https[://]evil.com", "url:https://evil.com"},
    {"fxp://files.evil.com/drop", "url:ftp://files.evil.com/drop"},
    {"(see http://evil.com/x)", "url:http://evil.com/x"},
    {"link: http://en.wikipedia.org/wiki/Foo_(bar).", "url:http://en.wikipedia.org/wiki/Foo_(bar)"},
    {"\"https://EVIL.com/Path\"", "url:https://evil.com/Path"},
    {"http://[2001:db8::5]:8080/x", "url:http://[2001:db8::5]:8080/x"},
    {"http://user@evil.com:81/", "url:http://user@evil.com:81/"},
    {"http://not_a_host/x", ""},
    {"javascript://evil.com", "domain:evil.com"},
    {"http://evil.com/a http://evil.com/a", "url:http://evil.com/a"},
    // e-mail
    {"mail bad.guy@evil.com", "email:bad.guy@evil.com"},
    {"bad.guy[@]evil[.]com", "email:bad.guy@evil.com"},
    {"bad.guy [at] evil [dot] com", "email:bad.guy@evil.com"},
    {"bad(at)evil.com", "email:bad@evil.com"},
    {"mailto:Someone@Evil.COM", "email:Someone@evil.com"},
    {"user@localhost", ""},
    {"@handle on social", ""},
    // hashes
    {"md5 D41D8CD98F00B204E9800998ECF8427E", nullptr},
    {"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709", nullptr},
    {"hash=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;", nullptr},
    {"31 hex d41d8cd98f00b204e9800998ecf8427", ""},
    {"33 hex d41d8cd98f00b204e9800998ecf8427ee", ""},
    {"not hex g41d8cd98f00b204e9800998ecf8427e", ""},
    // CVE ids
    {"patched CVE-2021-44228 today", "cve:CVE-2021-44228"},
    {"cve-2017-0144,", "cve:CVE-2017-0144"},
    {"CVE-2023-1234567", "cve:CVE-2023-1234567"},
    {"CVE-21-4422 is malformed", ""},
    // mixed lines
    {"evil.com resolves to 203.0.113.9", "domain:evil.com ipv4:203.0.113.9"},
    {"hxxp://evil[.]com and evil[.]com", "url:http://evil.com domain:evil.com"},
    {"", ""},
    {"   \t  ", ""},
    {"just words, nothing to see.", ""},
};

TEST(TextExtractTest, TableOfTrickyCases) {
  ASSERT_TRUE(PublicSuffixListStatus().ok());
  size_t n = 0;
  for (const Case& c : kCases) {
    if (c.expected == nullptr) continue;  // checked in HashesKeepTheirType
    EXPECT_EQ(Describe(ExtractIocs(c.text)), c.expected) << "input: " << c.text;
    ++n;
  }
  EXPECT_GE(n, 60u);
}

TEST(TextExtractTest, HashesKeepTheirType) {
  EXPECT_EQ(Describe(ExtractIocs("md5 D41D8CD98F00B204E9800998ECF8427E")), "md5:" + kMd5);
  EXPECT_EQ(Describe(ExtractIocs("sha1:" + kSha1)), "sha1:" + kSha1);
  EXPECT_EQ(Describe(ExtractIocs("hash=" + kSha256 + ";")), "sha256:" + kSha256);
  std::string sha512 = kSha256 + kSha256;
  EXPECT_EQ(Describe(ExtractIocs(sha512)), "sha512:" + sha512);
}

TEST(TextExtractTest, RefangKeepsLinesAndPlainText) {
  EXPECT_EQ(Refang("a[.]b\nhxxp://c(.)d"), "a.b\nhttp://c.d");
  EXPECT_EQ(Refang("plain text, no change."), "plain text, no change.");
  // A scheme spelling inside a word is left alone.
  EXPECT_EQ(Refang("xhxxp"), "xhxxp");
}

// The straightforward Refang the fast one replaced (every spelling of the
// shared table tried at every byte, case-insensitively, first match wins):
// both must agree on any text, including spellings that touch, overlap, start
// a line or follow a replacement.
std::string ReferenceRefang(std::string_view text) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  auto alnum = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    for (const DefangSpelling& s : kDefangSpellings) {
      if (s.word_start && i > 0 && alnum(text[i - 1])) continue;
      if (text.size() - i < s.from.size()) continue;
      bool match = true;
      for (size_t k = 0; k < s.from.size() && match; ++k) match = lower(text[i + k]) == s.from[k];
      if (!match) continue;
      out += s.to;
      i += s.from.size();
      replaced = true;
      break;
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

TEST(TextExtractTest, RefangAgreesWithTheReferenceOnRandomText) {
  // Whole spellings and their fragments, so that spellings touch and overlap.
  static constexpr std::array<std::string_view, 32> kPieces = {
      " ",     "  ",      "[",       "]",   "(",     ")",    "{",      "}",
      ".",     "dot",     "DOT",     "at",  "hxxp",  "HXXP", "h**p",   "fxp://",
      "x",     "ab",      "\\",      ":",   "/",     "@",    "h[tt]p", "tt",
      "[dot]", " [dot] ", " (DOT) ", "[.]", " [.] ", "(at)", " [at] ", "[://]"};
  std::mt19937 rng(20261207);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const size_t n = rng() % 12;
    for (size_t k = 0; k < n; ++k) text += kPieces[rng() % kPieces.size()];
    ASSERT_EQ(Refang(text), ReferenceRefang(text)) << "text: '" << text << "'";
  }
}

TEST(TextExtractTest, DomainNamesNeedAKnownSuffix) {
  EXPECT_TRUE(IsDomainName("example.com"));
  EXPECT_TRUE(IsDomainName("EXAMPLE.CO.UK"));
  EXPECT_FALSE(IsDomainName("setup.exe"));
  EXPECT_FALSE(IsDomainName("co.uk"));
  EXPECT_FALSE(IsDomainName("1.2.3.4"));
  EXPECT_FALSE(IsDomainName(std::string(64, 'a') + ".com"));
}

TEST(TextExtractTest, OverlongLineIsCutNotCrashed) {
  std::string line(kMaxTextLineBytes + 100, 'a');
  line.replace(10, 8, " a.com  ");
  EXPECT_EQ(Describe(ExtractIocs(line)), "domain:a.com");
}

}  // namespace
}  // namespace ctihub::formats
