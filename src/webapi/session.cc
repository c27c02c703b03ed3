#include "webapi/session.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <vector>

#include "core/encoding.h"
#include "core/hash.h"

namespace ctihub::webapi {

int64_t SystemNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomToken() {
  std::array<uint8_t, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string hex = HexEncode(bytes.data(), bytes.size());
  sodium_memzero(bytes.data(), bytes.size());
  return hex;
}

bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

constexpr int64_t kMicros = 1000000;

Session SessionOf(const store::SessionRecord& r) {
  Session s;
  s.principal.user_id = r.user_id;
  s.principal.user = r.user;
  s.principal.org_id = r.org_id;
  s.principal.org = r.org;
  s.principal.role = r.role;
  s.csrf_token = r.csrf_token;
  s.created_us = r.created_us;
  s.last_used_us = r.last_used_us;
  s.expires_us = r.expires_us;
  return s;
}

void SetPrincipal(store::SessionRecord& r, const auth::Principal& p) {
  r.user_id = p.user_id;
  r.user = p.user;
  r.org_id = p.org_id;
  r.org = p.org;
  r.role = p.role;
}

// The store's key of a cookie: its SHA-256 in hex (never the cookie).
std::string StoreKeyOf(std::string_view cookie_value) { return Sha256Hex(cookie_value); }

}  // namespace

SessionTable::SessionTable(SessionOptions options) : options_(std::move(options)) {
  if (!options_.now_us) options_.now_us = SystemNowMicros;
  if (options_.max_sessions == 0) options_.max_sessions = 1;
  if (options_.touch_interval_s < 0) options_.touch_interval_s = 0;
  if (options_.store != nullptr && options_.store->KeepsSessions()) store_ = options_.store;
}

SessionTable::Key SessionTable::KeyOf(std::string_view cookie_value) {
  Sha256Digest d = Sha256(cookie_value);
  return Key(reinterpret_cast<const char*>(d.data()), d.size());
}

bool SessionTable::Expired(const Session& s, int64_t now) const {
  return now >= s.expires_us || now - s.last_used_us >= options_.idle_s * kMicros;
}

void SessionTable::EraseLocked(const Key& key) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  by_created_.erase({it->second.created_us, key});
  sessions_.erase(it);
}

// Called with the table full: expired sessions go first, then the oldest.
void SessionTable::MakeRoomLocked(int64_t now) {
  std::vector<Key> expired;
  for (const auto& [key, s] : sessions_) {
    if (Expired(s, now)) expired.push_back(key);
  }
  for (const auto& key : expired) EraseLocked(key);
  while (sessions_.size() >= options_.max_sessions && !by_created_.empty()) {
    Key oldest = by_created_.begin()->second;
    EraseLocked(oldest);
  }
}

Result<std::string> SessionTable::Create(const auth::Principal& principal, Session* created) {
  if (store_ != nullptr) return CreateInStore(principal, created);
  std::string cookie = RandomToken();
  Session s;
  s.principal = principal;
  s.csrf_token = RandomToken();
  s.created_us = options_.now_us();
  s.last_used_us = s.created_us;
  s.expires_us = s.created_us + options_.max_s * kMicros;
  if (created != nullptr) *created = s;
  Key key = KeyOf(cookie);
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= options_.max_sessions) MakeRoomLocked(s.created_us);
  by_created_.insert({s.created_us, key});
  sessions_.emplace(std::move(key), std::move(s));
  return cookie;
}

SessionLookup SessionTable::Use(std::string_view cookie_value) {
  SessionLookup out;
  if (cookie_value.empty()) return out;
  if (store_ != nullptr) return UseInStore(cookie_value);
  const Key key = KeyOf(cookie_value);
  const int64_t now = options_.now_us();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return out;
  if (Expired(it->second, now)) {
    EraseLocked(key);
    out.state = SessionState::kExpired;
    return out;
  }
  it->second.last_used_us = now;
  out.state = SessionState::kLive;
  out.session = it->second;
  return out;
}

void SessionTable::Refresh(std::string_view cookie_value, const auth::Principal& principal) {
  if (store_ != nullptr) {
    store::SessionRecord r;
    r.key = StoreKeyOf(cookie_value);
    SetPrincipal(r, principal);
    Status st = store_->UpdateSessionPrincipal(r);
    if (!st.ok() && st.code() != ErrorCode::kNotFound) {
      spdlog::warn("console session of user '{}': the principal was not updated: {}",
                   principal.user, st.ToString());
    }
    return;
  }
  const Key key = KeyOf(cookie_value);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it != sessions_.end()) it->second.principal = principal;
}

Result<bool> SessionTable::Destroy(std::string_view cookie_value) {
  if (store_ != nullptr) {
    auto deleted = store_->DeleteSession(StoreKeyOf(cookie_value));
    if (!deleted.ok()) spdlog::warn("console session not deleted: {}", deleted.status().ToString());
    return deleted;
  }
  const Key key = KeyOf(cookie_value);
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.find(key) == sessions_.end()) return false;
  EraseLocked(key);
  return true;
}

Result<std::string> SessionTable::CreateInStore(const auth::Principal& principal,
                                                Session* created) {
  std::string cookie = RandomToken();
  store::SessionRecord r;
  r.key = StoreKeyOf(cookie);
  SetPrincipal(r, principal);
  r.csrf_token = RandomToken();
  r.created_us = options_.now_us();
  r.last_used_us = r.created_us;
  r.expires_us = r.created_us + options_.max_s * kMicros;
  Status st = store_->PutSession(r, options_.max_sessions, options_.idle_s * kMicros);
  if (!st.ok()) {
    spdlog::warn("console session of user '{}' not stored: {}", principal.user, st.ToString());
    sodium_memzero(cookie.data(), cookie.size());
    return st;
  }
  if (created != nullptr) *created = SessionOf(r);
  return cookie;
}

// One read per request; a write only when the session expired (its delete)
// or its stored last use is older than touch_interval_s (see SessionOptions).
SessionLookup SessionTable::UseInStore(std::string_view cookie_value) {
  SessionLookup out;
  const std::string key = StoreKeyOf(cookie_value);
  auto found = store_->GetSession(key);
  if (!found.ok()) {
    if (found.status().code() != ErrorCode::kNotFound) {
      spdlog::warn("console session lookup failed: {}", found.status().ToString());
      out.state = SessionState::kUnavailable;
    }
    return out;
  }
  Session s = SessionOf(*found);
  const int64_t now = options_.now_us();
  if (Expired(s, now)) {
    // Reported kExpired once: by the node whose delete removed it (another
    // node's request may have removed it first: then it is unknown here).
    auto deleted = store_->DeleteSession(key);
    if (!deleted.ok()) {
      spdlog::warn("expired console session not deleted: {}", deleted.status().ToString());
    }
    out.state = deleted.ok() && !*deleted ? SessionState::kUnknown : SessionState::kExpired;
    return out;
  }
  if (now - s.last_used_us >= options_.touch_interval_s * kMicros) {
    Status st = store_->TouchSession(key, now);
    if (st.code() == ErrorCode::kNotFound) return out;  // logged out meanwhile
    if (!st.ok()) {
      spdlog::warn("console session use not recorded: {}", st.ToString());
      out.state = SessionState::kUnavailable;
      return out;
    }
    s.last_used_us = now;
  }
  out.state = SessionState::kLive;
  out.session = std::move(s);
  return out;
}

size_t SessionTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

LoginLimiter::LoginLimiter(int max_failures, int64_t window_s, size_t max_keys, ClockFn now_us)
    : max_failures_(max_failures),
      window_us_(window_s * 1000000),
      max_keys_(max_keys == 0 ? 1 : max_keys),
      now_us_(now_us ? std::move(now_us) : ClockFn(SystemNowMicros)) {}

int64_t LoginLimiter::RetryAfter(const std::string& key) {
  const int64_t now = now_us_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(key);
  if (it == windows_.end()) return 0;
  const int64_t ends = it->second.start_us + window_us_;
  if (now >= ends) {
    windows_.erase(it);
    return 0;
  }
  if (it->second.failures < max_failures_) return 0;
  return (ends - now + 999999) / 1000000;
}

void LoginLimiter::RecordFailure(const std::string& key) {
  const int64_t now = now_us_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(key);
  if (it != windows_.end() && now >= it->second.start_us + window_us_) {
    windows_.erase(it);
    it = windows_.end();
  }
  if (it == windows_.end()) {
    if (windows_.size() >= max_keys_) {
      // Bounded: ended windows go first, then the oldest one.
      for (auto w = windows_.begin(); w != windows_.end();) {
        w = now >= w->second.start_us + window_us_ ? windows_.erase(w) : std::next(w);
      }
      while (windows_.size() >= max_keys_) {
        auto oldest = windows_.begin();
        for (auto w = windows_.begin(); w != windows_.end(); ++w) {
          if (w->second.start_us < oldest->second.start_us) oldest = w;
        }
        windows_.erase(oldest);
      }
    }
    it = windows_.emplace(key, Window{now, 0}).first;
  }
  ++it->second.failures;
}

}  // namespace ctihub::webapi
