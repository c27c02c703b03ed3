// Server metrics in the Prometheus text exposition format (version 0.0.4):
// requests by route and status, a request latency histogram, rejections by
// stable name, objects ingested (counter and a 60-second rate) and gauges the
// caller supplies (objects stored, open connections, requests in flight).
// Thread-safe; Observe and AddIngested are cheap (one short mutex hold).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctihub::http {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  // One finished request. `error_id` is "" for successes.
  void Observe(std::string_view route, int status, double seconds, std::string_view error_id = {});
  // Objects handed to the store by a POST.
  void AddIngested(int64_t n);

  struct Gauges {
    int64_t objects_stored = -1;  // -1: unknown (store error), not exported
    int64_t connections = 0;
    int64_t in_flight = 0;
    std::vector<std::string> problems;  // stable names (ServerOptions::problems)
  };
  std::string Render(const Gauges& gauges);

  // For tests: the clock used by the ingest rate.
  void SetNowForTest(std::chrono::steady_clock::time_point now) { now_for_test_ = now; }

 private:
  std::chrono::steady_clock::time_point Now() const;
  void RollTo(int64_t second);  // REQUIRES: mu_

  std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> rejections_;
  std::array<uint64_t, kBuckets.size()> bucket_counts_{};
  uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
  int64_t ingested_total_ = 0;
  std::array<int64_t, 60> ingest_per_second_{};
  int64_t ingest_second_ = 0;  // second of the newest slot
  std::chrono::steady_clock::time_point now_for_test_{};
};

}  // namespace ctihub::http
