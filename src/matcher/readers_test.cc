#include "matcher/readers.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ctihub::matcher {
namespace {

// "path=value" for every field of the event, in order.
std::vector<std::string> Fields(const PathRegistry& paths, const Event& ev) {
  std::vector<std::string> out;
  for (const Field& f : ev.fields)
    out.push_back(paths.info(f.path).text + "=" + std::string(f.value));
  return out;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(ReadersTest, DetectsFormatsFromTheFirstLine) {
  EXPECT_EQ(DetectFormat("#separator \\x09").value(), Format::kZeekTsv);
  EXPECT_EQ(DetectFormat(R"({"_path":"dns","ts":1})").value(), Format::kZeekJson);
  EXPECT_EQ(DetectFormat(R"({"@stream":"conn"})").value(), Format::kZeekJson);
  EXPECT_EQ(DetectFormat(R"({"event_type":"dns"})").value(), Format::kSuricataEve);
  EXPECT_EQ(DetectFormat(R"({"type":"bundle","objects":[]})").value(), Format::kStix);
  EXPECT_EQ(DetectFormat(R"({"x":1})").value(), Format::kJsonLines);
  EXPECT_FALSE(DetectFormat("hello").ok());
  EXPECT_FALSE(DetectFormat("{broken").ok());
}

TEST(ReadersTest, ZeekJsonDnsMapsQueryAnswersAndAddresses) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kZeekJson, {}, &paths);
  ASSERT_TRUE(r.ok());
  Event ev;
  auto out = r.value()->Read(
      R"({"_path":"dns","ts":"2018-03-24T17:15:20.865716Z","id.orig_h":"10.47.1.100","id.resp_h":"::ffff:10.0.0.100","query":"ISE.wrccdc.org.","answers":["ise.wrccdc.cpp.edu","134.71.3.16","TXT 12 hello world"]})",
      &ev);
  ASSERT_TRUE(out.ok());
  auto f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "network-traffic:src_ref.value=10.47.1.100"));
  EXPECT_TRUE(Has(f, "network-traffic:dst_ref.value=10.0.0.100"));
  EXPECT_TRUE(Has(f, "domain-name:value=ise.wrccdc.org"));
  EXPECT_TRUE(Has(f, "domain-name:value=ise.wrccdc.cpp.edu"));
  EXPECT_TRUE(Has(f, "ipv4-addr:value=134.71.3.16"));
  EXPECT_EQ(f.size(), 5u);
  ASSERT_TRUE(ev.time.has());
  EXPECT_EQ(ev.time.micros(), 1521911720865716LL);
}

TEST(ReadersTest, ZeekJsonHttpFilesX509AndOtrfNames) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kZeekJson, {}, &paths);
  Event ev;
  ASSERT_TRUE(r.value()
                  ->Read(R"({"_path":"http","ts":1.5,"host":"Evil.com:8080","uri":"/a?b=1"})", &ev)
                  .ok());
  auto f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "domain-name:value=evil.com"));
  EXPECT_TRUE(Has(f, "url:value=http://evil.com/a?b=1"));
  EXPECT_EQ(ev.time.micros(), 1500000);
  ASSERT_TRUE(
      r.value()->Read(R"({"_path":"files","md5":"AA","sha1":"BB","sha256":"CC"})", &ev).ok());
  f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "file:hashes.MD5=aa"));
  EXPECT_TRUE(Has(f, "file:hashes.'SHA-1'=bb"));
  EXPECT_TRUE(Has(f, "file:hashes.'SHA-256'=cc"));
  EXPECT_EQ(ev.fields[0].object, ev.fields[2].object);  // one file
  std::string fp(64, 'a');
  ASSERT_TRUE(r.value()->Read(R"({"_path":"x509","fingerprint":")" + fp + R"("})", &ev).ok());
  EXPECT_TRUE(Has(Fields(paths, ev), "x509-certificate:hashes.'SHA-256'=" + fp));
  ASSERT_TRUE(
      r.value()->Read(R"({"@stream":"dns","id_orig_h":"10.0.1.6","query":"a.b"})", &ev).ok());
  f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "network-traffic:src_ref.value=10.0.1.6"));
  EXPECT_TRUE(Has(f, "domain-name:value=a.b"));
  EXPECT_FALSE(r.value()->Read("{not json", &ev).ok());
  EXPECT_EQ(r.value()->Read("", &ev).value(), LineReader::Outcome::kSkip);
}

// Every Zeek name the map reads (dotted and underscored forms) is found by
// the reader's name table, each exactly once; names near them are not.
TEST(ReadersTest, ZeekJsonReadsEveryMappedName) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kZeekJson, {}, &paths);
  ASSERT_TRUE(r.ok());
  Event ev;
  struct Case {
    std::string line;
    std::vector<std::string> want;
  };
  const std::string fp(64, 'b');
  const std::vector<Case> cases = {
      {R"({"_path":"ssl","id.orig_h":"1.1.1.1","id.resp_h":"1.1.1.2","server_name":"a.example","cert_chain_fps":[")" +
           fp + R"("]})",
       {"network-traffic:src_ref.value=1.1.1.1", "network-traffic:dst_ref.value=1.1.1.2",
        "domain-name:value=a.example", "x509-certificate:hashes.'SHA-256'=" + fp}},
      {R"({"_path":"x509","san.dns":["b.example"],"san.ip":["2.2.2.2"],"san.email":["x@y.example"]})",
       {"domain-name:value=b.example", "ipv4-addr:value=2.2.2.2", "email-addr:value=x@y.example"}},
      {R"({"_path":"x509","san_dns":["c.example"],"san_ip":["3.3.3.3"],"san_email":["z@y.example"]})",
       {"domain-name:value=c.example", "ipv4-addr:value=3.3.3.3", "email-addr:value=z@y.example"}},
      {R"({"_path":"smtp","mailfrom":"<m@f.example>","rcptto":["<r@t.example>"]})",
       {"email-addr:value=m@f.example", "email-addr:value=r@t.example"}},
      {R"({"_path":"http","host":"h.example","uri":"/u","referrer":"http://r.example/p"})",
       {"domain-name:value=h.example", "url:value=http://h.example/u",
        "url:value=http://r.example/p"}},
      {R"({"_path":"files","filename":"f.exe","md5":"AB"})",
       {"file:hashes.MD5=ab", "file:name=f.exe"}},
      {R"({"@stream":"conn","id_orig_h":"4.4.4.4","id_resp_h":"4.4.4.5","src":"5.5.5.5","dst":"5.5.5.6"})",
       {"network-traffic:src_ref.value=4.4.4.4", "network-traffic:dst_ref.value=4.4.4.5",
        "ipv4-addr:value=5.5.5.5", "ipv4-addr:value=5.5.5.6"}},
      // Near names: none is a role.
      {R"({"_path":"dns","query_":"x.example","Query":"y.example","id.orig_p":"6.6.6.6","san.ips":["7.7.7.7"],"s":"8.8.8.8","":"9.9.9.9"})",
       {}},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(r.value()->Read(c.line, &ev).ok()) << c.line;
    auto f = Fields(paths, ev);
    EXPECT_EQ(f, c.want) << c.line;
  }
}

TEST(ReadersTest, ZeekTsvFollowsTheFieldsHeader) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kZeekTsv, {}, &paths);
  Event ev;
  const char* header[] = {
      "#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)",
      "#unset_field\t-",  "#path\tdns",        "#fields\tts\tid.orig_h\tquery\tanswers"};
  for (const char* h : header)
    ASSERT_EQ(r.value()->Read(h, &ev).value(), LineReader::Outcome::kSkip) << h;
  ASSERT_EQ(r.value()->Read("1521911720.5\t10.0.0.1\tevil.com\t1.2.3.4,c.evil.com", &ev).value(),
            LineReader::Outcome::kEvent);
  auto f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "domain-name:value=evil.com"));
  EXPECT_TRUE(Has(f, "ipv4-addr:value=1.2.3.4"));
  EXPECT_TRUE(Has(f, "domain-name:value=c.evil.com"));
  EXPECT_EQ(ev.time.micros(), 1521911720500000LL);
  ASSERT_TRUE(r.value()->Read("1\t-\t-\t(empty)", &ev).ok());
  EXPECT_TRUE(ev.fields.empty());
  EXPECT_FALSE(r.value()->Read("1\t2", &ev).ok());  // wrong column count
}

// Fuzz finding: an empty "#separator " line was refused but still replaced
// the separator, and the next data line split on "" forever (2 GB of cells).
TEST(ReadersTest, ZeekTsvAnEmptySeparatorIsRefusedAndTheOldOneKept) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kZeekTsv, {}, &paths);
  Event ev;
  ASSERT_TRUE(r.value()->Read("#separator \\x09", &ev).ok());
  ASSERT_TRUE(r.value()->Read("#path\tdns", &ev).ok());
  ASSERT_TRUE(r.value()->Read("#fields\tts\tquery", &ev).ok());
  EXPECT_FALSE(r.value()->Read("#separator ", &ev).ok());
  auto line = r.value()->Read("1521911720.5\tevil.com", &ev);
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  EXPECT_EQ(line.value(), LineReader::Outcome::kEvent);
  EXPECT_TRUE(Has(Fields(paths, ev), "domain-name:value=evil.com"));
}

TEST(ReadersTest, SuricataEve) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kSuricataEve, {}, &paths);
  Event ev;
  ASSERT_TRUE(
      r.value()
          ->Read(
              R"({"timestamp":"2017-06-22T14:20:51.245787+0100","event_type":"tls","src_ip":"10.0.0.1","dest_ip":"1.2.3.4","tls":{"sni":"Evil.com","fingerprint":"aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd"}})",
              &ev)
          .ok());
  auto f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "domain-name:value=evil.com"));
  EXPECT_TRUE(Has(f, "x509-certificate:hashes.'SHA-1'=aabbccddeeff00112233445566778899aabbccdd"));
  EXPECT_TRUE(Has(f, "network-traffic:dst_ref.value=1.2.3.4"));
  EXPECT_EQ(ev.time.micros(), 1498141251245787LL - 3600000000LL);
}

TEST(ReadersTest, JsonLinesWithMaps) {
  PathRegistry paths;
  EXPECT_FALSE(LineReader::Make(Format::kJsonLines, {}, &paths).ok());
  EXPECT_FALSE(LineReader::Make(Format::kJsonLines, {{"a", "bogus"}}, &paths).ok());
  auto r =
      LineReader::Make(Format::kJsonLines,
                       {{"q", "domain-name:value"}, {"proc.cmd", "process:command_line"}}, &paths);
  ASSERT_TRUE(r.ok());
  Event ev;
  ASSERT_TRUE(
      r.value()
          ->Read(
              R"({"q":["A.com","b.com"],"proc":{"cmd":"x y"},"@timestamp":"2020-01-01T00:00:00Z"})",
              &ev)
          .ok());
  auto f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "domain-name:value=a.com"));
  EXPECT_TRUE(Has(f, "domain-name:value=b.com"));
  EXPECT_TRUE(Has(f, "process:command_line=x y"));
  EXPECT_TRUE(ev.time.has());
  // The first of ts, timestamp, @timestamp, time that holds a time.
  ASSERT_TRUE(r.value()->Read(R"({"q":"a.com","ts":"soon","time":"1577836800.5"})", &ev).ok());
  EXPECT_EQ(ev.time.micros(), 1577836800500000LL);
  EXPECT_FALSE(ParseFieldMapping("novalue").ok());
}

TEST(ReadersTest, StixObservedData) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kStix, {}, &paths);
  Event ev;
  std::string line =
      R"([{"type":"observed-data","id":"observed-data--00000000-0000-4000-8000-000000000001","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"object_refs":["network-traffic--00000000-0000-4000-8000-000000000002","ipv4-addr--00000000-0000-4000-8000-000000000003"]},{"type":"network-traffic","id":"network-traffic--00000000-0000-4000-8000-000000000002","dst_ref":"ipv4-addr--00000000-0000-4000-8000-000000000003"},{"type":"ipv4-addr","id":"ipv4-addr--00000000-0000-4000-8000-000000000003","value":"10.9.9.9"}])";
  ASSERT_TRUE(r.value()->Read(line, &ev).ok());
  auto f = Fields(paths, ev);
  EXPECT_TRUE(Has(f, "network-traffic:dst_ref.value=10.9.9.9"));
  EXPECT_TRUE(Has(f, "ipv4-addr:value=10.9.9.9"));
  EXPECT_EQ(ev.time.micros(), 1577836800000000LL);
}

TEST(ReadersTest, LogTimes) {
  int64_t us;
  ASSERT_TRUE(ParseLogTime("2020-01-01T00:00:00Z", &us));
  EXPECT_EQ(us, 1577836800000000LL);
  ASSERT_TRUE(ParseLogTime("2020-01-01T01:00:00+01:00", &us));
  EXPECT_EQ(us, 1577836800000000LL);
  ASSERT_TRUE(ParseLogTime("1577836800.25", &us));
  EXPECT_EQ(us, 1577836800250000LL);
  EXPECT_FALSE(ParseLogTime("yesterday", &us));
  EXPECT_FALSE(ParseLogTime("2020-13-01T00:00:00Z", &us));
}

}  // namespace
}  // namespace ctihub::matcher

namespace ctihub::matcher {
namespace {

// LogTimeParser's minute memo gives exactly ParseLogTime's answer, over times
// that share a minute, change it, and near-misses of the fast path's shape.
TEST(ReadersTest, LogTimeParserAgreesWithParseLogTime) {
  std::mt19937 rng(5);
  const std::vector<std::string> minutes = {
      "2018-03-24T17:15", "2018-03-24T17:16", "2016-02-29T23:59", "2017-02-29T10:00",
      "2018-13-01T00:00", "2018-03-24T24:00", "2018-03-24 17:15", "2018-03-24T17:60"};
  const std::vector<std::string> tails = {
      ":20.865716Z",       ":00Z",    ":60Z",   ":61Z",  ":59.1Z",
      ":59.123456789123Z", ":5.1Z",   ":20.Z",  ":20.5", ":20.5+01:00",
      ":20.5-0130",        ":20.5ZZ", ":20x5Z", ":2a.5Z"};
  LogTimeParser memo;
  for (int i = 0; i < 20000; ++i) {
    const std::string text =
        minutes[rng() % 3 == 0 ? rng() % minutes.size() : 0] + tails[rng() % tails.size()];
    int64_t want = -1, got = -1;
    const bool ok = ParseLogTime(text, &want);
    ASSERT_EQ(memo.Parse(text, &got), ok) << text;
    if (ok) {
      ASSERT_EQ(got, want) << text;
    }
  }
  int64_t us = 0;
  ASSERT_TRUE(memo.Parse("1521911721.5", &us));  // epoch seconds pass through
  EXPECT_EQ(us, 1521911721500000LL);
}

// A time handed over as text is parsed when asked for: the same answer as
// ParseLogTime, none for a text that is not a time, and a line without one
// clears the last line's.
TEST(ReadersTest, TimeTextsAreParsedWhenAskedFor) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kZeekJson, {}, &paths);
  Event ev;
  ASSERT_TRUE(r.value()->Read(R"({"_path":"dns","ts":"yesterday","query":"a.com"})", &ev).ok());
  EXPECT_FALSE(ev.time.has());
  EXPECT_EQ(ev.time.micros(), 0);
  ASSERT_TRUE(r.value()
                  ->Read(R"({"_path":"dns","ts":"2020-01-01T01:00:00+01:00","query":"a.com"})", &ev)
                  .ok());
  ASSERT_TRUE(ev.time.has());
  EXPECT_EQ(ev.time.micros(), 1577836800000000LL);
  EXPECT_EQ(ev.time.micros(), 1577836800000000LL);  // asked again: the same
  ASSERT_TRUE(r.value()->Read(R"({"_path":"dns","query":"a.com"})", &ev).ok());
  EXPECT_FALSE(ev.time.has());

  auto tsv = LineReader::Make(Format::kZeekTsv, {}, &paths);
  ASSERT_TRUE(tsv.value()->Read("#fields\tts\tquery", &ev).ok());
  ASSERT_TRUE(tsv.value()->Read("1577836800.25\ta.com", &ev).ok());
  EXPECT_EQ(ev.time.micros(), 1577836800250000LL);
  ASSERT_TRUE(tsv.value()->Read("soon\ta.com", &ev).ok());
  EXPECT_FALSE(ev.time.has());
}

}  // namespace
}  // namespace ctihub::matcher

namespace ctihub::matcher {
namespace {

// One random Zeek JSON line: role keys (some \u-escaped) and other keys in any
// order, values of every JSON type, duplicates, nested objects and arrays.
std::string RandomZeekLine(std::mt19937& rng) {
  static const std::vector<std::string> keys = {
      "_path",  "ts",          "id.orig_h", "id.resp_h",   "query",  "answers",     "host",
      "uri",    "server_name", "md5",       "sha1",        "sha256", "fingerprint", "san.dns",
      "san.ip", "mailfrom",    "rcptto",    "qu\\u0065ry", "uid",    "proto",       "rtt",
      "TC",     "id.orig_p",   "@stream",   "id_orig_h"};
  static const std::vector<std::string> values = {R"("dns")",
                                                  R"("http")",
                                                  R"("ssl")",
                                                  R"("files")",
                                                  R"("x509")",
                                                  R"("smtp")",
                                                  R"("2018-03-24T17:15:20.865716Z")",
                                                  "1521911720.5",
                                                  "1521911720",
                                                  "1e3",
                                                  "-0.0",
                                                  R"("10.0.0.1")",
                                                  R"("::ffff:10.0.0.2")",
                                                  R"("2001:db8::1")",
                                                  R"("Evil.COM.")",
                                                  R"("a\u002eb.org")",
                                                  R"("ise.wrccdc.org")",
                                                  R"(["a.com","10.1.2.3",7,null,["x.org"]])",
                                                  "[]",
                                                  R"({"a":{"b":[1,2,"c.com"]}})",
                                                  "true",
                                                  "null",
                                                  "12345678901234567890",
                                                  R"("d41d8cd98f00b204e9800998ecf8427e")",
                                                  R"("/path?q=1")",
                                                  R"("<a@b.com>")",
                                                  R"(" spaced.com ")",
                                                  R"("soon")",
                                                  R"("")"};
  std::string line = "{";
  const int n = 1 + static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    if (i > 0) line += rng() % 4 == 0 ? " , " : ",";
    line += "\"" + keys[rng() % keys.size()] + "\":";
    if (rng() % 5 == 0) line += " ";
    line += values[rng() % values.size()];
  }
  line += rng() % 6 == 0 ? " }" : "}";
  return line;
}

// The On-Demand read of a Zeek JSON line gives the DOM's event: a --map of a
// field no line has sends every line through the DOM, so the two readers must
// agree field for field, time for time, on every line the DOM accepts. A line
// cut short or with content after its object is refused by both. A character
// replaced by another structural one may leave a line only On-Demand accepts:
// inside a field it skips, it counts brackets without matching their kinds.
TEST(ReadersTest, ZeekJsonOnDemandAgreesWithTheDom) {
  PathRegistry fast_paths, dom_paths;
  auto fast = LineReader::Make(Format::kZeekJson, {}, &fast_paths);
  auto dom =
      LineReader::Make(Format::kZeekJson, {{"no.such.field", "domain-name:value"}}, &dom_paths);
  // In place: the line followed by padding that would close any string or
  // object, so a read past the line's end would show.
  auto in_place = LineReader::Make(Format::kZeekJson, {}, &fast_paths);
  ASSERT_TRUE(fast.ok() && dom.ok() && in_place.ok());
  in_place.value()->set_padded_lines(true);
  std::string buffer;
  std::mt19937 rng(11);
  int accepted = 0, refused = 0, lenient = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line = RandomZeekLine(rng);
    enum { kIntact, kCut, kTrailing, kReplaced } change = kIntact;
    switch (rng() % 8) {
      case 0:
        line.resize(rng() % line.size());
        change = kCut;
        break;
      case 1:
        line += rng() % 2 ? " x" : "}";
        change = kTrailing;
        break;
      case 2:
        line[rng() % line.size()] = "\"{}[]:,"[rng() % 7];
        change = kReplaced;
        break;
      default:
        break;
    }
    Event a, b, c;
    auto ra = fast.value()->Read(line, &a);
    auto rb = dom.value()->Read(line, &b);
    buffer = line + std::string(kLinePadding / 2, '"') + std::string(kLinePadding / 2, '}');
    auto rc = in_place.value()->Read(std::string_view(buffer).substr(0, line.size()), &c);
    ASSERT_EQ(rc.ok(), ra.ok()) << line;
    if (rc.ok()) {
      ASSERT_EQ(rc.value(), ra.value()) << line;
      ASSERT_EQ(Fields(fast_paths, c), Fields(fast_paths, a)) << line;
      ASSERT_EQ(c.time.micros(), a.time.micros()) << line;
    }
    if (!rb.ok()) {
      ASSERT_NE(change, kIntact) << line << "\nDOM: " << rb.status().message();
      ++refused;
      if (ra.ok()) {
        ASSERT_EQ(change, kReplaced) << line << "\nDOM: " << rb.status().message();
        ++lenient;
      }
      continue;
    }
    ASSERT_TRUE(ra.ok()) << line << "\n" << ra.status().message();
    ASSERT_EQ(ra.value(), rb.value()) << line;
    if (ra.value() != LineReader::Outcome::kEvent) continue;
    ++accepted;
    ASSERT_EQ(Fields(fast_paths, a), Fields(dom_paths, b)) << line;
    ASSERT_EQ(a.time.has(), b.time.has()) << line;
    ASSERT_EQ(a.time.micros(), b.time.micros()) << line;
  }
  EXPECT_GT(accepted, 10000);
  EXPECT_GT(refused, 4000);
  EXPECT_LT(lenient, refused / 10);
}

TEST(ReadersTest, ZeekJsonMalformedLinesAreRefused) {
  PathRegistry paths;
  auto r = LineReader::Make(Format::kZeekJson, {}, &paths);
  Event ev;
  for (const char* line :
       {R"({"_path":"dns","query":"a.com"} x)", R"({"_path":"dns","query":"a.com"}})",
        R"({"_path":"dns","query":"a.com")", R"({"_path":"dns","query":)", R"({"_path":"dns)",
        R"(["_path","dns"])", R"({"_path":"dns","answers":["a.com",})", "not json"}) {
    EXPECT_FALSE(r.value()->Read(line, &ev).ok()) << line;
  }
  // Duplicate keys: the last one counts, as on the DOM.
  ASSERT_TRUE(r.value()->Read(R"({"_path":"dns","query":"a.com","query":"b.com"})", &ev).ok());
  EXPECT_EQ(Fields(paths, ev), std::vector<std::string>{"domain-name:value=b.com"});
}

}  // namespace
}  // namespace ctihub::matcher
