#include "taxii_client/pager.h"

#include <gtest/gtest.h>

namespace ctihub::taxii_client {
namespace {

PageFacts Page(std::vector<std::string> ids, bool more, std::string next = "",
               std::string first = "", std::string last = "") {
  std::vector<std::pair<std::string, std::string>> items;
  for (auto& id : ids) items.emplace_back(id, "v");
  return {more,         std::move(next), std::move(first), std::move(last), PageFingerprint(items),
          items.empty()};
}

std::string Param(const std::vector<std::pair<std::string, std::string>>& params,
                  const std::string& key) {
  for (const auto& [k, v] : params)
    if (k == key) return v;
  return "<none>";
}

constexpr const char* kT1 = "2024-01-01T00:00:01.000000Z";
constexpr const char* kT2 = "2024-01-01T00:00:02.000000Z";
constexpr const char* kT3 = "2024-01-01T00:00:03.000000Z";
constexpr const char* kT4 = "2024-01-01T00:00:04.000000Z";

TEST(Pager, FollowsNextKeepingTheFirstFilters) {
  Pager pager({kT1, 2, {{"match[type]", "indicator"}}}, 100);
  auto p1 = pager.NextParams();
  EXPECT_EQ(Param(p1, "added_after"), kT1);
  EXPECT_EQ(Param(p1, "limit"), "2");
  EXPECT_EQ(Param(p1, "next"), "<none>");
  ASSERT_TRUE(pager.Accept(Page({"a", "b"}, true, "n1", kT2, kT3)).ok());
  auto p2 = pager.NextParams();
  EXPECT_EQ(Param(p2, "next"), "n1");
  EXPECT_EQ(Param(p2, "added_after"), kT1);  // unchanged beside next
  EXPECT_EQ(Param(p2, "match[type]"), "indicator");
  ASSERT_TRUE(pager.Accept(Page({"c"}, false, "", kT4, kT4)).ok());
  EXPECT_TRUE(pager.done());
  EXPECT_EQ(pager.last_date_added(), kT4);
}

TEST(Pager, MoreWithoutNextMovesAddedAfter) {
  Pager pager({"", 0, {}}, 100);
  EXPECT_EQ(Param(pager.NextParams(), "added_after"), "<none>");
  ASSERT_TRUE(pager.Accept(Page({"a"}, true, "", kT1, kT2)).ok());
  EXPECT_EQ(Param(pager.NextParams(), "added_after"), kT2);
  EXPECT_EQ(Param(pager.NextParams(), "next"), "<none>");
  ASSERT_TRUE(pager.Accept(Page({"b"}, false, "", kT3, kT3)).ok());
  EXPECT_TRUE(pager.done());
}

TEST(Pager, MoreWithoutAnyCursorIsAnError) {
  Pager pager({"", 0, {}}, 100);
  EXPECT_EQ(pager.Accept(Page({"a"}, true)).name(), "more_without_cursor");
}

TEST(Pager, IgnoredAddedAfterIsDetected) {
  Pager pager({"", 0, {}}, 100);
  ASSERT_TRUE(pager.Accept(Page({"a"}, true, "", kT1, kT2)).ok());
  // Asked for added_after=kT2, the server starts at kT1 again.
  EXPECT_EQ(pager.Accept(Page({"a"}, true, "", kT1, kT2)).name(), "added_after_ignored");
}

TEST(Pager, RepeatedPageIsDetectedWithoutHeaders) {
  Pager pager({"", 0, {}}, 100);
  ASSERT_TRUE(pager.Accept(Page({"a", "b"}, true, "n1")).ok());
  EXPECT_EQ(pager.Accept(Page({"a", "b"}, true, "n2")).name(), "page_repeated");
}

TEST(Pager, RepeatedNextIsDetectedOnEmptyPages) {
  Pager pager({"", 0, {}}, 100);
  ASSERT_TRUE(pager.Accept(Page({}, true, "n1")).ok());
  ASSERT_TRUE(pager.Accept(Page({}, true, "n2")).ok());  // empty pages may carry on
  EXPECT_EQ(pager.Accept(Page({}, true, "n1")).name(), "next_repeated");
}

TEST(Pager, CursorMustAdvance) {
  Pager pager({kT2, 0, {}}, 100);
  EXPECT_EQ(pager.Accept(Page({}, true, "", "", kT2)).name(), "cursor_not_advancing");
}

TEST(Pager, PagesMustNotGoBack) {
  Pager pager({"", 0, {}}, 100);
  ASSERT_TRUE(pager.Accept(Page({"a"}, true, "n1", kT2, kT3)).ok());
  EXPECT_EQ(pager.Accept(Page({"b"}, true, "n2", kT1, kT4)).name(), "page_went_back");
}

TEST(Pager, PageLimit) {
  Pager pager({"", 0, {}}, 2);
  ASSERT_TRUE(pager.Accept(Page({"a"}, true, "n1")).ok());
  EXPECT_EQ(pager.Accept(Page({"b"}, true, "n2")).name(), "too_many_pages");
}

TEST(Pager, BadHeaderIsAnError) {
  Pager pager({"", 0, {}}, 10);
  EXPECT_EQ(pager.Accept(Page({"a"}, true, "n", "yesterday", kT1)).name(), "bad_response");
}

}  // namespace
}  // namespace ctihub::taxii_client
