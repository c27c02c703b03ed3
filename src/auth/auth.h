// Authentication and the collection access decision.
//
//  - Passwords: Argon2id via libsodium (crypto_pwhash_str), never logged.
//  - API tokens: 256-bit random secrets shown once, stored as SHA-256 hashes,
//    presented as "Authorization: Bearer <secret>" (or "Token <secret>", the
//    scheme of the OASIS TAXII client).
//  - Access: the one place that decides whether a principal may read or write
//    a collection (the sharing issue refines this into agreements/markings).
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/store.h"

namespace ctihub::auth {

struct Principal {
  int64_t user_id = 0;
  std::string user;
  int64_t org_id = 0;
  std::string org;
  store::Role role = store::Role::kReader;
  bool anonymous = false;
};

// The principal a user authenticates as (what `ctihub export --as-user` reads as).
Principal PrincipalOf(const store::User& u);

// The user name of a "Basic ..." Authorization header ("" for other schemes or
// a malformed header), for the audit record of a failed login. Never the password.
std::string BasicUserName(std::string_view authorization_header);

std::string HashPassword(std::string_view password);  // Argon2id, libsodium's string format
bool VerifyPassword(std::string_view hash, std::string_view password);

struct NewToken {
  std::string secret;  // shown once to the user; never stored
  store::ApiToken token;
};
Result<NewToken> CreateToken(store::Store& store, int64_t user_id, std::string_view label);

// Authenticates an Authorization header value ("Basic ...", "Bearer ..." or
// "Token ...", the last two alike; scheme names are case-insensitive).
// Unauthenticated on any failure (missing, malformed, unknown, revoked, wrong
// password). Successful Basic checks are cached briefly (keyed by a hash of the
// header) because Argon2id is deliberately slow.
class Authenticator {
 public:
  explicit Authenticator(store::Store& store);
  ~Authenticator();
  Result<Principal> Authenticate(std::string_view authorization_header);

 private:
  class Cache;
  store::Store& store_;
  std::unique_ptr<Cache> cache_;
};

// The collection access decision. Admins may read and write everything;
// otherwise the principal's user ("user:NAME") or organisation ("org:NAME")
// must be on the collection's list; "org:*" on a list means every
// authenticated organisation. Writers also need a role other than reader/auditor.
bool CanRead(const Principal& p, const store::Collection& c);
bool CanWrite(const Principal& p, const store::Collection& c);

}  // namespace ctihub::auth
