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

using PushCursorTest = PullCursorTest;

constexpr int64_t kT1 = 1'796'000'000'000'001;  // 2026-12-01..., microseconds
constexpr int64_t kT2 = 1'796'000'000'500'002;

TEST_F(PushCursorTest, NoFileStartsFromTheBeginning) {
  auto c = PushCursor::Load(dir_, "police", "http://b/taxii2/", "c1", "shared");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->date_added_us(), 0);
  EXPECT_EQ(c->path(), (fs::path(dir_) / "sync" / "police.push-cursor").string());
}

TEST_F(PushCursorTest, AdvancesOnlyForwardAndSurvivesAReload) {
  {
    auto c = PushCursor::Load(dir_, "police", "http://b/", "c1", "shared");
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->Advance(kT2));
    EXPECT_FALSE(c->Advance(kT1));  // never back
    EXPECT_FALSE(c->Advance(kT2));  // same: no move
    EXPECT_FALSE(c->Advance(0));
    EXPECT_EQ(c->date_added_us(), kT2);
    ASSERT_TRUE(c->Save().ok());
    EXPECT_FALSE(fs::exists(c->path() + ".tmp"));
  }
  auto again = PushCursor::Load(dir_, "police", "http://b/", "c1", "shared");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->date_added_us(), kT2);  // exact to the microsecond
  // The pull cursor of the same peer is another file.
  auto pull = PullCursor::Load(dir_, "police", "http://b/", "c1");
  ASSERT_TRUE(pull.ok());
  EXPECT_EQ(pull->added_after(), "");
}

TEST_F(PushCursorTest, TheSightingsBackCursorIsItsOwnFile) {
  auto push = PushCursor::Load(dir_, "vendor", "http://v/", "c1", "shared");
  ASSERT_TRUE(push.ok());
  ASSERT_TRUE(push->Advance(kT2));
  ASSERT_TRUE(push->Save().ok());
  auto back = PushCursor::Load(dir_, "vendor", "http://v/", "c1", "shared",
                               PushCursor::Kind::kSightingsBack);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->path(), (fs::path(dir_) / "sync" / "vendor.sightings-cursor").string());
  EXPECT_EQ(back->date_added_us(), 0);  // not moved by the push cursor
  ASSERT_TRUE(back->Advance(kT1));
  ASSERT_TRUE(back->Save().ok());
  auto again = PushCursor::Load(dir_, "vendor", "http://v/", "c1", "shared",
                                PushCursor::Kind::kSightingsBack);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->date_added_us(), kT1);
  auto push_again = PushCursor::Load(dir_, "vendor", "http://v/", "c1", "shared");
  ASSERT_TRUE(push_again.ok());
  EXPECT_EQ(push_again->date_added_us(), kT2);
}

TEST_F(PushCursorTest, AdvancedButUnsavedIsNotDurable) {
  {
    auto c = PushCursor::Load(dir_, "police", "http://b/", "c1", "shared");
    ASSERT_TRUE(c->Advance(kT1));
    ASSERT_TRUE(c->Save().ok());
    ASSERT_TRUE(c->Advance(kT2));  // a crash (or a POST never reported complete) before Save
  }
  EXPECT_EQ(PushCursor::Load(dir_, "police", "http://b/", "c1", "shared")->date_added_us(), kT1);
}

TEST_F(PushCursorTest, AnotherUrlOrCollectionStartsAgain) {
  auto c = PushCursor::Load(dir_, "police", "http://b/", "c1", "shared");
  ASSERT_TRUE(c->Advance(kT1));
  ASSERT_TRUE(c->Save().ok());
  EXPECT_EQ(PushCursor::Load(dir_, "police", "http://x/", "c1", "shared")->date_added_us(), 0);
  EXPECT_EQ(PushCursor::Load(dir_, "police", "http://b/", "c2", "shared")->date_added_us(), 0);
  EXPECT_EQ(PushCursor::Load(dir_, "police", "http://b/", "c1", "other")->date_added_us(), 0);
  EXPECT_EQ(PushCursor::Load(dir_, "vendor", "http://b/", "c1", "shared")->date_added_us(), 0);
  EXPECT_EQ(PushCursor::Load(dir_, "police", "http://b/", "c1", "shared")->date_added_us(), kT1);
}

TEST_F(PushCursorTest, DamagedFileIsAnErrorNotAFreshStart) {
  fs::create_directories(fs::path(dir_) / "sync");
  for (const char* text :
       {"", "{not json", "{\"url\":\"http://b/\",\"collection\":\"c1\"}",
        "{\"url\":\"http://b/\",\"collection\":\"c1\",\"local_collection\":\"shared\","
        "\"date_added\":\"soon\"}",
        "{\"url\":\"http://b/\",\"collection\":\"c1\",\"local_collection\":\"shared\","
        "\"date_added\":7}"}) {
    std::ofstream(fs::path(dir_) / "sync" / "police.push-cursor") << text;
    auto c = PushCursor::Load(dir_, "police", "http://b/", "c1", "shared");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().name(), "bad_cursor_file");
  }
}

}  // namespace
}  // namespace ctihub::sync
