#include "core/durable_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace ctihub {
namespace {

namespace fs = std::filesystem;

class DurableFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("ctihub_durable_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(DurableFileTest, MissingFileIsNulloptNotAnError) {
  auto r = ReadFileIfPresent(dir_ + "/none", "read_failed");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
}

TEST_F(DurableFileTest, WritesCreatesTheDirectoryAndReplacesWhole) {
  const std::string path = dir_ + "/sub/f.json";
  ASSERT_TRUE(WriteFileDurably(path, "first, longer text\n", "write_failed").ok());
  ASSERT_TRUE(WriteFileDurably(path, "second\n", "write_failed").ok());
  auto r = ReadFileIfPresent(path, "read_failed");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(**r, "second\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));  // renamed, not left behind
}

TEST_F(DurableFileTest, ModeIsTheOneAskedForWhateverTheUmask) {
  const std::string path = dir_ + "/secret";
  const mode_t old = ::umask(077);  // would leave 0600 of a 0644 asked for
  Status s = WriteFileDurably(path, "x", "write_failed", 0644);
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST_F(DurableFileTest, FailureCarriesTheCallersName) {
  fs::create_directories(dir_);
  const std::string blocker = dir_ + "/file";
  ASSERT_TRUE(WriteFileDurably(blocker, "x", "write_failed").ok());
  // A path under a regular file cannot be created.
  Status s = WriteFileDurably(blocker + "/child", "y", "cursor_write_failed");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.name(), "cursor_write_failed");
}

}  // namespace
}  // namespace ctihub
