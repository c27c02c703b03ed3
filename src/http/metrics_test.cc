#include "http/metrics.h"

#include <gtest/gtest.h>

namespace ctihub::http {
namespace {

TEST(Metrics, RendersPrometheusText) {
  Metrics m;
  auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(1000));
  m.SetNowForTest(t0);
  m.Observe("objects", 200, 0.003);
  m.Observe("objects", 200, 0.2);
  m.Observe("status", 404, 0.0001, "unknown_status");
  m.AddIngested(30);
  std::string out = m.Render({42, 3, 1, {}});
  EXPECT_NE(out.find("ctihub_http_requests_total{route=\"objects\",status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(out.find("ctihub_http_rejections_total{error_id=\"unknown_status\"} 1\n"),
            std::string::npos);
  EXPECT_NE(out.find("ctihub_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(out.find("ctihub_http_request_duration_seconds_bucket{le=\"0.005\"} 2\n"),
            std::string::npos);
  EXPECT_NE(out.find("ctihub_objects_stored 42\n"), std::string::npos);
  EXPECT_NE(out.find("ctihub_objects_ingested_total 30\n"), std::string::npos);
  EXPECT_NE(out.find("ctihub_ingest_rate_objects_per_second 0.5\n"), std::string::npos);
  // The rate window forgets after a minute; the counter does not.
  m.SetNowForTest(t0 + std::chrono::seconds(61));
  out = m.Render({});
  EXPECT_NE(out.find("ctihub_ingest_rate_objects_per_second 0\n"), std::string::npos);
  EXPECT_NE(out.find("ctihub_objects_ingested_total 30\n"), std::string::npos);
}

}  // namespace
}  // namespace ctihub::http
