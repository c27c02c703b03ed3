#include "audit/witness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "audit/audit.h"

namespace ctihub::audit {
namespace {

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/witness_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Append(int n) {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < n; ++i) {
      Record r;
      r.time = Timestamp::Now();
      r.user = "alice";
      r.org = "vendor";
      r.action = std::string(action::kRequest);
      r.route = "GET /taxii2/";
      ASSERT_TRUE((*log)->Append(std::move(r)).ok());
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }

  SignedHead Head() {
    auto h = ReadSignedHead(dir_);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : SignedHead{};
  }

  std::string dir_;
};

TEST_F(WitnessTest, TheHeadIsTheLastRecordSignedByTheNodeKey) {
  Append(5);
  SignedHead h = Head();
  EXPECT_EQ(h.seq, 5);
  EXPECT_EQ(h.hash.size(), 64u);
  EXPECT_TRUE(SignedHeadIsValid(h));
  Append(3);
  SignedHead later = Head();
  EXPECT_EQ(later.seq, 8);
  EXPECT_NE(later.hash, h.hash);
  EXPECT_EQ(later.public_key, h.public_key);
  EXPECT_TRUE(SignedHeadIsValid(later));
}

TEST_F(WitnessTest, NoTrailIsNotFound) {
  auto h = ReadSignedHead(dir_);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), ErrorCode::kNotFound);
}

TEST_F(WitnessTest, AnyChangedFieldBreaksTheSignature) {
  Append(4);
  const SignedHead h = Head();
  SignedHead t = h;
  t.seq = 3;
  EXPECT_FALSE(SignedHeadIsValid(t));
  t = h;
  t.hash[0] = t.hash[0] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(SignedHeadIsValid(t));
  t = h;
  t.checkpoints = h.checkpoints + 1;
  EXPECT_FALSE(SignedHeadIsValid(t));
  t = h;
  t.public_key = std::string(64, '0');
  EXPECT_FALSE(SignedHeadIsValid(t));
}

TEST_F(WitnessTest, JsonRoundTripAndBadHeads) {
  Append(2);
  const SignedHead h = Head();
  json::JsonParser parser;
  auto root = parser.Parse(SignedHeadJson(h));
  ASSERT_TRUE(root.ok());
  auto back = ParseSignedHead(*root);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->seq, h.seq);
  EXPECT_EQ(back->hash, h.hash);
  EXPECT_EQ(back->signature, h.signature);
  EXPECT_TRUE(SignedHeadIsValid(*back));
  for (const char* bad :
       {R"({})", R"({"seq":0,"hash":"","checkpoints":0,"public_key":"",
      "signature":""})",
        R"({"seq":"1","hash":"x","checkpoints":0,"public_key":"y","signature":"z"})", R"([1,2])"}) {
    json::JsonParser p;
    auto v = p.Parse(bad);
    ASSERT_TRUE(v.ok()) << bad;
    auto parsed = ParseSignedHead(*v);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().name(), "bad_head") << bad;
  }
}

TEST_F(WitnessTest, HeldHeadsMoveForwardOnlyAndARegressIsRefused) {
  Append(3);
  const SignedHead first = Head();
  Append(2);
  const SignedHead second = Head();
  const std::string held_dir = dir_ + "/holder";

  ASSERT_TRUE(HoldPartnerHead(held_dir, PartnerKind::kPeer, "vendor", first).ok());
  ASSERT_TRUE(HoldPartnerHead(held_dir, PartnerKind::kPeer, "vendor", second).ok());
  ASSERT_TRUE(HoldPartnerHead(held_dir, PartnerKind::kPeer, "vendor", second).ok());  // same: fine
  auto held = HeldPartnerHead(held_dir, PartnerKind::kPeer, "vendor");
  ASSERT_TRUE(held.ok() && held->has_value());
  EXPECT_EQ((*held)->seq, second.seq);

  Status back = HoldPartnerHead(held_dir, PartnerKind::kPeer, "vendor", first);
  EXPECT_EQ(back.name(), "trail_regressed") << back.ToString();
  held = HeldPartnerHead(held_dir, PartnerKind::kPeer, "vendor");
  EXPECT_EQ((*held)->seq, second.seq);  // the held one stays
}

TEST_F(WitnessTest, TheSameSeqWithAnotherHashIsARewrite) {
  Append(3);
  const SignedHead real = Head();
  const std::string held_dir = dir_ + "/holder";
  ASSERT_TRUE(HoldPartnerHead(held_dir, PartnerKind::kUser, "ipo-link", real).ok());
  // Another trail of the same length: a rewrite re-signed with its own key.
  const std::string other = dir_ + "/other";
  {
    auto log = AuditLog::Open(other);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 3; ++i) {
      Record r;
      r.time = Timestamp::Now();
      r.user = "mallory";
      r.action = std::string(action::kRequest);
      ASSERT_TRUE((*log)->Append(std::move(r)).ok());
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }
  auto forged = ReadSignedHead(other);
  ASSERT_TRUE(forged.ok());
  ASSERT_EQ(forged->seq, real.seq);
  Status st = HoldPartnerHead(held_dir, PartnerKind::kUser, "ipo-link", *forged);
  EXPECT_EQ(st.name(), "trail_rewritten") << st.ToString();
}

TEST_F(WitnessTest, ABadSignatureIsNeverHeldAndPartnersAreApart) {
  Append(2);
  SignedHead h = Head();
  const std::string held_dir = dir_ + "/holder";
  SignedHead forged = h;
  forged.seq = 99;
  EXPECT_EQ(HoldPartnerHead(held_dir, PartnerKind::kPeer, "p", forged).name(), "bad_signature");
  auto none = HeldPartnerHead(held_dir, PartnerKind::kPeer, "p");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(HoldPartnerHead(held_dir, PartnerKind::kUser, "p", h).ok());
  none = HeldPartnerHead(held_dir, PartnerKind::kPeer, "p");  // a user p is not the peer p
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // Any user name is a safe file name.
  EXPECT_TRUE(HoldPartnerHead(held_dir, PartnerKind::kUser, "../../etc/x y", h).ok());
  EXPECT_TRUE(std::filesystem::exists(held_dir + "/witness"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/etc"));
}

}  // namespace
}  // namespace ctihub::audit
