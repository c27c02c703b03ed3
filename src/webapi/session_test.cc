#include "webapi/session.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace ctihub::webapi {
namespace {

constexpr int64_t kSecond = 1000000;

struct FakeClock {
  int64_t now = int64_t{1800000000} * kSecond;
  ClockFn fn() {
    return [this] { return now; };
  }
};

auth::Principal Alice() {
  auth::Principal p;
  p.user_id = 7;
  p.user = "alice";
  p.org = "acme";
  return p;
}

SessionOptions Options(FakeClock& clock, size_t cap = 100) {
  SessionOptions o;
  o.idle_s = 60;
  o.max_s = 300;
  o.max_sessions = cap;
  o.now_us = clock.fn();
  return o;
}

TEST(RandomToken, Is256BitsOfHexAndNeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string t = RandomToken();
    ASSERT_EQ(t.size(), 64u);
    ASSERT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos) << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SecretEquals, ComparesWholeValues) {
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "ab"));
  EXPECT_FALSE(SecretEquals("", ""));  // an empty token never matches
}

TEST(SessionTable, CreatedSessionIsFoundWithItsPrincipalAndCsrfToken) {
  FakeClock clock;
  SessionTable t(Options(clock));
  Session created;
  const std::string cookie = t.Create(Alice(), &created);
  EXPECT_EQ(cookie.size(), 64u);
  EXPECT_NE(cookie, created.csrf_token);
  SessionLookup found = t.Use(cookie);
  ASSERT_EQ(found.state, SessionState::kLive);
  EXPECT_EQ(found.session.principal.user, "alice");
  EXPECT_EQ(found.session.csrf_token, created.csrf_token);
  EXPECT_EQ(found.session.expires_us, clock.now + 300 * kSecond);
  std::string other = cookie;
  other[0] = other[0] == 'a' ? 'b' : 'a';  // one digit changed: no session
  EXPECT_EQ(t.Use(other).state, SessionState::kUnknown);
  EXPECT_EQ(t.Use("").state, SessionState::kUnknown);
  EXPECT_EQ(t.Use("nonsense").state, SessionState::kUnknown);
}

TEST(SessionTable, IdleExpiryIsRefreshedByUse) {
  FakeClock clock;
  SessionTable t(Options(clock));
  const std::string cookie = t.Create(Alice());
  clock.now += 59 * kSecond;
  ASSERT_EQ(t.Use(cookie).state, SessionState::kLive);  // refreshed here
  clock.now += 59 * kSecond;
  ASSERT_EQ(t.Use(cookie).state, SessionState::kLive);
  clock.now += 60 * kSecond;  // a full idle period without use
  EXPECT_EQ(t.Use(cookie).state, SessionState::kExpired);
  EXPECT_EQ(t.Use(cookie).state, SessionState::kUnknown);  // removed
  EXPECT_EQ(t.size(), 0u);
}

TEST(SessionTable, AbsoluteExpiryEndsABusySession) {
  FakeClock clock;
  SessionTable t(Options(clock));
  const std::string cookie = t.Create(Alice());
  for (int i = 0; i < 9; ++i) {  // used every 30 s: never idle
    clock.now += 30 * kSecond;
    ASSERT_EQ(t.Use(cookie).state, SessionState::kLive) << i;
  }
  clock.now += 30 * kSecond;  // 300 s after login
  EXPECT_EQ(t.Use(cookie).state, SessionState::kExpired);
}

TEST(SessionTable, DestroyLogsOut) {
  FakeClock clock;
  SessionTable t(Options(clock));
  const std::string cookie = t.Create(Alice());
  EXPECT_TRUE(t.Destroy(cookie));
  EXPECT_FALSE(t.Destroy(cookie));
  EXPECT_EQ(t.Use(cookie).state, SessionState::kUnknown);
}

TEST(SessionTable, BoundedTableEvictsTheOldestSession) {
  FakeClock clock;
  SessionTable t(Options(clock, 3));
  std::vector<std::string> cookies;
  for (int i = 0; i < 5; ++i) {
    clock.now += kSecond;
    cookies.push_back(t.Create(Alice()));
  }
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.Use(cookies[0]).state, SessionState::kUnknown);
  EXPECT_EQ(t.Use(cookies[1]).state, SessionState::kUnknown);
  for (int i = 2; i < 5; ++i) EXPECT_EQ(t.Use(cookies[i]).state, SessionState::kLive) << i;
}

TEST(SessionTable, FullTableDropsExpiredSessionsBeforeLiveOnes) {
  FakeClock clock;
  SessionTable t(Options(clock, 3));
  const std::string stale = t.Create(Alice());
  clock.now += 50 * kSecond;
  const std::string a = t.Create(Alice());
  const std::string b = t.Create(Alice());
  clock.now += 20 * kSecond;  // `stale` idle for 70 s: expired; a, b live
  const std::string c = t.Create(Alice());
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.Use(a).state, SessionState::kLive);
  EXPECT_EQ(t.Use(b).state, SessionState::kLive);
  EXPECT_EQ(t.Use(c).state, SessionState::kLive);
  EXPECT_EQ(t.Use(stale).state, SessionState::kUnknown);
}

TEST(LoginLimiter, BlocksAfterMaxFailuresUntilTheWindowEnds) {
  FakeClock clock;
  LoginLimiter limiter(3, 60, 100, clock.fn());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.RetryAfter("user:alice"), 0) << i;
    limiter.RecordFailure("user:alice");
  }
  EXPECT_EQ(limiter.RetryAfter("user:alice"), 60);
  EXPECT_EQ(limiter.RetryAfter("user:bob"), 0);  // per key
  clock.now += 59 * kSecond;
  EXPECT_EQ(limiter.RetryAfter("user:alice"), 1);
  clock.now += kSecond;
  EXPECT_EQ(limiter.RetryAfter("user:alice"), 0);
}

TEST(LoginLimiter, KeyTableIsBounded) {
  FakeClock clock;
  LoginLimiter limiter(1, 60, 10, clock.fn());
  for (int i = 0; i < 1000; ++i) {
    clock.now += 1;
    limiter.RecordFailure("ip:10.0.0." + std::to_string(i));
  }
  // The newest keys are remembered; the table never held more than 10.
  EXPECT_GT(limiter.RetryAfter("ip:10.0.0.999"), 0);
  EXPECT_EQ(limiter.RetryAfter("ip:10.0.0.0"), 0);
}

}  // namespace
}  // namespace ctihub::webapi
