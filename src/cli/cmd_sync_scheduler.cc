// The background sync of `ctihub serve` (sync_scheduler.h).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "cli/hub_context.h"
#include "cli/peer_sync.h"
#include "cli/sync_scheduler.h"

namespace ctihub::cli {
namespace {

constexpr std::chrono::seconds kFirstPassDelay{1};
constexpr std::chrono::seconds kMinPassTimeout{60};
constexpr std::chrono::seconds kMaxPassTimeout{3600};
constexpr std::chrono::seconds kMaxBackoff{15 * 60};
constexpr double kRequestTimeoutS = 30;
constexpr int kAttempts = 2;  // per request; the next pass retries anyway

std::shared_ptr<spdlog::logger> SyncLog() {
  std::shared_ptr<spdlog::logger> log = spdlog::get("sync");
  if (!log) log = spdlog::stderr_logger_mt("sync");
  return log;
}

std::string Flat(std::string line) {
  std::replace(line.begin(), line.end(), '\t', ' ');
  return line;
}

}  // namespace

Result<std::chrono::seconds> ParseEvery(std::string_view every) {
  const auto bad = [&] {
    return InvalidArgument(
        "bad_every", "every '" + std::string(every) + "': a duration such as 30s, 15m, 1h, 1d");
  };
  if (every.size() < 2 || every.size() > 8 || every.front() == '0') return bad();
  int64_t n = 0;
  const char* end = every.data() + every.size() - 1;
  auto [ptr, ec] = std::from_chars(every.data(), end, n);
  if (ec != std::errc() || ptr != end || n <= 0) return bad();
  switch (every.back()) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::seconds(n * 60);
    case 'h':
      return std::chrono::seconds(n * 3600);
    case 'd':
      return std::chrono::seconds(n * 86400);
    default:
      return bad();
  }
}

std::chrono::seconds NextWait(std::chrono::seconds interval, int failures) {
  if (failures <= 0) return interval;
  const std::chrono::seconds cap = std::max(interval, kMaxBackoff);
  std::chrono::seconds wait = interval;
  for (int i = 0; i < failures && wait < cap; ++i) wait *= 2;
  return std::min(wait, cap);
}

SyncScheduler::SyncScheduler(std::string data, store::Store& store, audit::AuditLog& trail,
                             policy::PolicyHolder& policy)
    : data_(std::move(data)), store_(store), trail_(trail), policy_(policy) {}

SyncScheduler::~SyncScheduler() { (void)Stop(std::chrono::seconds(10)); }

int SyncScheduler::Start(const std::vector<Peer>& peers) {
  auto log = SyncLog();
  int scheduled = 0;
  for (const Peer& p : peers) {
    if (p.every.empty()) continue;
    auto interval = ParseEvery(p.every);
    if (!interval.ok()) {
      log->error("sync peer {}: not scheduled: {}", p.name, interval.status().NamedMessage());
      continue;
    }
    auto slot = std::make_unique<Slot>();
    slot->peer = p;
    slot->interval = *interval;
    Slot* s = slot.get();
    slots_.push_back(std::move(slot));
    s->thread = std::thread([this, s] { Loop(*s); });
    log->info("sync peer {}: every {}", p.name, p.every);
    ++scheduled;
  }
  return scheduled;
}

void SyncScheduler::Loop(Slot& slot) {
  int failures = 0;
  std::chrono::seconds wait = kFirstPassDelay;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, wait, [this] { return stop_.load(); })) break;
    }
    // A pass skipped because the peer is busy waits one interval.
    wait = RunOnce(slot, failures) ? NextWait(slot.interval, failures) : slot.interval;
  }
  std::lock_guard<std::mutex> lock(mu_);
  slot.done = true;
  cv_.notify_all();
}

bool SyncScheduler::RunOnce(Slot& slot, int& failures) {
  auto log = SyncLog();
  SyncHub hub;
  hub.store = &store_;
  hub.trail = &trail_;
  hub.policy = policy_.Current();
  auto known = KnownOrganisations(store_);
  PeerResult r;
  if (!known.ok()) {
    r.name = slot.peer.name;
    r.ok = false;
    r.error = known.status().NamedMessage();
  } else {
    for (const auto& o : *known) hub.org_identities.insert(o.identity_id);
    PassOptions o;
    o.data = data_;
    o.timeout_s =
        static_cast<double>(std::clamp(slot.interval, kMinPassTimeout, kMaxPassTimeout).count());
    o.request_timeout_s = kRequestTimeoutS;
    o.attempts = kAttempts;
    o.quiet = true;
    o.stop = &stop_;
    r = RunPeerPass(o, hub, slot.peer);
  }
  if (r.busy) {
    // Another pass (`ctihub sync NAME`) holds the peer: not a failure of the peer.
    log->info("sync pass: {} skipped: {} (next in {}s)", slot.peer.name, r.error,
              slot.interval.count());
    return false;
  }
  failures = r.ok ? 0 : failures + 1;
  if (r.ok) {
    log->info("sync pass: {}", Flat(PassLine(r)));
  } else {
    log->warn("sync pass: {} (failures in a row {}, next in {}s)", Flat(PassLine(r)), failures,
              NextWait(slot.interval, failures).count());
  }
  return true;
}

bool SyncScheduler::Stop(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  stop_ = true;
  cv_.notify_all();
  const auto all_done = [this] {
    return std::all_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->done; });
  };
  const bool finished = cv_.wait_for(lock, wait, all_done);
  lock.unlock();
  for (auto& s : slots_) {
    if (!s->thread.joinable()) continue;
    bool done = false;
    {
      std::lock_guard<std::mutex> g(mu_);
      done = s->done;
    }
    if (done) {
      s->thread.join();
    } else {
      SyncLog()->error("sync peer {}: pass still running at shutdown; left as after kill -9",
                       s->peer.name);
      s->thread.detach();
    }
  }
  return finished;
}

}  // namespace ctihub::cli
