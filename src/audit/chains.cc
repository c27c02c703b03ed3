#include "audit/chains.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "core/hash.h"
#include "core/json.h"

namespace ctihub::audit {
namespace {

constexpr size_t kReadChunk = 5000;

// An audit.crosscheck record's claim: `witness` saw `head` in the database.
struct Claim {
  std::string witness;
  int64_t witness_seq = 0;
  WitnessedHead head;
};

// Verification state: the report, and a way to mark it broken once.
class Walk {
 public:
  ChainsReport report;

  bool Broken(const std::string& node, int64_t seq, std::string reason) {
    report.intact = false;
    report.broken_node = node;
    report.first_broken_seq = seq;
    report.reason = std::move(reason);
    return false;
  }
};

// What a record's text states must be what its columns say (the columns are
// what the walk chains on; the text is what the hash covers). Collects the
// claims of an audit.crosscheck record.
bool CheckText(json::JsonParser& parser, const std::string& node, const ChainEntry& e,
               std::vector<Claim>& claims, Walk& walk) {
  auto doc = parser.Parse(e.text);
  json::Object o;
  if (!doc.ok() || doc->get_object().get(o) != simdjson::SUCCESS)
    return walk.Broken(node, e.seq, "record text is not a JSON object");
  int64_t seq = 0;
  std::string_view prev, action;
  if (o["seq"].get_int64().get(seq) != simdjson::SUCCESS ||
      o["prev_hash"].get_string().get(prev) != simdjson::SUCCESS ||
      o["action"].get_string().get(action) != simdjson::SUCCESS || seq != e.seq ||
      prev != e.prev_hash || action != e.action)
    return walk.Broken(node, e.seq, "record text does not state its seq, prev_hash and action");
  if (action != action::kCrossCheck) return true;
  json::Array heads;
  if (o["details"]["nodes"].get_array().get(heads) != simdjson::SUCCESS)
    return walk.Broken(node, e.seq, "audit.crosscheck record without its nodes");
  for (json::Element h : heads) {
    Claim c{node, e.seq, {}};
    std::string_view name, hash;
    if (h["node"].get_string().get(name) != simdjson::SUCCESS ||
        h["seq"].get_int64().get(c.head.seq) != simdjson::SUCCESS ||
        h["hash"].get_string().get(hash) != simdjson::SUCCESS)
      return walk.Broken(node, e.seq, "audit.crosscheck record with an unreadable head");
    c.head.node = std::string(name);
    c.head.hash = std::string(hash);
    claims.push_back(std::move(c));
  }
  return true;
}

// One node's chain: records, checkpoints, head. False when broken.
Result<bool> WalkNode(ChainReader& reader, const ChainReader::Node& node,
                      std::vector<Claim>& claims, Walk& walk) {
  auto key = HexDecode(node.public_key_hex);
  if (!key.ok() || key->size() != 32)
    return walk.Broken(node.node, 0, "the pinned public key is not an Ed25519 key");
  CTIHUB_ASSIGN_OR_RETURN(std::vector<ChainSeal> cps, reader.Checkpoints(node.node));
  std::map<int64_t, ChainSeal> pending;
  for (ChainSeal& c : cps) pending.emplace(c.seq, std::move(c));
  json::JsonParser parser;
  int64_t expected = 1;
  std::string prev;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<ChainEntry> chunk,
                            reader.Records(node.node, expected - 1, kReadChunk));
    for (const ChainEntry& e : chunk) {
      if (e.seq != expected)
        return walk.Broken(node.node, expected,
                           "record " + std::to_string(expected) + " is missing (deleted)");
      if (e.prev_hash != prev)
        return walk.Broken(node.node, e.seq, "prev_hash does not match the previous record");
      if (Sha256Hex(e.text) != e.hash)
        return walk.Broken(node.node, e.seq, "record content does not match its hash (changed)");
      if (!CheckText(parser, node.node, e, claims, walk)) return false;
      if (auto cp = pending.find(e.seq); cp != pending.end()) {
        if (cp->second.hash != e.hash ||
            !VerifySignature(*key, CheckpointMessage(e.seq, e.hash), cp->second.signature))
          return walk.Broken(node.node, e.seq, "checkpoint does not match or is not signed");
        pending.erase(cp);
        ++walk.report.checkpoints;
      }
      prev = e.hash;
      ++expected;
      ++walk.report.records;
    }
    if (chunk.size() < kReadChunk) break;
  }
  const int64_t last = expected - 1;
  if (last == 0) return walk.Broken(node.node, 1, "the chain is empty");
  if (!pending.empty())
    return walk.Broken(node.node, pending.begin()->first, "checkpoint past the end (truncated)");
  const ChainSeal& head = node.head;
  if (head.seq == 0) return walk.Broken(node.node, last, "the chain has no signed head");
  if (head.seq < last)
    return walk.Broken(node.node, head.seq + 1,
                       "records after the signed head (a copy cut short, or records added)");
  if (head.seq > last)
    return walk.Broken(node.node, last + 1,
                       "truncated: the head names record " + std::to_string(head.seq) +
                           " but the chain ends at " + std::to_string(last));
  if (head.hash != prev)
    return walk.Broken(node.node, last, "head hash does not match the last record");
  if (head.checkpoints != static_cast<int64_t>(cps.size()) ||
      !VerifySignature(*key, HeadMessage(head.seq, head.hash, head.checkpoints), head.signature))
    return walk.Broken(node.node, last,
                       "head signature is invalid for the pinned key (or checkpoints were "
                       "removed)");
  return true;
}

// Every head a node witnessed must be in the named node's chain.
Result<bool> CheckClaims(ChainReader& reader, const std::map<std::string, int64_t>& last_seq,
                         const std::vector<Claim>& claims, Walk& walk) {
  for (const Claim& c : claims) {
    auto target = last_seq.find(c.head.node);
    if (target == last_seq.end())
      return walk.Broken(c.witness, c.witness_seq,
                         "names node " + c.head.node + ", which has no chain in the database");
    if (c.head.seq < 1 || c.head.seq > target->second)
      return walk.Broken(c.head.node, target->second + 1,
                         "truncated: node " + c.witness + " saw record " +
                             std::to_string(c.head.seq) + " (its record " +
                             std::to_string(c.witness_seq) + ")");
    CTIHUB_ASSIGN_OR_RETURN(std::vector<ChainEntry> at,
                            reader.Records(c.head.node, c.head.seq - 1, 1));
    if (at.empty() || at[0].hash != c.head.hash)
      return walk.Broken(c.head.node, c.head.seq,
                         "differs from what node " + c.witness + " saw (its record " +
                             std::to_string(c.witness_seq) + "): rewritten");
    ++walk.report.crosschecks;
  }
  return true;
}

// This node's copy is its trail: the pinned key, and the copied head's record.
Result<bool> CheckLocal(const std::vector<ChainReader::Node>& nodes, const ChainsOptions& options,
                        Walk& walk) {
  const ChainReader::Node* mine = nullptr;
  for (const auto& n : nodes) {
    if (n.node == options.local_node) mine = &n;
  }
  if (mine == nullptr)
    return walk.Broken(options.local_node, 0,
                       "this node's trail is not in the database (not copied yet: is the node "
                       "serving?)");
  CTIHUB_ASSIGN_OR_RETURN(std::string pinned, LoadPinnedKey(options.local_data_dir));
  if (HexEncode(pinned) != mine->public_key_hex)
    return walk.Broken(options.local_node, 0,
                       "the key pinned in the database is not this node's (DATA/audit.pub)");
  CTIHUB_ASSIGN_OR_RETURN(ChainPiece piece,
                          ReadChainPiece(options.local_data_dir, mine->head.seq - 1, 1));
  if (piece.records.empty() || piece.records[0].hash != mine->head.hash)
    return walk.Broken(options.local_node, mine->head.seq,
                       "the database's copy differs from this node's trail");
  return true;
}

}  // namespace

Result<ChainsReport> VerifyChains(ChainReader& reader, const ChainsOptions& options) {
  Walk walk;
  CTIHUB_ASSIGN_OR_RETURN(std::vector<ChainReader::Node> nodes, reader.Nodes());
  if (nodes.empty()) {
    walk.Broken("", 0, "the database holds no audit chain");
    return walk.report;
  }
  std::vector<Claim> claims;
  std::map<std::string, int64_t> last_seq;
  for (const auto& node : nodes) {
    CTIHUB_ASSIGN_OR_RETURN(bool ok, WalkNode(reader, node, claims, walk));
    if (!ok) return walk.report;
    last_seq[node.node] = node.head.seq;
    ++walk.report.nodes;
  }
  CTIHUB_ASSIGN_OR_RETURN(bool claims_ok, CheckClaims(reader, last_seq, claims, walk));
  if (!claims_ok) return walk.report;
  if (!options.local_node.empty()) {
    CTIHUB_ASSIGN_OR_RETURN(bool local_ok, CheckLocal(nodes, options, walk));
    if (!local_ok) return walk.report;
  }
  return walk.report;
}

Result<std::vector<ChainEntry>> ChainReader::RecordsContaining(
    const std::string& node, std::string_view needle, const std::vector<std::string>& actions,
    int64_t after_seq, size_t limit) {
  std::vector<ChainEntry> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<ChainEntry> page, Records(node, after_seq, kReadChunk));
    for (ChainEntry& e : page) {
      if (out.size() >= limit) return out;
      if (e.text.find(needle) == std::string::npos) continue;
      if (std::find(actions.begin(), actions.end(), e.action) != actions.end())
        out.push_back(std::move(e));
    }
    if (page.size() < kReadChunk) return out;
    after_seq = page.back().seq;
  }
}

namespace {

// The viewings of `object_id` a record's text states (one per version named).
Status AddViewings(json::JsonParser& parser, const std::string& node, const ChainEntry& e,
                   std::string_view object_id, std::vector<Viewing>& out) {
  auto doc = parser.Parse(e.text);
  json::Object o;
  json::Element objects;
  std::string_view time, user, org, route;
  if (!doc.ok() || doc->get_object().get(o) != simdjson::SUCCESS ||
      o["time"].get_string().get(time) != simdjson::SUCCESS ||
      o["user"].get_string().get(user) != simdjson::SUCCESS ||
      o["org"].get_string().get(org) != simdjson::SUCCESS ||
      o["route"].get_string().get(route) != simdjson::SUCCESS ||
      o["objects"].get(objects) != simdjson::SUCCESS) {
    return Internal("audit_record_unreadable", "node " + node + " record " + std::to_string(e.seq) +
                                                   ": its text is not an audit record");
  }
  for (ObjectRef& ref : ParseObjectList(simdjson::minify(objects))) {
    if (ref.id != object_id) continue;
    Viewing v;
    v.seq = e.seq;
    if (auto t = Timestamp::Parse(time); t.ok()) v.time = *t;
    v.user = std::string(user);
    v.org = std::string(org);
    v.version = std::move(ref.version);
    v.action = e.action;
    v.route = std::string(route);
    v.grant = std::move(ref.grant);
    v.redacted = ref.redacted;
    v.node = node;
    out.push_back(std::move(v));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Viewing>> WhoSawInChains(ChainReader& reader, std::string_view object_id,
                                            std::string_view skip_node) {
  const std::vector<std::string> actions = {std::string(action::kObjectServed),
                                            std::string(action::kExport),
                                            std::string(action::kSyncPushed)};
  // The id as it appears in the canonical text: a JSON string.
  std::string needle;
  json::JsonWriter(needle).String(object_id);
  CTIHUB_ASSIGN_OR_RETURN(std::vector<ChainReader::Node> nodes, reader.Nodes());
  json::JsonParser parser;
  std::vector<Viewing> out;
  for (const ChainReader::Node& n : nodes) {
    if (n.node == skip_node) continue;
    for (int64_t after = 0;;) {
      CTIHUB_ASSIGN_OR_RETURN(std::vector<ChainEntry> found,
                              reader.RecordsContaining(n.node, needle, actions, after, kReadChunk));
      for (const ChainEntry& e : found)
        CTIHUB_RETURN_IF_ERROR(AddViewings(parser, n.node, e, object_id, out));
      if (found.size() < kReadChunk) break;
      after = found.back().seq;
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Viewing& a, const Viewing& b) { return a.time < b.time; });
  return out;
}

}  // namespace ctihub::audit
