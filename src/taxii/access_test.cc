// Tests of the write-side producer rules (PrepareWrite) and the read gate's
// bookkeeping without a policy. The read paths under a policy are covered
// end to end by tests/e2e/test_access_matrix.py.
#include "taxii/access.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "policy/model.h"

namespace ctihub::taxii {
namespace {

constexpr const char* kVendor = "identity--00000000-0000-4000-8000-00000000000a";
constexpr const char* kPolice = "identity--00000000-0000-4000-8000-00000000000b";
constexpr const char* kOther = "identity--00000000-0000-4000-8000-00000000000c";

std::shared_ptr<const policy::Policy> MakePolicy() {
  const char* toml = R"toml(
[[organisation]]
name = "vendor"
identity = "identity--00000000-0000-4000-8000-00000000000a"

[[organisation]]
name = "police"
identity = "identity--00000000-0000-4000-8000-00000000000b"

[[organisation]]
name = "other"
identity = "identity--00000000-0000-4000-8000-00000000000c"

[[agreement]]
id = "relay"
producer = "org:vendor"
recipient = "org:police"
max_tlp = "clear"
object_types = ["*"]
relay = true
legal_basis = "test"
)toml";
  auto model = policy::ParsePolicyToml(toml, "test.toml");
  EXPECT_TRUE(model.ok()) << model.status().message();
  return std::make_shared<const policy::Policy>(std::move(*model));
}

auth::Principal Writer(const std::string& org) {
  auth::Principal p;
  p.user = org + "-user";
  p.org = org;
  p.role = store::Role::kPublisher;
  return p;
}

// Runs PrepareWrite on `text` as `org`; fills `out`.
Status Prepare(const policy::Policy* policy, const std::string& org, std::string_view text,
               store::NewObject& out) {
  json::JsonParser parser;
  auto doc = parser.Parse(text);
  EXPECT_TRUE(doc.ok());
  out.json = json::CanonicalJson(*doc);
  auto p = Writer(org);
  std::string identity = WriterIdentity(policy, p);
  return PrepareWrite(policy, p, identity, *doc, out, Timestamp::Now());
}

constexpr const char* kMalware =
    R"({"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000001",)"
    R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"m",)"
    R"("is_family":true,"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],)"
    R"("x_a":1,"description":"d"})";

TEST(PrepareWrite, AddsTheWritersIdentityInCanonicalOrder) {
  auto policy = MakePolicy();
  store::NewObject out;
  out.type = "malware";
  ASSERT_TRUE(Prepare(policy.get(), "vendor", kMalware, out).ok());
  // The text must be exactly the canonical JSON of the object with the member added.
  std::string with = std::string(kMalware);
  with.insert(1, std::string(R"("created_by_ref":")") + kVendor + "\",");
  json::JsonParser parser;
  auto doc = parser.Parse(with);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(out.json, json::CanonicalJson(*doc));
  EXPECT_EQ(out.access.producer, kVendor);
  EXPECT_EQ(out.access.tlp, static_cast<int>(policy::Tlp::kAmber));
  EXPECT_EQ(out.access.pap, -1);
}

TEST(PrepareWrite, ScoGetsProducerColumnOnly) {
  auto policy = MakePolicy();
  store::NewObject out;
  out.type = "ipv4-addr";
  const char* sco =
      R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--00000000-0000-4000-8000-000000000009","value":"198.51.100.7"})";
  ASSERT_TRUE(Prepare(policy.get(), "vendor", sco, out).ok());
  EXPECT_EQ(out.json.find("created_by_ref"), std::string::npos);
  EXPECT_EQ(out.access.producer, kVendor);
}

TEST(PrepareWrite, ForeignProducerRefusedUnlessRelayed) {
  auto policy = MakePolicy();
  std::string as_vendor = std::string(kMalware);
  as_vendor.insert(1, std::string(R"("created_by_ref":")") + kVendor + "\",");
  store::NewObject out;
  out.type = "malware";
  Status st = Prepare(policy.get(), "other", as_vendor, out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("producer_not_allowed"), std::string::npos) << st.message();

  store::NewObject relayed;
  relayed.type = "malware";
  ASSERT_TRUE(Prepare(policy.get(), "police", as_vendor, relayed).ok());
  EXPECT_EQ(relayed.access.producer, kVendor);

  std::string as_other = std::string(kMalware);
  as_other.insert(1, std::string(R"("created_by_ref":")") + kOther + "\",");
  store::NewObject not_relayed;
  not_relayed.type = "malware";
  EXPECT_FALSE(Prepare(policy.get(), "police", as_other, not_relayed).ok());
}

TEST(PrepareWrite, StandardMarkingDefinitionsKeepTheirPublisher) {
  auto policy = MakePolicy();
  const char* tlp_amber =
      R"({"type":"marking-definition","spec_version":"2.1","id":"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",)"
      R"("created":"2022-10-01T00:00:00.000Z","created_by_ref":"identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01",)"
      R"("name":"TLP:AMBER","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":)"
      R"({"extension_type":"property-extension","tlp_2_0":"amber"}}})";
  store::NewObject out;
  out.type = "marking-definition";
  out.id = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
  EXPECT_TRUE(Prepare(policy.get(), "other", tlp_amber, out).ok());
}

TEST(PrepareWrite, WithoutPolicyKeepsTheObject) {
  store::NewObject out;
  out.type = "malware";
  ASSERT_TRUE(Prepare(nullptr, "vendor", kMalware, out).ok());
  EXPECT_EQ(out.json.find("created_by_ref"), std::string::npos);
  EXPECT_EQ(out.access.producer, "");
  EXPECT_EQ(out.access.tlp, static_cast<int>(policy::Tlp::kAmber));
}

TEST(ReadGate, WithoutPolicyLeavesTheQueryAlone) {
  store::Collection c;
  c.id = "col";
  ReadGate gate(nullptr, Writer("vendor"), c);
  store::ObjectQuery q;
  gate.Apply(q);
  EXPECT_FALSE(q.admit);
  EXPECT_FALSE(q.scope.has_value());
}

TEST(ReadGate, PolicyScopesAndDecidesEachRow) {
  auto policy = MakePolicy();
  store::Collection c;
  c.id = "col";
  ReadGate gate(policy, Writer("police"), c);
  store::ObjectQuery q;
  gate.Apply(q);
  ASSERT_TRUE(q.admit);
  ASSERT_TRUE(q.scope.has_value());
  EXPECT_EQ(q.scope->own_producer, kPolice);
  store::ObjectVersion amber;
  amber.id = "malware--00000000-0000-4000-8000-000000000001";
  amber.type = "malware";
  amber.json = kMalware;
  amber.access.producer = kVendor;
  amber.access.tlp = static_cast<int>(policy::Tlp::kAmber);
  EXPECT_FALSE(q.admit(amber));  // the relay agreement grants CLEAR only
  EXPECT_EQ(amber.access.producer, kVendor);  // the row's facts are given back
  store::ObjectVersion clear = amber;
  clear.access.tlp = static_cast<int>(policy::Tlp::kClear);
  EXPECT_TRUE(q.admit(clear));
  store::ObjectVersion own = amber;
  own.access.producer = kPolice;
  EXPECT_TRUE(q.admit(own));
  EXPECT_TRUE(gate.IsOwn(own));
  EXPECT_FALSE(gate.IsOwn(clear));
}

}  // namespace
}  // namespace ctihub::taxii
