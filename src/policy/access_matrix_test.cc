// The generated access matrix: TLP (2.0 and 1.0 ids, unmarked with and without
// a collection default) x PAP x reader relation x RED naming x granular
// marking, every cell asserted against an expectation computed by a separate,
// deliberately naive oracle written from the rules in src/policy/README.md
// (a hand-written list of grants per relation), not from the compiled routes.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "policy/policy.h"
#include "policy/test_fixture.h"

namespace ctihub::policy {
namespace {

using namespace testing;  // NOLINT

enum class Rel { kSame, kDirect, kReshare, kMember, kUnrelated, kAnonPublic, kAnonPrivate };
const char* RelName(Rel r) {
  switch (r) {
    case Rel::kSame:
      return "same-org";
    case Rel::kDirect:
      return "direct-recipient";
    case Rel::kReshare:
      return "reshare-recipient";
    case Rel::kMember:
      return "community-member";
    case Rel::kUnrelated:
      return "unrelated";
    case Rel::kAnonPublic:
      return "anonymous(public)";
    case Rel::kAnonPrivate:
      return "anonymous(private)";
  }
  return "?";
}

struct TlpCase {
  const char* name;
  const char* marking;  // nullptr: unmarked
  int level;            // 0 clear .. 4 red; -1 unmarked
};
const TlpCase kTlps[] = {
    {"unmarked", nullptr, -1},
    {"2.0 CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", 0},
    {"2.0 GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", 1},
    {"2.0 AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 2},
    {"2.0 AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", 3},
    {"2.0 RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", 4},
    {"1.0 WHITE", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", 0},
    {"1.0 GREEN", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", 1},
    {"1.0 AMBER", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", 2},
    {"1.0 RED", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", 4},
};

struct PapCase {
  const char* name;
  const char* marking;
  int level;  // -1 unmarked
};
const PapCase kPaps[] = {
    {"no PAP", nullptr, -1},
    {"PAP:CLEAR", "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92", 0},
    {"PAP:GREEN", "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9", 1},
    {"PAP:AMBER", "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab", 2},
    {"PAP:RED", "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e", 3},
};

struct GranularCase {
  const char* name;
  const char* marking;  // TLP 2.0 id
  int level;            // -1 none
  const char* selector;
};
const GranularCase kGranular[] = {
    {"no granular", nullptr, -1, nullptr},
    {"description GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", 1,
     "description"},
    {"description AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 2,
     "description"},
    {"description AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", 3,
     "description"},
    {"description RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", 4,
     "description"},
    {"labels.[0] AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 2,
     "labels.[0]"},
    {"pattern (required) AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 2,
     "pattern"},
};

std::string MakeObject(const TlpCase& t, const PapCase& p, const GranularCase& g, bool name_reader,
                       const char* reader_identity) {
  std::string o =
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111",)"
      R"("created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",)"
      R"("created_by_ref":")" +
      std::string(kProd) +
      R"(","name":"bad ip",)"
      R"("description":"seen in campaign X","labels":["c2","botnet"],)"
      R"("pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",)"
      R"("valid_from":"2026-01-01T00:00:00Z")";
  std::vector<std::string> refs;
  if (t.marking) refs.emplace_back(t.marking);
  if (p.marking) refs.emplace_back(p.marking);
  if (!refs.empty()) {
    o += R"(,"object_marking_refs":[)";
    for (size_t i = 0; i < refs.size(); ++i) o += (i ? ",\"" : "\"") + refs[i] + "\"";
    o += "]";
  }
  if (g.marking) {
    o += R"(,"granular_markings":[{"marking_ref":")" + std::string(g.marking) +
         R"(","selectors":[")" + g.selector + R"("]}])";
  }
  if (name_reader) {
    o += R"(,"extensions":{"extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2":)"
         R"({"extension_type":"property-extension","recipient_orgs":[")" +
         std::string(reader_identity) + R"("]}})";
  }
  return o + "}";
}

// ---- the oracle: a hand-written grant list per relation ----
struct Grant {
  int max;          // highest TLP level
  int pap_ceiling;  // 3 = no limit
};
enum class Expect { kServe, kRedacted, kWithhold };
const char* ExpectName(Expect e) {
  return e == Expect::kServe ? "serve" : e == Expect::kRedacted ? "redacted" : "withhold";
}

Expect Oracle(Rel rel, bool named, int tlp, int pap, const GranularCase& g) {
  if (rel == Rel::kSame) return Expect::kServe;
  std::vector<Grant> grants;
  switch (rel) {
    case Rel::kDirect:
      grants = {{3, 2}, {0, 3}};
      break;  // AMBER+STRICT (strict agreement), PAP<=AMBER
    case Rel::kReshare:
      grants = {{2, 1}, {0, 3}};
      break;  // AMBER via re-share, PAP<=GREEN
    case Rel::kMember:
      grants = {{1, 3}, {0, 3}};
      break;                // GREEN community
    case Rel::kUnrelated:   // CLEAR
    case Rel::kAnonPublic:  // CLEAR on a public collection
      grants = {{0, 3}};
      break;
    case Rel::kAnonPrivate:
      grants = {};
      break;
    case Rel::kSame:
      break;
  }
  const bool anonymous = rel == Rel::kAnonPublic || rel == Rel::kAnonPrivate;
  if (named && !anonymous) grants.push_back({4, 3});
  Expect best = Expect::kWithhold;
  for (const Grant& gr : grants) {
    if (tlp > gr.max) continue;
    if (pap > gr.pap_ceiling) continue;
    bool removes = g.level > gr.max;
    if (removes && std::string(g.selector) == "pattern")
      continue;  // required: withheld under this grant
    if (!removes) return Expect::kServe;
    best = Expect::kRedacted;
  }
  return best;
}

TEST(AccessMatrix, EveryCell) {
  auto model = ParsePolicyToml(kMatrixToml, "matrix.toml");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Policy policy(std::move(*model));
  const Timestamp now = At("2026-06-01T00:00:00Z");
  json::JsonParser parser;
  size_t cells = 0, served = 0, redacted = 0, withheld = 0;
  const Rel rels[] = {Rel::kSame,      Rel::kDirect,     Rel::kReshare,    Rel::kMember,
                      Rel::kUnrelated, Rel::kAnonPublic, Rel::kAnonPrivate};
  for (Rel rel : rels) {
    Reader reader;
    const char* identity = kUnrelated;
    switch (rel) {
      case Rel::kSame:
        reader.org = "prod";
        identity = kProd;
        break;
      case Rel::kDirect:
        reader.org = "direct";
        identity = kDirect;
        break;
      case Rel::kReshare:
        reader.org = "reshare";
        identity = kReshare;
        break;
      case Rel::kMember:
        reader.org = "member";
        identity = kMember;
        break;
      case Rel::kUnrelated:
        reader.org = "unrelated";
        identity = kUnrelated;
        break;
      case Rel::kAnonPublic:
      case Rel::kAnonPrivate:
        reader.anonymous = true;
        identity = kUnrelated;
        break;
    }
    for (bool named : {false, true}) {
      for (int dflt : {-1, 1}) {  // collection default: none (-> unmarked_tlp amber) or GREEN
        CollectionMarking cm;
        cm.public_read = rel == Rel::kAnonPublic;
        if (dflt >= 0) cm.default_tlp = static_cast<Tlp>(dflt);
        for (const TlpCase& t : kTlps) {
          if (dflt >= 0 && t.marking) continue;  // the default only matters for unmarked objects
          for (const PapCase& p : kPaps) {
            for (const GranularCase& g : kGranular) {
              std::string text = MakeObject(t, p, g, named, identity);
              auto e = parser.Parse(text);
              ASSERT_TRUE(e.ok()) << text;
              int tlp = t.level >= 0 ? t.level : (dflt >= 0 ? dflt : 2);
              int pap = p.level >= 0 ? p.level : 0;
              Expect want = Oracle(rel, named, tlp, pap, g);
              Decision d = policy.DecideJson(reader, *e, cm, now);
              // The hot-path form (facts from columns, lazy parse) decides the same.
              {
                auto facts = ExtractFacts(*e);
                ASSERT_TRUE(facts.ok());
                std::string canonical = json::CanonicalJson(*e);
                json::JsonParser lazy_parser;
                Decision t = policy.DecideText(reader, *facts, canonical, lazy_parser, cm, now);
                // ... also when the facts come from store columns (no selectors).
                ObjectFacts columns = *facts;
                columns.granular.clear();
                Decision c = policy.DecideText(policy.Resolve(reader), columns, canonical,
                                               lazy_parser, cm, now);
                EXPECT_EQ(c.verdict, d.verdict);
                EXPECT_EQ(c.redacted_json, d.redacted_json);
                EXPECT_EQ(t.verdict, d.verdict);
                EXPECT_EQ(t.redacted_json, d.redacted_json);
                EXPECT_EQ(t.via, d.via);
              }
              Expect got = d.verdict == Verdict::kServe           ? Expect::kServe
                           : d.verdict == Verdict::kServeRedacted ? Expect::kRedacted
                                                                  : Expect::kWithhold;
              ++cells;
              EXPECT_EQ(ExpectName(got), std::string(ExpectName(want)))
                  << RelName(rel) << (named ? " named" : "") << " | " << t.name
                  << (dflt >= 0 ? " (collection default GREEN)" : "") << " | " << p.name << " | "
                  << g.name << " | via " << d.via;
              if (got == Expect::kServe) ++served;
              if (got == Expect::kWithhold) ++withheld;
              if (got == Expect::kRedacted) {
                ++redacted;
                // The redacted copy is canonical JSON without the marked part and its marking.
                json::JsonParser p2;
                auto r = p2.Parse(d.redacted_json);
                ASSERT_TRUE(r.ok()) << d.redacted_json;
                EXPECT_EQ(json::CanonicalJson(*r), d.redacted_json);
                json::Element x;
                EXPECT_NE(r->at_key("granular_markings").get(x), simdjson::SUCCESS)
                    << d.redacted_json;
                if (std::string(g.selector) == "description") {
                  EXPECT_NE(r->at_key("description").get(x), simdjson::SUCCESS) << d.redacted_json;
                } else {
                  EXPECT_NE(d.redacted_json.find(R"("labels":["botnet"])"), std::string::npos)
                      << d.redacted_json;
                }
                EXPECT_NE(d.redacted_json.find(R"("pattern":)"), std::string::npos);
              }
            }
          }
        }
      }
    }
  }
  // Every outcome occurs; the matrix is not degenerate.
  EXPECT_GT(served, 100u);
  EXPECT_GT(redacted, 50u);
  EXPECT_GT(withheld, 100u);
  EXPECT_EQ(cells, 7u * 2 * (10 + 1) * 5 * 7);
  std::printf("access matrix: %zu cells (%zu serve, %zu redacted, %zu withhold)\n", cells, served,
              redacted, withheld);
}

// A few cells written out literally, so the oracle itself is anchored.
TEST(AccessMatrix, LiteralCells) {
  auto model = ParsePolicyToml(kMatrixToml, "matrix.toml");
  ASSERT_TRUE(model.ok());
  Policy policy(std::move(*model));
  const Timestamp now = At("2026-06-01T00:00:00Z");
  json::JsonParser parser;
  auto decide = [&](const char* org, const TlpCase& t, const PapCase& p, bool named,
                    const char* identity) {
    auto e = parser.Parse(MakeObject(t, p, kGranular[0], named, identity));
    Reader r;
    r.anonymous = org == nullptr;
    if (!r.anonymous) r.org = org;
    return policy.DecideJson(r, *e, CollectionMarking{}, now);
  };
  // AMBER+STRICT: direct recipient yes, re-share recipient no, community member no.
  EXPECT_EQ(decide("direct", kTlps[4], kPaps[0], false, kDirect).verdict, Verdict::kServe);
  EXPECT_EQ(decide("direct", kTlps[4], kPaps[0], false, kDirect).via,
            "agreement:prod-direct-strict");
  EXPECT_EQ(decide("reshare", kTlps[4], kPaps[0], false, kReshare).verdict, Verdict::kWithhold);
  EXPECT_EQ(decide("member", kTlps[4], kPaps[0], false, kMember).verdict, Verdict::kWithhold);
  // AMBER flows one re-share hop.
  EXPECT_EQ(decide("reshare", kTlps[3], kPaps[0], false, kReshare).via,
            "reshare:prod-direct>direct-reshare");
  // RED: only when named.
  EXPECT_EQ(decide("direct", kTlps[5], kPaps[0], false, kDirect).verdict, Verdict::kWithhold);
  EXPECT_EQ(decide("unrelated", kTlps[5], kPaps[0], true, kUnrelated).via, "named");
  // GREEN: community member yes, unrelated no.
  EXPECT_EQ(decide("member", kTlps[2], kPaps[0], false, kMember).via, "community:c1");
  EXPECT_EQ(decide("unrelated", kTlps[2], kPaps[0], false, kUnrelated).verdict, Verdict::kWithhold);
  // CLEAR: any authenticated reader; anonymous only on public collections.
  EXPECT_EQ(decide("unrelated", kTlps[1], kPaps[0], false, kUnrelated).via, "public");
  EXPECT_EQ(decide(nullptr, kTlps[1], kPaps[0], false, kUnrelated).verdict, Verdict::kWithhold);
  // PAP ceiling: PAP:RED over the direct agreement's AMBER ceiling.
  EXPECT_EQ(decide("direct", kTlps[3], kPaps[4], false, kDirect).verdict, Verdict::kWithhold);
  EXPECT_EQ(decide("direct", kTlps[3], kPaps[4], false, kDirect).via, "pap-above-ceiling");
  // Unknown organisation: CLEAR only.
  EXPECT_EQ(decide("nobody", kTlps[1], kPaps[0], false, kUnrelated).verdict, Verdict::kServe);
  EXPECT_EQ(decide("nobody", kTlps[2], kPaps[0], false, kUnrelated).verdict, Verdict::kWithhold);
}

}  // namespace
}  // namespace ctihub::policy
