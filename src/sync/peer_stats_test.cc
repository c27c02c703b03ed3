#include "sync/peer_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ctihub::sync {
namespace {

namespace fs = std::filesystem;

class PeerStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("peer_stats_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PeerStatsTest, NeverRunIsZeros) {
  auto s = LoadPeerStats(dir_, "vendor");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->passes, 0);
  EXPECT_EQ(s->last_pass, "");
  EXPECT_FALSE(fs::exists(PeerStatsPath(dir_, "vendor")));
}

TEST_F(PeerStatsTest, PassesAddUpAndKeepTheLastSuccessThroughAFailure) {
  PassCounts first;
  first.pulled = 10;
  first.stored = 7;
  first.refused = 3;
  first.pushed = 4;
  ASSERT_TRUE(RecordPass(dir_, "vendor", first, "2026-12-06T08:00:00Z").ok());
  PassCounts second;
  second.ok = false;
  second.error = "unavailable: connection refused";
  second.pulled = 2;
  second.stored = 2;
  second.push_failed = 1;
  ASSERT_TRUE(RecordPass(dir_, "vendor", second, "2026-12-06T08:05:00Z").ok());

  auto s = LoadPeerStats(dir_, "vendor");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->passes, 2);
  EXPECT_EQ(s->failed, 1);
  EXPECT_EQ(s->pulled, 12);
  EXPECT_EQ(s->stored, 9);
  EXPECT_EQ(s->refused, 3);
  EXPECT_EQ(s->pushed, 4);
  EXPECT_EQ(s->push_failed, 1);
  EXPECT_EQ(s->last_pass, "2026-12-06T08:05:00Z");
  EXPECT_EQ(s->last_success, "2026-12-06T08:00:00Z");
  EXPECT_EQ(s->last_error, "unavailable: connection refused");

  // A later success clears the error and moves last_success.
  ASSERT_TRUE(RecordPass(dir_, "vendor", PassCounts{}, "2026-12-06T08:10:00Z").ok());
  s = LoadPeerStats(dir_, "vendor");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->last_success, "2026-12-06T08:10:00Z");
  EXPECT_EQ(s->last_error, "");
  EXPECT_EQ(s->passes, 3);
}

TEST_F(PeerStatsTest, PeersHaveTheirOwnFiles) {
  PassCounts p;
  p.pulled = 5;
  ASSERT_TRUE(RecordPass(dir_, "vendor", p, "2026-12-06T08:00:00Z").ok());
  auto other = LoadPeerStats(dir_, "police");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->pulled, 0);
}

TEST_F(PeerStatsTest, ADamagedFileIsAnErrorNotAReset) {
  fs::create_directories(fs::path(dir_) / "sync");
  for (const char* text : {"not json", R"({"passes":1})", R"({"passes":-1,"failed":0,"pulled":0,
      "stored":0,"refused":0,"pushed":0,"push_failed":0,"sightings_back":0,"last_pass":"","last_success":"",
      "last_error":"","witness_acknowledged_seq":0,"witness_acknowledged_at":"",
      "witness_held_seq":0})"}) {
    std::ofstream(PeerStatsPath(dir_, "vendor"), std::ios::trunc) << text;
    auto s = LoadPeerStats(dir_, "vendor");
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().name(), "bad_stats_file") << text;
    // Recording on top of it fails too, leaving the file for the operator.
    EXPECT_FALSE(RecordPass(dir_, "vendor", PassCounts{}, "2026-12-06T08:00:00Z").ok());
  }
}

TEST_F(PeerStatsTest, TheWitnessExchangeKeepsItsNewestAcknowledgement) {
  PassCounts p;
  p.witness_acknowledged_seq = 12;
  p.witness_held_seq = 30;
  ASSERT_TRUE(RecordPass(dir_, "vendor", p, "2026-12-06T08:00:00Z").ok());
  // A pass without an exchange (the peer was down) keeps the last one.
  PassCounts down;
  down.ok = false;
  down.error = "unavailable";
  ASSERT_TRUE(RecordPass(dir_, "vendor", down, "2026-12-06T08:05:00Z").ok());
  auto s = LoadPeerStats(dir_, "vendor");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->witness_acknowledged_seq, 12);
  EXPECT_EQ(s->witness_acknowledged_at, "2026-12-06T08:00:00Z");
  EXPECT_EQ(s->witness_held_seq, 30);
}

TEST_F(PeerStatsTest, ALongErrorIsCut) {
  PassCounts p;
  p.ok = false;
  p.error = std::string(5000, 'x');
  ASSERT_TRUE(RecordPass(dir_, "vendor", p, "2026-12-06T08:00:00Z").ok());
  auto s = LoadPeerStats(dir_, "vendor");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->last_error.size(), 512u);
}

}  // namespace
}  // namespace ctihub::sync
