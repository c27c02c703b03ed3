// What each peer's exchange passes have done so far (DATA/sync/PEER.stats):
// the totals and times that `/metrics` and `ctihub peer show` report, the
// same for a pass run by `ctihub sync` or by serve's scheduler (both write
// the file, under the peer's lock, at the end of every pass that ran).
//
// One small JSON file per peer, replaced durably (core/durable_file.h), so a
// crash keeps the previous totals whole. The file is observability, not
// state a pass depends on: the cursors (cursor.h) decide what is exchanged.
// A damaged file is bad_stats_file (reported, never silently reset).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub::sync {

struct PeerStats {
  int64_t passes = 0;          // passes that ran (a busy peer's skipped pass is not one)
  int64_t failed = 0;          // of them, passes that failed (pull, push or audit error)
  int64_t pulled = 0;          // objects received from the peer
  int64_t stored = 0;          // of them, new versions stored
  int64_t refused = 0;         // of them, refused (invalid, producer rules)
  int64_t pushed = 0;          // versions the peer's status reported stored
  int64_t push_failed = 0;     // versions the peer refused, or too large to send
  int64_t sightings_back = 0;  // sightings sent back to a pull-only peer, stored there
  std::string last_pass;       // RFC 3339 end of the latest pass ("" : none yet)
  std::string last_success;    // RFC 3339 end of the latest successful pass
  std::string last_error;      // error of the latest pass, "" when it succeeded
  // The audit witness exchange (audit/witness.h): the newest head of this
  // hub's trail the peer acknowledged holding, and when; the newest of the
  // peer's this hub holds (0: none yet).
  int64_t witness_acknowledged_seq = 0;
  std::string witness_acknowledged_at;
  int64_t witness_held_seq = 0;
};

// What one pass adds to the totals.
struct PassCounts {
  bool ok = true;
  std::string error;
  int64_t pulled = 0, stored = 0, refused = 0, pushed = 0, push_failed = 0, sightings_back = 0;
  int64_t witness_acknowledged_seq = 0, witness_held_seq = 0;  // 0: no exchange this pass
};

// DATA/sync/PEER.stats.
std::string PeerStatsPath(const std::string& data_dir, std::string_view peer);

// The peer's totals; zeros when it never ran a pass.
Result<PeerStats> LoadPeerStats(const std::string& data_dir, std::string_view peer);

// Adds one pass that ended at `ended` (RFC 3339) to the peer's totals and
// saves them durably. REQUIRES: the caller holds the peer's lock (peer_lock.h),
// so two passes never read-modify-write the file at once.
Status RecordPass(const std::string& data_dir, std::string_view peer, const PassCounts& pass,
                  std::string_view ended);

}  // namespace ctihub::sync
