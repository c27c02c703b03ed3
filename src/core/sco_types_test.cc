#include "core/sco_types.h"

#include <gtest/gtest.h>

#include <set>

namespace ctihub {
namespace {

// STIX 2.1 section 6 defines exactly 18 SCO types, each once.
TEST(ScoTypes, TheEighteenTypesOfSection6) {
  std::set<std::string_view> unique(std::begin(kStixScoTypes), std::end(kStixScoTypes));
  EXPECT_EQ(unique.size(), 18u);
  EXPECT_EQ(std::size(kStixScoTypes), 18u);
  EXPECT_TRUE(IsStixScoType("x509-certificate"));
  EXPECT_TRUE(IsStixScoType("ipv6-addr"));
  EXPECT_FALSE(IsStixScoType("indicator"));      // an SDO
  EXPECT_FALSE(IsStixScoType("x-acme-widget"));  // custom SCOs are not predefined
  EXPECT_FALSE(IsStixScoType("IPV4-ADDR"));      // types are case-sensitive
  EXPECT_FALSE(IsStixScoType(""));
}

}  // namespace
}  // namespace ctihub
