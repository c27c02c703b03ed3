#include "taxii/query.h"

#include <gtest/gtest.h>

namespace ctihub::taxii {
namespace {

TEST(ParseTarget, SplitsAndDecodes) {
  auto t =
      ParseTarget("/api1/collections/abc/objects/?match%5Btype%5D=indicator,malware&limit=5&x");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->segments.size(), 4u);
  EXPECT_EQ(t->segments[3], "objects");
  EXPECT_TRUE(t->trailing_slash);
  ASSERT_EQ(t->params.size(), 3u);
  EXPECT_EQ(t->params[0].first, "match[type]");
  EXPECT_EQ(t->params[0].second, "indicator,malware");
  EXPECT_EQ(t->params[2].first, "x");
}

TEST(ParseTarget, RejectsBadInput) {
  EXPECT_FALSE(ParseTarget("").ok());
  EXPECT_FALSE(ParseTarget("api1/").ok());
  EXPECT_FALSE(ParseTarget("/a%2").ok());
  EXPECT_FALSE(ParseTarget("/a%zz/").ok());
  EXPECT_FALSE(ParseTarget("/a%00/").ok());
  EXPECT_FALSE(ParseTarget("/a/../b/").ok());
  EXPECT_FALSE(ParseTarget("/a%2fb/").ok());
  EXPECT_FALSE(ParseTarget("/a b/").ok());
  EXPECT_FALSE(ParseTarget("/" + std::string(kMaxTargetBytes, 'a')).ok());
  std::string many = "/x?";
  for (int i = 0; i < 300; ++i) many += "a=1&";
  EXPECT_EQ(ParseTarget(many).status().code(), ErrorCode::kLimitExceeded);
}

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(ParseFilters, Defaults) {
  auto q = ParseFilters({}, Endpoint::kObjects, 100, 1000);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->limit, 100u);
  EXPECT_TRUE(q->version_last);
  EXPECT_FALSE(q->version_all);
  EXPECT_TRUE(q->include_json);
}

TEST(ParseFilters, AllFilters) {
  Params p = {{"added_after", "2024-01-01T00:00:00.000Z"},
              {"limit", "5000"},
              {"match[id]", "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"},
              {"match[type]", "indicator,malware"},
              {"match[type]", "report"},
              {"match[version]", "first,2024-02-01T00:00:00Z"},
              {"match[spec_version]", "2.1"},
              {"unknown", "ignored"}};
  auto q = ParseFilters(p, Endpoint::kObjects, 100, 1000);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->limit, 1000u);
  EXPECT_TRUE(q->added_after_us.has_value());
  EXPECT_EQ(q->types.size(), 3u);
  EXPECT_EQ(q->ids.size(), 1u);
  EXPECT_TRUE(q->version_first);
  EXPECT_FALSE(q->version_last);
  EXPECT_EQ(q->versions.size(), 1u);
  EXPECT_EQ(q->spec_versions.size(), 1u);
}

TEST(ParseFilters, BadValues) {
  for (const Params& p : std::vector<Params>{{{"limit", "0"}},
                                             {{"limit", "-3"}},
                                             {{"limit", "ten"}},
                                             {{"added_after", "yesterday"}},
                                             {{"match[version]", "newest"}},
                                             {{"match[spec_version]", "3.0"}},
                                             {{"match[type]", "Bad Type"}},
                                             {{"match[id]", "nope"}},
                                             {{"match[type]", "a,,b"}},
                                             {{"next", ""}},
                                             {{"limit", "1"}, {"limit", "2"}}}) {
    auto q = ParseFilters(p, Endpoint::kObjects, 100, 1000);
    EXPECT_FALSE(q.ok()) << p[0].first << "=" << p[0].second;
    if (!q.ok()) {
      EXPECT_EQ(q.status().name(), "bad_filter") << q.status().message();
      EXPECT_EQ(q.status().message().find("bad_filter"), std::string::npos) << "named once";
    }
  }
}

TEST(ParseFilters, EndpointSpecific) {
  // match[type] is not a filter of the versions endpoint: ignored.
  auto q = ParseFilters({{"match[type]", "Bad Type"}}, Endpoint::kVersions, 100, 1000);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->version_all);
  EXPECT_FALSE(q->include_json);
  auto m = ParseFilters({}, Endpoint::kManifest, 100, 1000);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->include_json);
}

TEST(MediaTypes, Accept) {
  EXPECT_TRUE(AcceptsTaxii21(""));
  EXPECT_TRUE(AcceptsTaxii21("*/*"));
  EXPECT_TRUE(AcceptsTaxii21("application/taxii+json"));
  EXPECT_TRUE(AcceptsTaxii21("application/taxii+json;version=2.1"));
  EXPECT_TRUE(AcceptsTaxii21("application/taxii+json; version=2.1"));
  EXPECT_TRUE(AcceptsTaxii21("text/html, application/TAXII+json;version=2.1;q=0.5"));
  EXPECT_FALSE(AcceptsTaxii21("application/taxii+json;version=2.0"));
  EXPECT_FALSE(AcceptsTaxii21("application/json"));
  EXPECT_FALSE(AcceptsTaxii21("application/taxii+json;q=0"));
  EXPECT_FALSE(AcceptsTaxii21("text/html"));
}

TEST(MediaTypes, ContentType) {
  EXPECT_TRUE(IsTaxii21ContentType("application/taxii+json;version=2.1"));
  EXPECT_TRUE(IsTaxii21ContentType("application/taxii+json"));
  EXPECT_TRUE(IsTaxii21ContentType("application/taxii+json; charset=utf-8; version=2.1"));
  EXPECT_FALSE(IsTaxii21ContentType("application/json"));
  EXPECT_FALSE(IsTaxii21ContentType(""));
  EXPECT_FALSE(IsTaxii21ContentType("application/taxii+json;version=2.0"));
  EXPECT_FALSE(IsTaxii21ContentType("application/stix+json;version=2.1"));
}

TEST(ParseEnvelope, WholeEnvelopeErrors) {
  EnvelopeOptions o;
  EXPECT_FALSE(ParseEnvelope("{", o).ok());
  EXPECT_FALSE(ParseEnvelope(std::string_view(), o).ok());  // fuzz: null data() of an empty view
  EXPECT_FALSE(ParseEnvelope("[]", o).ok());
  EXPECT_FALSE(ParseEnvelope("{\"objects\": 3}", o).ok());
  auto empty = ParseEnvelope("{}", o);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  o.max_objects = 1;
  auto many = ParseEnvelope("{\"objects\": [{}, {}]}", o);
  EXPECT_EQ(many.status().code(), ErrorCode::kLimitExceeded);
}

TEST(ParseEnvelope, PerObjectFailures) {
  EnvelopeOptions o;
  auto items = ParseEnvelope(R"({"objects": [3, {"type": "indicator"}]})", o);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_FALSE((*items)[0].ok);
  EXPECT_FALSE((*items)[1].ok);
  EXPECT_FALSE((*items)[1].message.empty());
}

// `ctihub import` counts refused objects by these names (issue 12 item 17).
TEST(ParseEnvelope, PerObjectFailuresHaveStableNames) {
  EnvelopeOptions o;
  o.prepare = [](json::Element, store::NewObject&) {
    return Forbidden("producer_not_allowed", "not yours");
  };
  auto items = ParseEnvelope(
      R"({"objects": [3, {"type": "indicator"},)"
      R"({"type":"identity","spec_version":"2.1","id":"identity--00000000-0000-4000-8000-000000000001",)"
      R"("created":"2022-10-01T00:00:00.000Z","modified":"2022-10-01T00:00:00.000Z","name":"x"}]})",
      o);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].reason, "not a JSON object");
  EXPECT_EQ((*items)[1].reason, "invalid STIX");
  EXPECT_EQ((*items)[2].reason, "producer_not_allowed");
  EXPECT_EQ((*items)[2].message, "producer_not_allowed: not yours");
}

// Issue 12 item 3: a marking definition reusing TLP:RED's id with other
// content (named TLP:CLEAR) was accepted and stored.
TEST(ParseEnvelope, ForgedTlpDefinitionIsRefused) {
  EnvelopeOptions o;
  auto items = ParseEnvelope(
      R"({"objects": [{"type":"marking-definition","spec_version":"2.1",)"
      R"("id":"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","created":"2022-10-01T00:00:00.000Z",)"
      R"("name":"TLP:CLEAR","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":)"
      R"({"extension_type":"property-extension","tlp_2_0":"clear"}}}]})",
      o);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_FALSE((*items)[0].ok);
  EXPECT_NE((*items)[0].message.find("fixed TLP 2.0 marking definition"), std::string::npos)
      << (*items)[0].message;
}

}  // namespace
}  // namespace ctihub::taxii
