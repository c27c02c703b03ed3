#include "store/cursor.h"

#include <gtest/gtest.h>

namespace ctihub::store {
namespace {

TEST(CursorTest, RoundTrips) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{1732800000123456}, INT64_MAX}) {
    auto back = DecodeCursor(EncodeCursor(v));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, v);
  }
}

TEST(CursorTest, RejectsMalformedAndTampered) {
  std::string good = EncodeCursor(1732800000123456);
  std::string flipped = good;
  flipped[5] = flipped[5] == '0' ? '1' : '0';
  std::string bad_check = good;
  bad_check.back() = bad_check.back() == 'a' ? 'b' : 'a';
  for (const std::string& token :
       {std::string(), std::string("x"), good.substr(1), good + "0", flipped, bad_check,
        std::string("c1zzzzzzzzzzzzzzzz00000000"), std::string(26, '\0'), "C1" + good.substr(2)}) {
    auto r = DecodeCursor(token);
    ASSERT_FALSE(r.ok()) << token;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace ctihub::store
