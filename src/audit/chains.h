// Audit with several nodes (docs/ARCHITECTURE.md "Audit with several nodes").
//
// Each node keeps its own hash chain (DATA/audit.db, audit.h): nodes never
// wait for one another to append. A node of a PostgreSQL deployment copies
// its chain, checkpoints and signed head into the database (cli's
// AuditChainCopier through store::Store::AppendAuditChain), and from time to
// time appends an `audit.crosscheck` record to its own chain naming the
// signed heads it found there for every other node. Those records are
// hashed into the witness's chain and signed with its key, so rewriting,
// truncating or removing another node's chain in the database (even
// re-signed with that node's key, or under a replaced key) contradicts them.
// VerifyChains walks every node's copy and checks the hashes, the
// signatures against the key each node pinned with its first copy, the
// cross-checks, and (with the local data directory) that the copy of this
// node is its trail.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "core/result.h"

namespace ctihub::audit {

namespace action {
// Other nodes' signed heads as this node found them in the shared database:
// details {"nodes": [{"hash", "node", "seq"}, ...]}.
inline constexpr std::string_view kCrossCheck = "audit.crosscheck";
}  // namespace action

// The actor of the records a node appends about the trail itself.
inline constexpr std::string_view kAuditActor = "hub:audit";

// What the head and a checkpoint sign (audit.cc).
std::string HeadMessage(int64_t seq, std::string_view hash, int64_t checkpoints);
std::string CheckpointMessage(int64_t seq, std::string_view hash);

struct ChainEntry {
  int64_t seq = 0;
  std::string hash;
  std::string prev_hash;
  std::string action;
  std::string text;  // CanonicalRecord: what `hash` is the SHA-256 of
};
// A signed head (checkpoints: how many it signs) or checkpoint (0).
struct ChainSeal {
  int64_t seq = 0;
  std::string hash;
  int64_t checkpoints = 0;
  std::string signature;  // hex
};

// A piece of the local trail to copy: the records with seq > after_seq, at
// most `limit` and no more records once their text reaches `max_bytes` (an
// export's record names every object it served: one can be megabytes), never
// past the signed head; the checkpoints among them; and
// the head when the piece reaches it (else head.seq == 0). Every record's
// text is checked against its hash: a local record that does not match is
// Conflict "audit_trail_changed", never copied. One read snapshot.
struct ChainPiece {
  std::string public_key_hex;
  std::vector<ChainEntry> records;
  std::vector<ChainSeal> checkpoints;
  ChainSeal head;
  int64_t head_seq = 0;  // the trail's signed head, reached or not
};
Result<ChainPiece> ReadChainPiece(const std::string& data_dir, int64_t after_seq, size_t limit,
                                  size_t max_bytes = size_t{4} << 20);

// The record a node appends to witness other nodes' heads.
struct WitnessedHead {
  std::string node;
  int64_t seq = 0;
  std::string hash;
};
Record CrossCheckRecord(const std::vector<WitnessedHead>& heads);

// Where VerifyChains reads the chains (a store adapter in cli/, a test double).
class ChainReader {
 public:
  struct Node {
    std::string node;
    std::string public_key_hex;
    ChainSeal head;
    int64_t last_seq = 0;
  };
  virtual ~ChainReader() = default;
  virtual Result<std::vector<Node>> Nodes() = 0;
  virtual Result<std::vector<ChainEntry>> Records(const std::string& node, int64_t after_seq,
                                                  size_t limit) = 0;
  virtual Result<std::vector<ChainSeal>> Checkpoints(const std::string& node) = 0;
  // Up to `limit` records of node's chain with seq > after_seq, of one of
  // `actions`, whose text contains `needle`, in seq order. By default
  // Records() filtered here; a reader over a database searches there.
  virtual Result<std::vector<ChainEntry>> RecordsContaining(const std::string& node,
                                                            std::string_view needle,
                                                            const std::vector<std::string>& actions,
                                                            int64_t after_seq, size_t limit);
};

struct ChainsReport {
  bool intact = true;
  int64_t nodes = 0;
  int64_t records = 0;
  int64_t checkpoints = 0;
  int64_t crosschecks = 0;  // other nodes' heads named by audit.crosscheck records
  std::string broken_node;  // when !intact
  int64_t first_broken_seq = 0;
  std::string reason;
};

struct ChainsOptions {
  // This node: its copy must be its trail (DATA/audit.db) up to the copied
  // head, under the key DATA/audit.pub pins. Empty: not checked.
  std::string local_node;
  std::string local_data_dir;
};

// Checks every node's chain: seq from 1 without gaps, each prev_hash and
// hash, the signed head (the last record; no record after it) and every
// checkpoint against the node's pinned key, and every audit.crosscheck
// record's claims against the named node's chain. Errors only when the
// chains cannot be read.
Result<ChainsReport> VerifyChains(ChainReader& reader, const ChainsOptions& options = {});

// WhoSaw (audit.h) over the chains' copies: every principal served, exported
// or pushed any version of `object_id` on every node but `skip_node` (whose
// trail the caller reads from DATA/audit.db, fresher than its copy), each
// viewing with its node, ordered by time. What the copies hold is what it
// reports: `audit verify --db` is what proves them.
Result<std::vector<Viewing>> WhoSawInChains(ChainReader& reader, std::string_view object_id,
                                            std::string_view skip_node);

}  // namespace ctihub::audit
