#include "stix/bundle_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ctihub::stix {
namespace {

struct Item {
  std::string text;
  int64_t offset;
};

// Reads everything; returns the error message (empty when none).
std::string ReadAll(BundleReader& r, std::vector<Item>* items) {
  for (;;) {
    int64_t off = -1;
    auto n = r.Next(&off);
    if (!n.ok()) return n.status().message();
    if (n->empty()) return "";
    items->push_back({std::string(*n), off});
  }
}

// A FILE* over `text` read through a tiny chunk size, to cross chunk borders everywhere.
std::string ReadAllFromFile(std::string_view text, std::vector<Item>* items, size_t chunk = 7,
                            size_t max_object = 1 << 20, BundleReader* keep = nullptr) {
  std::FILE* f = std::tmpfile();
  std::fwrite(text.data(), 1, text.size(), f);
  std::rewind(f);
  BundleReader r(f, BundleReaderOptions{.max_object_bytes = max_object, .chunk_bytes = chunk});
  std::string err = ReadAll(r, items);
  std::fclose(f);
  return err;
}

TEST(BundleReaderTest, Bundle) {
  std::string text =
      R"( {"type":"bundle","id":"bundle--1","objects":[ {"type":"a","x":"}]\"{"} , {"type":"b"} ],"z":1} )";
  for (bool file : {false, true}) {
    std::vector<Item> items;
    std::string err;
    std::string container;
    if (file) {
      err = ReadAllFromFile(text, &items);
    } else {
      BundleReader r(text);
      err = ReadAll(r, &items);
      container = std::string(r.container());
      EXPECT_EQ(r.bundle_id(), "bundle--1");
    }
    ASSERT_EQ(err, "");
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].text, R"({"type":"a","x":"}]\"{"})");
    EXPECT_EQ(items[1].text, R"({"type":"b"})");
    EXPECT_EQ(text.substr(static_cast<size_t>(items[0].offset), items[0].text.size()),
              items[0].text);
    EXPECT_EQ(text.substr(static_cast<size_t>(items[1].offset), items[1].text.size()),
              items[1].text);
    if (!file) {
      EXPECT_EQ(container, "bundle");
    }
  }
}

TEST(BundleReaderTest, BundleSpecVersion) {
  BundleReader r(std::string_view(
      R"({"type":"bundle","id":"bundle--x","spec_version":"2.0","objects":[{"a":1}]})"));
  auto n = r.Next();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, R"({"a":1})");
  EXPECT_EQ(r.bundle_spec_version(), "2.0");
  EXPECT_EQ(r.container(), "bundle");
}

TEST(BundleReaderTest, EmptyBundleAndArray) {
  for (std::string_view t : {R"({"type":"bundle","id":"bundle--1"})",
                             R"({"type":"bundle","objects":[]})", "[]", " [ ] \n"}) {
    BundleReader r(t);
    std::vector<Item> items;
    EXPECT_EQ(ReadAll(r, &items), "") << t;
    EXPECT_TRUE(items.empty()) << t;
  }
}

TEST(BundleReaderTest, SingleObject) {
  std::string text = "\n{\"type\":\"indicator\",\"objects\":[1,2],\"name\":\"a\\\\\"}\n";
  for (bool file : {false, true}) {
    std::vector<Item> items;
    std::string err;
    if (file) {
      err = ReadAllFromFile(text, &items, 3);
    } else {
      BundleReader r(text);
      err = ReadAll(r, &items);
      EXPECT_EQ(r.container(), "object");
    }
    ASSERT_EQ(err, "");
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].offset, 1);
    EXPECT_EQ(items[0].text, text.substr(1, text.size() - 2));
  }
}

TEST(BundleReaderTest, ObjectWithoutType) {
  BundleReader r(std::string_view(R"({"name":"x"})"));
  std::vector<Item> items;
  EXPECT_EQ(ReadAll(r, &items), "");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].text, R"({"name":"x"})");
}

TEST(BundleReaderTest, Array) {
  std::string text = R"([{"type":"a"},{"type":"b","l":[[],{}]},3])";
  std::vector<Item> items;
  ASSERT_EQ(ReadAllFromFile(text, &items, 2), "");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].text, R"({"type":"b","l":[[],{}]})");
  EXPECT_EQ(items[2].text, "3");
}

TEST(BundleReaderTest, ManyObjectsThroughSmallChunks) {
  std::string text = R"({"type":"bundle","objects":[)";
  for (int i = 0; i < 1000; ++i) {
    if (i) text += ",\n";
    text += R"({"type":"x","n":)" + std::to_string(i) + R"(,"s":"\\\"}"})";
  }
  text += "]}";
  std::vector<Item> items;
  ASSERT_EQ(ReadAllFromFile(text, &items, 13, 200), "");
  ASSERT_EQ(items.size(), 1000u);
  for (const Item& it : items)
    EXPECT_EQ(text.substr(static_cast<size_t>(it.offset), it.text.size()), it.text);
}

// Positions are line:column, counted across chunk borders and compactions.
TEST(BundleReaderTest, PositionsThroughSmallChunks) {
  std::string text = "{\"type\": \"bundle\", \"x_note\": 1,\n \"objects\": [";
  for (int i = 0; i < 200; ++i) {
    text += i ? ",\n" : "\n";
    text += std::string(static_cast<size_t>(i % 5), ' ') + R"({"type":"x","n":)" +
            std::to_string(i) + "}";
  }
  text += "]}";
  std::FILE* f = std::tmpfile();
  std::fwrite(text.data(), 1, text.size(), f);
  std::rewind(f);
  BundleReader r(f, BundleReaderOptions{.max_object_bytes = 1 << 20, .chunk_bytes = 11});
  for (int i = 0; i < 200; ++i) {
    int64_t off = 0;
    auto n = r.Next(&off);
    ASSERT_TRUE(n.ok() && !n->empty());
    auto pos = r.PositionOf(off);
    EXPECT_EQ(pos.line, i + 3);
    EXPECT_EQ(pos.column, i % 5 + 1);
  }
  auto end = r.Next();
  ASSERT_TRUE(end.ok() && end->empty());
  std::fclose(f);
  EXPECT_EQ(r.top_position().line, 1);
  EXPECT_EQ(r.top_position().column, 1);
  EXPECT_EQ(r.bundle_keys(), (std::vector<std::string>{"type", "x_note", "objects"}));
}

TEST(BundleReaderTest, ObjectOverLimit) {
  std::string big(5000, 'a');
  std::string text =
      R"({"type":"bundle","objects":[{"type":"x"},{"type":"y","s":")" + big + R"("}]})";
  std::vector<Item> items;
  std::string err = ReadAllFromFile(text, &items, 64, 1000);
  EXPECT_EQ(items.size(), 1u);
  EXPECT_NE(err.find("larger than the limit of 1000 bytes"), std::string::npos) << err;
  EXPECT_NE(err.find("at byte 41"), std::string::npos) << err;
}

TEST(BundleReaderTest, HundredMegabyteStringBoundedMemory) {
  // A 100 MB string in one object: rejected at the limit without buffering it all.
  std::FILE* f = std::tmpfile();
  std::string head = R"({"type":"bundle","objects":[{"type":"x","s":")";
  std::fwrite(head.data(), 1, head.size(), f);
  std::string chunk(1 << 20, 'a');
  for (int i = 0; i < 100; ++i) std::fwrite(chunk.data(), 1, chunk.size(), f);
  std::fwrite("\"}]}", 1, 4, f);
  std::rewind(f);
  BundleReader r(f, BundleReaderOptions{.max_object_bytes = 8u << 20, .chunk_bytes = 1u << 20});
  auto n = r.Next();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_NE(n.status().message().find("at byte 28"), std::string::npos) << n.status().message();
  // Finished after the error.
  auto again = r.Next();
  EXPECT_TRUE(again.ok() && again->empty());
  std::fclose(f);
}

TEST(BundleReaderTest, MalformedContainers) {
  struct Case {
    std::string_view text;
    std::string_view want;
  } cases[] = {
      {"", "at byte 0: empty input"},
      {"   ", "at byte 3: empty input"},
      {"42", "at byte 0: expected '{' or '['"},
      {R"([{"a":1})", "unexpected end of input"},
      {R"([{"a":1} {"b":2}])", "at byte 9: expected ',' or ']'"},
      {R"([{"a":1},])", "at byte 9: expected a value"},
      {R"({"type":"bundle","objects":[{"a":"x)", "unterminated string"},
      {R"({"type":"bundle","objects":[{"a":1}]} x)", "at byte 38: unexpected content after"},
      {R"({"type":"bundle" "objects":[]})", "at byte 17: expected ',' or '}'"},
      {R"({"type":"bundle",objects:[]})", "at byte 17: expected a string key"},
      {R"({"type":"bundle","objects"[]})", "expected ':'"},
      {R"({"type":"indicator","name":"x")", "unexpected end of input"},
      {"\xff\xfe{\0}\0", "at byte 0: input is UTF-16"},
      {"\xfe\xff\0{\0}", "at byte 0: input is UTF-16"},
  };
  for (const Case& c : cases) {
    for (bool file : {false, true}) {
      std::vector<Item> items;
      std::string err;
      if (file) {
        err = ReadAllFromFile(c.text, &items, 5);
      } else {
        BundleReader r(c.text);
        err = ReadAll(r, &items);
      }
      EXPECT_NE(err.find(c.want), std::string::npos) << "input: " << c.text << " error: " << err;
    }
  }
}

// `ctihub import` counts rejections by these names (issue 12 item 17): they are stable.
TEST(BundleReaderTest, RejectionsHaveStableNames) {
  struct Case {
    std::string_view text;
    std::string_view name;
    ErrorCode code;
  } cases[] = {
      {"", "empty_input", ErrorCode::kInvalidArgument},
      {"42", kMalformedJson, ErrorCode::kInvalidArgument},
      {R"([{"a":1},])", kMalformedJson, ErrorCode::kInvalidArgument},
      {R"({"type":"indicator","name":"x")", kMalformedJson, ErrorCode::kInvalidArgument},
      {"\xff\xfe{\0}\0", kNotUtf8, ErrorCode::kInvalidArgument},
      {std::string_view("{\0\"\0", 4), kNotUtf8, ErrorCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    BundleReader r(c.text);
    auto n = r.Next();
    for (int guard = 0; guard < 10 && n.ok() && !n->empty(); ++guard) n = r.Next();
    ASSERT_FALSE(n.ok()) << c.text;
    EXPECT_EQ(n.status().name(), c.name) << c.text;
    EXPECT_EQ(n.status().code(), c.code) << c.text;
  }
  // The object size limit holds for streamed input (a file).
  const std::string big = R"([{"s":")" + std::string(5000, 'a') + R"("}])";
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  std::fwrite(big.data(), 1, big.size(), f);
  std::rewind(f);
  {
    BundleReader r(f, BundleReaderOptions{.max_object_bytes = 1000, .chunk_bytes = 64});
    auto n = r.Next();
    for (int guard = 0; guard < 10 && n.ok() && !n->empty(); ++guard) n = r.Next();
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.status().name(), kObjectTooLarge);
    EXPECT_EQ(n.status().code(), ErrorCode::kLimitExceeded);
  }
  std::fclose(f);
  EXPECT_EQ(kMalformedJson, "malformed_json");
  EXPECT_EQ(kObjectTooLarge, "object_too_large");
  EXPECT_EQ(kNotUtf8, "not_utf8");
}

TEST(BundleReaderTest, ReadErrorIsReported) {
  std::FILE* dir = std::fopen("/", "rb");  // opening works, reading fails with EISDIR
  if (!dir) GTEST_SKIP() << "cannot open / as a FILE";
  BundleReader r(dir);
  auto n = r.Next();
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(n.status().message().find("read error"), std::string::npos) << n.status().message();
  std::fclose(dir);
}

TEST(BundleReaderTest, Utf8BomIsSkipped) {
  BundleReader r(std::string_view("\xef\xbb\xbf[{\"a\":1}]"));
  int64_t off = 0;
  auto n = r.Next(&off);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "{\"a\":1}");
  EXPECT_EQ(off, 4);
}

TEST(BundleReaderTest, DeepNestingDoesNotRecurse) {
  std::string text = "[" + std::string(100000, '[') + std::string(100000, ']') + "]";
  BundleReader r(text);
  auto n = r.Next();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 200000u);
}

}  // namespace
}  // namespace ctihub::stix
