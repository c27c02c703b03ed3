#include "sync/peer_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ctihub::sync {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PeerLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("peer_lock_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PeerLockTest, SecondLockOnTheSamePeerFailsNamingTheHolder) {
  auto first = PeerLock::Acquire(dir_, "vendor");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string path = PeerLock::PathOf(dir_, "vendor");
  EXPECT_EQ(path, (fs::path(dir_) / "sync" / "vendor.lock").string());
  EXPECT_EQ(ReadFile(path), std::to_string(::getpid()) + "\n");
  // Another open of the file, even in this process (serve's threads), is refused.
  auto second = PeerLock::Acquire(dir_, "vendor");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(second.status().name(), "peer_busy");
  EXPECT_EQ(
      second.status().NamedMessage(),
      "peer_busy: another pass of peer vendor is running (pid " + std::to_string(::getpid()) + ")");
  // The refused attempt did not disturb the holder's pid.
  EXPECT_EQ(ReadFile(path), std::to_string(::getpid()) + "\n");
}

TEST_F(PeerLockTest, DifferentPeersDoNotConflict) {
  auto a = PeerLock::Acquire(dir_, "a");
  auto b = PeerLock::Acquire(dir_, "b");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
}

TEST_F(PeerLockTest, ReleasedWhenDestroyed) {
  {
    auto held = PeerLock::Acquire(dir_, "vendor");
    ASSERT_TRUE(held.ok());
    EXPECT_FALSE(PeerLock::Acquire(dir_, "vendor").ok());
  }
  auto again = PeerLock::Acquire(dir_, "vendor");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(fs::exists(PeerLock::PathOf(dir_, "vendor")));  // the file stays, unlocked
}

TEST_F(PeerLockTest, ALockFileWithoutALiveHolderDoesNotBlock) {
  // A file naming a pid that holds nothing (a pass that ended or crashed).
  fs::create_directories(fs::path(dir_) / "sync");
  std::ofstream(PeerLock::PathOf(dir_, "vendor")) << "999999\n";
  auto lock = PeerLock::Acquire(dir_, "vendor");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_EQ(ReadFile(PeerLock::PathOf(dir_, "vendor")), std::to_string(::getpid()) + "\n");
}

TEST_F(PeerLockTest, AProcessKilledWhileHoldingReleasesIt) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto held = PeerLock::Acquire(dir_, "vendor");
    const char c = held.ok() ? 'y' : 'n';
    (void)::write(ready[1], &c, 1);
    for (int i = 0; i < 600; ++i) ::sleep(1);  // until killed (bounded: 10 min)
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');
  auto busy = PeerLock::Acquire(dir_, "vendor");
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.status().message().find("(pid " + std::to_string(child) + ")"), std::string::npos)
      << busy.status().message();
  // The holder crashes (kill -9): the kernel drops its lock; the file stays.
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  EXPECT_EQ(ReadFile(PeerLock::PathOf(dir_, "vendor")), std::to_string(child) + "\n");
  auto after = PeerLock::Acquire(dir_, "vendor");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(ReadFile(PeerLock::PathOf(dir_, "vendor")), std::to_string(::getpid()) + "\n");
}

}  // namespace
}  // namespace ctihub::sync
