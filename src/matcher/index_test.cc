#include "matcher/index.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "matcher/event.h"

namespace ctihub::matcher {
namespace {

std::string Id(int n) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
  return id;
}

class IndexTest : public ::testing::Test {
 protected:
  void Build(const std::vector<std::string>& patterns) {
    IndexBuilder b(&paths_);
    for (size_t i = 0; i < patterns.size(); ++i) {
      IndicatorInput in{Id(static_cast<int>(i)), patterns[i]};
      if (i < valid_.size()) {
        in.valid_from_us = valid_[i].first;
        in.valid_until_us = valid_[i].second;
      }
      Status st = b.Add(in);
      ASSERT_TRUE(st.ok()) << patterns[i] << ": " << st.message();
    }
    auto idx = b.Finish();
    ASSERT_TRUE(idx.ok());
    index_ = std::move(idx).value();
    matcher_ = std::make_unique<Matcher>(index_.get(), options_);
  }

  // Indicator numbers that hit an event of (path, value) fields, each its own object.
  std::vector<uint32_t> Run(const std::vector<std::pair<uint32_t, std::string>>& fields,
                            int64_t time_us = -1) {
    EventBuilder eb(&paths_);
    Event ev;
    eb.Reset(&ev);
    uint16_t obj = 0;
    for (const auto& [path, value] : fields) eb.Add(path, obj++, value);
    eb.Finish(&ev);
    if (time_us >= 0) {
      ev.time.Set(time_us);
    }
    std::vector<Hit> hits;
    matcher_->Match(ev, &hits);
    std::vector<uint32_t> out;
    out.reserve(hits.size());
    for (const Hit& h : hits) out.push_back(h.indicator);
    std::sort(out.begin(), out.end());
    return out;
  }

  PathRegistry paths_;
  MatchOptions options_;
  std::vector<std::pair<int64_t, int64_t>> valid_;
  std::unique_ptr<IndicatorIndex> index_;
  std::unique_ptr<Matcher> matcher_;
};

using V = std::vector<uint32_t>;

TEST_F(IndexTest, DomainsAreCaseFoldedAndSubdomainsMatchOnlyByLike) {
  Build({"[domain-name:value = 'EVIL.com.']", "[domain-name:value LIKE '%.evil.com']"});
  EXPECT_EQ(index_->stats().exact, 1u);
  EXPECT_EQ(index_->stats().regex, 1u);
  EXPECT_EQ(Run({{kDomainValue, "Evil.COM."}}), V({0}));
  EXPECT_EQ(Run({{kDomainValue, "www.evil.com"}}), V({1}));
  EXPECT_EQ(Run({{kDomainValue, "notevil.com"}}), V());
}

TEST_F(IndexTest, CidrMatchesEveryContainingPrefix) {
  Build({"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "[ipv4-addr:value ISSUBSET '10.1.0.0/16']",
         "[ipv4-addr:value = '10.1.2.3']", "[ipv6-addr:value ISSUBSET '2001:db8::/32']",
         "[network-traffic:dst_ref.value ISSUBSET '10.1.0.0/16']"});
  EXPECT_EQ(index_->stats().cidr, 4u);
  EXPECT_EQ(Run({{kIpv4Value, "10.1.2.3"}}), V({0, 1, 2}));
  EXPECT_EQ(Run({{kIpv4Value, "10.2.0.1"}}), V({0}));
  // IPv4-mapped IPv6 is the IPv4 address.
  EXPECT_EQ(Run({{kIpv6Value, "::ffff:10.1.2.3"}}), V({0, 1, 2}));
  EXPECT_EQ(Run({{kIpv6Value, "2001:DB8:0::7"}}), V({3}));
  // A traffic ref's address is an ipv4-addr object of the observation too.
  EXPECT_EQ(Run({{kTrafficDst, "10.1.9.9"}}), V({0, 1, 4}));
  EXPECT_EQ(Run({{kTrafficSrc, "10.1.9.9"}}), V({0, 1}));
}

TEST_F(IndexTest, HashesAreCaseInsensitive) {
  Build({"[file:hashes.'MD5' = 'D41D8CD98F00B204E9800998ECF8427E']",
         "[file:hashes.'SHA-256' = "
         "'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855']"});
  EXPECT_EQ(Run({{kFileMd5, "d41d8cd98f00b204e9800998ecf8427e"}}), V({0}));
  EXPECT_EQ(
      Run({{kFileSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}),
      V({1}));
  EXPECT_EQ(Run({{kFileSha1, "d41d8cd98f00b204e9800998ecf8427e"}}), V());
}

TEST_F(IndexTest, OneLinePerIndicatorWhenTwoFieldsMatch) {
  Build({"[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'a.com']"});
  EXPECT_EQ(Run({{kIpv4Value, "1.2.3.4"}, {kDomainValue, "a.com"}}), V({0}));
}

TEST_F(IndexTest, ResidualAndNeedsTheSameObject) {
  Build({"[file:hashes.MD5 = '0cc175b9c0f1b6a831c399e269772661' AND file:name = 'a.exe']"});
  EXPECT_EQ(index_->stats().residual, 1u);
  EventBuilder eb(&paths_);
  Event ev;
  std::vector<Hit> hits;
  eb.Reset(&ev);
  eb.Add(kFileMd5, 0, "0cc175b9c0f1b6a831c399e269772661");
  eb.Add(kFileName, 0, "a.exe");
  eb.Finish(&ev);
  matcher_->Match(ev, &hits);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].field, 0);
  eb.Reset(&ev);
  eb.Add(kFileMd5, 0, "0cc175b9c0f1b6a831c399e269772661");
  eb.Add(kFileName, 1, "a.exe");  // another file
  eb.Finish(&ev);
  matcher_->Match(ev, &hits);
  EXPECT_TRUE(hits.empty());
}

TEST_F(IndexTest, MatchesGoesThroughHyperscanAndTheEngineConfirms) {
  // PCRE's \d inside a class and a lookahead: Hyperscan (prefilter) and the
  // engine must agree; the lookbehind-free pattern compiles in Hyperscan.
  Build({"[url:value MATCHES '^http://[a-z]+\\\\.evil\\\\.com/(?!ok)']"});
  EXPECT_EQ(index_->stats().regex + index_->stats().residual, 1u);
  EXPECT_EQ(Run({{kUrlValue, "http://www.evil.com/bad"}}), V({0}));
  EXPECT_EQ(Run({{kUrlValue, "http://www.evil.com/ok"}}), V());
}

TEST_F(IndexTest, RegexHyperscanRefusesFallsBackToTheEngine) {
  // A subroutine call (?1) is refused by Hyperscan even in prefilter mode.
  Build({"[domain-name:value MATCHES '^(a(?1)?b)$']"});
  EXPECT_EQ(index_->stats().hyperscan_refused, 1u);
  EXPECT_EQ(index_->stats().residual, 1u);
  EXPECT_EQ(Run({{kDomainValue, "aabb"}}), V({0}));
  EXPECT_EQ(Run({{kDomainValue, "aab"}}), V());
}

TEST_F(IndexTest, FollowedByWithinAWindow) {
  Build(
      {"([domain-name:value = 'a.com'] FOLLOWEDBY [domain-name:value = 'b.com']) WITHIN 10 "
       "SECONDS"});
  EXPECT_EQ(index_->stats().stateful, 1u);
  int64_t t = 1577836800000000LL;
  EXPECT_EQ(Run({{kDomainValue, "a.com"}}, t), V());
  EXPECT_EQ(Run({{kDomainValue, "b.com"}}, t + 5000000), V({0}));
  // Consumed: another b.com needs a new a.com.
  EXPECT_EQ(Run({{kDomainValue, "b.com"}}, t + 6000000), V());
  EXPECT_EQ(Run({{kDomainValue, "a.com"}}, t + 7000000), V());
  // Out of the window.
  EXPECT_EQ(Run({{kDomainValue, "b.com"}}, t + 30000000), V());
}

TEST_F(IndexTest, ValidityWindowUnlessIgnored) {
  valid_ = {{1000, 2000}};
  Build({"[domain-name:value = 'a.com']"});
  EXPECT_EQ(Run({{kDomainValue, "a.com"}}, 1500), V({0}));
  EXPECT_EQ(Run({{kDomainValue, "a.com"}}, 2000), V());
  EXPECT_EQ(Run({{kDomainValue, "a.com"}}, 999), V());
  options_.ignore_validity = true;
  matcher_ = std::make_unique<Matcher>(index_.get(), options_);
  EXPECT_EQ(Run({{kDomainValue, "a.com"}}, 999), V({0}));
}

TEST_F(IndexTest, IdsAndPatternsRoundTrip) {
  IndexBuilder b(&paths_);
  ASSERT_TRUE(b.Add({Id(0), "[domain-name:value = 'a.com']"}).ok());
  ASSERT_TRUE(b.Add({"indicator--odd", "[domain-name:value  =  'B.com']"}).ok());
  ASSERT_TRUE(b.Add({Id(2), "[domain-name:value = 'it''s']"}).ok() == false);
  ASSERT_TRUE(b.Add({Id(2), "[domain-name:value = 'it\\'s']"}).ok());
  auto idx = b.Finish();
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx.value()->id(0), Id(0));
  EXPECT_EQ(idx.value()->pattern(0), "[domain-name:value = 'a.com']");
  EXPECT_EQ(idx.value()->id(1), "indicator--odd");
  EXPECT_EQ(idx.value()->pattern(1), "[domain-name:value  =  'B.com']");
  EXPECT_EQ(idx.value()->id(2), Id(2));
  EXPECT_EQ(idx.value()->pattern(2), "[domain-name:value = 'it\\'s']");
}

TEST_F(IndexTest, InvalidPatternIsRefusedWithTheEnginesMessage) {
  IndexBuilder b(&paths_);
  Status st = b.Add({Id(0), "[domain-name:value = ]"});
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("position"), std::string::npos);
}

// The issue's budget: at most 120 bytes per exact indicator (tables, values,
// indicator records), measured on realistic domain lengths.
TEST_F(IndexTest, ExactIndicatorsAreCompact) {
  IndexBuilder b(&paths_);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::string value = "host" + std::to_string(i) + ".example-domain.com";
    ASSERT_TRUE(b.Add({Id(i), "[domain-name:value = '" + value + "']"}).ok());
  }
  auto idx = b.Finish();
  ASSERT_TRUE(idx.ok());
  double per = static_cast<double>(idx.value()->stats().exact_bytes) / n;
  EXPECT_LE(per, 120.0);
  RecordProperty("bytes_per_exact_indicator", std::to_string(per));
}

TEST(EventTest, StixFormHasOneObjectPerFieldGroupAndTrafficRefs) {
  PathRegistry paths;
  EventBuilder eb(&paths);
  Event ev;
  eb.Reset(&ev);
  eb.Add(kTrafficSrc, 0, "10.0.0.1");
  eb.Add(kTrafficDst, 0, "2001:db8::1");
  eb.Add(kFileMd5, 1, "AA");
  eb.Add(kFileSha1, 1, "BB");
  EXPECT_FALSE(eb.Add(kIpv4Value, 2, "not-an-ip"));
  eb.Finish(&ev);
  std::string json;
  EventToStix(ev, paths, 1, &json);
  EXPECT_NE(json.find(R"("type":"network-traffic")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("type":"ipv6-addr")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("hashes":{"MD5":"aa","SHA-1":"bb"})"), std::string::npos) << json;
}

TEST(PathTest, MapPathsAreCanonicalAndRefsRestricted) {
  PathRegistry paths;
  uint32_t id;
  ASSERT_TRUE(paths.Intern("file:hashes.'MD5'", &id));
  EXPECT_EQ(id, static_cast<uint32_t>(kFileMd5));
  ASSERT_TRUE(paths.Intern("process:command_line", &id));
  EXPECT_EQ(paths.info(id).text, "process:command_line");
  EXPECT_FALSE(paths.Intern("email-message:from_ref.value", &id));
  EXPECT_FALSE(paths.Intern("file:names[0]", &id));
  EXPECT_FALSE(paths.Intern("nonsense", &id));
}

}  // namespace
}  // namespace ctihub::matcher

namespace ctihub::matcher {
namespace {

TEST(NormalizeValueTest, Ipv4TextIsInetNtops) {
  // NormalizeValue formats IPv4 by hand (no printf per address): the same text as inet_ntop.
  for (unsigned v = 0; v < 256; ++v) {
    const unsigned char addr[4] = {static_cast<unsigned char>(v), 0,
                                   static_cast<unsigned char>(255 - v),
                                   static_cast<unsigned char>(v * 7)};
    char want[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, addr, want, sizeof want), nullptr);
    std::string got;
    bool v6 = true;
    ASSERT_TRUE(NormalizeValue(ValueKind::kIp, want, &got, &v6));
    EXPECT_EQ(got, want);
    EXPECT_FALSE(v6);
    ASSERT_TRUE(NormalizeValue(ValueKind::kIp, std::string("::ffff:") + want, &got, &v6));
    EXPECT_EQ(got, want);
    EXPECT_FALSE(v6);
  }
}

TEST(NormalizeValueTest, LowerCaseFoldsOnlyAsciiLettersAtEveryLengthAndOffset) {
  // Domains, hashes and emails are folded eight bytes at a time: every byte
  // value at every position of values of 0 to 40 bytes must come out as the
  // byte-at-a-time rule says (A-Z to a-z, anything else, UTF-8 too, as is).
  auto fold = [](std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  };
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0xff; };
  std::string got;
  for (size_t len = 0; len <= 40; ++len) {
    for (int round = 0; round < 200; ++round) {
      std::string v(len, 'x');
      for (char& c : v) c = static_cast<char>(next());
      ASSERT_TRUE(NormalizeValue(ValueKind::kHash, v, &got));
      ASSERT_EQ(got, fold(v)) << "length " << len;
    }
  }
  for (int b = 0; b < 256; ++b) {
    const std::string v = "abcdefg" + std::string(1, static_cast<char>(b)) + "HIJKLMNOP";
    ASSERT_TRUE(NormalizeValue(ValueKind::kEmail, v, &got));
    EXPECT_EQ(got, fold(v)) << "byte " << b;
  }
  ASSERT_TRUE(NormalizeValue(ValueKind::kDomain, "WWW.Example.COM.", &got));
  EXPECT_EQ(got, "www.example.com");
}

}  // namespace
}  // namespace ctihub::matcher
