#include "formats/csv.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "formats/input.h"

namespace ctihub::formats {
namespace {

std::vector<std::vector<std::string>> ReadAll(const std::string& text, Status* error = nullptr) {
  std::FILE* f = fmemopen(const_cast<char*>(text.data()), text.size(), "r");
  CsvReader reader(f);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  int64_t line = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto more = reader.Next(&row, &line);
    if (!more.ok()) {
      if (error) *error = more.status();
      break;
    }
    if (!*more) break;
    rows.push_back(row);
  }
  std::fclose(f);
  return rows;
}

TEST(CsvTest, QuotedFieldsHoldCommasQuotesAndNewlines) {
  auto rows = ReadAll("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",x\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"multi\nline", "x"}));
}

TEST(CsvTest, UnterminatedQuoteIsAnError) {
  Status st;
  ReadAll("a,\"never closed\n", &st);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
}

// `ctihub import` counts rejections by these names (issue 12 item 17): they are stable.
TEST(CsvTest, RejectionsHaveStableNames) {
  Status st;
  ReadAll("a,\"never closed\n", &st);
  EXPECT_EQ(st.name(), "unterminated_quoted_field");
  ReadAll(std::string(kMaxCsvRecordBytes + 10, 'x') + "\n", &st);
  EXPECT_EQ(st.name(), "record_too_long");
  EXPECT_EQ(ParseCsvMapping("1ipv4-addr:value").status().name(), "bad_csv_map");
  EXPECT_EQ(ParseCsvMapping("0=ipv4-addr:value").status().name(), "bad_csv_map");
  auto m = ParseCsvMapping("1=ipv4-addr:value");
  ASSERT_TRUE(m.ok());
  std::vector<CsvMapping> maps = {*m};
  ASSERT_TRUE(ResolveCsvColumns(maps, {"not an address"}).ok());
  GenerateOptions gen;
  gen.producer = "acme";
  EXPECT_EQ(CsvRowObjects({"not an address"}, maps, gen).status().name(), "cell_type_mismatch");
}

TEST(CsvTest, MappingSyntax) {
  auto m = ParseCsvMapping("sha256=file:hashes.'SHA-256'");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->column, "sha256");
  EXPECT_EQ(m->type, "file");
  EXPECT_EQ(m->path, "hashes.'SHA-256'");
  for (const char* bad : {"1ipv4-addr:value", "=ipv4-addr:value", "1=ipv4-addr", "1=:value",
                          "1=ipv4-addr:", "0=ipv4-addr:value"}) {
    EXPECT_FALSE(ParseCsvMapping(bad).ok()) << bad;
  }
}

TEST(CsvTest, ColumnsByNameOrNumber) {
  std::vector<CsvMapping> maps{*ParseCsvMapping("ip=ipv4-addr:value"),
                               *ParseCsvMapping("3=domain-name:value")};
  auto header = ResolveCsvColumns(maps, {"when", "ip", "host"});
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(*header);
  EXPECT_EQ(maps[0].index, 1u);
  EXPECT_EQ(maps[1].index, 2u);
  std::vector<CsvMapping> missing{*ParseCsvMapping("addr=ipv4-addr:value")};
  EXPECT_FALSE(ResolveCsvColumns(missing, {"ip"}).ok());
}

TEST(CsvTest, RowGivesOneScoAndIndicatorPerType) {
  std::vector<CsvMapping> maps{*ParseCsvMapping("1=file:name"),
                               *ParseCsvMapping("2=file:hashes.MD5"),
                               *ParseCsvMapping("3=ipv4-addr:value")};
  ASSERT_TRUE(ResolveCsvColumns(maps, {}).ok());
  GenerateOptions o;
  o.now = *Timestamp::Parse("2026-01-02T03:04:05Z");
  auto objs =
      CsvRowObjects({"x.exe", "D41D8CD98F00B204E9800998ECF8427E", "203.0.113[.]5"}, maps, o);
  ASSERT_TRUE(objs.ok()) << objs.status().message();
  ASSERT_EQ(objs->size(), 4u);
  EXPECT_NE((*objs)[1].find("[file:name = 'x.exe' AND file:hashes.MD5 = "
                            "'d41d8cd98f00b204e9800998ecf8427e']"),
            std::string::npos);
  EXPECT_NE((*objs)[2].find("\"value\":\"203.0.113.5\""), std::string::npos);
  // Empty cells give nothing; a cell that is not its type is refused with its column.
  auto empty = CsvRowObjects({"", "", ""}, maps, o);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto bad = CsvRowObjects({"", "", "not-an-ip"}, maps, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("column 3"), std::string::npos);
}

TEST(InputTest, GzipIsReadTransparentlyAndPeekDoesNotConsume) {
  std::string path = (std::filesystem::temp_directory_path() / "ctihub_input_test.txt.gz").string();
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  std::string text = "evil.com\n203.0.113.7\n";
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
  auto in = Input::Open(path);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ((*in)->Peek(4), "evil");
  std::string all;
  char buf[64];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, (*in)->file())) > 0) all.append(buf, n);
  EXPECT_EQ(all, text);
  std::filesystem::remove(path);
  EXPECT_EQ(Input::Open("/nonexistent/x").status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ctihub::formats
