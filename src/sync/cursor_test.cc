#include "sync/cursor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ctihub::sync {
namespace {

namespace fs = std::filesystem;

class PullCursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("cursor_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PullCursorTest, NoFileStartsFromTheBeginning) {
  auto c = PullCursor::Load(dir_, "vendor", "http://a/taxii2/", "c1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->added_after(), "");
}

TEST_F(PullCursorTest, AdvancesOnlyForward) {
  auto c = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(*c->Advance("2026-12-05T10:00:00.000002Z"));
  EXPECT_FALSE(*c->Advance("2026-12-05T10:00:00.000001Z"));  // never back
  EXPECT_FALSE(*c->Advance("2026-12-05T10:00:00.000002Z"));  // same: no move
  EXPECT_FALSE(*c->Advance(""));                             // a page without the header
  EXPECT_EQ(c->added_after(), "2026-12-05T10:00:00.000002Z");
  EXPECT_TRUE(*c->Advance("2026-12-05T10:00:01Z"));
  EXPECT_EQ(c->added_after(), "2026-12-05T10:00:01Z");
}

TEST_F(PullCursorTest, GarbageHeaderIsAnErrorAndMovesNothing) {
  auto c = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(*c->Advance("2026-12-05T10:00:00Z"));
  auto r = c->Advance("yesterday");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().name(), "bad_cursor");
  EXPECT_EQ(c->added_after(), "2026-12-05T10:00:00Z");
}

TEST_F(PullCursorTest, SavedCursorIsLoadedAgain) {
  {
    auto c = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(*c->Advance("2026-12-05T10:00:00.5Z"));
    ASSERT_TRUE(c->Save().ok());
  }
  auto again = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added_after(), "2026-12-05T10:00:00.5Z");
  auto other_peer = PullCursor::Load(dir_, "police", "http://a/", "c1");
  ASSERT_TRUE(other_peer.ok());
  EXPECT_EQ(other_peer->added_after(), "");
  EXPECT_FALSE(fs::exists(again->path() + ".tmp"));
}

TEST_F(PullCursorTest, AdvancedButUnsavedIsNotDurable) {
  {
    auto c = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
    ASSERT_TRUE(c->Advance("2026-12-05T10:00:00Z").ok());
    ASSERT_TRUE(c->Save().ok());
    ASSERT_TRUE(*c->Advance("2026-12-05T11:00:00Z"));  // a crash before Save
  }
  auto again = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
  EXPECT_EQ(again->added_after(), "2026-12-05T10:00:00Z");
}

TEST_F(PullCursorTest, AnotherUrlOrCollectionStartsAgain) {
  auto c = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
  ASSERT_TRUE(c->Advance("2026-12-05T10:00:00Z").ok());
  ASSERT_TRUE(c->Save().ok());
  EXPECT_EQ(PullCursor::Load(dir_, "vendor", "http://b/", "c1")->added_after(), "");
  EXPECT_EQ(PullCursor::Load(dir_, "vendor", "http://a/", "c2")->added_after(), "");
  EXPECT_EQ(PullCursor::Load(dir_, "vendor", "http://a/", "c1")->added_after(),
            "2026-12-05T10:00:00Z");
}

TEST_F(PullCursorTest, DamagedFileIsAnErrorNotAFreshStart) {
  fs::create_directories(fs::path(dir_) / "sync");
  for (const char* text : {"{not json", "{\"url\":\"http://a/\"}",
                           "{\"url\":\"http://a/\",\"collection\":\"c1\",\"added_after\":\"x\"}"}) {
    std::ofstream(fs::path(dir_) / "sync" / "vendor.cursor") << text;
    auto c = PullCursor::Load(dir_, "vendor", "http://a/", "c1");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().name(), "bad_cursor_file");
  }
}

}  // namespace
}  // namespace ctihub::sync
