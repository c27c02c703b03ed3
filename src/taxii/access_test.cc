// Tests of the write-side producer rules (PrepareWrite) and the read gate's
// bookkeeping without a policy. The read paths under a policy are covered
// end to end by tests/e2e/test_access_matrix.py.
#include "taxii/access.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "core/json.h"
#include "core/tlp.h"
#include "policy/model.h"

namespace ctihub::taxii {
namespace {

constexpr const char* kVendor = "identity--00000000-0000-4000-8000-00000000000a";
constexpr const char* kPolice = "identity--00000000-0000-4000-8000-00000000000b";
constexpr const char* kOther = "identity--00000000-0000-4000-8000-00000000000c";

// The three organisations of these tests (kVendor, kPolice, kOther).
constexpr const char* kOrganisationsToml = R"toml(
[[organisation]]
name = "vendor"
identity = "identity--00000000-0000-4000-8000-00000000000a"

[[organisation]]
name = "police"
identity = "identity--00000000-0000-4000-8000-00000000000b"

[[organisation]]
name = "other"
identity = "identity--00000000-0000-4000-8000-00000000000c"
)toml";

std::shared_ptr<const policy::Policy> MakePolicy() {
  const std::string toml = std::string(kOrganisationsToml) + R"toml(
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
  EXPECT_EQ(st.name(), "producer_not_allowed") << st.message();

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

// A pull (ctihub sync) as the peer's organisation: an unknown producer is kept
// in the object and shared locally as the writer's; a known foreign producer
// still needs a relay agreement; a POST (kRefuse) refuses the unknown one.
TEST(PrepareWrite, PullSharesAnUnknownProducerAsTheWriters) {
  auto policy = MakePolicy();
  constexpr const char* kUnknown = "identity--00000000-0000-4000-8000-0000000000ff";
  auto with_producer = [](const char* producer) {
    std::string text = kMalware;
    text.insert(1, std::string(R"("created_by_ref":")") + producer + "\",");
    return text;
  };
  auto prepare = [&](const std::string& org, const std::string& text, UnknownProducer mode,
                     store::NewObject& out) {
    json::JsonParser parser;
    auto doc = parser.Parse(text);
    EXPECT_TRUE(doc.ok());
    out.type = "malware";
    out.json = json::CanonicalJson(*doc);
    auto p = Writer(org);
    return PrepareWrite(policy.get(), p, WriterIdentity(policy.get(), p), *doc, out,
                        Timestamp::Now(), mode);
  };
  store::NewObject pulled;
  ASSERT_TRUE(prepare("police", with_producer(kUnknown), UnknownProducer::kAsWriter, pulled).ok());
  EXPECT_EQ(pulled.access.producer, kPolice);
  EXPECT_NE(pulled.json.find(kUnknown), std::string::npos);  // created_by_ref kept

  store::NewObject posted;
  Status st = prepare("police", with_producer(kUnknown), UnknownProducer::kRefuse, posted);
  EXPECT_EQ(st.name(), "producer_not_allowed");

  store::NewObject foreign;
  st = prepare("police", with_producer(kOther), UnknownProducer::kAsWriter, foreign);
  EXPECT_EQ(st.name(), "producer_not_allowed");
  store::NewObject relayed;
  ASSERT_TRUE(prepare("police", with_producer(kVendor), UnknownProducer::kAsWriter, relayed).ok());
  EXPECT_EQ(relayed.access.producer, kVendor);
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

// Regression (issue 12 item 3): the fixed TLP definitions were stored and
// served with the writer's created_by_ref added. They must stay as published.
TEST(PrepareWrite, FixedTlpDefinitionsAreNeverAltered) {
  auto policy = MakePolicy();
  for (const tlp::FixedMarking& fixed : tlp::FixedMarkings()) {
    std::string_view text = fixed.canonical;
    store::NewObject out;
    out.type = "marking-definition";
    out.id = std::string(fixed.id);
    ASSERT_TRUE(Prepare(policy.get(), "vendor", text, out).ok()) << fixed.id;
    EXPECT_EQ(out.json, text) << "TLP definition altered";
  }
}

TEST(PrepareWrite, WithoutPolicyKeepsTheObject) {
  store::NewObject out;
  out.type = "malware";
  ASSERT_TRUE(Prepare(nullptr, "vendor", kMalware, out).ok());
  EXPECT_EQ(out.json.find("created_by_ref"), std::string::npos);
  EXPECT_EQ(out.access.producer, "");
  EXPECT_EQ(out.access.tlp, static_cast<int>(policy::Tlp::kAmber));
}

// Regression (issue 12 item 15): a gate opened without a policy served
// everything the collection ACL let through. It must fail closed.
TEST(ReadGate, WithoutPolicyWithholdsEveryRow) {
  store::Collection c;
  c.id = "col";
  ReadGate gate(nullptr, Writer("vendor"), c);
  store::ObjectQuery q;
  gate.Apply(q);
  ASSERT_TRUE(q.scope.has_value());
  EXPECT_TRUE(q.scope->none);
  ASSERT_TRUE(q.admit);
  store::ObjectVersion row;
  row.id = "malware--00000000-0000-4000-8000-000000000001";
  row.type = "malware";
  row.json = kMalware;
  EXPECT_FALSE(q.admit(row));
}

TEST(ReadGate, ExplicitlyWithoutPolicyLeavesTheQueryAlone) {
  store::Collection c;
  c.id = "col";
  ReadGate gate = ReadGate::WithoutPolicyForTest(Writer("vendor"), c);
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
  EXPECT_FALSE(q.admit(amber));               // the relay agreement grants CLEAR only
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

// The memo and the screen must never change a decision: every row is
// decided through the gate twice (the second time mostly from the memo) and
// compared with the policy's own decision from the object, over producers,
// types, TLP and PAP levels, recipients, granular markings and a property
// an agreement strips.
std::shared_ptr<const policy::Policy> MemoPolicy(const std::string& valid_from) {
  std::string toml = std::string(kOrganisationsToml) + R"toml(
[[agreement]]
id = "vendor-police"
producer = "org:vendor"
recipient = "org:police"
max_tlp = "amber"
object_types = ["indicator", "malware"]
pap_ceiling = "amber"
strip_properties = ["x_personal"]
legal_basis = "test"
)toml";
  toml += "valid_from = \"" + valid_from + "\"\n";
  toml += R"toml(
[[agreement]]
id = "other-police"
producer = "org:other"
recipient = "org:police"
max_tlp = "green"
object_types = ["*"]
legal_basis = "test"
)toml";
  auto model = policy::ParsePolicyToml(toml, "memo.toml");
  if (!model.ok()) {
    ADD_FAILURE() << model.status().message();
    return nullptr;
  }
  return std::make_shared<const policy::Policy>(std::move(*model));
}

// Granular markings of a test row, on "description" (and "name").
enum class Granular {
  kNone,
  kRed,            // TLP:RED
  kGreen,          // TLP:GREEN: within most grants
  kAmberPapRed,    // TLP:AMBER, and PAP:RED on "name"
  kRedLegacyFacts  // TLP:RED, its levels not in the facts (rows stored before they were kept)
};

// A stored row as the store gives it: canonical JSON plus the facts columns,
// as taxii::PrepareWrite sets them when the row is written.
store::ObjectVersion Row(const std::string& type, int n, const std::string& producer, int tlp,
                         int pap, const std::vector<std::string>& recipients, bool personal,
                         Granular granular) {
  std::string refs;
  if (tlp >= 0)
    refs += "\"" + std::string(policy::Tlp2MarkingId(static_cast<policy::Tlp>(tlp))) + "\"";
  if (pap >= 0) {
    if (!refs.empty()) refs += ",";
    refs += "\"" + std::string(policy::PapMarkingId(static_cast<policy::Pap>(pap))) + "\"";
  }
  char id[64];
  std::snprintf(id, sizeof id, "--00000000-0000-4000-8000-%012d", n);
  std::string text =
      R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + type + id +
      R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
      R"("created_by_ref":")" +
      producer + R"(","name":"n","description":"d")";
  if (type == "indicator") {
    text +=
        R"(,"pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z")";
  }
  if (type == "malware") text += R"(,"is_family":true)";
  if (!refs.empty()) text += ",\"object_marking_refs\":[" + refs + "]";
  if (personal) text += R"(,"x_personal":"J. Doe")";
  auto granular_tlp = [&](policy::Tlp level) {
    return R"({"marking_ref":")" + std::string(policy::Tlp2MarkingId(level)) +
           R"(","selectors":["description"]})";
  };
  switch (granular) {
    case Granular::kNone:
      break;
    case Granular::kRed:
    case Granular::kRedLegacyFacts:
      text += ",\"granular_markings\":[" + granular_tlp(policy::Tlp::kRed) + "]";
      break;
    case Granular::kGreen:
      text += ",\"granular_markings\":[" + granular_tlp(policy::Tlp::kGreen) + "]";
      break;
    case Granular::kAmberPapRed:
      text += ",\"granular_markings\":[" + granular_tlp(policy::Tlp::kAmber) +
              R"(,{"marking_ref":")" + std::string(policy::PapMarkingId(policy::Pap::kRed)) +
              R"(","selectors":["name"]}])";
      break;
  }
  if (!recipients.empty()) {
    text += ",\"extensions\":{\"" + std::string(policy::kRecipientsExtensionId) +
            "\":{\"extension_type\":\"property-extension\",\"recipient_orgs\":[";
    for (size_t i = 0; i < recipients.size(); ++i)
      text += (i ? ",\"" : "\"") + recipients[i] + "\"";
    text += "]}}";
  }
  text += "}";
  json::JsonParser parser;
  auto doc = parser.Parse(text);
  EXPECT_TRUE(doc.ok()) << text;
  store::ObjectVersion v;
  v.id = type + id;
  v.type = type;
  v.date_added_us = n;
  v.json = json::CanonicalJson(*doc);
  store::NewObject written;
  EXPECT_TRUE(PrepareWrite(nullptr, auth::Principal{}, "", *doc, written, Timestamp::Now()).ok());
  v.access = written.access;
  EXPECT_EQ(v.access.producer, producer);
  EXPECT_EQ(v.access.tlp, tlp);
  EXPECT_EQ(v.access.pap, pap);
  EXPECT_EQ(v.access.granular_levels, granular != Granular::kNone);
  if (granular == Granular::kRedLegacyFacts) v.access.granular_max_known = false;
  return v;
}

TEST(ReadGate, MemoAndScreenNeverChangeADecision) {
  auto policy = MemoPolicy("2020-01-01T00:00:00Z");
  store::Collection c;
  c.id = "memo-col";
  const Timestamp now = Timestamp::Now();
  std::vector<store::ObjectVersion> rows;
  int n = 0;
  for (const char* producer :
       {kVendor, kOther, kPolice, "identity--00000000-0000-4000-8000-0000000000ff"}) {
    for (const char* type : {"indicator", "malware", "report"}) {
      for (int tlp = -1; tlp <= 4; ++tlp) {
        for (int pap = -1; pap <= 3; ++pap) {
          for (int variant = 0; variant < 8; ++variant) {
            std::vector<std::string> recipients;
            if (variant == 1) recipients = {kPolice};
            if (variant == 2 || variant == 5) recipients = {kOther};
            const Granular granular = variant == 4   ? Granular::kRed
                                      : variant == 5 ? Granular::kGreen
                                      : variant == 6 ? Granular::kAmberPapRed
                                      : variant == 7 ? Granular::kRedLegacyFacts
                                                     : Granular::kNone;
            rows.push_back(Row(type, ++n, producer, tlp, pap, recipients, variant == 3, granular));
          }
        }
      }
    }
  }
  json::JsonParser parser;
  const policy::Reader reader{"police", false};
  const policy::CollectionMarking marking = MarkingOf(*policy, c);
  int served = 0, withheld = 0, redacted = 0, granular_whole = 0, granular_redacted = 0;
  for (int pass = 0; pass < 2; ++pass) {
    ReadGate gate(policy, Writer("police"), c, now);
    store::ObjectQuery q;
    gate.Apply(q);
    ASSERT_TRUE(q.screen);
    ASSERT_TRUE(q.admit);
    for (const store::ObjectVersion& original : rows) {
      // The policy's own answer, from the object itself.
      auto doc = parser.Parse(original.json);
      ASSERT_TRUE(doc.ok());
      auto facts = policy::ExtractFacts(*doc);
      ASSERT_TRUE(facts.ok());
      // Granular markings evaluated grant by grant (the levels unused).
      facts->granular_max_known = false;
      std::string text = original.json;
      policy::Decision want = policy->DecideText(reader, *facts, text, parser, marking, now);
      // The gate's, as the store calls it: screen on the facts, then admit.
      store::ObjectVersion row = original;
      const bool passed_screen = q.screen(row);
      const bool admitted = passed_screen && q.admit(row);
      ASSERT_EQ(admitted, want.verdict != policy::Verdict::kWithhold)
          << "pass " << pass << " " << original.json << " via " << want.via;
      if (want.verdict == policy::Verdict::kServeRedacted) {
        EXPECT_EQ(row.json, want.redacted_json);
      } else if (admitted) {
        EXPECT_EQ(row.json, original.json);
      }
      // The audit record's grant and redaction, from the memo as from the policy.
      const ServedGrant* grant = gate.GrantOf(row);
      if (admitted) {
        ASSERT_NE(grant, nullptr) << original.json;
        EXPECT_EQ(grant->via, want.via) << "pass " << pass << " " << original.json;
        EXPECT_EQ(grant->redacted, want.verdict == policy::Verdict::kServeRedacted);
      } else {
        EXPECT_EQ(grant, nullptr);
      }
      if (pass == 1) {
        served += want.verdict == policy::Verdict::kServe;
        redacted += want.verdict == policy::Verdict::kServeRedacted;
        withheld += want.verdict == policy::Verdict::kWithhold;
        if (original.access.granular_levels) {
          granular_whole += want.verdict == policy::Verdict::kServe;
          granular_redacted += want.verdict == policy::Verdict::kServeRedacted;
        }
      }
    }
  }
  // The matrix exercised every outcome.
  EXPECT_GT(served, 50);
  EXPECT_GT(redacted, 10);
  EXPECT_GT(withheld, 50);
  // Granular rows both ways: within the grant's levels (no selectors read)
  // and above them.
  EXPECT_GT(granular_whole, 10);
  EXPECT_GT(granular_redacted, 10);
}

TEST(ReadGate, MemoHoldsManyProducersAndTypes) {
  // More (producer, type) pairs than the memo's first table holds: it grows,
  // and every decision stays the policy's.
  auto policy = MemoPolicy("2020-01-01T00:00:00Z");
  store::Collection c;
  c.id = "memo-many";
  const Timestamp now = Timestamp::Now();
  json::JsonParser parser;
  const policy::CollectionMarking marking = MarkingOf(*policy, c);
  int served = 0;
  for (int pass = 0; pass < 2; ++pass) {
    ReadGate gate(policy, Writer("police"), c, now);
    store::ObjectQuery q;
    gate.Apply(q);
    for (int n = 0; n < 600; ++n) {
      char producer[64];
      std::snprintf(producer, sizeof producer, "identity--00000000-0000-4000-8000-%012d", n % 300);
      const std::string who = n % 7 == 0     ? std::string(kVendor)
                              : n % 300 == 2 ? "identity--" + std::string(70, 'p')  // not inline
                                             : std::string(producer);
      const int tlp = n % 2 == 0 ? static_cast<int>(policy::Tlp::kClear)
                                 : static_cast<int>(policy::Tlp::kAmber);
      store::ObjectVersion row = Row(n % 3 == 0 ? "indicator" : "malware", n + 1, who, tlp, -1, {},
                                     false, Granular::kNone);
      // Many types (the facts' type); one among the first too long for the
      // memo's keys (never memoised), one producer id longer than any real one.
      row.type =
          n % 40 == 1 ? "x-type-" + std::string(100, 'l') : "x-type-" + std::to_string(n % 40);
      auto doc = parser.Parse(row.json);
      ASSERT_TRUE(doc.ok());
      auto facts = policy::ExtractFacts(*doc);
      ASSERT_TRUE(facts.ok());
      facts->type = row.type;
      const std::string text = row.json;
      policy::Decision want =
          policy->DecideText(policy::Reader{"police", false}, *facts, text, parser, marking, now);
      const bool admitted = q.screen(row) && q.admit(row);
      ASSERT_EQ(admitted, want.verdict != policy::Verdict::kWithhold) << n << " " << want.via;
      served += admitted;
    }
  }
  EXPECT_EQ(served, 2 * 300);  // the CLEAR half; AMBER from vendor is not of an agreed type
}

TEST(ReadGate, MemoEndsWhereAnAgreementStarts) {
  // vendor-police starts at 2030-01-01: before it, AMBER vendor indicators
  // are withheld from police; after it, served. A memo made before must not
  // answer after.
  auto policy = MemoPolicy("2030-01-01T00:00:00Z");
  store::Collection c;
  c.id = "memo-boundary";
  const store::ObjectVersion amber =
      Row("indicator", 1, kVendor, static_cast<int>(policy::Tlp::kAmber), -1, {}, false,
          Granular::kNone);
  auto admitted_at = [&](const char* when) {
    ReadGate gate(policy, Writer("police"), c, *Timestamp::Parse(when));
    store::ObjectQuery q;
    gate.Apply(q);
    store::ObjectVersion row = amber;
    return q.screen(row) && q.admit(row);
  };
  EXPECT_FALSE(admitted_at("2029-12-31T23:00:00Z"));
  EXPECT_FALSE(admitted_at("2029-12-31T23:30:00Z"));  // from the memo
  EXPECT_TRUE(admitted_at("2030-01-01T00:00:00Z"));
  EXPECT_TRUE(admitted_at("2030-06-01T00:00:00Z"));
}

TEST(Policy, NextChangeIsTheReadersNextAgreementBoundary) {
  auto policy = MemoPolicy("2030-01-01T00:00:00Z");
  const auto police = policy->Resolve(policy::Reader{"police", false});
  auto next = policy->NextChange(police, *Timestamp::Parse("2029-01-01T00:00:00Z"));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, *Timestamp::Parse("2030-01-01T00:00:00Z"));
  EXPECT_FALSE(policy->NextChange(police, *Timestamp::Parse("2030-01-01T00:00:00Z")).has_value());
  EXPECT_FALSE(policy
                   ->NextChange(policy->Resolve(policy::Reader{"", true}),
                                *Timestamp::Parse("2029-01-01T00:00:00Z"))
                   .has_value());
}

}  // namespace
}  // namespace ctihub::taxii
