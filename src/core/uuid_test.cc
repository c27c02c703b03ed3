#include "core/uuid.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "core/hash.h"

namespace ctihub {
namespace {

TEST(Uuid, V5MatchesRfc4122Example) {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
  auto ns = Uuid::Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  ASSERT_TRUE(ns.ok());
  Uuid u = Uuid::V5(*ns, "python.org");
  EXPECT_EQ(u.ToString(), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(u.version(), 5);
  EXPECT_TRUE(u.is_rfc4122_variant());
}

TEST(Uuid, V4IsRandomAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    Uuid u = Uuid::V4();
    EXPECT_EQ(u.version(), 4);
    EXPECT_TRUE(u.is_rfc4122_variant());
    seen.insert(u.ToString());
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Uuid, ParseRejectsMalformed) {
  EXPECT_FALSE(Uuid::Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c").ok());
  EXPECT_FALSE(Uuid::Parse("6ba7b810x9dad-11d1-80b4-00c04fd430c8").ok());
  EXPECT_FALSE(Uuid::Parse("6ba7b810-9dad-11d1-80b4-00c04fd430cg").ok());
  auto u = Uuid::Parse("6BA7B810-9DAD-11D1-80B4-00C04FD430C8");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->ToString(), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
}

TEST(Hash, IdTailHashSpreadsIdsThatDifferInTheirLastBytes) {
  // 4,096 identity ids that differ only in their last three hex digits (and
  // short type names): a power-of-two table of 8,192 buckets indexed by the
  // low bits must see nearly as many buckets as keys. A mix that leaves the
  // last bytes in the high bits puts them all in a handful.
  std::set<uint64_t> buckets;
  char id[64];
  for (int n = 0; n < 4096; ++n) {
    std::snprintf(id, sizeof id, "identity--00000000-0000-4000-8000-000000000%03x", n);
    buckets.insert(IdTailHash(id) & 8191);
  }
  EXPECT_GT(buckets.size(), 3000u);
  std::set<uint64_t> short_buckets;
  for (const char* type : {"indicator", "malware", "report", "tool", "identity", "campaign", "x-a",
                           "x-b", "x-c", "x-d"})
    short_buckets.insert(IdTailHash(type) & 63);
  EXPECT_GE(short_buckets.size(), 8u);
  EXPECT_NE(IdTailHash("ab"), IdTailHash(std::string_view("ab\0", 3)));  // the length counts
}

TEST(Hash, KnownDigests) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

}  // namespace
}  // namespace ctihub
