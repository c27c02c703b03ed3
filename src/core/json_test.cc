#include "core/json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ctihub::json {
namespace {

std::string Canon(std::string_view text) {
  JsonParser p;
  auto e = p.Parse(text);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? CanonicalJson(*e) : "";
}

std::string Js(double v) {
  std::string s;
  AppendJsNumber(s, v);
  return s;
}

TEST(Jcs, NumbersFormatLikeEcmascript) {
  // RFC 8785 appendix B samples.
  EXPECT_EQ(Js(0.0), "0");
  EXPECT_EQ(Js(-0.0), "0");
  EXPECT_EQ(Js(1e21), "1e+21");
  EXPECT_EQ(Js(1e20), "100000000000000000000");
  EXPECT_EQ(Js(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(Js(295147905179352830000.0), "295147905179352830000");
  EXPECT_EQ(Js(5e-324), "5e-324");
  EXPECT_EQ(Js(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(Js(0.000001), "0.000001");
  EXPECT_EQ(Js(0.0000001), "1e-7");
  EXPECT_EQ(Js(333333333.3333333), "333333333.3333333");
  EXPECT_EQ(Js(-1.5), "-1.5");
  EXPECT_EQ(Js(4.35), "4.35");
  EXPECT_EQ(Js(0.002), "0.002");
  EXPECT_EQ(Js(1e23), "1e+23");
}

TEST(Jcs, SortsKeysByUtf16AndEscapesMinimally) {
  // RFC 8785 section 3.2.3 sorting example.
  std::string in =
      "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet "
      "With Dagesh\","
      "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning "
      "Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}";
  std::string out = Canon(in);
  std::vector<std::string> order = {
      "\\r", "1", "\xc2\x80", "\xc3\xb6", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xac\xb3"};
  size_t pos = 0;
  for (const auto& k : order) {
    size_t at = out.find("\"" + k + "\"", pos);
    ASSERT_NE(at, std::string::npos) << k;
    pos = at;
  }
  EXPECT_EQ(Canon(R"({"b":[1,2.50,{"z":null,"a":true}],"a":"x\u0001\"y"})"),
            R"({"a":"x\u0001\"y","b":[1,2.5,{"a":true,"z":null}]})");
  EXPECT_EQ(Canon("{ \"a\" : \"\\u00e9\\/\" }"), "{\"a\":\"\xc3\xa9/\"}");
}

TEST(JsonParser, ErrorsCarryByteOffsets) {
  JsonParser p;
  auto r = p.Parse(R"({"a": 1,})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at byte 8"), std::string::npos) << r.status().message();

  r = p.Parse(R"({"a": "abc)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unterminated string"), std::string::npos)
      << r.status().message();

  r = p.Parse("{\"a\": \"\xff\"}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at byte 7: invalid UTF-8"), std::string::npos)
      << r.status().message();

  // Integers past 64 bits are read as doubles (as JCS treats every number).
  r = p.Parse(R"({"a": 123456789012345678901234567890})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(CanonicalJson(*r), R"({"a":1.2345678901234568e+29})");
  EXPECT_EQ(Canon("[100000000000000000000]"), "[100000000000000000000]");

  r = p.Parse(R"({"a": 1e999})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("out of range"), std::string::npos) << r.status().message();
}

TEST(JsonParser, RejectsDuplicateKeys) {
  JsonParser p;
  auto r = p.Parse(R"({"a": {"x": 1, "x": 2}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate key \"x\""), std::string::npos);
  std::string many = "{";
  for (int i = 0; i < 30; ++i) many += "\"k" + std::to_string(i) + "\":1,";
  many += "\"k7\":2}";
  EXPECT_FALSE(p.Parse(many).ok());
}

TEST(JsonParser, EnforcesDepthAndSizeLimits) {
  JsonParser p(ParseLimits{.max_bytes = 1000, .max_depth = 8});
  std::string deep(20, '[');
  deep += std::string(20, ']');
  auto r = p.Parse(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded);
  std::string big = "\"" + std::string(2000, 'a') + "\"";
  r = p.Parse(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_TRUE(p.Parse("[[[[1]]]]").ok());
}

TEST(JsonWriter, WritesCommasAndEscapes) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x\"").Bool(true).Null().EndArray();
  w.Key("c").Double(1.5).EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x\"",true,null],"c":1.5})");
}

}  // namespace
}  // namespace ctihub::json
