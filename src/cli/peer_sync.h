// One exchange pass with one peer (pull, then push), shared by `ctihub sync`
// (cmd_sync.cc, which documents the pass) and the scheduler of `ctihub serve`
// (sync_scheduler.h): one code path whichever runs it. The pass uses the
// store, audit trail and policy it is given and never opens the data directory
// a second time (it reads the peer's cursor files and the node key there).
// RunPeerPass is thread-safe over one thread-safe store and trail; two passes
// of the same peer, in one process or two, never run at once: each holds the
// peer's lock (DATA/sync/PEER.lock, sync/peer_lock.h) for its whole duration,
// and a pass that finds it held does nothing and reports the peer busy.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "cli/import_sink.h"
#include "cli/peer_config.h"
#include "policy/model.h"
#include "store/store.h"

namespace ctihub::cli {

// What a pass uses of the hub. Not owned; must outlive the pass.
struct SyncHub {
  store::Store* store = nullptr;
  audit::AuditLog* trail = nullptr;
  std::shared_ptr<const policy::Policy> policy;  // the policy in force for this pass
  std::set<std::string> org_identities;          // STIX identities of the hub's organisations
};

struct PassOptions {
  std::string data;  // the data directory: peer cursors, node key
  double timeout_s = 3600;
  double request_timeout_s = 60;
  int attempts = 4;
  int64_t limit = 0;
  int pause_ms_for_test = 0;  // sleep after each durable page and each POST (kill -9 tests)
  bool quiet = false;         // no refusal lines on stderr
  // When set and true, the pass stops at its next durable point (after a
  // page, before a POST) with the error `stopped`: what a served hub's
  // shutdown uses. Not owned.
  const std::atomic<bool>* stop = nullptr;
};

// A version the peer did not take (or that could not be sent).
struct PushFailure {
  std::string object;
  std::string version;
  std::string reason;  // the message's name ("producer_not_allowed"), or too_large
};

struct PushResult {
  bool attempted = false;
  int64_t posts = 0;
  int64_t sent = 0;    // versions handed to the peer (audited as sync.pushed)
  int64_t pushed = 0;  // reported success by the peer's status
  int64_t failed = 0;  // reported failed by the peer, or too large to send
  std::map<std::string, int64_t> failed_by_reason;
  std::vector<PushFailure> failures;  // the first kKeptPushFailures
  std::string cursor;                 // the push cursor reached, RFC 3339 ("" : none)
  std::string error;
};

// The pass's audit witness exchange: this hub's signed head handed to the
// peer (acknowledged when the peer answers that it holds it) and the peer's
// kept (audit::HoldPartnerHead; one behind the held one fails the pass).
struct WitnessResult {
  bool attempted = false;
  int64_t acknowledged_seq = 0;  // this hub's head the peer now holds (0: none)
  std::string acknowledged_hash;
  int64_t held_seq = 0;  // the peer's head this hub now holds (0: none)
  std::string note;      // e.g. the peer keeps no witness (not a ctihub)
  std::string error;
};

struct PeerResult {
  std::string name;
  std::string direction;
  bool pulled = false;  // a pull was attempted
  bool ok = true;
  // Another pass holds the peer's lock: nothing done (ok false, error peer_busy).
  bool busy = false;
  std::string error;  // of the pull
  std::string note;
  Summary summary;
  int64_t pages = 0;
  std::string cursor;
  PushResult push;
  // Sightings back to a pull-only peer (cmd_sync.cc SendSightingsBack).
  PushResult sightings;
  // The audit witness exchange at the end of the pass (audit/witness.h).
  WitnessResult witness;
};

// One pass with `p`: takes the peer's lock, then pull (direction pull|both),
// then, for a pull-only peer, the sightings back (the local sightings of the
// indicators the peer speaks for that its organisation may read), or push
// (push|both), each audited, then the audit witness exchange; the lock is
// released on return.
// Failures are in the result (ok false, error / push.error), never thrown; a
// failed peer leaves its cursors where the last durable point was. The lock
// held by another pass: busy, error "peer_busy: another pass of peer NAME is
// running (pid N)", nothing pulled, pushed or audited.
PeerResult RunPeerPass(const PassOptions& o, SyncHub& hub, const Peer& p);

// The pass as one line, tab-separated (what `ctihub sync` prints and `serve`
// logs): name, ok|FAILED, counts, errors. No secrets: errors name the peer's
// URL at most.
std::string PassLine(const PeerResult& r);

}  // namespace ctihub::cli
