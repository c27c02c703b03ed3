#include "http/metrics.h"

#include <cinttypes>
#include <cstdio>

namespace ctihub::http {
namespace {

// Label values may hold only what our own code puts there, but escape anyway.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::chrono::steady_clock::time_point Metrics::Now() const {
  if (now_for_test_ != std::chrono::steady_clock::time_point{}) return now_for_test_;
  return std::chrono::steady_clock::now();
}

void Metrics::Observe(std::string_view route, int status, double seconds,
                      std::string_view error_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{std::string(route), status}];
  if (!error_id.empty()) ++rejections_[std::string(error_id)];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++bucket_counts_[i];
      break;
    }
  }
  ++latency_count_;
  latency_sum_ += seconds;
}

void Metrics::RollTo(int64_t second) {
  if (second <= ingest_second_) return;
  int64_t steps = std::min<int64_t>(second - ingest_second_, 60);
  for (int64_t i = 1; i <= steps; ++i) ingest_per_second_[(ingest_second_ + i) % 60] = 0;
  ingest_second_ = second;
}

void Metrics::AddIngested(int64_t n) {
  int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
  std::lock_guard<std::mutex> lock(mu_);
  RollTo(second);
  ingest_per_second_[second % 60] += n;
  ingested_total_ += n;
}

std::string Metrics::Render(const Gauges& g) {
  int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(Now().time_since_epoch()).count();
  std::lock_guard<std::mutex> lock(mu_);
  RollTo(second);
  std::string out;
  out += "# HELP ctihub_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE ctihub_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "ctihub_http_requests_total{route=\"" + Label(key.first) + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP ctihub_http_rejections_total Rejected requests by stable rejection name.\n";
  out += "# TYPE ctihub_http_rejections_total counter\n";
  for (const auto& [name, n] : rejections_) {
    out += "ctihub_http_rejections_total{error_id=\"" + Label(name) + "\"} " + std::to_string(n) +
           "\n";
  }
  out += "# HELP ctihub_http_request_duration_seconds Time from request read to response ready.\n";
  out += "# TYPE ctihub_http_request_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += bucket_counts_[i];
    out += "ctihub_http_request_duration_seconds_bucket{le=\"" + Num(kBuckets[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += "ctihub_http_request_duration_seconds_bucket{le=\"+Inf\"} " +
         std::to_string(latency_count_) + "\n";
  out += "ctihub_http_request_duration_seconds_sum " + Num(latency_sum_) + "\n";
  out += "ctihub_http_request_duration_seconds_count " + std::to_string(latency_count_) + "\n";
  out += "# HELP ctihub_objects_ingested_total Objects accepted by TAXII POSTs.\n";
  out += "# TYPE ctihub_objects_ingested_total counter\n";
  out += "ctihub_objects_ingested_total " + std::to_string(ingested_total_) + "\n";
  int64_t last_minute = 0;
  for (int64_t v : ingest_per_second_) last_minute += v;
  out +=
      "# HELP ctihub_ingest_rate_objects_per_second Objects accepted per second over the last 60 "
      "s.\n";
  out += "# TYPE ctihub_ingest_rate_objects_per_second gauge\n";
  out += "ctihub_ingest_rate_objects_per_second " + Num(static_cast<double>(last_minute) / 60.0) +
         "\n";
  if (g.objects_stored >= 0) {
    out += "# HELP ctihub_objects_stored Object versions in the store.\n";
    out += "# TYPE ctihub_objects_stored gauge\n";
    out += "ctihub_objects_stored " + std::to_string(g.objects_stored) + "\n";
  }
  out += "# HELP ctihub_http_connections Open client connections.\n";
  out += "# TYPE ctihub_http_connections gauge\n";
  out += "ctihub_http_connections " + std::to_string(g.connections) + "\n";
  out += "# HELP ctihub_http_requests_in_flight Requests being served.\n";
  out += "# TYPE ctihub_http_requests_in_flight gauge\n";
  out += "ctihub_http_requests_in_flight " + std::to_string(g.in_flight) + "\n";
  out += "# HELP ctihub_degraded Problems the hub runs with (1 each; none when healthy).\n";
  out += "# TYPE ctihub_degraded gauge\n";
  for (const auto& p : g.problems) out += "ctihub_degraded{problem=\"" + Label(p) + "\"} 1\n";
  return out;
}

}  // namespace ctihub::http
