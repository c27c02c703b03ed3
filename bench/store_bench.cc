// Measures the SQLite store against the targets:
//   ingest  >= 30,000 objects/s durable, envelopes of 1,000;
//   paging  >= 150,000 objects/s with limit 1,000;
//   filtered GETs p99 < 20 ms.
// Usage: store_bench [--objects N] [--envelope N] [--writers N] [--dir DIR] [--keep]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace {

using namespace ctihub;
using namespace ctihub::store;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU seconds (user + system) used by the whole process so far: on a shared,
// loaded machine wall-clock rates mislead, CPU rates do not.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

const char* kTypes[] = {"indicator", "indicator", "indicator", "ipv4-addr",    "domain-name",
                        "malware",   "file",      "url",       "relationship", "sighting"};

std::string Id(const char* type, int64_t n) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s--00000000-0000-4000-8000-%012lld", type,
                static_cast<long long>(n));
  return buf;
}

NewObject MakeObject(int64_t n, int version) {
  NewObject o;
  o.type = kTypes[n % 10];
  o.id = Id(o.type.c_str(), n);
  o.spec_version = "2.1";
  o.version = Timestamp(1700000000 + n + version * 86400, 123000000, 3);
  o.has_version = true;
  o.json = "{\"created\":\"2023-11-14T22:13:20.123Z\",\"id\":\"" + o.id + "\",\"modified\":\"" +
           o.version.ToString() +
           "\",\"name\":\"benchmark object\",\"pattern\":\"[ipv4-addr:value = '198.51.100." +
           std::to_string(n % 256) +
           "']\",\"pattern_type\":\"stix\",\"spec_version\":\"2.1\",\"type\":\"" + o.type +
           "\",\"valid_from\":\"2023-11-14T22:13:20.123Z\",\"labels\":[\"malicious-activity\"]," +
           "\"description\":\"" + std::string(300, 'x') + "\"}";
  return o;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t objects = 1000000;
  int64_t envelope = 1000;
  int writers = 4;
  std::string dir;
  bool keep = false;
  bool ingest_only = false;
  for (int i = 1; i < argc; ++i) {
    auto next = [&] { return i + 1 < argc ? argv[++i] : ""; };
    if (!std::strcmp(argv[i], "--objects"))
      objects = std::atoll(next());
    else if (!std::strcmp(argv[i], "--envelope"))
      envelope = std::atoll(next());
    else if (!std::strcmp(argv[i], "--writers"))
      writers = std::atoi(next());
    else if (!std::strcmp(argv[i], "--dir"))
      dir = next();
    else if (!std::strcmp(argv[i], "--keep"))
      keep = true;
    else if (!std::strcmp(argv[i], "--ingest-only"))
      ingest_only = true;
  }
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ctihub-bench-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
  }
  SqliteOptions opts;
  opts.path = dir + "/ctihub.db";
  auto opened = OpenSqliteStore(opts);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 2;
  }
  Store& s = **opened;
  (void)s.PutApiRoot({"api1", "bench", "", 1 << 30});
  auto coll = s.AddCollection({"", "api1", "bench", "", "", {"org:*"}, {"org:*"}});
  if (!coll.ok()) return 2;

  // ---- ingest: `writers` clients each posting envelopes; ~10% second versions.
  int64_t envelopes = (objects + envelope - 1) / envelope;
  auto t0 = Clock::now();
  double cpu0 = CpuSeconds();
  std::vector<std::thread> clients;
  for (int w = 0; w < writers; ++w) {
    clients.emplace_back([&, w] {
      for (int64_t e = w; e < envelopes; e += writers) {
        std::vector<NewObject> batch;
        for (int64_t i = e * envelope; i < std::min(objects, (e + 1) * envelope); ++i) {
          int64_t n = i % 10 == 9 ? i - 5 : i;  // every tenth is a new version of an earlier one
          batch.push_back(MakeObject(n, n == i ? 0 : 1));
        }
        auto r = s.WriteObjects(coll->id, std::move(batch), "").get();
        if (!r.ok()) std::fprintf(stderr, "write: %s\n", r.status().ToString().c_str());
      }
    });
  }
  for (auto& c : clients) c.join();
  double ingest_s = Seconds(Clock::now() - t0);
  double ingest_cpu = CpuSeconds() - cpu0;
  std::printf(
      "ingest: %lld objects in %.2f s = %.0f objects/s (envelope %lld, %d clients); "
      "%.2f CPU s = %.0f objects per CPU s\n",
      static_cast<long long>(objects), ingest_s, static_cast<double>(objects) / ingest_s,
      static_cast<long long>(envelope), writers, ingest_cpu,
      static_cast<double>(objects) / ingest_cpu);

  // ---- paging: the whole collection, limit 1000, version=last (default).
  for (bool all : {false, true}) {
    if (ingest_only) break;
    ObjectQuery q;
    q.collection_id = coll->id;
    q.limit = 1000;
    q.version_all = all;
    int64_t seen = 0;
    t0 = Clock::now();
    cpu0 = CpuSeconds();
    for (;;) {
      auto page = s.QueryObjects(q);
      if (!page.ok()) {
        std::fprintf(stderr, "page: %s\n", page.status().ToString().c_str());
        return 2;
      }
      seen += static_cast<int64_t>(page->objects.size());
      if (!page->more) break;
      q.next = page->next;
    }
    double page_s = Seconds(Clock::now() - t0);
    double page_cpu = CpuSeconds() - cpu0;
    std::printf(
        "paging (version=%s): %lld objects in %.2f s = %.0f objects/s; "
        "%.0f objects per CPU s\n",
        all ? "all" : "last", static_cast<long long>(seen), page_s,
        static_cast<double>(seen) / page_s, static_cast<double>(seen) / page_cpu);
  }

  // ---- filtered GETs.
  std::mt19937_64 rng(42);
  auto run = [&](const char* name, auto make_query) {
    if (ingest_only) return;
    std::vector<double> ms, cpu_ms;
    for (int i = 0; i < 300; ++i) {
      ObjectQuery q = make_query();
      q.collection_id = coll->id;
      auto t = Clock::now();
      double c = ThreadCpuMs();
      auto page = s.QueryObjects(q);
      cpu_ms.push_back(ThreadCpuMs() - c);
      ms.push_back(Seconds(Clock::now() - t) * 1000);
      if (!page.ok()) std::fprintf(stderr, "%s: %s\n", name, page.status().ToString().c_str());
    }
    std::printf("GET %-30s p50 %6.2f ms  p99 %6.2f ms  (CPU p50 %6.2f ms  p99 %6.2f ms)\n", name,
                Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(cpu_ms, 0.5),
                Percentile(cpu_ms, 0.99));
  };
  auto random_n = [&] { return static_cast<int64_t>(rng() % static_cast<uint64_t>(objects)); };
  run("match[id] (1)", [&] {
    ObjectQuery q;
    int64_t n = random_n();
    q.ids = {Id(kTypes[n % 10], n)};
    return q;
  });
  run("match[id] (10) version=all", [&] {
    ObjectQuery q;
    for (int k = 0; k < 10; ++k) {
      int64_t n = random_n();
      q.ids.push_back(Id(kTypes[n % 10], n));
    }
    q.version_all = true;
    return q;
  });
  run("match[type]=malware limit 100", [&] {
    ObjectQuery q;
    q.types = {"malware"};
    q.limit = 100;
    q.added_after_us = std::nullopt;
    return q;
  });
  run("match[type]=malware,file", [&] {
    ObjectQuery q;
    q.types = {"malware", "file"};
    return q;
  });
  // added_after somewhere in the data: take a page there first.
  std::vector<int64_t> marks;
  if (!ingest_only) {
    ObjectQuery q;
    q.collection_id = coll->id;
    q.limit = 1000;
    q.version_all = true;
    for (int i = 0; i < 50; ++i) {
      auto page = s.QueryObjects(q);
      if (!page.ok() || page->objects.empty()) break;
      marks.push_back(page->objects.back().date_added_us);
      if (!page->more) break;
      q.next = page->next;
    }
  }
  run("added_after + type=indicator", [&] {
    ObjectQuery q;
    q.added_after_us = marks.empty() ? 0 : marks[rng() % marks.size()];
    q.types = {"indicator"};
    return q;
  });
  run("version=first limit 1000", [&] {
    ObjectQuery q;
    q.version_last = false;
    q.version_first = true;
    return q;
  });
  auto count = s.CountObjects();
  std::printf("count: %lld\n", count.ok() ? static_cast<long long>(*count) : -1LL);
  opened->reset();
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
