#include "http/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace ctihub::http {
namespace {

std::string Write(const std::string& text) {
  std::string path = ::testing::TempDir() + "/serve_config_test.toml";
  std::ofstream(path) << text;
  return path;
}

TEST(ServeConfig, LoadsKeys) {
  ServeConfig c;
  ASSERT_TRUE(
      LoadServeConfig(Write("listen = \"0.0.0.0:9000\"\nthreads = 3\ninsecure_http = true\n"), c)
          .ok());
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.threads, 3);
  EXPECT_TRUE(c.insecure_http);
}

TEST(ServeConfig, OpsEndpointsDefaultsAndKeys) {
  ServeConfig c;
  EXPECT_TRUE(c.public_health);
  EXPECT_FALSE(c.public_metrics);
  ASSERT_TRUE(LoadServeConfig(Write("public_health = false\npublic_metrics = true\n"), c).ok());
  EXPECT_FALSE(c.public_health);
  EXPECT_TRUE(c.public_metrics);
  EXPECT_FALSE(LoadServeConfig(Write("public_metrics = \"yes\"\n"), c).ok());
}

TEST(ServeConfig, RejectsUnknownAndBadValues) {
  ServeConfig c;
  EXPECT_FALSE(LoadServeConfig(Write("lisen = \"x\"\n"), c).ok());
  EXPECT_FALSE(LoadServeConfig(Write("threads = \"many\"\n"), c).ok());
  EXPECT_FALSE(LoadServeConfig(Write("threads = = 3\n"), c).ok());
  EXPECT_FALSE(LoadServeConfig("/nonexistent/ctihub.toml", c).ok());
}

// Regression: `--threads 100000` started 100,000 threads (900 MB) and then
// failed with a misleading database error.
TEST(ServeConfig, ThreadsAndConnectionsAreBounded) {
  ServeConfig c;
  EXPECT_TRUE(CheckServeConfig(c).ok());
  c.threads = kMaxServeThreads;
  EXPECT_TRUE(CheckServeConfig(c).ok());
  c.threads = 100000;
  Status st = CheckServeConfig(c);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("threads must be between 0 and 256"), std::string::npos)
      << st.message();
  c.threads = 1;
  c.max_connections = 0;
  EXPECT_FALSE(CheckServeConfig(c).ok());
  c.max_connections = kMaxServeConnections + 1;
  EXPECT_FALSE(CheckServeConfig(c).ok());
}

TEST(ServeConfig, HostPort) {
  auto a = SplitHostPort("127.0.0.1:8443");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 8443);
  auto b = SplitHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "::1");
  EXPECT_FALSE(SplitHostPort("nocolon").ok());
  EXPECT_FALSE(SplitHostPort(":80").ok());
  EXPECT_FALSE(SplitHostPort("h:99999").ok());
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
}

}  // namespace
}  // namespace ctihub::http
