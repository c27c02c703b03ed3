#include "auth/auth.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "core/hash.h"

namespace ctihub::auth {

Principal PrincipalOf(const store::User& u) {
  Principal p;
  p.user_id = u.id;
  p.user = u.name;
  p.org_id = u.org_id;
  p.org = u.org_name;
  p.role = u.role;
  return p;
}

namespace {

constexpr size_t kMaxHeaderLength = 4096;
constexpr std::string_view kTokenPrefix = "cth_";
constexpr size_t kTokenBytes = 32;

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Strict standard base64 (with padding) as RFC 7617 uses it.
Result<std::string> DecodeBase64(std::string_view in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                        in.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != in.data() + in.size()) {
    return Unauthenticated("bad_basic_encoding");
  }
  out.resize(len);
  return out;
}

Status Denied(std::string_view reason) {
  return Unauthenticated("unauthenticated", std::string(reason));
}

// A lookup that found nothing denies; a store that could not answer (its
// database unreachable) is the store's error, so the caller answers 503 and
// never tells a valid user that their credentials are wrong.
Status DeniedUnlessStoreFailed(const Status& lookup, std::string_view reason) {
  if (lookup.code() == ErrorCode::kNotFound) return Denied(reason);
  return lookup;
}

// A valid hash to verify against when the user does not exist, so that
// unknown and known users take the same time.
const std::string& DummyHash() {
  static const std::string hash = HashPassword("ctihub-dummy-password");
  return hash;
}

}  // namespace

// ---- passwords and tokens ------------------------------------------------------

std::string HashPassword(std::string_view password) {
  if (!SodiumReady()) return {};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return {};  // out of memory
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (!SodiumReady() || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string h(hash);  // crypto_pwhash_str_verify wants a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

Result<NewToken> CreateToken(store::Store& store, int64_t user_id, std::string_view label) {
  if (!SodiumReady()) return Internal("libsodium initialisation failed");
  uint8_t raw[kTokenBytes];
  SecureRandomBytes(raw, sizeof raw);
  char encoded[sodium_base64_ENCODED_LEN(kTokenBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(encoded, sizeof encoded, raw, sizeof raw,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof raw);
  NewToken out;
  out.secret = std::string(kTokenPrefix) + encoded;
  store::ApiToken token;
  token.user_id = user_id;
  token.token_hash = Sha256Hex(out.secret);
  token.label = std::string(label);
  token.created = Timestamp::Now();
  CTIHUB_ASSIGN_OR_RETURN(out.token, store.AddToken(token));
  return out;
}

// ---- the Basic cache -----------------------------------------------------------

// Successful Basic checks, keyed by SHA-256 of the whole header value. An
// entry also remembers the password hash it was verified against: a hit is
// only used if the user still exists, is enabled and has the same password
// hash (one indexed lookup), so removal, disabling and password changes take
// effect at once. TTL and size bound what a stolen cache could be worth.
class Authenticator::Cache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kTtl = std::chrono::seconds(60);
  static constexpr size_t kMaxEntries = 4096;

  struct Entry {
    int64_t user_id;
    std::string password_hash;
    Clock::time_point expires;
  };

  std::optional<Entry> Find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires <= Clock::now()) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second;
  }

  void Put(std::string key, Entry e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= kMaxEntries) EvictLocked();
    entries_[std::move(key)] = std::move(e);
  }

  void Erase(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.erase(key);
  }

 private:
  // Drops expired entries; if none expired, drops everything (simple and
  // bounded; a full cache only costs a re-verification).
  void EvictLocked() {
    auto now = Clock::now();
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires <= now; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }

  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// ---- Authenticator -------------------------------------------------------------

Authenticator::Authenticator(store::Store& store)
    : store_(store), cache_(std::make_unique<Cache>()) {}
Authenticator::~Authenticator() = default;

Result<Principal> Authenticator::Authenticate(std::string_view header) {
  header = TrimSpaces(header);
  if (header.empty()) return Denied("missing credentials");
  if (header.size() > kMaxHeaderLength) return Denied("credentials too long");

  // "Token" is what the OASIS TAXII client's token authentication sends.
  const size_t token_scheme = StartsWithNoCase(header, "bearer ")  ? 7
                              : StartsWithNoCase(header, "token ") ? 6
                                                                   : 0;
  if (token_scheme > 0) {
    std::string_view secret = TrimSpaces(header.substr(token_scheme));
    if (secret.empty() || secret.find(' ') != std::string_view::npos) {
      return Denied("malformed bearer token");
    }
    auto token = store_.FindTokenByHash(Sha256Hex(secret));
    if (!token.ok()) return DeniedUnlessStoreFailed(token.status(), "unknown token");
    if (token->revoked) return Denied("revoked token");
    auto user = store_.GetUserById(token->user_id);
    if (!user.ok()) return DeniedUnlessStoreFailed(user.status(), "token user unknown");
    if (user->disabled) return Denied("token user disabled");
    return PrincipalOf(*user);
  }

  if (StartsWithNoCase(header, "basic ")) {
    std::string key = Sha256Hex(header);
    if (auto hit = cache_->Find(key)) {
      auto user = store_.GetUserById(hit->user_id);
      if (!user.ok() && user.status().code() != ErrorCode::kNotFound) return user.status();
      if (user.ok() && !user->disabled && user->password_hash == hit->password_hash) {
        return PrincipalOf(*user);
      }
      cache_->Erase(key);
      // Fall through to a full check (the password may have changed).
    }
    auto decoded = DecodeBase64(TrimSpaces(header.substr(6)));
    if (!decoded.ok()) return Denied("malformed basic credentials");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos || colon == 0) {
      sodium_memzero(decoded->data(), decoded->size());
      return Denied("malformed basic credentials");
    }
    std::string_view name(decoded->data(), colon);
    std::string_view password = std::string_view(*decoded).substr(colon + 1);
    auto user = store_.GetUser(name);
    if (!user.ok() && user.status().code() != ErrorCode::kNotFound) {
      sodium_memzero(decoded->data(), decoded->size());
      return user.status();
    }
    bool ok;
    if (user.ok() && !user->password_hash.empty()) {
      ok = VerifyPassword(user->password_hash, password);
    } else {
      (void)VerifyPassword(DummyHash(), password);  // same cost for unknown users
      ok = false;
    }
    sodium_memzero(decoded->data(), decoded->size());
    if (!ok || user->disabled) return Denied("bad user name or password");
    cache_->Put(std::move(key), {user->id, user->password_hash, Cache::Clock::now() + Cache::kTtl});
    return PrincipalOf(*user);
  }
  return Denied("unsupported authorization scheme");
}

std::string BasicUserName(std::string_view header) {
  header = TrimSpaces(header);
  constexpr std::string_view kBasic = "basic ";
  if (header.size() <= kBasic.size()) return {};
  for (size_t i = 0; i < kBasic.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kBasic[i]) return {};
  }
  auto decoded = DecodeBase64(TrimSpaces(header.substr(kBasic.size())));
  if (!decoded.ok()) return {};
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return {};
  std::string user = decoded->substr(0, std::min<size_t>(colon, 256));
  for (char& c : user) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';  // keep control bytes out of the trail
  }
  return user;
}

// ---- access decision -----------------------------------------------------------

namespace {

bool Listed(const Principal& p, const std::vector<std::string>& list) {
  if (p.anonymous) return false;
  const std::string user_entry = "user:" + p.user;
  const std::string org_entry = "org:" + p.org;
  return std::any_of(list.begin(), list.end(), [&](const std::string& e) {
    return e == user_entry || (!p.org.empty() && e == org_entry) || e == "org:*";
  });
}

}  // namespace

bool CanRead(const Principal& p, const store::Collection& c) {
  if (p.anonymous) return false;
  if (p.role == store::Role::kAdmin) return true;
  return Listed(p, c.readers);
}

bool CanWrite(const Principal& p, const store::Collection& c) {
  if (p.anonymous) return false;
  if (p.role == store::Role::kAdmin) return true;
  if (p.role != store::Role::kPublisher) return false;
  return Listed(p, c.writers);
}

}  // namespace ctihub::auth
