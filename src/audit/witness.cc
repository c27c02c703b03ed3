// Audit witnesses: signed heads exchanged with partners and kept (witness.h).
// ReadSignedHead and SignedHeadIsValid live in audit.cc beside the head
// message they sign.
#include "audit/witness.h"

#include <filesystem>

#include "core/durable_file.h"
#include "core/encoding.h"

namespace ctihub::audit {

namespace {

constexpr size_t kMaxPartnerName = 256;

std::string HeldPath(const std::string& data_dir, PartnerKind kind, std::string_view partner) {
  // Hex: user names may hold any character; a file name must not.
  const std::string name =
      std::string(kind == PartnerKind::kPeer ? "peer-" : "user-") + HexEncode(partner) + ".json";
  return (std::filesystem::path(data_dir) / "witness" / name).string();
}

bool IsHex(std::string_view s, size_t size) {
  if (s.size() != size) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string SignedHeadJson(const SignedHead& h) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("seq").Int(h.seq).Key("hash").String(h.hash);
  w.Key("checkpoints").Int(h.checkpoints).Key("public_key").String(h.public_key);
  w.Key("signature").String(h.signature).EndObject();
  return out;
}

Result<SignedHead> ParseSignedHead(simdjson::dom::element value) {
  SignedHead h;
  std::string_view hash, key, sig;
  if (value["seq"].get_int64().get(h.seq) != simdjson::SUCCESS || h.seq < 1 ||
      value["checkpoints"].get_int64().get(h.checkpoints) != simdjson::SUCCESS ||
      h.checkpoints < 0 || value["hash"].get_string().get(hash) != simdjson::SUCCESS ||
      value["public_key"].get_string().get(key) != simdjson::SUCCESS ||
      value["signature"].get_string().get(sig) != simdjson::SUCCESS) {
    return InvalidArgument("bad_head",
                           "a head needs seq >= 1, checkpoints, hash, public_key and signature");
  }
  if (!IsHex(hash, 64) || !IsHex(key, 64) || !IsHex(sig, 128))
    return InvalidArgument("bad_head",
                           "hash, public_key and signature must be lower-case hex "
                           "(64, 64 and 128 digits)");
  h.hash = std::string(hash);
  h.public_key = std::string(key);
  h.signature = std::string(sig);
  return h;
}

Result<std::optional<SignedHead>> HeldPartnerHead(const std::string& data_dir, PartnerKind kind,
                                                  std::string_view partner) {
  const std::string path = HeldPath(data_dir, kind, partner);
  CTIHUB_ASSIGN_OR_RETURN(std::optional<std::string> text,
                          ReadFileIfPresent(path, "witness_read_failed"));
  if (!text) return std::optional<SignedHead>();
  json::JsonParser parser;
  auto root = parser.Parse(*text);
  if (!root.ok()) return InvalidArgument("bad_witness_file", path + ": not JSON");
  auto head = ParseSignedHead(*root);
  if (!head.ok()) return InvalidArgument("bad_witness_file", path + ": " + head.status().message());
  return std::optional<SignedHead>(std::move(*head));
}

Status HoldPartnerHead(const std::string& data_dir, PartnerKind kind, std::string_view partner,
                       const SignedHead& head) {
  if (partner.empty() || partner.size() > kMaxPartnerName)
    return InvalidArgument("bad_partner", "a partner name of 1 to 256 bytes");
  if (!SignedHeadIsValid(head))
    return InvalidArgument("bad_signature", "the head's signature does not check with its key");
  CTIHUB_ASSIGN_OR_RETURN(std::optional<SignedHead> held, HeldPartnerHead(data_dir, kind, partner));
  if (held) {
    if (head.seq < held->seq)
      return Conflict("trail_regressed", "the partner's audit trail has " +
                                             std::to_string(head.seq) + " records; it had " +
                                             std::to_string(held->seq) +
                                             " when last seen (records were removed)");
    if (head.seq == held->seq && head.hash != held->hash)
      return Conflict("trail_rewritten", "the partner's audit record " + std::to_string(head.seq) +
                                             " has another hash than when last seen");
    if (head.seq == held->seq) return Status::Ok();
  }
  return WriteFileDurably(HeldPath(data_dir, kind, partner), SignedHeadJson(head) + "\n",
                          "witness_write_failed");
}

}  // namespace ctihub::audit
