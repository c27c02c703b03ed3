#include "taxii_client/responses.h"

#include <gtest/gtest.h>

namespace ctihub::taxii_client {
namespace {

TEST(Responses, Discovery) {
  ResponseParser p;
  auto d = p.ParseDiscovery(
      R"({"title":"T","default":"/api1/","api_roots":["/api1/","https://h/api2/"]})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->title, "T");
  EXPECT_EQ(d->default_root, "/api1/");
  EXPECT_EQ(d->api_roots.size(), 2u);
  EXPECT_EQ(p.ParseDiscovery(R"({"api_roots":"x"})").status().name(), "bad_response");
  EXPECT_EQ(p.ParseDiscovery("[1]").status().name(), "bad_response");
  EXPECT_EQ(p.ParseDiscovery("{").status().name(), "bad_response");
}

TEST(Responses, ApiRootAndCollections) {
  ResponseParser p;
  auto a = p.ParseApiRoot(
      R"({"title":"r","versions":["application/taxii+json;version=2.1"],"max_content_length":1048576})");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->max_content_length, 1048576);
  EXPECT_FALSE(p.ParseApiRoot(R"({"max_content_length":-1})").ok());
  EXPECT_FALSE(p.ParseApiRoot(R"({"max_content_length":"big"})").ok());
  auto c = p.ParseCollections(
      R"({"collections":[{"id":"c1","title":"one","can_read":true,"can_write":false,"alias":"a1"},
          {"id":"c2","title":"two","can_read":false,"can_write":true,"alias":["x","y"]}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_TRUE((*c)[0].can_read);
  EXPECT_EQ((*c)[0].alias, std::vector<std::string>{"a1"});
  EXPECT_EQ((*c)[1].alias.size(), 2u);
  EXPECT_TRUE(p.ParseCollections("{}").ok());  // no collections: empty list
  EXPECT_FALSE(p.ParseCollections(R"({"collections":[{"title":"no id"}]})").ok());
}

TEST(Responses, ObjectsPage) {
  ResponseParser p;
  auto page = p.ParseObjectsPage(
      R"({"more":true,"next":"abc","objects":[
          {"type":"indicator","id":"indicator--1","created":"2024-01-01T00:00:00Z","modified":"2024-02-01T00:00:00Z"},
          {"type":"ipv4-addr","id":"ipv4-addr--2","value":"1.2.3.4"},
          "not an object"]})");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->next, "abc");
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].id, "indicator--1");
  EXPECT_EQ(page->objects[0].version, "2024-02-01T00:00:00Z");
  EXPECT_EQ(page->objects[1].version, "");
  EXPECT_EQ(page->objects[1].text, R"({"type":"ipv4-addr","id":"ipv4-addr--2","value":"1.2.3.4"})");
  EXPECT_EQ(page->objects[2].id, "");  // kept: the write path refuses it with a reason
  auto numeric = p.ParseObjectsPage(R"({"more":true,"next":17})");
  ASSERT_TRUE(numeric.ok());
  EXPECT_EQ(numeric->next, "17");
  auto empty = p.ParseObjectsPage("");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->more);
  EXPECT_FALSE(p.ParseObjectsPage(R"({"objects":{}})").ok());
  EXPECT_FALSE(p.ParseObjectsPage(R"({"more":"yes"})").ok());
  EXPECT_FALSE(p.ParseObjectsPage(R"({"next":[1]})").ok());
}

TEST(Responses, Manifest) {
  ResponseParser p;
  auto m = p.ParseManifestPage(
      R"({"more":false,"objects":[{"id":"x--1","date_added":"2024-01-01T00:00:00.000000Z","version":"v","media_type":"m"}]})");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->entries.size(), 1u);
  EXPECT_EQ(m->entries[0].date_added, "2024-01-01T00:00:00.000000Z");
  EXPECT_FALSE(p.ParseManifestPage(R"({"objects":[{"version":"v"}]})").ok());
}

TEST(Responses, Status) {
  ResponseParser p;
  auto s = p.ParseStatus(
      R"({"id":"s1","status":"complete","total_count":2,"success_count":1,"failure_count":1,
          "pending_count":0,"successes":[{"id":"a","version":"v"}],
          "failures":[{"id":"b","message":"bad"}]})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->complete());
  EXPECT_EQ(s->failures[0].message, "bad");
  EXPECT_EQ(s->success_count, 1);
  EXPECT_FALSE(p.ParseStatus(R"({"id":"s1","status":"done"})").ok());
  EXPECT_FALSE(p.ParseStatus(R"({"status":"pending"})").ok());
  EXPECT_FALSE(p.ParseStatus(R"({"id":"s","status":"pending","total_count":1.5})").ok());
}

TEST(Responses, ErrorObjectNeverFails) {
  ResponseParser p;
  auto e = p.ParseError(R"({"title":"Nope","description":"why","error_id":"bad_filter"})");
  EXPECT_EQ(e.Summary(), "Nope: why (bad_filter)");
  EXPECT_EQ(p.ParseError("<html>\x01oops</html>").title, "<html> oops</html>");
}

TEST(Responses, RetryAfter) {
  EXPECT_EQ(ParseRetryAfter("5", 0), 5);
  EXPECT_EQ(ParseRetryAfter(" 0 ", 0), 0);
  EXPECT_EQ(ParseRetryAfter("-1", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", 0), std::nullopt);
  // 1994-11-06T08:49:37Z is 784111777.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), 7);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111800), 0);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 UTC", 0), std::nullopt);
}

}  // namespace
}  // namespace ctihub::taxii_client
