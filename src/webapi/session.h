// Server-side sessions of the web console (docs/API.md "Session").
//
// A session id is 256 bits from libsodium's CSPRNG, sent once in the cookie;
// the table keys sessions by the id's SHA-256, so the table (a core dump, a
// debugger, the database) never holds a usable cookie, and a lookup compares
// digests, not secrets. Each session has an idle expiry (refreshed by use)
// and an absolute one. The table is bounded: a login beyond `max_sessions`
// drops the expired sessions, then the oldest one, so a login flood costs a
// bounded amount of memory (or rows). LoginLimiter counts failed logins per
// user name and per client address. Both are thread-safe.
//
// Where sessions live: in this table's memory (one node: SQLite), or, when
// SessionOptions::store is set and keeps sessions (PostgreSQL: several nodes
// behind a load balancer), in the store, so a login on one node is known to
// every node and a logout on one ends the session on all. The store-backed
// table fails closed: a store error answers kUnavailable (the console's
// 503), never a live session.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "auth/auth.h"
#include "core/result.h"
#include "store/store.h"

namespace ctihub::webapi {

// Microseconds since the epoch; tests pass their own clock.
using ClockFn = std::function<int64_t()>;
int64_t SystemNowMicros();

struct SessionOptions {
  int64_t idle_s = 1800;        // --session-idle
  int64_t max_s = 43200;        // --session-max (absolute)
  size_t max_sessions = 10000;  // live sessions at most (in the store: of all nodes)
  ClockFn now_us = SystemNowMicros;
  // Set, and store->KeepsSessions(): sessions live in the store (not owned;
  // must outlive the table). Otherwise in this table's memory.
  store::Store* store = nullptr;
  // Store-backed only: a use writes the session's last use at most this
  // often (seconds), so a busy console costs no database write per request.
  // The idle expiry then counts from the last written use: a session may
  // expire up to this much earlier than idle_s after its last request, never
  // later.
  int64_t touch_interval_s = 30;
};

struct Session {
  auth::Principal principal;
  std::string csrf_token;  // hex, 256 bits; fixed for the session's life
  int64_t created_us = 0;
  int64_t last_used_us = 0;
  int64_t expires_us = 0;  // absolute expiry
};

// kUnavailable: the store could not answer (store-backed only); the session
// may exist, but the request is not authenticated by it.
enum class SessionState { kLive, kUnknown, kExpired, kUnavailable };

struct SessionLookup {
  SessionState state = SessionState::kUnknown;
  Session session;  // when kLive
};

class SessionTable {
 public:
  explicit SessionTable(SessionOptions options = {});

  // A new session for `principal`; returns the cookie value (hex, 64 digits).
  // Store-backed: the store's error when it cannot keep the session.
  Result<std::string> Create(const auth::Principal& principal, Session* created = nullptr);
  // The live session of a cookie value, its idle timer refreshed. An expired
  // one is removed (and reported kExpired once). Store-backed: kUnavailable
  // when the store fails (never kLive).
  SessionLookup Use(std::string_view cookie_value);
  // Replaces the principal a session acts as (the user's fresh role/org).
  // Store-backed: a store error is logged and the stored principal left (the
  // console re-reads the user on every request anyway).
  void Refresh(std::string_view cookie_value, const auth::Principal& principal);
  // Removes a session; false when there was none. Store-backed: the store's
  // error when it cannot tell (the session may still be live).
  Result<bool> Destroy(std::string_view cookie_value);

  // Whether sessions live in the store.
  bool in_store() const { return store_ != nullptr; }
  // Sessions held in memory (0 when they live in the store).
  size_t size() const;
  const SessionOptions& options() const { return options_; }

 private:
  using Key = std::string;  // SHA-256 of the cookie value, raw bytes
  static Key KeyOf(std::string_view cookie_value);
  bool Expired(const Session& s, int64_t now) const;
  void EraseLocked(const Key& key);
  void MakeRoomLocked(int64_t now);
  // The store-backed paths.
  Result<std::string> CreateInStore(const auth::Principal& principal, Session* created);
  SessionLookup UseInStore(std::string_view cookie_value);

  SessionOptions options_;
  store::Store* store_ = nullptr;  // set when the store keeps the sessions
  mutable std::mutex mu_;
  std::unordered_map<Key, Session> sessions_;     // guarded by mu_
  std::set<std::pair<int64_t, Key>> by_created_;  // guarded by mu_: oldest first
};

// Failed logins per key ("user:NAME", "ip:ADDRESS") in fixed windows.
class LoginLimiter {
 public:
  LoginLimiter(int max_failures = 10, int64_t window_s = 300, size_t max_keys = 10000,
               ClockFn now_us = SystemNowMicros);
  // Seconds until `key` may try again; 0 when it may now.
  int64_t RetryAfter(const std::string& key);
  void RecordFailure(const std::string& key);

 private:
  struct Window {
    int64_t start_us = 0;
    int failures = 0;
  };
  int max_failures_;
  int64_t window_us_;
  size_t max_keys_;
  ClockFn now_us_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mu_
};

// Random 256-bit value as 64 hex digits (libsodium's CSPRNG).
std::string RandomToken();
// Constant-time equality of two secrets (lengths are not secret).
bool SecretEquals(std::string_view a, std::string_view b);

}  // namespace ctihub::webapi
