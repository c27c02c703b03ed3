#include "core/net.h"

#include <gtest/gtest.h>

namespace ctihub::net {
namespace {

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
}  // namespace ctihub::net
