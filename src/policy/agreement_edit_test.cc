// Changing agreements (agreement_edit.h): field checks named after the field,
// the whole policy reloaded before a change is kept, and the roll-back when the
// caller's audit append fails.
#include "policy/agreement_edit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ctihub::policy {
namespace {

constexpr const char* kIdA = "identity--00000000-0000-4000-8000-00000000000a";
constexpr const char* kIdB = "identity--00000000-0000-4000-8000-00000000000b";

class AgreementEditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/agreement_edit_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // acme is in policy.toml, beta only in the store.
    std::ofstream(dir_ + "/policy.toml")
        << "[[organisation]]\nname = \"acme\"\nidentity = \"" << kIdA << "\"\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static AgreementDraft Draft() {
    AgreementDraft d;
    d.id = "acme-to-beta";
    d.producer = "org:acme";
    d.recipient = "org:beta";
    d.max_tlp = "amber";
    d.types = {"indicator"};
    d.legal_basis = "test";
    return d;
  }

  std::string File() const {
    std::ifstream in(dir_ + "/agreements.toml");
    return {std::istreambuf_iterator<char>(in), {}};
  }

  AgreementOrgsFn orgs_ = [] {
    return Result<std::vector<KnownOrg>>(std::vector<KnownOrg>{{"acme", kIdA}, {"beta", kIdB}});
  };
  std::vector<std::string> recorded_;
  RecordAgreementChangeFn record_ = [this](const std::string& details) {
    recorded_.push_back(details);
    return Status::Ok();
  };
  std::string dir_;
};

TEST_F(AgreementEditTest, EachBadFieldIsNamed) {
  struct Case {
    void (*change)(AgreementDraft&);
    const char* field;
  };
  for (const Case& c : std::vector<Case>{
           {[](AgreementDraft& d) { d.id.clear(); }, "id"},
           {[](AgreementDraft& d) { d.producer = "acme"; }, "producer"},
           {[](AgreementDraft& d) { d.max_tlp = "purple"; }, "max_tlp"},
           {[](AgreementDraft& d) { d.pap_ceiling = "x"; }, "pap_ceiling"},
           {[](AgreementDraft& d) { d.types.clear(); }, "types"},
           {[](AgreementDraft& d) {
              d.types = {"*", "indicator"};
            },
            "types"},
           {[](AgreementDraft& d) { d.strip = {"a..b"}; }, "strip"},
           {[](AgreementDraft& d) { d.withhold_sco = {""}; }, "withhold_sco"},
           {[](AgreementDraft& d) { d.valid_from = "yesterday"; }, "valid_from"},
           {[](AgreementDraft& d) {
              d.valid_from = "2030-01-01T00:00:00Z";
              d.expires = "2029-01-01T00:00:00Z";
            },
            "expires"},
           {[](AgreementDraft& d) {
              d.max_tlp = "amber+strict";
              d.reshare = true;
            },
            "reshare"},
           {[](AgreementDraft& d) { d.legal_basis.clear(); }, "legal_basis"},
       }) {
    AgreementDraft d = Draft();
    c.change(d);
    auto a = BuildAgreement(d);
    ASSERT_FALSE(a.ok()) << c.field;
    EXPECT_EQ(a.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(AgreementErrorField(a.status()), c.field) << a.status().NamedMessage();
  }
  auto a = BuildAgreement(Draft());
  ASSERT_TRUE(a.ok()) << a.status().NamedMessage();
  EXPECT_EQ(a->pap_ceiling, Pap::kRed);  // the CLI's default
  // Another module's "bad_..." names no field of an agreement.
  EXPECT_EQ(AgreementErrorField(InvalidArgument("bad_timestamp", "x")), "");
  EXPECT_EQ(AgreementErrorField(InvalidArgument("x")), "");
}

TEST_F(AgreementEditTest, AddAndRevokeAreValidatedRecordedAndLoaded) {
  auto a = BuildAgreement(Draft());
  ASSERT_TRUE(a.ok());
  // beta is known only to the store: without its organisations it is unknown.
  Status st = AddAgreement(dir_, nullptr, *a, record_);
  EXPECT_EQ(AgreementErrorField(st), "recipient") << st.NamedMessage();
  ASSERT_TRUE(AddAgreement(dir_, orgs_, *a, record_).ok());
  ASSERT_EQ(recorded_.size(), 1u);
  EXPECT_NE(recorded_[0].find(R"("id":"acme-to-beta")"), std::string::npos) << recorded_[0];
  st = AddAgreement(dir_, orgs_, *a, record_);
  EXPECT_EQ(st.code(), ErrorCode::kConflict);
  EXPECT_EQ(AgreementErrorField(st), "id");
  auto model = LoadPolicyWithOrgs(dir_, orgs_);
  ASSERT_TRUE(model.ok()) << model.status().NamedMessage();
  ASSERT_NE(model->FindAgreement("acme-to-beta"), nullptr);

  const Timestamp at = *Timestamp::Parse("2026-01-01T00:00:00Z");
  EXPECT_EQ(RevokeAgreement(dir_, orgs_, "nosuch", at, "r", record_).code(), ErrorCode::kNotFound);
  EXPECT_EQ(AgreementErrorField(RevokeAgreement(dir_, orgs_, "acme-to-beta", at, "", record_)),
            "reason");
  ASSERT_TRUE(RevokeAgreement(dir_, orgs_, "acme-to-beta", at, "ended", record_).ok());
  EXPECT_EQ(RevokeAgreement(dir_, orgs_, "acme-to-beta", at, "again", record_).code(),
            ErrorCode::kConflict);
  model = LoadPolicyWithOrgs(dir_, orgs_);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(AgreementState(*model->FindAgreement("acme-to-beta"), Timestamp::Now()), "revoked");
  EXPECT_EQ(recorded_.size(), 2u);
}

TEST_F(AgreementEditTest, AFailedRecordPutsTheOldFileBack) {
  RecordAgreementChangeFn failing = [](const std::string&) { return Unavailable("disk full"); };
  auto a = BuildAgreement(Draft());
  ASSERT_TRUE(a.ok());
  Status st = AddAgreement(dir_, orgs_, *a, failing);
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/agreements.toml"));  // there was none
  ASSERT_TRUE(AddAgreement(dir_, orgs_, *a, record_).ok());
  const std::string before = File();
  st = RevokeAgreement(dir_, orgs_, "acme-to-beta", Timestamp::Now(), "r", failing);
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(File(), before);
}

}  // namespace
}  // namespace ctihub::policy
