// The peers of this hub (DATA/peers.json, written by `ctihub peer`), shared by
// `ctihub peer` and `ctihub sync`. A peer's secret is sealed with the node key
// (cmd_peer.cc) and opened only to build a TAXII client's options. Not
// thread-safe: each call reads the file afresh.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "taxii_client/client.h"

namespace ctihub::cli {

struct Peer {
  std::string name;
  std::string url;
  std::string collection;        // remote collection id
  std::string local_collection;  // local collection id
  std::string org;               // the local organisation the peer speaks for
  std::string direction;         // pull | push | both
  std::string every;             // schedule (empty: on demand)
  std::string ca_file;
  bool insecure_tls = false;
  std::string auth = "none";  // none | basic | bearer
  std::string user;
  std::string sealed;  // hex(nonce || secretbox(secret)); empty when auth is none
};

// Every peer of DATA/peers.json (none when the file does not exist);
// bad_peers_file when it cannot be read.
Result<std::vector<Peer>> LoadPeers(const std::string& data);
// The peer named `name`; unknown_peer when there is none.
Result<Peer> FindPeer(const std::string& data, const std::string& name);
// The TAXII client options for the peer: TLS settings and its credentials,
// opened with the node key (bad_sealed_secret, no_node_key on failure).
Result<taxii_client::ClientOptions> PeerClientOptions(const std::string& data, const Peer& p);

}  // namespace ctihub::cli
