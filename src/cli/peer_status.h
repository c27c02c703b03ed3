// How each peer's exchange is going, as `/metrics` and `ctihub peer show`
// report it: the peer's pass totals (sync/peer_stats.h) and its lag, read
// from the files every pass leaves in DATA/sync, so a pass run by `ctihub
// sync` shows in a serving hub's /metrics too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/peer_config.h"
#include "core/timestamp.h"
#include "sync/peer_stats.h"

namespace ctihub::cli {

struct PeerStatus {
  Peer peer;
  sync::PeerStats stats;
  std::string stats_error;  // the totals file could not be read (stats are then zeros)
  // The newest date_added pulled from the peer (the pull cursor), "" when
  // none; the lag is `now` minus it, in seconds (the definition: how
  // far behind the peer's newest object this hub may be; it grows while the
  // peer has nothing new, so read it with last_success).
  std::string pulled_until;
  std::optional<double> lag_s;
};

// Every peer of DATA/peers.json with its status at `now`. Fails only when
// peers.json cannot be read; a peer's unreadable file is in its entry.
Result<std::vector<PeerStatus>> PeerStatuses(const std::string& data, Timestamp now);

// The statuses as Prometheus text exposition (ctihub_peer_* families, one
// sample per peer, label peer="NAME"), appended to serve's /metrics.
std::string PeerMetricsText(const std::vector<PeerStatus>& peers);

// The statuses as the console's GET /api/v1/peers body: {"peers": [{name,
// url, direction, org, every, last_pull, last_push (the last success of a
// pass that pulls / pushes, null when none), lag_s (null when nothing was
// pulled), passes, failed, last_error, pulled, stored, refused, pushed,
// push_failed, sightings_back, witness_acknowledged_seq}]}. No credentials.
std::string PeersJson(const std::vector<PeerStatus>& peers);

}  // namespace ctihub::cli
