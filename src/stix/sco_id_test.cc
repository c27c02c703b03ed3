#include "stix/sco_id.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace ctihub::stix {
namespace {

std::string IdOf(std::string_view text) {
  json::JsonParser parser;
  auto e = parser.Parse(text);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  auto id = DeterministicScoId(*e);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : "";
}

TEST(ScoIdTest, SpecExamples) {
  EXPECT_EQ(IdOf(R"({"type":"ipv4-addr","value":"198.51.100.3"})"),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
  EXPECT_EQ(IdOf(R"({"type":"domain-name","value":"example.com"})"),
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
  EXPECT_EQ(IdOf(R"({"type":"url","value":"https://example.com/research/index.html"})"),
            "url--47c3cf9a-5027-5bf0-997a-017c7edc7c55");
  EXPECT_EQ(IdOf(R"({"type":"email-addr","value":"john@example.com"})"),
            "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934");
  EXPECT_EQ(
      IdOf(
          R"({"type":"file","hashes":{"SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"}})"),
      "file--b91bcf06-0d11-5a89-9c3a-8d4279aefe56");
  EXPECT_EQ(IdOf(R"({"type":"user-account","user_id":"1001","account_login":"jdoe"})"),
            "user-account--bc72c238-7239-5121-97a0-67530f226169");
}

TEST(ScoIdTest, IgnoresNonContributingPropertiesAndOrder) {
  EXPECT_EQ(IdOf(R"({"id":"ipv4-addr--00000000-0000-4000-8000-000000000000","value":"198.51.100.3",
                    "type":"ipv4-addr","spec_version":"2.1","resolves_to_refs":[]})"),
            "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
  EXPECT_EQ(
      IdOf(R"({"account_login":"jdoe","display_name":"J","user_id":"1001","type":"user-account"})"),
      "user-account--bc72c238-7239-5121-97a0-67530f226169");
}

TEST(ScoIdTest, OneHashChosenInPreferenceOrder) {
  // SHA-256 outranks SHA-512 and custom algorithms, so adding them keeps the id.
  EXPECT_EQ(IdOf(R"({"type":"file","hashes":{"SHA-512":"00","x-custom":"ab",
                    "SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"}})"),
            "file--b91bcf06-0d11-5a89-9c3a-8d4279aefe56");
  // MD5 outranks SHA-256.
  EXPECT_NE(IdOf(R"({"type":"file","hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e",
                    "SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"}})"),
            "file--b91bcf06-0d11-5a89-9c3a-8d4279aefe56");
  EXPECT_EQ(
      IdOf(R"({"type":"file","hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e","SHA-1":"aa"}})"),
      IdOf(R"({"type":"file","hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"}})"));
}

TEST(ScoIdTest, NoContributingPropertyGivesV4) {
  std::string a = IdOf(R"({"type":"process","pid":4})");
  std::string b = IdOf(R"({"type":"process","pid":4})");
  EXPECT_EQ(a.substr(0, 9), "process--");
  EXPECT_NE(a, b);
  EXPECT_EQ(a[9 + 14], '4');  // version nibble
  std::string c = IdOf(R"({"type":"ipv4-addr"})");
  EXPECT_EQ(c[11 + 14], '4');
}

TEST(ScoIdTest, RejectsNonObjects) {
  json::JsonParser parser;
  auto e = parser.Parse("[1]");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(DeterministicScoId(*e).ok());
  auto f = parser.Parse(R"({"value":"x"})");
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(DeterministicScoId(*f).ok());
}

}  // namespace
}  // namespace ctihub::stix
