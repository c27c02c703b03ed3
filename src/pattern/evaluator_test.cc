#include "pattern/evaluator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace ctihub::pattern {
namespace {

std::string Beacons(int n, int step_seconds, int per = 1) {
  std::string j = "[";
  for (int i = 0; i < n; ++i) {
    if (i) j += ",";
    int s = i * step_seconds;
    char ts[64];
    std::snprintf(ts, sizeof ts, "2022-01-01T%02d:%02d:%02dZ", s / 3600, s / 60 % 60, s % 60);
    j += std::string(R"({"type":"observed-data","id":"observed-data--)") + std::to_string(i) +
         R"(","first_observed":")" + ts + R"(","last_observed":")" + ts +
         R"(","number_observed":)" + std::to_string(per) + R"(,"object_refs":["file--)" +
         std::to_string(i) + R"("]},)" + R"({"type":"file","id":"file--)" + std::to_string(i) +
         R"(","name":")" + (i % 2 ? "b" : "a") + R"("})";
  }
  return j + "]";
}

Result<MatchResult> RunPattern(const std::string& pattern, const std::string& data) {
  auto cp = CompiledPattern::Compile(pattern);
  if (!cp.ok()) return cp.status();
  ObservationSet set;
  Status st = set.LoadText(data, StixVersion::k21);
  if (!st.ok()) return st;
  return (*cp)->Match(set.observations());
}

TEST(PatternEvaluator, RepeatsWithinIsFastOnManyObservations) {
  // The reference matcher enumerates combinations here; we must not.
  std::string data = Beacons(2000, 1);
  auto t0 = std::chrono::steady_clock::now();
  auto r =
      RunPattern("[file:name = 'a' OR file:name = 'b'] REPEATS 10 TIMES WITHIN 8 SECONDS", data);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->matched);  // only 9 observations fit in any 8-second window
  r = RunPattern("[file:name = 'a' OR file:name = 'b'] REPEATS 10 TIMES WITHIN 9 SECONDS", data);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->matched);
  EXPECT_EQ(r->bindings.size(), 10u);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 5000);
}

TEST(PatternEvaluator, FollowedByWithinOverAWindow) {
  std::string data = Beacons(1000, 1);
  auto r = RunPattern("([file:name = 'a'] FOLLOWEDBY [file:name = 'b']) WITHIN 1 SECONDS", data);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->matched);
  EXPECT_EQ(r->bindings, (std::vector<size_t>{0, 2}));
  r = RunPattern("([file:name = 'b'] FOLLOWEDBY [file:name = 'zzz']) WITHIN 1 SECONDS", data);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->matched);
}

TEST(PatternEvaluator, NumberObservedCountsForRepeats) {
  auto r = RunPattern("[file:name = 'a'] REPEATS 5 TIMES", Beacons(1, 1, 5));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->matched);
  r = RunPattern("[file:name = 'a'] REPEATS 6 TIMES", Beacons(1, 1, 5));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->matched);
}

TEST(PatternEvaluator, HugeRepeatsAnswerQuickly) {
  auto r = RunPattern("[file:name = 'a'] REPEATS 1000000 TIMES", Beacons(100, 1, 3));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->matched);
}

TEST(PatternEvaluator, CatastrophicRegexIsBounded) {
  std::string data =
      R"([{"type":"observed-data","id":"observed-data--1","first_observed":"2020-01-01T00:00:00Z",
    "last_observed":"2020-01-01T00:00:00Z","number_observed":1,"object_refs":["x--1"]},
    {"type":"x","id":"x--1","v":")" +
      std::string(40, 'a') + R"(!"}])";
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunPattern("[x:v MATCHES '^(a+)+$']", data);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->matched);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_LT(ms, 5000);
}

TEST(PatternEvaluator, InvalidObservedData) {
  EXPECT_FALSE(RunPattern("[a:b = 1]", "{").ok());
  EXPECT_FALSE(RunPattern("[a:b = 1]", "42").ok());
  EXPECT_FALSE(
      RunPattern(
          "[a:b = 1]",
          R"([{"type":"observed-data","first_observed":"x","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"object_refs":[]}])")
          .ok());
  EXPECT_FALSE(
      RunPattern(
          "[a:b = 1]",
          R"([{"type":"observed-data","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":0,"object_refs":[]}])")
          .ok());
}

TEST(PatternEvaluator, MatchLeafOnOneObservation) {
  auto cp = CompiledPattern::Compile("[file:name = 'a']");
  ASSERT_TRUE(cp.ok());
  ObservationSet set;
  ASSERT_TRUE(set.LoadText(Beacons(2, 1), StixVersion::k21).ok());
  EXPECT_TRUE((*cp)->MatchLeaf(0, set.observations()[0]));
  EXPECT_FALSE((*cp)->MatchLeaf(0, set.observations()[1]));
}

}  // namespace
}  // namespace ctihub::pattern

namespace ctihub::pattern {
namespace {

TEST(PatternEvaluator, DeepSearchesEndInAnErrorNotACrash) {
  // 200,000 disjoint pairs from three observed-data with huge number_observed:
  // the search depth limit answers with LimitExceeded instead of overflowing the stack.
  std::string data = Beacons(3, 1, 999999999);
  auto r = RunPattern(
      "([file:name = 'a' OR file:name = 'b'] AND [file:name = 'a' OR file:name = 'b']) REPEATS "
      "100000 TIMES",
      data);
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded);
  }
  auto big = RunPattern(
      "[file:name = 'a' OR file:name = 'b'] REPEATS 3000 TIMES FOLLOWEDBY [file:name = 'zzz']",
      Beacons(4000, 1));
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(big->matched);
}

}  // namespace
}  // namespace ctihub::pattern
