#include "core/timestamp.h"

#include <gtest/gtest.h>

namespace ctihub {
namespace {

TEST(Timestamp, ParsesAndFormatsWithPrecision) {
  auto t = Timestamp::Parse("2016-04-06T20:03:48.123Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->fraction_digits(), 3);
  EXPECT_EQ(t->ToString(), "2016-04-06T20:03:48.123Z");
  EXPECT_EQ(t->Format(6), "2016-04-06T20:03:48.123000Z");
  EXPECT_EQ(t->Format(0), "2016-04-06T20:03:48Z");
  EXPECT_EQ(t->seconds(), 1459973028);
}

TEST(Timestamp, NoFractionFormatsAsMillis) {
  auto t = Timestamp::Parse("1970-01-01T00:00:00Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->seconds(), 0);
  EXPECT_EQ(t->fraction_digits(), 0);
  EXPECT_EQ(t->ToString(), "1970-01-01T00:00:00.000Z");
}

TEST(Timestamp, KeepsNanosecondsAndOrders) {
  auto a = Timestamp::Parse("2020-01-01T00:00:00.000000001Z");
  auto b = Timestamp::Parse("2020-01-01T00:00:00.000000002Z");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(*a, *b);
  EXPECT_EQ(a->Format(9), "2020-01-01T00:00:00.000000001Z");
}

TEST(Timestamp, RejectsBadForms) {
  for (const char* bad :
       {"2016-04-06T20:03:48+01:00", "2016-04-06 20:03:48Z", "2016-02-30T00:00:00Z",
        "2017-02-29T00:00:00Z", "2016-13-01T00:00:00Z", "2016-04-06T24:00:00Z",
        "2016-04-06T20:03:48.Z", "2016-04-06T20:03:48z", "2016-04-06T20:03:48", "",
        "2016-04-06T20:03:48.123ZZ", "20160406T200348Z"}) {
    EXPECT_FALSE(Timestamp::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(Timestamp::Parse("2016-02-29T00:00:00Z").ok());
  EXPECT_TRUE(Timestamp::Parse("2000-02-29T23:59:60Z").ok());
}

TEST(Timestamp, MicrosRoundTrip) {
  Timestamp t = Timestamp::FromMicros(1700000000123456);
  EXPECT_EQ(t.micros(), 1700000000123456);
  EXPECT_EQ(t.Format(6), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(*Timestamp::Parse(t.Format(6)), t);
}

}  // namespace
}  // namespace ctihub

namespace ctihub {
namespace {

// Format's hand-written digits round-trip through Parse over the whole
// RFC 3339 range (years 0000-9999), at every precision.
TEST(Timestamp, FormatRoundTripsAcrossTheRange) {
  uint64_t x = 88172645463325252ull;  // xorshift: deterministic
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int64_t secs = static_cast<int64_t>(x % 253402300800ull) - 62167219200ll;  // 0000..9999
    uint32_t nanos = static_cast<uint32_t>((x >> 20) % 1000000000u);
    Timestamp t(secs, nanos, 9);
    std::string text = t.Format(9);
    auto back = Timestamp::Parse(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(back->seconds(), secs) << text;
    EXPECT_EQ(back->nanos(), nanos) << text;
    EXPECT_EQ(t.Format(3), text.substr(0, 23) + "Z");
    EXPECT_EQ(t.Format(0), text.substr(0, 19) + "Z");
  }
}

}  // namespace
}  // namespace ctihub
