#include "core/encoding.h"

#include <gtest/gtest.h>

namespace ctihub {
namespace {

TEST(Base64, EncodesRfc4648TestVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodeRoundTripsBinary) {
  const std::string bytes("\x00\xff\x10\x80 z", 6);
  auto back = Base64Decode(Base64Encode(bytes));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, bytes);
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(*Base64Decode(""), "");
}

TEST(Base64, DecodeRejectsNonCanonicalText) {
  for (std::string_view bad : {"Zg", "Zg=", "Zm9", "Zm9v=", "Zm 9v", "Zm9v\n",
                               "Z===", "Zh==", "Zm-_", "Zg==Zg==", "====", "Zm9vYg=a"}) {
    auto r = Base64Decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().name(), "bad_base64") << bad;
    EXPECT_FALSE(IsBase64(bad)) << bad;
  }
  EXPECT_TRUE(IsBase64("Zm9vYmE="));
}

TEST(Hex, EncodesLowerCaseAndDecodesEitherCase) {
  EXPECT_EQ(HexEncode(std::string_view("\x01\xab\xff", 3)), "01abff");
  EXPECT_EQ(*HexDecode("01ABff"), std::string("\x01\xab\xff", 3));
  EXPECT_EQ(*HexDecode(""), "");
}

TEST(Hex, DecodeRejectsOddLengthAndNonDigits) {
  EXPECT_EQ(HexDecode("abc").status().name(), "bad_hex");
  EXPECT_EQ(HexDecode("0g").status().name(), "bad_hex");
  EXPECT_EQ(HexDecode("0 ").status().name(), "bad_hex");
}

TEST(Hex, DigitValuesAndDigitStrings) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_TRUE(IsHexDigits("09afAF"));
  EXPECT_FALSE(IsHexDigits("09x"));
}

}  // namespace
}  // namespace ctihub
