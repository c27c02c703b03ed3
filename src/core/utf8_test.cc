#include "core/utf8.h"

#include <gtest/gtest.h>

namespace ctihub {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
}

TEST(Utf8, RejectsOverlongSurrogateOutOfRangeAndTruncated) {
  for (std::string_view bad :
       {"\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xF0\x80\x80\xAF", "\xED\xA0\x80",
        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80", "\xC3", "\xE2\x82", "a\xFFz"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << testing::PrintToString(bad);
  }
}

TEST(Utf8, DecodesCodePoints) {
  std::u32string cps;
  ASSERT_TRUE(DecodeUtf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", &cps));
  EXPECT_EQ(cps, (std::u32string{U'a', 0xE9, 0x20AC, 0x1F600}));
  EXPECT_FALSE(DecodeUtf8("a\xED\xA0\x80", &cps));
}

TEST(Utf8, NextCodePointLeavesPositionOnError) {
  size_t i = 1;
  char32_t cp = 0;
  EXPECT_FALSE(NextCodePoint("a\xC3", &i, &cp));
  EXPECT_EQ(i, 1u);
  std::string_view s = "\xC3\xA9!";
  i = 0;
  ASSERT_TRUE(NextCodePoint(s, &i, &cp));
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(i, 2u);
}

TEST(Utf8, RepairReplacesEachBadByte) {
  EXPECT_EQ(ToValidUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(ToValidUtf8("a\xFF\xC3z"), "a\xEF\xBF\xBD\xEF\xBF\xBDz");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xED\xA0\x80\xF4\x90")));
}

}  // namespace
}  // namespace ctihub
