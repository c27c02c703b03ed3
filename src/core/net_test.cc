#include "core/net.h"

#include <gtest/gtest.h>

namespace ctihub::net {
namespace {

IpPrefix Parse(std::string_view s) {
  IpPrefix p;
  EXPECT_TRUE(ParseIpPrefix(s, &p)) << s;
  return p;
}

TEST(Net, ParsesIpv4AddressesAndBlocks) {
  IpPrefix p = Parse("10.1.2.3");
  EXPECT_FALSE(p.v6);
  EXPECT_EQ(p.bits, 32);
  EXPECT_EQ(p.addr[0], 10);
  EXPECT_EQ(p.addr[3], 3);
  EXPECT_EQ(Parse("10.0.0.0/8").bits, 8);
  EXPECT_EQ(Parse("0.0.0.0/0").bits, 0);
  EXPECT_TRUE(IsIpv4AddressOrCidr("255.255.255.255/32"));
  EXPECT_FALSE(IsIpv6AddressOrCidr("192.168.0.1"));
}

TEST(Net, ParsesIpv6TextForms) {
  IpPrefix p = Parse("2001:db8::/32");
  EXPECT_TRUE(p.v6);
  EXPECT_EQ(p.bits, 32);
  EXPECT_EQ(p.addr[0], 0x20);
  EXPECT_EQ(p.addr[1], 0x01);
  EXPECT_EQ(Parse("::").bits, 128);
  IpPrefix mapped = Parse("::ffff:192.0.2.1");
  EXPECT_EQ(mapped.addr[10], 0xff);
  EXPECT_EQ(mapped.addr[12], 192);
  EXPECT_TRUE(IsIpv6AddressOrCidr("fe80::1:2:3:4/64"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("::1"));
}

TEST(Net, RejectsMalformedAddresses) {
  IpPrefix p;
  for (std::string_view bad :
       {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/x",
        "1.2.3.4/0032", "1.2.3.4/08", " 1.2.3.4", "example.org", "2001:db8::/129", "1::2::3",
        "fe80::1%eth0", "12345::", ":::", "1.2.3.4/8/8", "::ffff:1.2.3"}) {
    EXPECT_FALSE(ParseIpPrefix(bad, &p)) << bad;
  }
}

TEST(Net, PrefixContainment) {
  EXPECT_TRUE(PrefixContains(Parse("10.0.0.0/8"), Parse("10.20.30.40")));
  EXPECT_TRUE(PrefixContains(Parse("10.0.0.0/9"), Parse("10.127.0.0/16")));
  EXPECT_FALSE(PrefixContains(Parse("10.0.0.0/9"), Parse("10.128.0.0/16")));
  EXPECT_FALSE(PrefixContains(Parse("10.0.0.0/16"), Parse("10.0.0.0/8")));
  EXPECT_FALSE(PrefixContains(Parse("::/0"), Parse("10.0.0.1")));
  EXPECT_TRUE(PrefixContains(Parse("2001:db8::/32"), Parse("2001:db8:ffff::1")));
}

TEST(NetTest, Ipv4) {
  EXPECT_TRUE(IsIpv4AddressOrCidr("198.51.100.3"));
  EXPECT_TRUE(IsIpv4AddressOrCidr("10.0.0.0/8"));
  EXPECT_TRUE(IsIpv4AddressOrCidr("0.0.0.0/0"));
  EXPECT_TRUE(IsIpv4AddressOrCidr("10.0.0.0/32"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("10.0.0.0/33"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("10.0.0.0/"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("10.0.0.0/08"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("256.0.0.1"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("1.2.3"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("1.2.3.4.5"));
  EXPECT_FALSE(IsIpv4AddressOrCidr("::1"));
  EXPECT_FALSE(IsIpv4AddressOrCidr(""));
  EXPECT_FALSE(IsIpv4AddressOrCidr("1.2.3.4 "));
  EXPECT_FALSE(IsIpv4AddressOrCidr(std::string_view("1.2.3.4\0", 8)));
}

TEST(NetTest, Ipv6) {
  EXPECT_TRUE(IsIpv6AddressOrCidr("2001:db8::1"));
  EXPECT_TRUE(IsIpv6AddressOrCidr("::"));
  EXPECT_TRUE(IsIpv6AddressOrCidr("::ffff:192.0.2.1"));
  EXPECT_TRUE(IsIpv6AddressOrCidr("2001:db8::/32"));
  EXPECT_TRUE(IsIpv6AddressOrCidr("2001:db8::/128"));
  EXPECT_FALSE(IsIpv6AddressOrCidr("2001:db8::/129"));
  EXPECT_FALSE(IsIpv6AddressOrCidr("1:::::::::::.."));  // passed the old character-class check
  EXPECT_FALSE(IsIpv6AddressOrCidr("2001:db8:::1"));
  EXPECT_FALSE(IsIpv6AddressOrCidr("198.51.100.3"));
  EXPECT_FALSE(IsIpv6AddressOrCidr("g::1"));
  EXPECT_FALSE(IsIpv6AddressOrCidr(std::string(100, ':')));
}

}  // namespace
// The cases the pattern parser's own IP parser was tested with, before it went.
TEST(NetTest, PrefixesFromPatternLiterals) {
  IpPrefix a, b;
  ASSERT_TRUE(ParseIpPrefix("10.0.0.0/8", &a));
  ASSERT_TRUE(ParseIpPrefix("10.200.1.1", &b));
  EXPECT_TRUE(PrefixContains(a, b));
  EXPECT_FALSE(PrefixContains(b, a));
  ASSERT_TRUE(ParseIpPrefix("2001:db8::/32", &a));
  ASSERT_TRUE(ParseIpPrefix("2001:db8:0:0:1::ffff", &b));
  EXPECT_TRUE(PrefixContains(a, b));
  ASSERT_TRUE(ParseIpPrefix("::ffff:1.2.3.4", &b));
  EXPECT_TRUE(b.v6);
  // Regression (fuzz/pattern_parse): an IPv4 tail holding ':' recursed forever.
  EXPECT_FALSE(ParseIpPrefix("10.0,[file:me = 'x'0>0/8", &a));
  EXPECT_FALSE(ParseIpPrefix("1:2.3.4.5:6", &a));
  for (const char* bad :
       {"1.2.3", "1.2.3.256", "1.2.3.4/33", "::1::2", "2001:db8::/129", "abc", "1.2.3.4/"})
    EXPECT_FALSE(ParseIpPrefix(bad, &a)) << bad;
}

}  // namespace ctihub::net
