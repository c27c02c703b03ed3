// The background sync of `ctihub serve`: every peer of DATA/peers.json with an
// `every` schedule (`peer add --every 15m`) gets its own thread that runs the
// pass of `ctihub sync NAME` (RunPeerPass, peer_sync.h) with serve's open
// store, audit trail and policy, first about a second after the start, then
// once per interval. One thread per peer: a slow, hanging or failing peer
// delays only itself, and a peer's pass never runs twice at once. Each pass
// has its own timeout (the interval, at least 60 s, at most 1 h). After
// consecutive failures the wait doubles (interval x 2^failures), capped at
// the larger of the interval and 15 minutes; one success resets it. Each pass
// logs one line (PassLine) on the "sync" logger (stderr). A pass that finds
// the peer's lock (DATA/sync/PEER.lock, sync/peer_lock.h) held by another
// pass (`ctihub sync NAME` run by hand) is skipped with one line ("sync pass:
// NAME skipped: peer_busy: ...") and tried again one interval later; it does
// not count as a failure.
//
// The peers are read once, at Start: a peer added, changed or removed while
// the hub serves is picked up when serve restarts. Peers without `every` are
// synced only by `ctihub sync`.
//
// Thread-safety: Start and Stop are called from one thread (serve's main).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "cli/peer_config.h"
#include "core/result.h"
#include "policy/policy_holder.h"
#include "store/store.h"

namespace ctihub::cli {

// A peer's `every` ("30s", "15m", "1h", "1d": 1..9999999 of s|m|h|d) as a
// duration; bad_every otherwise.
Result<std::chrono::seconds> ParseEvery(std::string_view every);

// The wait before the next pass after `failures` consecutive failed passes
// (0: the interval itself). See the file comment.
std::chrono::seconds NextWait(std::chrono::seconds interval, int failures);

class SyncScheduler {
 public:
  // The store, trail and policy are serve's; they must outlive Stop().
  SyncScheduler(std::string data, store::Store& store, audit::AuditLog& trail,
                policy::PolicyHolder& policy);
  // Stops (bounded, as Stop) if still running.
  ~SyncScheduler();
  SyncScheduler(const SyncScheduler&) = delete;
  SyncScheduler& operator=(const SyncScheduler&) = delete;

  // Starts a thread per peer with a valid `every` (a bad one is logged and
  // skipped). Returns the number of peers scheduled.
  int Start(const std::vector<Peer>& peers);

  // Asks each running pass to stop at its next durable point (after a page,
  // before a POST; a request in flight ends within its request timeout),
  // wakes the waiting threads and joins them within `wait`. Returns false
  // when a pass was still running at the deadline: its thread is detached and
  // the caller must end the process without destroying the store (the pass
  // is then cut as by kill -9, which the cursor rules make safe).
  bool Stop(std::chrono::milliseconds wait);

 private:
  struct Slot {
    Peer peer;
    std::chrono::seconds interval{0};
    std::thread thread;
    bool done = false;  // guarded by mu_
  };
  void Loop(Slot& slot);
  // One pass; false when it was skipped because the peer was busy.
  bool RunOnce(Slot& slot, int& failures);

  std::string data_;
  store::Store& store_;
  audit::AuditLog& trail_;
  policy::PolicyHolder& policy_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // stop_ set, or a slot done
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace ctihub::cli
