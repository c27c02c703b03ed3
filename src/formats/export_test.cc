#include "formats/export.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/json.h"
#include "core/net.h"
#include "formats/misp.h"
#include "policy/markings.h"

namespace ctihub::formats {
namespace {

const std::string_view kGreen = policy::Tlp2MarkingId(policy::Tlp::kGreen);
const std::string_view kPapAmber = policy::PapMarkingId(policy::Pap::kAmber);
const std::string_view kPapGreen = policy::PapMarkingId(policy::Pap::kGreen);

std::string Indicator(std::string_view uuid_tail, std::string_view pattern,
                      std::string_view extra = "") {
  std::string p;
  json::AppendQuoted(p, pattern);
  return std::string(
             R"({"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-)") +
         std::string(uuid_tail) +
         R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z",)" +
         R"("name":"n )" + std::string(uuid_tail) + R"(","pattern":)" + p +
         R"(,"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z")" + std::string(extra) + "}";
}

std::string Marked(std::string_view m) {
  return ",\"object_marking_refs\":[\"" + std::string(m) + "\"]";
}

// Feeds `objects` to an exporter the way taxii/export.cc does: group after
// group of TypeGroups(), objects of the group's types in input order.
std::string Export(ExportFormat f, const std::vector<std::string>& objects, ExportOptions o = {},
                   std::map<std::string, std::string>* side = nullptr,
                   std::vector<ExportOutcome>* outcomes = nullptr) {
  o.format = f;
  o.now = *Timestamp::Parse("2026-06-01T00:00:00Z");
  StringOutput out;
  std::map<std::string, StringOutput*> files;
  OpenSideOutput open;
  if (side != nullptr) {
    open = [&files](std::string_view name) -> Result<std::unique_ptr<ExportOutput>> {
      auto s = std::make_unique<StringOutput>();
      files[std::string(name)] = s.get();
      return std::unique_ptr<ExportOutput>(std::move(s));
    };
  }
  auto ex = MakeExporter(o, out, open);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  if (!ex.ok()) return {};
  EXPECT_TRUE((*ex)->Begin().ok());
  json::JsonParser parser;
  for (const auto& group : (*ex)->TypeGroups()) {
    for (const std::string& obj : objects) {
      auto el = parser.Parse(obj);
      std::string_view type;
      EXPECT_TRUE(el.ok() && (*el)["type"].get_string().get(type) == simdjson::SUCCESS) << obj;
      if (!group.empty() && std::find(group.begin(), group.end(), type) == group.end()) continue;
      auto r = (*ex)->Add({obj, "identity--11111111-1111-4111-8111-111111111111"});
      EXPECT_TRUE(r.ok());
      if (outcomes != nullptr && r.ok()) outcomes->push_back(*r);
    }
  }
  EXPECT_TRUE((*ex)->Finish().ok());
  if (side != nullptr) {
    for (const auto& [name, s] : files) (*side)[name] = s->text;
  }
  return out.text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// ---- exact values ----

TEST(ExactValues, SimplePatternsGiveTheirValues) {
  struct Case {
    std::string pattern;
    std::vector<std::pair<ValueKind, std::string>> want;
  };
  const std::vector<Case> cases = {
      {"[ipv4-addr:value = '203.0.113.9']", {{ValueKind::kIpv4, "203.0.113.9"}}},
      {"[ipv4-addr:value = '203.0.113.9/32']", {{ValueKind::kIpv4, "203.0.113.9"}}},
      {"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", {{ValueKind::kIpv4Cidr, "10.0.0.0/8"}}},
      {"[ipv6-addr:value = '2001:db8::1']", {{ValueKind::kIpv6, "2001:db8::1"}}},
      {"[domain-name:value = 'Evil.Example.COM']", {{ValueKind::kDomain, "evil.example.com"}}},
      {"[url:value = 'http://x.example/a?b=1']", {{ValueKind::kUrl, "http://x.example/a?b=1"}}},
      {"[email-addr:value = 'a@b.example']", {{ValueKind::kEmail, "a@b.example"}}},
      {"[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']",
       {{ValueKind::kMd5, "d41d8cd98f00b204e9800998ecf8427e"}}},
      {"[file:hashes.'SHA-256' = "
       "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
       {{ValueKind::kSha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}},
      {"[domain-name:value = 'a.example' OR domain-name:value = 'b.example']",
       {{ValueKind::kDomain, "a.example"}, {ValueKind::kDomain, "b.example"}}},
      {"[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
       {{ValueKind::kIpv4, "192.0.2.1"}, {ValueKind::kIpv4, "192.0.2.2"}}},
      {"[domain-name:value = 'a.example'] OR [url:value = 'http://u.example/']",
       {{ValueKind::kDomain, "a.example"}, {ValueKind::kUrl, "http://u.example/"}}},
      {"[domain-name:value = 'a.example' OR domain-name:value = 'a.example']",
       {{ValueKind::kDomain, "a.example"}}},
      // Not plain values: nothing.
      {"[domain-name:value = 'a.example' AND domain-name:value = 'b.example']", {}},
      {"[domain-name:value != 'a.example']", {}},
      {"[domain-name:value LIKE '%.example']", {}},
      {"[domain-name:value MATCHES '^a']", {}},
      {"[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']", {}},
      {"[domain-name:value = 'a.example'] REPEATS 2 TIMES", {}},
      {"[ipv4-addr:value = 'not an ip']", {}},
      {"[ipv4-addr:value = '2001:db8::1']", {}},
      {"[file:hashes.MD5 = 'xyz']", {}},
      {"[file:name = 'x.exe']", {}},
      {"[process:pid = 4]", {}},
      {"this is no pattern", {}},
  };
  for (const Case& c : cases) {
    std::vector<IndicatorValue> got = ExactValues(c.pattern);
    ASSERT_EQ(got.size(), c.want.size()) << c.pattern;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].kind, c.want[i].first) << c.pattern;
      EXPECT_EQ(got[i].value, c.want[i].second) << c.pattern;
    }
  }
}

TEST(ExportFormats, NamesAndLists) {
  for (std::string_view n : {"stix", "misp", "csv", "suricata", "zeek", "blocklist", "rpz"}) {
    auto f = ParseExportFormat(n);
    ASSERT_TRUE(f.has_value()) << n;
    EXPECT_EQ(ExportFormatName(*f), n);
  }
  EXPECT_FALSE(ParseExportFormat("snort").has_value());
  EXPECT_TRUE(IsActiveBlocking(ExportFormat::kRpz));
  EXPECT_FALSE(IsActiveBlocking(ExportFormat::kCsv));
  ExportOptions o;
  o.format = ExportFormat::kSuricata;
  o.list = "filemd5";
  EXPECT_TRUE(CheckExportList(o).ok());
  o.list = "filesha512";
  EXPECT_FALSE(CheckExportList(o).ok());
  o.format = ExportFormat::kBlocklist;
  o.list = "domain-name";
  EXPECT_TRUE(CheckExportList(o).ok());
  o.format = ExportFormat::kZeek;
  EXPECT_FALSE(CheckExportList(o).ok());
}

// ---- the shared indicator rules ----

std::vector<std::string> RuleFixtures() {
  return {
      Indicator("000000000001", "[domain-name:value = 'ok.example']", Marked(kPapGreen)),
      Indicator("000000000002", "[domain-name:value = 'pap.example']", Marked(kPapAmber)),
      Indicator("000000000003", "[domain-name:value = 'revoked.example']", ",\"revoked\":true"),
      Indicator("000000000004", "[domain-name:value = 'expired.example']",
                ",\"valid_until\":\"2026-02-01T00:00:00Z\""),
      Indicator("000000000005", "[domain-name:value = 'later.example']",
                ",\"valid_until\":\"2027-02-01T00:00:00Z\""),
  };
}

TEST(ExportRules, RevokedExpiredAndPapInEveryFormat) {
  for (ExportFormat f :
       {ExportFormat::kStix, ExportFormat::kMisp, ExportFormat::kCsv, ExportFormat::kSuricata,
        ExportFormat::kZeek, ExportFormat::kBlocklist, ExportFormat::kRpz}) {
    std::string out = Export(f, RuleFixtures());
    SCOPED_TRACE(std::string(ExportFormatName(f)));
    EXPECT_NE(out.find("ok.example"), std::string::npos);
    EXPECT_NE(out.find("later.example"), std::string::npos);
    EXPECT_EQ(out.find("revoked.example"), std::string::npos);
    EXPECT_EQ(out.find("expired.example"), std::string::npos);
    EXPECT_EQ(out.find("pap.example") != std::string::npos, !IsActiveBlocking(f));
    ExportOptions o;
    o.include_pap_restricted = true;
    std::vector<ExportOutcome> outcomes;
    out = Export(f, RuleFixtures(), o, nullptr, &outcomes);
    EXPECT_NE(out.find("pap.example"), std::string::npos);
    ASSERT_EQ(outcomes.size(), 5u);
    EXPECT_EQ(outcomes[1],
              IsActiveBlocking(f) ? ExportOutcome::kExportedByOverride : ExportOutcome::kExported);
    EXPECT_EQ(outcomes[2], ExportOutcome::kRevoked);
    EXPECT_EQ(outcomes[3], ExportOutcome::kExpired);
  }
}

TEST(ExportRules, ComplexPatternsAreNotValues) {
  std::vector<ExportOutcome> outcomes;
  std::string out = Export(ExportFormat::kBlocklist,
                           {Indicator("000000000001", "[domain-name:value LIKE '%.example']")}, {},
                           nullptr, &outcomes);
  EXPECT_EQ(out, "");
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0], ExportOutcome::kNoExactValue);
  // ... but the STIX bundle carries it.
  out = Export(ExportFormat::kStix, {Indicator("000000000001", "[domain-name:value LIKE '%.x']")});
  EXPECT_NE(out.find("LIKE"), std::string::npos);
}

// ---- STIX ----

TEST(StixExport, BundleOfEveryObjectWithAStableId) {
  std::vector<std::string> objs = RuleFixtures();
  objs.emplace_back(
      R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--0a0b0c0d-0000-5000-8000-000000000001","value":"192.0.2.1"})");
  std::string a = Export(ExportFormat::kStix, objs);
  EXPECT_EQ(a, Export(ExportFormat::kStix, objs));
  json::JsonParser parser;
  auto el = parser.Parse(a);
  ASSERT_TRUE(el.ok()) << a;
  std::string_view type, id;
  ASSERT_EQ((*el)["type"].get_string().get(type), simdjson::SUCCESS);
  EXPECT_EQ(type, "bundle");
  ASSERT_EQ((*el)["id"].get_string().get(id), simdjson::SUCCESS);
  EXPECT_TRUE(id.starts_with("bundle--"));
  json::Array arr;
  ASSERT_EQ((*el)["objects"].get_array().get(arr), simdjson::SUCCESS);
  EXPECT_EQ(arr.size(), 4u);  // 3 indicators + the SCO; revoked and expired left out
  EXPECT_NE(a, Export(ExportFormat::kStix, {objs[0]}));
}

// ---- CSV ----

TEST(CsvExport, OneRowPerValueWithQuoting) {
  std::string out =
      Export(ExportFormat::kCsv,
             {Indicator("000000000001",
                        "[url:value = 'http://x.example/a,b' OR ipv4-addr:value = '192.0.2.7']",
                        Marked(kGreen) + ",\"valid_until\":\"2027-01-01T00:00:00Z\"")});
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "id,type,value,producer,tlp,valid_from,valid_until\r");
  EXPECT_EQ(lines[1],
            "indicator--00000000-0000-4000-8000-000000000001,url,\"http://x.example/a,b\","
            "identity--11111111-1111-4111-8111-111111111111,green,2026-01-01T00:00:00Z,"
            "2027-01-01T00:00:00Z\r");
  EXPECT_EQ(lines[2].substr(0, 67),
            "indicator--00000000-0000-4000-8000-000000000001,ipv4-addr,192.0.2.7");
}

// ---- Zeek ----

TEST(ZeekExport, ExactHeaderAndTabLayout) {
  std::string out =
      Export(ExportFormat::kZeek,
             {Indicator("000000000001", "[ipv4-addr:value = '192.0.2.7']"),
              Indicator("000000000002", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
              Indicator("000000000003", "[domain-name:value = 'evil.example']"),
              Indicator("000000000004", "[url:value = 'https://evil.example/x?y=1']"),
              Indicator("000000000005", "[email-addr:value = 'bad@evil.example']"),
              Indicator("000000000006",
                        "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']")});
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[0], "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"192.0.2.7", "Intel::ADDR"},
      {"2001:db8::/32", "Intel::SUBNET"},
      {"evil.example", "Intel::DOMAIN"},
      {"evil.example/x?y=1", "Intel::URL"},
      {"bad@evil.example", "Intel::EMAIL"},
      {"da39a3ee5e6b4b0d3255bfef95601890afd80709", "Intel::FILE_HASH"}};
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> f;
    std::istringstream in(lines[i]);
    for (std::string field; std::getline(in, field, '\t');) f.push_back(field);
    ASSERT_EQ(f.size(), 5u) << lines[i];
    EXPECT_EQ(f[0], want[i - 1].first);
    EXPECT_EQ(f[1], want[i - 1].second);
    EXPECT_EQ(f[2], "ctihub");
    EXPECT_NE(f[3].find("indicator--00000000-0000-4000-8000-00000000000"), std::string::npos);
    EXPECT_EQ(f[4], "-");
    for (const std::string& field : f) EXPECT_FALSE(field.empty());
  }
}

// ---- blocklist ----

TEST(BlocklistExport, OneValuePerLineAndPerKind) {
  std::vector<std::string> objs = {
      Indicator("000000000001", "[ipv4-addr:value = '192.0.2.7']"),
      Indicator("000000000002", "[domain-name:value = 'evil.example']"),
      Indicator("000000000003", "[domain-name:value = 'worse.example']"),
  };
  EXPECT_EQ(Export(ExportFormat::kBlocklist, objs), "192.0.2.7\nevil.example\nworse.example\n");
  ExportOptions o;
  o.list = "domain-name";
  EXPECT_EQ(Export(ExportFormat::kBlocklist, objs, o), "evil.example\nworse.example\n");
}

// ---- RPZ: named-checkzone ----

TEST(RpzExport, ZoneLoadsInNamedCheckzone) {
  ASSERT_EQ(std::system("command -v named-checkzone >/dev/null"), 0)
      << "named-checkzone missing: run scripts/deps.sh (Debian package bind9-utils)";
  std::string zone = Export(
      ExportFormat::kRpz,
      {Indicator("000000000001", "[domain-name:value = 'evil.example']"),
       Indicator("000000000002",
                 "[domain-name:value = 'Evil.Example' OR domain-name:value = 'c2.bad.test']"),
       Indicator("000000000003", "[domain-name:value = 'under_score.example']"),
       Indicator("000000000004", "[domain-name:value = 'bad..example']"),
       Indicator("000000000005", "[ipv4-addr:value = '192.0.2.7']")});
  EXPECT_NE(zone.find("\nevil.example CNAME .\n*.evil.example CNAME .\n"), std::string::npos);
  EXPECT_NE(zone.find("\nc2.bad.test CNAME .\n"), std::string::npos);
  EXPECT_EQ(zone.find("bad..example"), std::string::npos);
  EXPECT_NE(zone.find(" SOA "), std::string::npos);
  char path[] = "/tmp/ctihub_rpz_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, zone.data(), zone.size()), static_cast<ssize_t>(zone.size()));
  close(fd);
  std::string cmd = std::string("named-checkzone -q rpz.ctihub.test ") + path;
  int rc = std::system(cmd.c_str());
  std::string verbose = std::string("named-checkzone rpz.ctihub.test ") + path + " 2>&1";
  if (rc != 0) (void)std::system(verbose.c_str());
  unlink(path);
  EXPECT_EQ(rc, 0) << zone;
}

// ---- Suricata: a parser of the rule grammar ----

// Checks one Suricata 7 rule line against the grammar (header, options with
// their quoting and escapes) and the keyword rules the generated rules rely
// on. Returns "" when the rule is well formed, else why not; `sid` gets the sid.
class SuricataRuleChecker {
 public:
  std::string Check(const std::string& rule, uint32_t* sid) {
    size_t paren = rule.find(" (");
    if (paren == std::string::npos || rule.back() != ')') return "no option list";
    std::vector<std::string> h;
    std::istringstream in(rule.substr(0, paren));
    for (std::string w; in >> w;) h.push_back(w);
    if (h.size() != 7) return "header needs 7 fields";
    static const std::set<std::string> kActions = {"alert", "pass", "drop", "reject"};
    static const std::set<std::string> kProtos = {"ip",  "tcp", "udp",  "icmp", "http",
                                                  "dns", "tls", "smtp", "ftp",  "smb"};
    if (!kActions.count(h[0])) return "bad action " + h[0];
    if (!kProtos.count(h[1])) return "bad protocol " + h[1];
    if (!Address(h[2]) || !Address(h[5])) return "bad address";
    if (!Port(h[3]) || !Port(h[6])) return "bad port";
    if (h[4] != "->" && h[4] != "<>") return "bad direction " + h[4];
    proto_ = h[1];
    return Options(rule.substr(paren + 2, rule.size() - paren - 3), sid);
  }

 private:
  static bool Address(const std::string& a) {
    if (a == "any" || a == "$HOME_NET" || a == "$EXTERNAL_NET") return true;
    if (a.size() < 3 || a.front() != '[' || a.back() != ']') {
      net::IpPrefix p;
      return net::ParseIpPrefix(a, &p);
    }
    net::IpPrefix p;
    return net::ParseIpPrefix(a.substr(1, a.size() - 2), &p);
  }
  static bool Port(const std::string& p) {
    if (p == "any") return true;
    return !p.empty() && p.size() <= 5 && std::all_of(p.begin(), p.end(), ::isdigit) &&
           std::stoi(p) <= 65535;
  }

  // A quoted value: escapes \" \; \\ only; in content, |hex pairs| blocks.
  static bool Quoted(const std::string& v, bool content, std::string* text) {
    if (v.size() < 2 || v.front() != '"' || v.back() != '"') return false;
    bool hex = false;
    std::string hexbuf;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      char c = v[i];
      if (hex) {
        if (c == '|') {
          std::istringstream hs(hexbuf);
          int n = 0;
          for (std::string byte; hs >> byte; ++n) {
            if (byte.size() != 2 || !isxdigit(byte[0]) || !isxdigit(byte[1])) return false;
            text->push_back(static_cast<char>(std::stoi(byte, nullptr, 16)));
          }
          if (n == 0) return false;
          hexbuf.clear();
          hex = false;
        } else {
          hexbuf.push_back(c);
        }
        continue;
      }
      if (c == '\\') {
        if (i + 2 >= v.size() || (v[i + 1] != '"' && v[i + 1] != ';' && v[i + 1] != '\\'))
          return false;
        text->push_back(v[++i]);
        continue;
      }
      if (c == '"' || c == ';') return false;
      if (content && c == '|') {
        hex = true;
        continue;
      }
      text->push_back(c);
    }
    return !hex;
  }

  std::string Options(const std::string& body, uint32_t* sid) {
    // Split at unescaped ';' outside quotes.
    std::vector<std::string> opts;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c == '\\' && i + 1 < body.size()) {
        cur += c;
        cur += body[++i];
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (c == ';' && !quoted) {
        size_t b = cur.find_first_not_of(' ');
        opts.push_back(b == std::string::npos ? "" : cur.substr(b));
        cur.clear();
        continue;
      }
      cur += c;
    }
    if (quoted) return "unterminated quote";
    if (cur.find_first_not_of(' ') != std::string::npos) return "option without ';'";
    static const std::set<std::string> kBuffers = {"dns.query", "tls.sni", "http.host", "http.uri"};
    static const std::map<std::string, std::string> kBufferProto = {
        {"dns.query", "dns"}, {"tls.sni", "tls"}, {"http.host", "http"}, {"http.uri", "http"}};
    std::map<std::string, int> seen;
    std::string buffer;  // the sticky buffer in force
    bool after_content = false;
    std::string last_content;
    for (const std::string& o : opts) {
      if (o.empty()) return "empty option";
      size_t colon = o.find(':');
      std::string name = o.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : o.substr(colon + 1);
      ++seen[name];
      if (kBuffers.count(name)) {
        if (!value.empty()) return name + " takes no value";
        if (kBufferProto.at(name) != proto_) return name + " on protocol " + proto_;
        buffer = name;
        after_content = false;
      } else if (name == "msg") {
        std::string text;
        if (!Quoted(value, false, &text)) return "bad msg";
      } else if (name == "content") {
        std::string text;
        if (!Quoted(value, true, &text) || text.empty()) return "bad content " + value;
        if (buffer == "http.host" && text != Lower(text)) return "upper case in http.host";
        after_content = true;
        last_content = text;
      } else if (name == "nocase" || name == "endswith" || name == "startswith") {
        if (!value.empty() || !after_content) return name + " without content";
      } else if (name == "bsize") {
        if (buffer.empty() || value.empty() || !std::all_of(value.begin(), value.end(), ::isdigit))
          return "bad bsize";
        if (after_content && std::stoul(value) != last_content.size()) return "bsize != content";
      } else if (name == "dotprefix") {
        if (buffer.empty() || after_content) return "dotprefix must follow a buffer";
      } else if (name == "sid" || name == "rev") {
        if (value.empty() || value.size() > 10 ||
            !std::all_of(value.begin(), value.end(), ::isdigit) || std::stoull(value) == 0 ||
            std::stoull(value) > 4294967295ull)
          return "bad " + name;
        if (name == "sid") *sid = static_cast<uint32_t>(std::stoull(value));
      } else if (name == "metadata") {
        std::istringstream ms(value);
        for (std::string item; std::getline(ms, item, ',');) {
          std::istringstream is(item);
          std::string k, v, extra;
          if (!(is >> k >> v) || (is >> extra)) return "bad metadata item '" + item + "'";
        }
      } else if (name == "filemd5" || name == "filesha1" || name == "filesha256") {
        if (value.empty() || value.find_first_of(" \"") != std::string::npos)
          return "bad list file";
      } else {
        return "unknown keyword " + name;
      }
    }
    for (std::string_view required : {"msg", "sid", "rev"}) {
      if (seen[std::string(required)] != 1) return "needs exactly one " + std::string(required);
    }
    return "";
  }

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  std::string proto_;
};

TEST(SuricataRuleChecker, RejectsMalformedRules) {
  SuricataRuleChecker c;
  uint32_t sid = 0;
  const std::string good =
      "alert dns any any -> any any (msg:\"x\"; dns.query; content:\"a.example\"; nocase; "
      "sid:1000000001; rev:1;)";
  EXPECT_EQ(c.Check(good, &sid), "");
  EXPECT_EQ(sid, 1000000001u);
  for (const std::string bad : {
           "alert dns any any -> any any (msg:\"x\"; content:\"a;b\"; sid:1; rev:1;)",
           "alert dns any any -> any any (msg:\"x\"; dns.query; content:\"a\"; sid:1;)",
           "alert dns any any => any any (msg:\"x\"; sid:1; rev:1;)",
           "alert tls any any -> any any (msg:\"x\"; dns.query; content:\"a\"; sid:1; rev:1;)",
           "alert http any any -> any any (msg:\"x\"; http.host; content:\"A\"; sid:1; rev:1;)",
           "alert ip any any -> [300.1.1.1] any (msg:\"x\"; sid:1; rev:1;)",
           "alert ip any any -> any any (msg:\"x\"; frobnicate; sid:1; rev:1;)",
           "alert ip any any -> any any (msg:\"x\"; sid:1; rev:1;",
           // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one rule, split to fit the line
           "alert http any any -> any any (msg:\"x\"; http.uri; content:\"ab\"; bsize:3; sid:1; "
           "rev:1;)",
           "alert dns any any -> any any (msg:\"x\"; dns.query; content:\"|zz|\"; sid:1; rev:1;)",
       }) {
    EXPECT_NE(c.Check(bad, &sid), "") << bad;
  }
}

std::vector<std::string> SuricataFixtures() {
  return {
      Indicator("000000000001", "[ipv4-addr:value = '192.0.2.7']"),
      Indicator("000000000002", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
      Indicator("000000000003", "[domain-name:value = 'Evil.Example']"),
      Indicator("000000000004", "[url:value = 'http://evil.example:8080/a;b\"c|d?q=1']"),
      Indicator("000000000005", "[url:value = 'https://x.example']"),
      Indicator("000000000006", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
      Indicator("000000000007",
                "[file:hashes.'SHA-256' = "
                "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
      Indicator("000000000008", "[email-addr:value = 'a@b.example']"),
      Indicator("000000000009", "[domain-name:value = 'evil.example']"),  // same name, own sids
  };
}

TEST(SuricataExport, EveryRuleParsesWithUniqueStableSids) {
  std::map<std::string, std::string> side;
  std::string rules = Export(ExportFormat::kSuricata, SuricataFixtures(), {}, &side);
  SuricataRuleChecker checker;
  std::set<uint32_t> sids;
  int rule_count = 0;
  for (const std::string& line : Lines(rules)) {
    if (line.empty() || line[0] == '#') continue;
    ++rule_count;
    uint32_t sid = 0;
    EXPECT_EQ(checker.Check(line, &sid), "") << line;
    EXPECT_TRUE(sids.insert(sid).second) << "duplicate sid " << sid;
    if (line.find("filemd5") == std::string::npos && line.find("filesha256") == std::string::npos) {
      EXPECT_NE(line.find("metadata:stix_id indicator--"), std::string::npos) << line;
    }
  }
  // 2 ip + 3 domain + 2 url + 3 domain + the md5 and sha256 list rules.
  EXPECT_EQ(rule_count, 12) << rules;
  EXPECT_NE(rules.find("http.host; content:\"evil.example\"; bsize:12; http.uri; "
                       "content:\"/a|3B|b|22|c|7C|d?q=1\"; bsize:12;"),
            std::string::npos)
      << rules;
  EXPECT_NE(rules.find("dns.query; dotprefix; content:\".evil.example\"; nocase; endswith;"),
            std::string::npos);
  EXPECT_NE(rules.find("filemd5:ctihub-md5.list;"), std::string::npos);
  EXPECT_EQ(rules.find("filesha1:"), std::string::npos);  // no SHA-1 indicator, no rule
  EXPECT_EQ(side[std::string(kSuricataMd5List)], "d41d8cd98f00b204e9800998ecf8427e\n");
  EXPECT_EQ(side[std::string(kSuricataSha256List)],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
  EXPECT_EQ(side[std::string(kSuricataSha1List)], "");
  // Stable: the same indicator keeps its sid when others come and go.
  std::vector<std::string> fewer = SuricataFixtures();
  fewer.erase(fewer.begin());
  std::string again = Export(ExportFormat::kSuricata, fewer, {}, &side);
  for (const std::string& line : Lines(again)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_NE(rules.find(line), std::string::npos) << line;
  }
  // A list alone (what an HTTP client fetches beside the rules).
  ExportOptions o;
  o.list = "filesha256";
  EXPECT_EQ(Export(ExportFormat::kSuricata, SuricataFixtures(), o),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
}

TEST(SuricataExport, ManyIndicatorsKeepSidsUnique) {
  std::vector<std::string> objs;
  for (int i = 0; i < 3000; ++i) {
    char tail[13];
    std::snprintf(tail, sizeof tail, "%012d", i);
    objs.push_back(Indicator(tail, "[domain-name:value = 'd" + std::to_string(i) + ".example']"));
  }
  std::string rules = Export(ExportFormat::kSuricata, objs);
  SuricataRuleChecker checker;
  std::set<uint32_t> sids;
  for (const std::string& line : Lines(rules)) {
    if (line.empty() || line[0] == '#') continue;
    uint32_t sid = 0;
    ASSERT_EQ(checker.Check(line, &sid), "") << line;
    ASSERT_TRUE(sids.insert(sid).second);
  }
  EXPECT_EQ(sids.size(), 9000u);
}

// ---- MISP round trip: MISP -> STIX (misp.cc) -> MISP ----

constexpr const char* kMispEvent = R"({"Event": {
  "uuid": "5e1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a69", "info": "Round trip", "timestamp": "1700000000",
  "Tag": [{"name": "tlp:green"}],
  "Attribute": [
    {"uuid": "6a1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a60", "type": "ip-src", "value": "203.0.113.9",
     "to_ids": true, "Tag": [{"name": "tlp:amber"}, {"name": "PAP:RED"}, {"name": "c2"}]},
    {"uuid": "6a1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a61", "type": "domain|ip",
     "value": "c2.example.net|198.51.100.77", "to_ids": true},
    {"uuid": "6a1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a62", "type": "domain", "value": "seen.example.com",
     "to_ids": false},
    {"uuid": "6a1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a63", "type": "filename|md5",
     "value": "x.exe|d41d8cd98f00b204e9800998ecf8427e", "to_ids": true,
     "Tag": [{"name": "malware-dropper"}]},
    {"uuid": "6a1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a64", "type": "sha256",
     "value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "to_ids": false},
    {"uuid": "6a1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a65", "type": "url",
     "value": "http://evil.example/x", "to_ids": true}
  ]}})";

struct MispAttr {
  std::string type, value;
  bool to_ids = false;
  std::set<std::string> tags;
  bool operator==(const MispAttr&) const = default;
};

std::map<std::string, MispAttr> AttributesOf(std::string_view event_json) {
  std::map<std::string, MispAttr> out;
  json::JsonParser parser;
  auto el = parser.Parse(event_json);
  EXPECT_TRUE(el.ok()) << event_json;
  if (!el.ok()) return out;
  json::Array attrs;
  EXPECT_EQ((*el)["Event"]["Attribute"].get_array().get(attrs), simdjson::SUCCESS);
  for (json::Element a : attrs) {
    MispAttr m;
    std::string_view s;
    if (a["type"].get_string().get(s) == simdjson::SUCCESS) m.type = s;
    if (a["value"].get_string().get(s) == simdjson::SUCCESS) m.value = s;
    bool b = false;
    if (a["to_ids"].get_bool().get(b) == simdjson::SUCCESS) m.to_ids = b;
    json::Array tags;
    if (a["Tag"].get_array().get(tags) == simdjson::SUCCESS) {
      for (json::Element t : tags) {
        if (t["name"].get_string().get(s) == simdjson::SUCCESS) m.tags.insert(std::string(s));
      }
    }
    out[m.value] = m;
  }
  return out;
}

TEST(MispExport, RoundTripKeepsValuesTypesTagsAndToIds) {
  json::JsonParser parser;
  auto el = parser.Parse(kMispEvent);
  ASSERT_TRUE(el.ok());
  auto stix = MispEventToStix(*el);
  ASSERT_TRUE(stix.ok()) << stix.status().message();
  std::string back = Export(ExportFormat::kMisp, stix->objects);
  std::map<std::string, MispAttr> got = AttributesOf(back);
  // Attribute tags plus the event's TLP where the attribute has none (the
  // importer marks each object with it).
  std::map<std::string, MispAttr> want = {
      {"203.0.113.9", {"ip-src", "203.0.113.9", true, {"tlp:amber", "PAP:RED", "c2"}}},
      {"c2.example.net|198.51.100.77",
       {"domain|ip", "c2.example.net|198.51.100.77", true, {"tlp:green"}}},
      {"seen.example.com", {"domain", "seen.example.com", false, {"tlp:green"}}},
      {"x.exe|d41d8cd98f00b204e9800998ecf8427e",
       {"filename|md5",
        "x.exe|d41d8cd98f00b204e9800998ecf8427e",
        true,
        {"tlp:green", "malware-dropper"}}},
      {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       {"sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        false,
        {"tlp:green"}}},
      {"http://evil.example/x", {"url", "http://evil.example/x", true, {"tlp:green"}}},
  };
  EXPECT_EQ(got.size(), want.size()) << back;
  for (const auto& [value, w] : want) {
    ASSERT_TRUE(got.count(value)) << value << "\n" << back;
    EXPECT_EQ(got[value].type, w.type) << value;
    EXPECT_EQ(got[value].to_ids, w.to_ids) << value;
    EXPECT_EQ(got[value].tags, w.tags) << value;
  }
  // And the exported event imports again to the same indicators.
  auto el2 = parser.Parse(back);
  ASSERT_TRUE(el2.ok());
  auto again = MispEventToStix(*el2);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Export(ExportFormat::kMisp, again->objects).size(), back.size());
}

}  // namespace
}  // namespace ctihub::formats
