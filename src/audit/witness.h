// Partners witness each other's audit trail (issue 15 item 7).
//
// On every sync pass the two hubs hand each other their signed audit head
// (the last record's seq and hash, the number of checkpoints, the node's
// public key and its Ed25519 signature over them: the head the trail itself
// keeps). Each side keeps the newest head it received from each partner,
// durably, in DATA/witness/. `ctihub audit verify --witnesses` asks every
// partner for the head it holds of this hub and checks that the local trail
// still has that record with that hash: a trail truncated, rewritten or
// emptied after a partner saw it fails, even when the node key and the
// pinned key were replaced with it (the partner's copy does not depend on
// them). A partner whose head goes back (fewer records, or another hash at
// the same seq) is refused when it is handed over: its trail lost records.
//
// The exchange is a small JSON resource beside TAXII, authenticated like it
// (docs/ARCHITECTURE.md "Audit witnesses"):
//   POST /api/v1/witness {"head": HEAD} -> {"held": HEAD, "head": HEAD}
//   GET  /api/v1/witness               -> {"held": HEAD|null, "head": HEAD}
// where HEAD is {"seq","hash","checkpoints","public_key","signature"}, "held"
// the caller's head as the server keeps it (keyed by the authenticated user),
// "head" the server's own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace ctihub::audit {

struct SignedHead {
  int64_t seq = 0;   // records in the trail (the last one's seq)
  std::string hash;  // the last record's hash (hex)
  int64_t checkpoints = 0;
  std::string public_key;  // the signing node key, hex
  std::string signature;   // Ed25519 over the head message (audit.cc), hex
};

// The trail's head as it is signed in DATA/audit.db. NotFound without a trail;
// Conflict (unsigned_head) when the head carries no signature.
Result<SignedHead> ReadSignedHead(const std::string& data_dir);

// Whether the signature checks with the head's own public key (a head is
// evidence only of what its key signed; who the key belongs to is the
// receiver's business).
bool SignedHeadIsValid(const SignedHead& head);

std::string SignedHeadJson(const SignedHead& head);
// From a parsed JSON object; bad_head when a field is missing or malformed.
Result<SignedHead> ParseSignedHead(simdjson::dom::element value);

// Which partner a held head belongs to: a peer of this hub (the client side
// of a sync pass) or a user authenticated on /api/v1/witness (the server side).
enum class PartnerKind { kPeer, kUser };

// Keeps `head` as the newest seen of the partner (DATA/witness/...json,
// replaced durably). Refused, keeping the held one: bad_signature (the head
// does not check with its own key), trail_regressed (fewer records than the
// held head) and trail_rewritten (the same seq with another hash). An equal
// head is kept as it is.
Status HoldPartnerHead(const std::string& data_dir, PartnerKind kind, std::string_view partner,
                       const SignedHead& head);

// The head held of the partner; nullopt when none.
Result<std::optional<SignedHead>> HeldPartnerHead(const std::string& data_dir, PartnerKind kind,
                                                  std::string_view partner);

}  // namespace ctihub::audit
