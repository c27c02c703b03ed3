#include "webapi/search.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/utf8.h"

namespace ctihub::webapi {
namespace {

using Words = std::vector<std::string>;

TEST(SearchWords, SplitsOnWhiteSpaceAndKeepsOperatorsAsText) {
  EXPECT_EQ(*SearchWords("evil  example\tcom"), (Words{"evil", "example", "com"}));
  EXPECT_EQ(*SearchWords("\"evil\" OR NEAR(x)"), (Words{"\"evil\"", "OR", "NEAR(x)"}));
  EXPECT_EQ(*SearchWords(""), Words{});
  EXPECT_EQ(*SearchWords("   "), Words{});
  EXPECT_EQ(*SearchWords("café 😀"), (Words{"café", "😀"}));
}

TEST(SearchWords, OnlyPunctuationFindsNothingRatherThanEverything) {
  auto w = SearchWords("\" * ( ) :");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 1u);  // a word without letters: matches nothing in every backend
  EXPECT_EQ(*SearchWords("evil *"), Words{"evil"});
}

TEST(SearchWords, RefusesNulBadUtf8TooLongAndTooManyWords) {
  EXPECT_EQ(SearchWords(std::string("a\0b", 3)).status().name(), "bad_query");
  EXPECT_EQ(SearchWords("\xff\xfe").status().name(), "bad_query");
  EXPECT_TRUE(SearchWords(std::string(kMaxQueryBytes, 'a')).ok());
  EXPECT_EQ(SearchWords(std::string(kMaxQueryBytes + 1, 'a')).status().name(), "bad_query");
  std::string many;
  for (size_t i = 0; i <= kMaxQueryWords; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_EQ(SearchWords(many).status().name(), "bad_query");
}

TEST(Snippet, MarksTheFirstMatchAndStaysValidUtf8) {
  EXPECT_EQ(Snippet("evil alpha\nalpha.evil.example", {"alpha"}),
            "evil [alpha] alpha.evil.example");
  EXPECT_EQ(Snippet("Nothing here", {"zzz"}), "Nothing here");
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "é";  // two bytes each
  long_text += " target ";
  for (int i = 0; i < 100; ++i) long_text += "ü";
  const std::string s = Snippet(long_text, {"TARGET"});
  EXPECT_TRUE(IsValidUtf8(s)) << s;
  EXPECT_NE(s.find("[target]"), std::string::npos);
  EXPECT_LT(s.size(), 200u);
}

}  // namespace
}  // namespace ctihub::webapi
