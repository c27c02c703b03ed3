// The batch protocol driver (pattern/batch.h): streaming, limits, the
// compiled-pattern cache, and no allocation per warm line.
#include "pattern/batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

// Counts heap allocations while g_counting is set (this test binary only).
namespace {
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocations{0};
}  // namespace

// GCC 12 flags free() on memory from a replaced operator new; the pair is consistent.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
// Every non-aligned form is replaced, so all of them allocate with malloc and free
// with free: a form left to the runtime (simdjson uses the nothrow one) would be
// freed by a replaced delete, which ASan reports as alloc-dealloc-mismatch.
namespace {
void* CountedMalloc(size_t n) noexcept {
  if (g_counting.load(std::memory_order_relaxed))
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace
void* operator new(size_t n) {
  void* p = CountedMalloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return ::operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedMalloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedMalloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace ctihub::pattern {
namespace {

// Runs RunBatch over `input`, from memory or from a temporary regular file;
// returns what it wrote.
std::string RunBatchOn(const std::string& input, BatchMode mode, bool from_file = false) {
  std::FILE* in = nullptr;
  if (from_file) {
    in = std::tmpfile();
    EXPECT_EQ(std::fwrite(input.data(), 1, input.size(), in), input.size());
    std::rewind(in);
  } else {
    in = fmemopen(const_cast<char*>(input.data()), input.size(), "rb");
  }
  char* out_buf = nullptr;
  size_t out_len = 0;
  std::FILE* out = open_memstream(&out_buf, &out_len);
  Status st = RunBatch(in, out, mode);
  std::fclose(in);
  std::fclose(out);
  std::string result(out_buf, out_len);
  std::free(out_buf);
  EXPECT_TRUE(st.ok()) << st.message();
  return result;
}

TEST(PatternBatch, OneAnswerPerNonBlankLineInOrder) {
  std::string input =
      "{\"id\":\"a\",\"pattern\":\"[a:b = 1]\"}\n\n   \n"
      "{\"id\":\"b\",\"pattern\":\"[a:b = \"}\r\n"
      "{\"id\":\"c\",\"pattern\":\"[a:b = 2]\"}";  // no final newline
  std::string out = RunBatchOn(input, BatchMode::kValidate);
  EXPECT_EQ(out,
            "{\"id\":\"a\",\"result\":\"valid\",\"message\":\"\"}\n"
            "{\"id\":\"b\",\"result\":\"invalid\",\"message\":\"at position 7: expected a literal "
            "(string, number, "
            "boolean, b'...', h'...' or t'...'), found end of pattern\"}\n"
            "{\"id\":\"c\",\"result\":\"valid\",\"message\":\"\"}\n");
}

TEST(PatternBatch, LinesLongerThanTheReadChunkAreAnswered) {
  // A 3 MiB observed-data line spans several 1 MiB reads.
  std::string big(3u << 20, ' ');
  std::string line = "{\"id\":\"big\",\"pattern\":\"[x:y = 1]\",\"observed\":[]" + big + "}\n";
  std::string out = RunBatchOn(line + line, BatchMode::kMatch);
  std::string one = "{\"id\":\"big\",\"result\":\"nomatch\",\"message\":\"\"}\n";
  EXPECT_EQ(out, one + one);
}

TEST(PatternBatch, LineOverTheLimitGetsAnErrorAndTheNextLineIsRead) {
  std::string huge(kMaxBatchLineBytes + 10, 'x');
  std::string input = huge + "\n{\"id\":\"after\",\"pattern\":\"[x:y = 1]\",\"observed\":[]}\n";
  std::string out = RunBatchOn(input, BatchMode::kMatch);
  EXPECT_EQ(out.find("{\"id\":\"\",\"result\":\"error\",\"message\":\"batch_line_too_long"), 0u)
      << out.substr(0, 200);
  EXPECT_NE(out.find("\n{\"id\":\"after\",\"result\":\"nomatch\""), std::string::npos)
      << out.substr(0, 300);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
}

TEST(PatternBatch, PatternsAreCompiledOncePerTextAndVersion) {
  BatchRunner m(BatchMode::kMatch);
  const char* obs =
      R"("observed":[{"type":"observed-data","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"objects":{"0":{"type":"x","y":1}}}])";
  auto line = [&](const char* id, const char* version) {
    return std::string("{\"id\":\"") + id + "\",\"pattern\":\"[x:y = 1]\",\"stix_version\":\"" +
           version + "\"," + obs + "}";
  };
  EXPECT_EQ(m.Answer(line("1", "2.0")),
            "{\"id\":\"1\",\"result\":\"match\",\"message\":\"\",\"bindings\":[0]}");
  EXPECT_EQ(m.Answer(line("2", "2.0")),
            "{\"id\":\"2\",\"result\":\"match\",\"message\":\"\",\"bindings\":[0]}");
  EXPECT_EQ(m.compilations(), 1u);
  EXPECT_EQ(m.Answer(line("3", "2.1")),
            "{\"id\":\"3\",\"result\":\"match\",\"message\":\"\",\"bindings\":[0]}");
  EXPECT_EQ(m.compilations(), 2u);
  // A cached compile error is answered like a fresh one.
  std::string bad = R"({"id":"4","pattern":"[x:y =","observed":[]})";
  std::string first = m.Answer(bad);
  EXPECT_EQ(m.Answer(bad), first);
  EXPECT_NE(first.find("\"error\""), std::string::npos);
  EXPECT_EQ(m.compilations(), 3u);
}

TEST(PatternBatch, WarmMatchLinesDoNotAllocate) {
  BatchRunner m(BatchMode::kMatch);
  auto line = [](int i) {
    std::string v = std::to_string(i % 3);
    return "{\"id\":\"l" + std::to_string(i) + "\",\"pattern\":\"[ipv4-addr:value = '10.0.0." + v +
           "']\",\"stix_version\":\"2.1\",\"observed\":[{\"type\":\"observed-data\",\"id\":"
           "\"observed-data--1\","
           "\"first_observed\":\"2020-01-01T00:00:00Z\",\"last_observed\":\"2020-01-01T00:00:00Z\","
           "\"number_observed\":1,\"object_refs\":[\"ipv4-addr--1\"]},{\"type\":\"ipv4-addr\","
           "\"id\":"
           "\"ipv4-addr--1\",\"value\":\"10.0.0.1\"}]}";
  };
  std::vector<std::string> lines;
  lines.reserve(30);
  for (int i = 0; i < 30; ++i) lines.push_back(line(i));
  std::string out;
  out.reserve(1 << 16);
  // Warm up on the longest lines: compiles the 3 patterns, sizes the parser.
  for (size_t i = 24; i < lines.size(); ++i) m.AnswerLine(lines[i], &out);
  ASSERT_NE(out.find("\"result\":\"match\""), std::string::npos) << out;
  ASSERT_NE(out.find("\"result\":\"nomatch\""), std::string::npos) << out;
  out.clear();
  g_allocations = 0;
  g_counting = true;
  for (size_t i = 0; i < 24; ++i) m.AnswerLine(lines[i], &out);
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(std::count(out.begin(), out.end(), '}'), 24);
}

TEST(PatternBatch, RegularFileAnswersLikeMemory) {
  std::string input =
      "\n{\"id\":\"a\",\"pattern\":\"[a:b = 1]\",\"observed\":[]}\n  \n"
      "not json\n"
      "{\"id\":\"c\",\"pattern\":\"[a:b = \",\"observed\":[]}";  // no final newline
  std::string streamed = RunBatchOn(input, BatchMode::kMatch);
  EXPECT_EQ(std::count(streamed.begin(), streamed.end(), '\n'), 3) << streamed;
  EXPECT_EQ(RunBatchOn(input, BatchMode::kMatch, /*from_file=*/true), streamed);
}

}  // namespace
}  // namespace ctihub::pattern
