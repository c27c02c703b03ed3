#include "auth/auth.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "store/testing/fault_injecting_store.h"

namespace ctihub::auth {
namespace {

namespace fs = std::filesystem;
using store::Collection;
using store::Role;

std::string Basic(std::string_view user_pass) {
  std::string out(sodium_base64_ENCODED_LEN(user_pass.size(), sodium_base64_VARIANT_ORIGINAL),
                  '\0');
  sodium_bin2base64(out.data(), out.size(),
                    reinterpret_cast<const unsigned char*>(user_pass.data()), user_pass.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return "Basic " + out;
}

TEST(PasswordTest, HashAndVerify) {
  std::string h = HashPassword("correct horse");
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(h, "correct horse"));
  EXPECT_FALSE(VerifyPassword(h, "correct horse "));
  EXPECT_FALSE(VerifyPassword(h, ""));
  EXPECT_FALSE(VerifyPassword("", "correct horse"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "correct horse"));
  EXPECT_NE(HashPassword("correct horse"), h);  // salted
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ctihub-auth-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    store::SqliteOptions opts;
    opts.path = dir_ + "/ctihub.db";
    auto s = store::OpenSqliteStore(opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto org = store_->AddOrganisation({0, "acme", ""});
    ASSERT_TRUE(org.ok());
    store::User u;
    u.name = "alice";
    u.org_id = org->id;
    u.role = Role::kPublisher;
    u.password_hash = HashPassword("s3cret");
    auto added = store_->AddUser(u);
    ASSERT_TRUE(added.ok());
    alice_ = added->id;
    auth_ = std::make_unique<Authenticator>(*store_);
  }
  void TearDown() override {
    auth_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Authenticator> auth_;
  int64_t alice_ = 0;
};

TEST_F(AuthTest, BasicWorksAndIsCached) {
  auto p = auth_->Authenticate(Basic("alice:s3cret"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->org, "acme");
  EXPECT_EQ(p->user_id, alice_);
  EXPECT_EQ(p->role, Role::kPublisher);
  EXPECT_FALSE(p->anonymous);
  // Second time from the cache; also case-insensitive scheme.
  EXPECT_TRUE(auth_->Authenticate(Basic("alice:s3cret")).ok());
  EXPECT_TRUE(auth_->Authenticate("basic " + Basic("alice:s3cret").substr(6)).ok());
}

TEST_F(AuthTest, WrongPasswordAndUnknownUserFail) {
  for (auto cred : {"alice:wrong", "alice:", "bob:s3cret", "alice:s3cret2"}) {
    auto p = auth_->Authenticate(Basic(cred));
    ASSERT_FALSE(p.ok()) << cred;
    EXPECT_EQ(p.status().code(), ErrorCode::kUnauthenticated);
  }
}

TEST_F(AuthTest, MalformedHeadersFail) {
  for (const std::string& h :
       {std::string(""), std::string("Basic"), std::string("Basic "), std::string("Basic !!!!"),
        std::string("Basic YWxpY2U="),  // no colon
        Basic(":s3cret"), std::string("Bearer"), std::string("Bearer "), std::string("Bearer a b"),
        std::string("Digest abc"), std::string("Basic ") + std::string(5000, 'A'),
        Basic("alice:s3cret") + "x"}) {
    auto p = auth_->Authenticate(h);
    ASSERT_FALSE(p.ok()) << h;
    EXPECT_EQ(p.status().code(), ErrorCode::kUnauthenticated);
  }
}

TEST_F(AuthTest, BearerTokensAndRevocation) {
  auto t = CreateToken(*store_, alice_, "ci");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->secret.rfind("cth_", 0), 0u);
  EXPECT_EQ(t->secret.size(), 4u + 43u);
  EXPECT_EQ(t->token.label, "ci");
  EXPECT_EQ(t->token.token_hash.find(t->secret), std::string::npos);
  auto p = auth_->Authenticate("Bearer " + t->secret);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->user, "alice");
  EXPECT_FALSE(auth_->Authenticate("Bearer " + t->secret + "x").ok());
  EXPECT_FALSE(auth_->Authenticate("Bearer cth_unknown").ok());
  ASSERT_TRUE(store_->RevokeToken(t->token.id).ok());
  EXPECT_FALSE(auth_->Authenticate("Bearer " + t->secret).ok());
}

// A store that cannot answer (its database down) is not a wrong credential:
// its error comes back (the server answers 503), never "unauthenticated".
TEST_F(AuthTest, StoreFailureIsNotADeniedLogin) {
  auto t = CreateToken(*store_, alice_, "ci");
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(auth_->Authenticate(Basic("alice:s3cret")).ok());  // now cached
  store::FaultInjectingStore faulty(*store_);
  Authenticator auth(faulty);
  const store::StoreOp ops[] = {store::StoreOp::kFindTokenByHash, store::StoreOp::kGetUserById,
                                store::StoreOp::kGetUser};
  for (auto op : ops) faulty.Fail(op, Unavailable("db_unavailable", "down"));
  auto bearer = auth.Authenticate("Bearer " + t->secret);
  ASSERT_FALSE(bearer.ok());
  EXPECT_EQ(bearer.status().code(), ErrorCode::kUnavailable);
  auto basic = auth.Authenticate(Basic("alice:s3cret"));
  ASSERT_FALSE(basic.ok());
  EXPECT_EQ(basic.status().code(), ErrorCode::kUnavailable);
  for (auto op : ops) faulty.Heal(op);
  EXPECT_TRUE(auth.Authenticate("Bearer " + t->secret).ok());
  EXPECT_TRUE(auth.Authenticate(Basic("alice:s3cret")).ok());
  EXPECT_EQ(auth.Authenticate("Bearer cth_unknown").status().code(), ErrorCode::kUnauthenticated);
}

// The OASIS TAXII client's token authentication sends "Token <secret>":
// the same token, the same checks as "Bearer".
TEST_F(AuthTest, TokenSchemeIsASynonymOfBearer) {
  auto t = CreateToken(*store_, alice_, "taxii2-client");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (std::string scheme : {"Token ", "token ", "TOKEN "}) {
    auto p = auth_->Authenticate(scheme + t->secret);
    ASSERT_TRUE(p.ok()) << scheme << p.status().ToString();
    EXPECT_EQ(p->user, "alice");
  }
  for (const std::string& h :
       {std::string("Token"), std::string("Token "), std::string("Token a b"),
        "Token " + t->secret + "x", "Tokens " + t->secret, "Token:" + t->secret}) {
    EXPECT_FALSE(auth_->Authenticate(h).ok()) << h;
  }
  ASSERT_TRUE(store_->RevokeToken(t->token.id).ok());
  EXPECT_FALSE(auth_->Authenticate("Token " + t->secret).ok());
}

TEST_F(AuthTest, RemovedUserFailsAtOnceEvenWhenCached) {
  auto t = CreateToken(*store_, alice_, "");
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(auth_->Authenticate(Basic("alice:s3cret")).ok());  // now cached
  ASSERT_TRUE(store_->RemoveUser("alice").ok());
  EXPECT_FALSE(auth_->Authenticate(Basic("alice:s3cret")).ok());
  EXPECT_FALSE(auth_->Authenticate("Bearer " + t->secret).ok());
}

TEST_F(AuthTest, PasswordChangeInvalidatesCache) {
  ASSERT_TRUE(auth_->Authenticate(Basic("alice:s3cret")).ok());
  ASSERT_TRUE(store_->SetPassword("alice", HashPassword("n3w")).ok());
  EXPECT_FALSE(auth_->Authenticate(Basic("alice:s3cret")).ok());
  EXPECT_TRUE(auth_->Authenticate(Basic("alice:n3w")).ok());
}

TEST_F(AuthTest, DisabledUserFails) {
  auto org = store_->GetOrganisation("acme");
  store::User u;
  u.name = "carol";
  u.org_id = org->id;
  u.password_hash = HashPassword("pw");
  u.disabled = true;
  auto added = store_->AddUser(u);
  ASSERT_TRUE(added.ok());
  EXPECT_FALSE(auth_->Authenticate(Basic("carol:pw")).ok());
  auto t = CreateToken(*store_, added->id, "");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(auth_->Authenticate("Bearer " + t->secret).ok());
}

Principal P(std::string user, std::string org, Role role) {
  Principal p;
  p.user = std::move(user);
  p.org = std::move(org);
  p.role = role;
  return p;
}

TEST(AccessTest, ReadWriteMatrix) {
  Collection c;
  c.readers = {"org:acme", "user:dave"};
  c.writers = {"org:acme"};
  Collection open;
  open.readers = {"org:*"};
  open.writers = {"org:*"};
  Collection none;

  struct Case {
    Principal p;
    const Collection& c;
    bool read, write;
  };
  Principal anon;
  anon.anonymous = true;
  const Case cases[] = {
      {P("admin", "other", Role::kAdmin), none, true, true},
      {P("alice", "acme", Role::kPublisher), c, true, true},
      {P("alice", "acme", Role::kReader), c, true, false},
      {P("alice", "acme", Role::kAuditor), c, true, false},
      {P("dave", "other", Role::kPublisher), c, true, false},  // read by user entry only
      {P("eve", "other", Role::kPublisher), c, false, false},
      {P("eve", "other", Role::kPublisher), open, true, true},
      {P("eve", "other", Role::kReader), open, true, false},
      {P("eve", "other", Role::kPublisher), none, false, false},
      {anon, open, false, false},
  };
  for (const auto& tc : cases) {
    EXPECT_EQ(CanRead(tc.p, tc.c), tc.read) << tc.p.user << "/" << tc.p.org;
    EXPECT_EQ(CanWrite(tc.p, tc.c), tc.write) << tc.p.user << "/" << tc.p.org;
  }
}

}  // namespace
}  // namespace ctihub::auth
