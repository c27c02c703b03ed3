#include "taxii_client/url.h"

#include <gtest/gtest.h>

namespace ctihub::taxii_client {
namespace {

TEST(Url, ParsesParts) {
  auto u = ParseUrl("HTTPS://Hub.Example:8443/taxii2/?a=b#frag");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "hub.example");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->path, "/taxii2/");
  EXPECT_EQ(u->query, "a=b");
  EXPECT_EQ(u->ToString(), "https://hub.example:8443/taxii2/?a=b");
  EXPECT_EQ(u->HostHeader(), "hub.example:8443");
}

TEST(Url, DefaultPortsAndIpv6) {
  auto u = ParseUrl("http://127.0.0.1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->HostHeader(), "127.0.0.1");
  auto v = ParseUrl("https://[::1]:9000/x");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "::1");
  EXPECT_EQ(v->HostHeader(), "[::1]:9000");
}

TEST(Url, SchemeRelativeReferenceWithAColonInTheHostIsRejected) {
  auto base = ParseUrl("https://hub.example:8443/taxii2/");
  ASSERT_TRUE(base.ok());
  EXPECT_FALSE(ResolveUrl(*base, "//other\"x\":\"c\",\"a\":[\"a\"]:1/").ok());
  auto ok = ResolveUrl(*base, "//other-hub.example:9443/api/");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ParseUrl(ok->ToString())->ToString(), ok->ToString());
}

TEST(Url, RejectsBadUrls) {
  for (const char* bad :
       {"ftp://x/", "https://", "https://user:pw@host/", "https://h:0/", "https://h:70000/",
        "https://h:1x/", "https://h/a b", "/relative", "https://[::1/",
        // A host is a name or a bracketed IPv6 address: a ':' or quote in a name
        // would read back differently (found by taxii_client_response_fuzz).
        "https://a\"b:c/", "https://[not-v6]/", "https://h\xf6st/", "https://a,b/"}) {
    auto u = ParseUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    if (!u.ok()) {
      EXPECT_EQ(u.status().name(), "bad_url") << bad;
    }
  }
  // User info is refused without echoing more than the URL itself.
  EXPECT_NE(ParseUrl("https://u:secret@h/").status().message().find("user info"),
            std::string::npos);
}

TEST(Url, ResolvesApiRootForms) {
  auto base = ParseUrl("https://hub:8443/taxii2/");
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(ResolveUrl(*base, "/api1/")->ToString(), "https://hub:8443/api1/");
  EXPECT_EQ(ResolveUrl(*base, "api1/")->ToString(), "https://hub:8443/taxii2/api1/");
  EXPECT_EQ(ResolveUrl(*base, "../api1/")->ToString(), "https://hub:8443/api1/");
  EXPECT_EQ(ResolveUrl(*base, "https://other/api1/")->ToString(), "https://other/api1/");
  EXPECT_EQ(ResolveUrl(*base, "//other:1/r/")->ToString(), "https://other:1/r/");
  EXPECT_EQ(ResolveUrl(*base, "x?next=1")->ToString(), "https://hub:8443/taxii2/x?next=1");
  EXPECT_FALSE(ResolveUrl(*base, "mailto:x").ok());
}

TEST(Url, TrailingSlashAndQuery) {
  auto u = ParseUrl("http://h/api1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(WithTrailingSlash(*u).path, "/api1/");
  EXPECT_EQ(WithTrailingSlash(WithTrailingSlash(*u)).path, "/api1/");
  EXPECT_EQ(BuildQuery({{"added_after", "2024-01-01T00:00:00.000Z"}, {"match[type]", "a b"}}),
            "added_after=2024-01-01T00%3A00%3A00.000Z&match%5Btype%5D=a%20b");
  EXPECT_EQ(PercentEncode("a-._~Z9/?&="), "a-._~Z9%2F%3F%26%3D");
}

}  // namespace
}  // namespace ctihub::taxii_client
