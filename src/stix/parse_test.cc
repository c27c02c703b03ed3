#include "stix/parse.h"

#include <gtest/gtest.h>

#include <string>

#include "stix/bundle_reader.h"

namespace ctihub::stix {
namespace {

Status ParseError(std::string_view text, int64_t base = 0, json::ParseLimits limits = {}) {
  json::JsonParser parser(limits);
  auto r = ParseObject(parser, text, base);
  return r.ok() ? Status::Ok() : r.status();
}

TEST(ParseObjectTest, ValidObject) {
  json::JsonParser parser;
  auto r = ParseObject(parser, R"({"type":"x","n":1})", 100);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_object());
}

TEST(ParseObjectTest, TruncatedJsonHasAbsoluteOffset) {
  Status st = ParseError(R"({"type":"x","n":)", 1000);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "at byte 1016: unexpected end of input: expected a value");
}

TEST(ParseObjectTest, MalformedJson) {
  EXPECT_EQ(ParseError(R"({"a":tru})").message(), "at byte 5: invalid literal");
  EXPECT_EQ(ParseError(R"({"a":1,})").message(), "at byte 7: expected a string key");
  EXPECT_EQ(ParseError(R"({"a" 1})").message(), "at byte 5: expected ':' after key");
  EXPECT_EQ(ParseError(R"({"a":01})").message(), "at byte 6: number has a leading zero");
  EXPECT_EQ(ParseError("{\"a\":\"x\ny\"}").message(),
            "at byte 7: unescaped control character in string");
}

TEST(ParseObjectTest, InvalidUtf8) {
  Status st = ParseError("{\"a\":\"ok \xc3\x28\"}", 10);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "at byte 19: invalid UTF-8");
  // Overlong encoding and a lone surrogate.
  EXPECT_EQ(ParseError("{\"a\":\"\xc0\xaf\"}").message(), "at byte 6: invalid UTF-8");
  EXPECT_EQ(ParseError("{\"a\":\"\xed\xa0\x80\"}").message(), "at byte 6: invalid UTF-8");
}

TEST(ParseObjectTest, Utf16Bom) {
  std::string text("\xff\xfe{\0}\0", 6);
  Status st = ParseError(text, 5);
  EXPECT_EQ(st.message(), "at byte 5: text is UTF-16 (byte order mark); STIX JSON must be UTF-8");
}

TEST(ParseObjectTest, HugeNumbers) {
  // Integers past 64 bits are JSON numbers (core reads them as doubles); the
  // validator rejects them where STIX wants an integer (validate_test.cc).
  EXPECT_TRUE(ParseError(R"({"n":123456789012345678901234567890})").ok());
  Status st2 = ParseError(R"({"n":1e400})");
  EXPECT_EQ(st2.message(), "at byte 5: number out of range");
  // Large but valid numbers pass.
  EXPECT_TRUE(
      ParseError(R"({"n":1e300,"m":18446744073709551615,"k":-9223372036854775808,"f":1.5e19})")
          .ok());
}

TEST(ParseObjectTest, DeepNestingHitsTheLimit) {
  std::string text = R"({"a":)" + std::string(100, '[') + std::string(100, ']') + "}";
  Status st = ParseError(text, 0, json::ParseLimits{.max_depth = 64});
  EXPECT_EQ(st.code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(st.message(), "at byte 68: nesting deeper than the limit of 64");
  // 100k levels: still an error, no stack overflow.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(ParseError(deep).code(), ErrorCode::kLimitExceeded);
}

TEST(ParseObjectTest, DuplicateKeysWithOffset) {
  Status st = ParseError(R"({"type":"x","b":{"c":1,"c":2}})", 7);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "at byte 30: duplicate key \"c\" in an object");
  Status top = ParseError(R"({"id":"a", "x":[{"id":1}], "id":"b"})");
  EXPECT_EQ(top.message(), "at byte 27: duplicate key \"id\" in an object");
}

TEST(ParseObjectTest, SizeLimit) {
  std::string text = R"({"s":")" + std::string(2000, 'x') + R"("})";
  Status st = ParseError(text, 0, json::ParseLimits{.max_bytes = 1000});
  EXPECT_EQ(st.code(), ErrorCode::kLimitExceeded);
}

TEST(ParseObjectTest, ReaderPlusParserGiveInputOffsets) {
  std::string text = "[{\"a\":1},\n {\"b\":[1,}]";
  BundleReader reader(text);
  json::JsonParser parser;
  int64_t off = 0;
  auto first = reader.Next(&off);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(ParseObject(parser, *first, off).ok());
  auto second = reader.Next(&off);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(off, 11);
  auto parsed = ParseObject(parser, *second, off);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "at byte 19: unexpected character '}'");
}

// Regression: control bytes were printed as decimal after "\\x" ('\\x31' for 0x1f,
// '\\x127' for 0x7f).
TEST(ParseObjectTest, OffendingByteIsPrintedInHex) {
  json::JsonParser parser;
  auto unit_separator = ParseObject(parser, std::string_view("{\"a\":\x1f}"), 0);
  ASSERT_FALSE(unit_separator.ok());
  EXPECT_EQ(unit_separator.status().message(), "at byte 5: unexpected character '\\x1f'");
  auto del = ParseObject(parser, std::string_view("{\"a\":\x7f}"), 0);
  ASSERT_FALSE(del.ok());
  EXPECT_EQ(del.status().message(), "at byte 5: unexpected character '\\x7f'");
}

TEST(LocateDuplicateKeyTest, Basics) {
  std::string_view key;
  EXPECT_EQ(LocateDuplicateKey(R"({"a":1,"b":{"a":2}})", &key), -1);
  EXPECT_EQ(LocateDuplicateKey(R"({"a":"a","a":2})", &key), 9);
  EXPECT_EQ(key, "a");
  EXPECT_EQ(LocateDuplicateKey(R"([{"a":1},{"a":1}])", &key), -1);
}

}  // namespace
}  // namespace ctihub::stix
