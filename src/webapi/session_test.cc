#include "webapi/session.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/hash.h"
#include "store/testing/fault_injecting_store.h"
#include "store/testing/memory_store.h"

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
  const std::string cookie = *t.Create(Alice(), &created);
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
  const std::string cookie = *t.Create(Alice());
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
  const std::string cookie = *t.Create(Alice());
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
  const std::string cookie = *t.Create(Alice());
  EXPECT_TRUE(*t.Destroy(cookie));
  EXPECT_FALSE(*t.Destroy(cookie));
  EXPECT_EQ(t.Use(cookie).state, SessionState::kUnknown);
}

TEST(SessionTable, BoundedTableEvictsTheOldestSession) {
  FakeClock clock;
  SessionTable t(Options(clock, 3));
  std::vector<std::string> cookies;
  for (int i = 0; i < 5; ++i) {
    clock.now += kSecond;
    cookies.push_back(*t.Create(Alice()));
  }
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.Use(cookies[0]).state, SessionState::kUnknown);
  EXPECT_EQ(t.Use(cookies[1]).state, SessionState::kUnknown);
  for (int i = 2; i < 5; ++i) EXPECT_EQ(t.Use(cookies[i]).state, SessionState::kLive) << i;
}

TEST(SessionTable, FullTableDropsExpiredSessionsBeforeLiveOnes) {
  FakeClock clock;
  SessionTable t(Options(clock, 3));
  const std::string stale = *t.Create(Alice());
  clock.now += 50 * kSecond;
  const std::string a = *t.Create(Alice());
  const std::string b = *t.Create(Alice());
  clock.now += 20 * kSecond;  // `stale` idle for 70 s: expired; a, b live
  const std::string c = *t.Create(Alice());
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.Use(a).state, SessionState::kLive);
  EXPECT_EQ(t.Use(b).state, SessionState::kLive);
  EXPECT_EQ(t.Use(c).state, SessionState::kLive);
  EXPECT_EQ(t.Use(stale).state, SessionState::kUnknown);
}

// ---- sessions in the store (several nodes over one database) ----

// Two SessionTables over one store play two nodes behind a load balancer.
SessionOptions StoreOptions(FakeClock& clock, store::Store& store, size_t cap = 100) {
  SessionOptions o = Options(clock, cap);
  o.store = &store;
  return o;
}

TEST(StoreSessionTable, LoginOnOneNodeIsKnownOnTheOther) {
  FakeClock clock;
  store::MemoryStore store;
  SessionTable a(StoreOptions(clock, store));
  SessionTable b(StoreOptions(clock, store));
  ASSERT_TRUE(a.in_store());
  Session created;
  auto cookie = a.Create(Alice(), &created);
  ASSERT_TRUE(cookie.ok()) << cookie.status().ToString();
  SessionLookup found = b.Use(*cookie);
  ASSERT_EQ(found.state, SessionState::kLive);
  EXPECT_EQ(found.session.principal.user_id, 7);
  EXPECT_EQ(found.session.principal.user, "alice");
  EXPECT_EQ(found.session.principal.org, "acme");
  EXPECT_EQ(found.session.csrf_token, created.csrf_token);
  EXPECT_EQ(found.session.expires_us, clock.now + 300 * kSecond);
  EXPECT_EQ(a.size(), 0u);  // nothing in either node's memory
  EXPECT_EQ(b.size(), 0u);
  // The store holds the cookie's digest, never the cookie.
  EXPECT_FALSE(store.GetSession(*cookie).ok());
  auto row = store.GetSession(Sha256Hex(*cookie));
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->csrf_token, created.csrf_token);
  std::string other = *cookie;
  other[0] = other[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(b.Use(other).state, SessionState::kUnknown);
  EXPECT_EQ(b.Use("").state, SessionState::kUnknown);
}

TEST(StoreSessionTable, LogoutOnOneNodeEndsTheSessionOnTheOther) {
  FakeClock clock;
  store::MemoryStore store;
  SessionTable a(StoreOptions(clock, store));
  SessionTable b(StoreOptions(clock, store));
  const std::string cookie = *a.Create(Alice());
  ASSERT_EQ(a.Use(cookie).state, SessionState::kLive);
  auto destroyed = b.Destroy(cookie);
  ASSERT_TRUE(destroyed.ok());
  EXPECT_TRUE(*destroyed);
  EXPECT_EQ(a.Use(cookie).state, SessionState::kUnknown);
  EXPECT_FALSE(*a.Destroy(cookie));
}

TEST(StoreSessionTable, RefreshReachesTheOtherNodeAndNeverRevivesASession) {
  FakeClock clock;
  store::MemoryStore store;
  SessionTable a(StoreOptions(clock, store));
  SessionTable b(StoreOptions(clock, store));
  const std::string cookie = *a.Create(Alice());
  auth::Principal admin = Alice();
  admin.role = store::Role::kAdmin;
  admin.org = "beta";
  a.Refresh(cookie, admin);
  SessionLookup found = b.Use(cookie);
  ASSERT_EQ(found.state, SessionState::kLive);
  EXPECT_EQ(found.session.principal.role, store::Role::kAdmin);
  EXPECT_EQ(found.session.principal.org, "beta");
  ASSERT_TRUE(*b.Destroy(cookie));
  a.Refresh(cookie, admin);  // logged out meanwhile: stays gone
  EXPECT_EQ(b.Use(cookie).state, SessionState::kUnknown);
}

TEST(StoreSessionTable, IdleExpiryIsRefreshedByUseOnAnyNode) {
  FakeClock clock;
  store::MemoryStore store;
  SessionTable a(StoreOptions(clock, store));
  SessionTable b(StoreOptions(clock, store));
  const std::string cookie = *a.Create(Alice());
  clock.now += 59 * kSecond;
  ASSERT_EQ(b.Use(cookie).state, SessionState::kLive);  // refreshed here (written: >= 30 s)
  clock.now += 59 * kSecond;
  ASSERT_EQ(a.Use(cookie).state, SessionState::kLive);  // ... and seen by node a
  clock.now += 60 * kSecond;                            // a full idle period without use
  EXPECT_EQ(b.Use(cookie).state, SessionState::kExpired);
  EXPECT_EQ(a.Use(cookie).state, SessionState::kUnknown);  // removed from the store
  EXPECT_FALSE(store.GetSession(Sha256Hex(cookie)).ok());
}

// The last use is written at most every touch_interval_s per session, so
// the idle expiry counts from the last written use: earlier, never later.
TEST(StoreSessionTable, UseWritesTheLastUseAtMostEveryTouchInterval) {
  FakeClock clock;
  store::MemoryStore memory;
  store::FaultInjectingStore store(memory);
  SessionTable t(StoreOptions(clock, store));
  const std::string cookie = *t.Create(Alice());
  const int64_t created = clock.now;
  for (int i = 0; i < 5; ++i) {  // 5 uses within 29 s: no write
    clock.now += 5 * kSecond;
    ASSERT_EQ(t.Use(cookie).state, SessionState::kLive) << i;
  }
  EXPECT_EQ(store.calls(store::StoreOp::kTouchSession), 0);
  EXPECT_EQ(memory.GetSession(Sha256Hex(cookie))->last_used_us, created);
  clock.now += 5 * kSecond;  // 30 s after the last write
  ASSERT_EQ(t.Use(cookie).state, SessionState::kLive);
  EXPECT_EQ(store.calls(store::StoreOp::kTouchSession), 1);
  EXPECT_EQ(memory.GetSession(Sha256Hex(cookie))->last_used_us, clock.now);
  const int64_t written = clock.now;
  clock.now += 29 * kSecond;  // used, not written
  ASSERT_EQ(t.Use(cookie).state, SessionState::kLive);
  clock.now = written + 60 * kSecond;  // idle 31 s since the last use, 60 s since the write
  EXPECT_EQ(t.Use(cookie).state, SessionState::kExpired);
}

TEST(StoreSessionTable, AbsoluteExpiryEndsABusySession) {
  FakeClock clock;
  store::MemoryStore store;
  SessionTable a(StoreOptions(clock, store));
  SessionTable b(StoreOptions(clock, store));
  const std::string cookie = *a.Create(Alice());
  for (int i = 0; i < 9; ++i) {  // used every 30 s, alternating nodes: never idle
    clock.now += 30 * kSecond;
    ASSERT_EQ((i % 2 == 0 ? b : a).Use(cookie).state, SessionState::kLive) << i;
  }
  clock.now += 30 * kSecond;  // 300 s after login
  EXPECT_EQ(b.Use(cookie).state, SessionState::kExpired);
  EXPECT_EQ(a.Use(cookie).state, SessionState::kUnknown);
}

TEST(StoreSessionTable, StoreIsBoundedAcrossNodesOldestFirst) {
  FakeClock clock;
  store::MemoryStore store;
  SessionTable a(StoreOptions(clock, store, 3));
  SessionTable b(StoreOptions(clock, store, 3));
  std::vector<std::string> cookies;
  for (int i = 0; i < 5; ++i) {
    clock.now += kSecond;
    cookies.push_back(*(i % 2 == 0 ? a : b).Create(Alice()));
  }
  EXPECT_EQ(a.Use(cookies[0]).state, SessionState::kUnknown);
  EXPECT_EQ(b.Use(cookies[1]).state, SessionState::kUnknown);
  for (int i = 2; i < 5; ++i) EXPECT_EQ(a.Use(cookies[i]).state, SessionState::kLive) << i;
  // Exactly three rows are left.
  EXPECT_EQ(*store.DeleteExpiredSessions(clock.now + 3600 * kSecond, 60 * kSecond), 3);
}

TEST(StoreSessionTable, FullStoreDropsExpiredSessionsBeforeLiveOnes) {
  FakeClock clock;
  store::MemoryStore store;
  SessionTable a(StoreOptions(clock, store, 3));
  SessionTable b(StoreOptions(clock, store, 3));
  const std::string stale = *a.Create(Alice());
  clock.now += 50 * kSecond;
  const std::string x = *b.Create(Alice());
  const std::string y = *a.Create(Alice());
  clock.now += 20 * kSecond;  // `stale` idle for 70 s: expired; x, y live
  const std::string z = *b.Create(Alice());
  EXPECT_EQ(a.Use(x).state, SessionState::kLive);
  EXPECT_EQ(a.Use(y).state, SessionState::kLive);
  EXPECT_EQ(a.Use(z).state, SessionState::kLive);
  EXPECT_EQ(a.Use(stale).state, SessionState::kUnknown);
}

// A store that cannot answer never yields a live session, a cookie that is
// not stored, or a logout that did not happen.
TEST(StoreSessionTable, StoreFailuresFailClosed) {
  FakeClock clock;
  store::MemoryStore memory;
  store::FaultInjectingStore store(memory);
  SessionTable t(StoreOptions(clock, store));
  const std::string cookie = *t.Create(Alice());
  const Status down = Unavailable("db_unavailable", "the database is down");

  store.Fail(store::StoreOp::kGetSession, down);
  EXPECT_EQ(t.Use(cookie).state, SessionState::kUnavailable);
  store.Heal(store::StoreOp::kGetSession);
  EXPECT_EQ(t.Use(cookie).state, SessionState::kLive);

  clock.now += 30 * kSecond;  // this use writes the last use: that write fails
  store.Fail(store::StoreOp::kTouchSession, down);
  EXPECT_EQ(t.Use(cookie).state, SessionState::kUnavailable);
  store.Heal(store::StoreOp::kTouchSession);
  EXPECT_EQ(t.Use(cookie).state, SessionState::kLive);

  store.Fail(store::StoreOp::kPutSession, down);
  Session created;
  auto refused = t.Create(Alice(), &created);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().name(), "db_unavailable");
  EXPECT_TRUE(created.csrf_token.empty());
  store.Heal(store::StoreOp::kPutSession);

  store.Fail(store::StoreOp::kDeleteSession, down);
  EXPECT_FALSE(t.Destroy(cookie).ok());  // the caller must not report a logout
  store.Heal(store::StoreOp::kDeleteSession);
  EXPECT_EQ(t.Use(cookie).state, SessionState::kLive);
  EXPECT_TRUE(*t.Destroy(cookie));
}

// SQLite keeps no sessions: the table stays in memory, as on one node.
class NoSessionsStore : public store::FaultInjectingStore {
 public:
  using FaultInjectingStore::FaultInjectingStore;
  bool KeepsSessions() const override { return false; }
};

TEST(StoreSessionTable, StoreWithoutSessionsLeavesThemInMemory) {
  FakeClock clock;
  store::MemoryStore memory;
  NoSessionsStore store(memory);
  SessionTable t(StoreOptions(clock, store));
  EXPECT_FALSE(t.in_store());
  const std::string cookie = *t.Create(Alice());
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.Use(cookie).state, SessionState::kLive);
  EXPECT_EQ(store.calls(store::StoreOp::kPutSession), 0);
  EXPECT_EQ(store.calls(store::StoreOp::kGetSession), 0);
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
