// The issue's rule for the matcher's hot path: once warm, reading a Zeek JSON
// line and matching it against the exact and prefix tables (and probing the
// suffix table) allocates nothing. This file replaces the global operator new of matcher_test with
// a counting one (counting only while a test asks for it, on its own thread).
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "matcher/event.h"
#include "matcher/index.h"
#include "matcher/readers.h"

// Under AddressSanitizer the allocator is the sanitizer's: a replaced
// operator new would pair with its operator new[] and aligned forms and fail
// every test of the binary (alloc-dealloc-mismatch). The test is skipped there.
#if defined(__SANITIZE_ADDRESS__)
#define CTIHUB_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CTIHUB_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef CTIHUB_COUNT_ALLOCATIONS
#define CTIHUB_COUNT_ALLOCATIONS 1
#endif

namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace

#if CTIHUB_COUNT_ALLOCATIONS
void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*n*/) noexcept { std::free(p); }
#endif

namespace ctihub::matcher {
namespace {

TEST(MatcherHotPath, AWarmZeekLineAllocatesNothing) {
  if (!CTIHUB_COUNT_ALLOCATIONS) GTEST_SKIP() << "AddressSanitizer owns operator new";
  PathRegistry paths;
  IndexBuilder b(&paths);
  const std::vector<std::string> patterns = {
      "[domain-name:value = 'evil.example.com']",
      "[domain-name:value LIKE '%.bad.example']",
      "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
      "[network-traffic:dst_ref.value = '203.0.113.9']",
      "[ipv6-addr:value = '2001:db8::1']",
      "[x509-certificate:hashes.'SHA-256' = '" + std::string(64, 'a') + "']",
  };
  for (size_t i = 0; i < patterns.size(); ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012zu", i);
    ASSERT_TRUE(b.Add({id, patterns[i]}).ok()) << patterns[i];
  }
  auto index = b.Finish();
  ASSERT_TRUE(index.ok());
  auto reader = LineReader::Make(Format::kZeekJson, {}, &paths);
  ASSERT_TRUE(reader.ok());
  Matcher matcher(index->get());
  // Hits and misses of the exact and prefix tables, suffix probes that find no
  // candidate (a candidate goes to the pattern engine, which may allocate), times in
  // one minute and across minutes, IPv6 and IPv4-mapped addresses.
  const std::vector<std::string> lines = {
      R"({"_path":"dns","ts":"2018-03-24T17:15:20.865716Z","id.orig_h":"10.47.1.100","id.resp_h":"10.0.0.100","query":"Evil.Example.com.","answers":["a.b.good.example","198.51.100.7","2001:db8::1"]})",
      R"({"_path":"dns","ts":"2018-03-24T17:15:21.000001Z","id.orig_h":"10.47.1.101","id.resp_h":"203.0.113.9","query":"clean.example.org","answers":["192.0.2.1"],"TTLs":[60.0]})",
      R"({"_path":"dns","ts":"2018-03-24T17:16:00Z","id.orig_h":"fe80::1","id.resp_h":"::ffff:10.0.0.1","query":"x.y.z.w.example.net","rcode":0})",
      R"({"_path":"ssl","ts":"2018-03-24T17:16:02.5Z","id.orig_h":"10.1.1.1","id.resp_h":"10.2.2.2","server_name":"www.bad.example.org","cert_chain_fps":[")" +
          std::string(64, 'a') + R"("]})",
  };
  Event event;
  std::vector<Hit> hits;
  size_t total_hits = 0;
  auto pass = [&] {
    for (const std::string& line : lines) {
      auto out = reader.value()->Read(line, &event);
      ASSERT_TRUE(out.ok()) << line;
      matcher.Match(event, &hits);
      total_hits += hits.size();
    }
  };
  pass();  // warm: buffers grow to their size
  pass();
  ASSERT_GT(total_hits, 0u);
  total_hits = 0;
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 200; ++i) pass();
  g_counting = false;
  EXPECT_EQ(g_allocations, 0u) << "allocations over 800 warm lines";
  EXPECT_EQ(total_hits, 200u * 5u);  // the hits of one pass, each time
}

}  // namespace
}  // namespace ctihub::matcher
