#include "core/result.h"

#include <gtest/gtest.h>

namespace ctihub {
namespace {

TEST(Status, UnnamedStatusIsNamedAfterItsCode) {
  Status st = NotFound("no such thing");
  EXPECT_EQ(st.name(), "not_found");
  EXPECT_EQ(st.NameOr("store_error"), "store_error");
  EXPECT_EQ(st.message(), "no such thing");
  EXPECT_EQ(st.ToString(), "not_found: no such thing");
}

TEST(Status, NamedStatusKeepsItsNameApartFromTheMessage) {
  Status st = InvalidArgument("bad_filter", "match[type]: empty value");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(st.name(), "bad_filter");
  EXPECT_EQ(st.NameOr("other"), "bad_filter");
  EXPECT_EQ(st.message(), "match[type]: empty value");
  EXPECT_EQ(st.ToString(), "bad_filter: match[type]: empty value");
}

TEST(Status, NamedMessageShowsOnlyAGivenName) {
  EXPECT_EQ(InvalidArgument("bad_filter", "limit: not an integer").NamedMessage(),
            "bad_filter: limit: not an integer");
  EXPECT_EQ(InvalidArgument("value: must be positive").NamedMessage(), "value: must be positive");
}

TEST(Status, MessageTextNeverBecomesAName) {
  Status st = InvalidArgument("looks_like_a_name: but is a message");
  EXPECT_EQ(st.name(), "invalid_argument");
}

TEST(Status, WithContextPrefixesTheMessageAndKeepsNameAndCode) {
  Status st = LimitExceeded("too_many_objects", "1001 objects").WithContext("bundle.json");
  EXPECT_EQ(st.code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(st.name(), "too_many_objects");
  EXPECT_EQ(st.message(), "bundle.json: 1001 objects");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(Result, CarriesTheNamedStatus) {
  Result<int> r = Conflict("org_exists", "organisation 'a' already exists");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().name(), "org_exists");
  Result<int> v = 7;
  EXPECT_EQ(v.status().name(), "ok");
}

}  // namespace
}  // namespace ctihub
