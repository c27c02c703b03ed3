#include "webapi/session.h"

#include <sodium.h>

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

SessionTable::SessionTable(SessionOptions options) : options_(std::move(options)) {
  if (!options_.now_us) options_.now_us = SystemNowMicros;
  if (options_.max_sessions == 0) options_.max_sessions = 1;
}

SessionTable::Key SessionTable::KeyOf(std::string_view cookie_value) {
  Sha256Digest d = Sha256(cookie_value);
  return Key(reinterpret_cast<const char*>(d.data()), d.size());
}

bool SessionTable::Expired(const Session& s, int64_t now) const {
  return now >= s.expires_us || now - s.last_used_us >= options_.idle_s * 1000000;
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

std::string SessionTable::Create(const auth::Principal& principal, Session* created) {
  std::string cookie = RandomToken();
  Session s;
  s.principal = principal;
  s.csrf_token = RandomToken();
  s.created_us = options_.now_us();
  s.last_used_us = s.created_us;
  s.expires_us = s.created_us + options_.max_s * 1000000;
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
  const Key key = KeyOf(cookie_value);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it != sessions_.end()) it->second.principal = principal;
}

bool SessionTable::Destroy(std::string_view cookie_value) {
  const Key key = KeyOf(cookie_value);
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.find(key) == sessions_.end()) return false;
  EraseLocked(key);
  return true;
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
