#include "core/tlp.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace ctihub::tlp {
namespace {

// The stored forms must be exactly what CanonicalJson yields for a genuine
// copy, or every genuine copy would be taken for a forgery.
TEST(TlpTest, StoredFormsAreCanonical) {
  json::JsonParser parser;
  for (const FixedMarking& m : FixedMarkings()) {
    for (std::string_view text : {m.canonical, m.canonical_without_name}) {
      if (text.empty()) continue;
      auto e = parser.Parse(text);
      ASSERT_TRUE(e.ok()) << text;
      EXPECT_EQ(json::CanonicalJson(*e), text);
      std::string_view id;
      ASSERT_EQ((*e)["id"].get_string().get(id), simdjson::SUCCESS);
      EXPECT_EQ(id, m.id);
    }
  }
}

TEST(TlpTest, Find) {
  const FixedMarking* red =
      FindFixedMarking("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1");
  ASSERT_NE(red, nullptr);
  EXPECT_EQ(red->level, "red");
  EXPECT_EQ(red->tlp_version, 2);
  EXPECT_EQ(FindFixedMarking("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c2"), nullptr);
  EXPECT_EQ(FixedMarkings().size(), 9u);
}

}  // namespace
}  // namespace ctihub::tlp
