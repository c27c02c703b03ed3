// ctihub audit verify|show|who-saw: reading the audit trail (src/audit).
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "audit/audit.h"
#include "audit/chains.h"
#include "audit/witness.h"
#include "cli/audit_chains.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "cli/peer_config.h"
#include "cli/recovery.h"
#include "core/encoding.h"
#include "core/json.h"

namespace ctihub::cli {
namespace {

struct AuditArgs {
  std::string data = "./var";
  std::string db;  // --db postgresql://... (else DATA/ctihub.db)
  bool json = false;
  std::string pubkey;
  std::string expect;      // SEQ:HASH of a head seen elsewhere
  bool witnesses = false;  // also against the heads every peer holds of this hub
  std::string user, org, object, action, since, until;
  int64_t limit = 50;
  int64_t before = 0;  // continue newest first below this seq
  int64_t after = 0;   // read oldest first above this seq
  std::string object_id;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ctihub audit: %s\n", s.NamedMessage().c_str());
  return kExitError;
}

// "SEQ:HASH" as `audit verify` prints the head.
Result<std::pair<int64_t, std::string>> ParseHeadAnchor(const std::string& text) {
  const size_t colon = text.find(':');
  int64_t seq = 0;
  const char* end = text.data() + (colon == std::string::npos ? 0 : colon);
  auto [ptr, ec] = std::from_chars(text.data(), end, seq);
  if (colon == std::string::npos || ec != std::errc() || ptr != end || seq < 1 ||
      text.size() - colon - 1 != 64)
    return InvalidArgument("--expect: want SEQ:HASH (a head printed by `audit verify`), got '" +
                           text + "'");
  return std::make_pair(seq, text.substr(colon + 1));
}

// What one peer holds of this hub's trail (GET /api/v1/witness): nullopt
// when it holds nothing yet.
Result<std::optional<audit::SignedHead>> HeldBy(const std::string& data, const Peer& p) {
  CTIHUB_ASSIGN_OR_RETURN(taxii_client::ClientOptions o, PeerClientOptions(data, p));
  o.operation_timeout = std::chrono::seconds(30);
  o.max_attempts = 2;
  CTIHUB_ASSIGN_OR_RETURN(auto client, taxii_client::Client::Create(p.url, std::move(o)));
  CTIHUB_ASSIGN_OR_RETURN(std::string body, client->CallHubApi("GET", "/api/v1/witness", ""));
  json::JsonParser parser;
  auto root = parser.Parse(body);
  simdjson::dom::element held;
  if (!root.ok() || (*root)["held"].get(held) != simdjson::SUCCESS)
    return InvalidArgument("bad_witness_answer", p.url + ": not a witness answer");
  if (held.is_null()) return std::optional<audit::SignedHead>();
  CTIHUB_ASSIGN_OR_RETURN(audit::SignedHead head, audit::ParseSignedHead(held));
  return std::optional<audit::SignedHead>(std::move(head));
}

// Whether the local trail still holds what a partner saw: the record at the
// held head's seq with its hash (Verify's expect check), signed by the same
// node key as the trail is now. "" when it does; else why not.
Result<std::string> Witnessed(const AuditArgs& a, const audit::SignedHead& held) {
  audit::VerifyOptions options;
  options.public_key_hex = a.pubkey;
  options.expect_seq = held.seq;
  options.expect_hash = held.hash;
  CTIHUB_ASSIGN_OR_RETURN(audit::VerifyReport v, audit::Verify(a.data, options));
  if (!v.intact) return v.reason;
  auto pinned = audit::LoadPinnedKey(a.data);
  const std::string key = !a.pubkey.empty() ? a.pubkey : pinned.ok() ? HexEncode(*pinned) : "";
  if (key != held.public_key)
    return std::string("the trail is signed by another node key than when the partner saw it");
  return std::string();
}

// `audit verify --witnesses`: every peer is asked for the head it holds of
// this hub. Exit 1 when one contradicts the local trail, 2 when a peer could
// not be asked (nothing is assumed of it), else 0.
int CheckWitnesses(const AuditArgs& a) {
  auto peers = LoadPeers(a.data);
  if (!peers.ok()) return Fail(peers.status());
  int exit = kExitOk;
  for (const Peer& p : *peers) {
    auto held = HeldBy(a.data, p);
    if (!held.ok()) {
      std::printf("witness %s: could not ask: %s\n", p.name.c_str(),
                  held.status().NamedMessage().c_str());
      if (exit == kExitOk) exit = kExitError;
      continue;
    }
    if (!*held) {
      std::printf("witness %s: holds no head of this hub yet\n", p.name.c_str());
      continue;
    }
    auto why = Witnessed(a, **held);
    if (!why.ok()) return Fail(why.status());
    if (why->empty()) {
      std::printf("witness %s: ok (saw %lld:%s)\n", p.name.c_str(),
                  static_cast<long long>((*held)->seq), (*held)->hash.c_str());
    } else {
      std::printf("witness %s: BROKEN: it saw %lld:%s; %s\n", p.name.c_str(),
                  static_cast<long long>((*held)->seq), (*held)->hash.c_str(), why->c_str());
      exit = kExitNegative;
    }
  }
  return exit;
}

// With --db: every node's chain in the database (audit/chains.h), and this
// node's copy against its trail. This node's trail is copied first (what a
// serving node would copy next; CLI commands append to the trail without
// copying it), so a node that never served is checked too; a copy that
// fails (read-only database credentials, a changed local trail) is a note,
// and the database's copies are checked as they are.
Result<audit::ChainsReport> VerifyDatabaseChains(const AuditArgs& a, store::Store& hub) {
  auto reader = StoreChainReader(hub);
  audit::ChainsOptions options;
  CTIHUB_ASSIGN_OR_RETURN(std::string node, NodeIdOf(a.data));
  AuditChainCopier copier(hub, nullptr, a.data, node);
  if (Status st = copier.CopyOnce(); !st.ok()) {
    std::fprintf(stderr, "ctihub: note: this node's trail was not copied into the database: %s\n",
                 st.NamedMessage().c_str());
  }
  CTIHUB_ASSIGN_OR_RETURN(std::vector<store::AuditChainNode> chains, hub.ListAuditChains());
  for (const auto& c : chains) {
    if (c.node == node) options.local_node = node;
  }
  if (options.local_node.empty()) {
    std::fprintf(stderr, "ctihub: note: this node's trail is not in the database\n");
  }
  options.local_data_dir = a.data;
  return audit::VerifyChains(*reader, options);
}

void PrintChains(const audit::ChainsReport& c) {
  if (c.intact) {
    std::printf(
        "database chains intact: %lld nodes, %lld records, %lld checkpoints, %lld "
        "cross-checked heads\n",
        static_cast<long long>(c.nodes), static_cast<long long>(c.records),
        static_cast<long long>(c.checkpoints), static_cast<long long>(c.crosschecks));
  } else {
    std::printf("database chains BROKEN: node %s, record %lld: %s\n", c.broken_node.c_str(),
                static_cast<long long>(c.first_broken_seq), c.reason.c_str());
  }
}

void WriteChainsJson(json::JsonWriter& w, const audit::ChainsReport& c) {
  w.Key("chains").BeginObject().Key("intact").Bool(c.intact).Key("nodes").Int(c.nodes);
  w.Key("records").Int(c.records).Key("checkpoints").Int(c.checkpoints);
  w.Key("crosschecks").Int(c.crosschecks);
  if (!c.intact) {
    w.Key("node").String(c.broken_node).Key("first_broken_seq").Int(c.first_broken_seq);
    w.Key("reason").String(c.reason);
  }
  w.EndObject();
}

int RunVerify(const AuditArgs& a) {
  // The store is the trail's witness: every version this node stored needs its
  // record (a PostgreSQL store is shared: its other nodes' versions are in
  // their own trails).
  std::unique_ptr<store::Store> hub;
  std::error_code ec;
  if (!a.db.empty() || std::filesystem::exists(DatabasePath(a.data), ec)) {
    auto opened = OpenHubStore(a.data, HubDb(a.db));
    if (!opened.ok()) return Fail(opened.status());
    hub = std::move(*opened);
  }
  audit::VerifyOptions options;
  options.public_key_hex = a.pubkey;
  if (hub) options.store_versions = StoreVersionLister(*hub);
  if (!a.expect.empty()) {
    auto anchor = ParseHeadAnchor(a.expect);
    if (!anchor.ok()) return Fail(anchor.status());
    options.expect_seq = anchor->first;
    options.expect_hash = anchor->second;
  }
  auto v = audit::Verify(a.data, options);
  if (!v.ok()) return Fail(v.status());
  std::optional<audit::ChainsReport> chains;
  if (hub && hub->KeepsAuditChains()) {
    auto c = VerifyDatabaseChains(a, *hub);
    if (!c.ok()) return Fail(c.status());
    chains = *c;
  }
  if (a.json) {
    std::string out;
    json::JsonWriter w(out);
    w.BeginObject().Key("intact").Bool(v->intact).Key("records").Int(v->records);
    w.Key("checkpoints").Int(v->checkpoints).Key("signed_head").Bool(v->signed_head);
    w.Key("head_hash").String(v->head_hash);
    w.Key("store_checked").Bool(v->store_checked);
    if (!v->intact)
      w.Key("first_broken_seq").Int(v->first_broken_seq).Key("reason").String(v->reason);
    if (chains) WriteChainsJson(w, *chains);
    w.EndObject();
    std::printf("%s\n", out.c_str());
  } else if (v->intact) {
    std::printf("intact: %lld records, %lld checkpoints, head %lld:%s (signature valid%s)\n",
                static_cast<long long>(v->records), static_cast<long long>(v->checkpoints),
                static_cast<long long>(v->records), v->head_hash.c_str(),
                v->store_checked ? "; every stored version recorded" : "");
  } else if (v->first_broken_seq == 0) {
    std::printf("BROKEN: %s\n", v->reason.c_str());
  } else {
    std::printf("BROKEN at record %lld: %s\n", static_cast<long long>(v->first_broken_seq),
                v->reason.c_str());
  }
  if (chains && !a.json) PrintChains(*chains);
  if (!v->intact || (chains && !chains->intact)) return kExitNegative;
  return a.witnesses ? CheckWitnesses(a) : kExitOk;
}

Result<std::optional<Timestamp>> OptTime(const std::string& s, const char* what) {
  if (s.empty()) return std::optional<Timestamp>();
  auto t = Timestamp::Parse(s);
  if (!t.ok()) return InvalidArgument(std::string(what) + ": " + t.status().NamedMessage());
  return std::optional<Timestamp>(*t);
}

// One object of a record: id, and for a served copy its grant (and "redacted").
std::string ObjectText(const audit::ObjectRef& o) {
  std::string out = o.id;
  if (!o.grant.empty()) out += " via " + o.grant;
  if (o.redacted) out += " (redacted)";
  return out;
}

// Newest first (--before continues), or oldest first from --after; says
// plainly when it shows only part of what matches.
int RunShow(const AuditArgs& a) {
  if (a.before > 0 && a.after > 0) {
    return Fail(InvalidArgument("--before pages newest first, --after oldest first: not both"));
  }
  audit::Filter f;
  f.user = a.user;
  f.org = a.org;
  f.object_id = a.object;
  f.action = a.action;
  f.limit = a.limit > 0 ? a.limit + 1 : 0;
  f.newest_first = a.after == 0;
  f.before_seq = a.before;
  f.after_seq = a.after;
  auto since = OptTime(a.since, "--since");
  if (!since.ok()) return Fail(since.status());
  auto until = OptTime(a.until, "--until");
  if (!until.ok()) return Fail(until.status());
  f.since = *since;
  f.until = *until;
  auto recs = audit::Query(a.data, f);
  if (!recs.ok()) return Fail(recs.status());
  const bool more = a.limit > 0 && static_cast<int64_t>(recs->size()) > a.limit;
  if (more) recs->resize(static_cast<size_t>(a.limit));
  if (a.json) {
    std::string out = "[";
    for (size_t i = 0; i < recs->size(); ++i)
      out += (i ? "," : "") + audit::RecordToJson((*recs)[i]);
    std::printf("%s]\n", out.c_str());
  } else {
    for (const auto& r : *recs) {
      std::printf("%6lld %s %-12s %-12s %-18s %3d %-15s %s", static_cast<long long>(r.seq),
                  r.time.Format(6).c_str(), r.user.c_str(), r.org.c_str(), r.action.c_str(),
                  r.status, r.remote.c_str(), r.route.c_str());
      if (r.objects.size() == 1) {
        std::printf(" [%s]", ObjectText(r.objects[0]).c_str());
      } else if (!r.objects.empty()) {
        std::printf(" [%zu objects: %s ...]", r.objects.size(), ObjectText(r.objects[0]).c_str());
      }
      std::printf("\n");
    }
  }
  if (!more && a.before == 0 && a.after == 0) return kExitOk;
  // On stderr, so --json output stays one JSON document.
  auto total = audit::Count(a.data, f);
  if (!total.ok()) return Fail(total.status());
  if (more) {
    std::fprintf(stderr, "showing %zu of %lld matching records; more with %s %lld\n", recs->size(),
                 static_cast<long long>(*total), f.newest_first ? "--before" : "--after",
                 static_cast<long long>(recs->back().seq));
  } else {
    std::fprintf(stderr, "showing %zu of %lld matching records (the last page)\n", recs->size(),
                 static_cast<long long>(*total));
  }
  return kExitOk;
}

// With --db, every node's viewings: this node's from its trail (fresher than
// its copy), the other nodes' from their copies in the database, by time.
Result<std::vector<audit::Viewing>> ViewingsOnEveryNode(const AuditArgs& a,
                                                        std::vector<audit::Viewing> local) {
  CTIHUB_ASSIGN_OR_RETURN(auto hub, OpenHubStore(a.data, HubDb(a.db)));
  if (!hub->KeepsAuditChains()) return local;
  CTIHUB_ASSIGN_OR_RETURN(std::string node, NodeIdOf(a.data));
  for (audit::Viewing& v : local) v.node = node;
  auto reader = StoreChainReader(*hub);
  CTIHUB_ASSIGN_OR_RETURN(std::vector<audit::Viewing> others,
                          audit::WhoSawInChains(*reader, a.object_id, node));
  local.insert(local.end(), std::make_move_iterator(others.begin()),
               std::make_move_iterator(others.end()));
  std::stable_sort(
      local.begin(), local.end(),
      [](const audit::Viewing& x, const audit::Viewing& y) { return x.time < y.time; });
  return local;
}

int RunWhoSaw(const AuditArgs& a) {
  auto w = audit::WhoSaw(a.data, a.object_id);
  if (!w.ok()) return Fail(w.status());
  if (!a.db.empty()) {
    w = ViewingsOnEveryNode(a, std::move(*w));
    if (!w.ok()) return Fail(w.status());
  }
  if (a.json) {
    std::string out;
    json::JsonWriter jw(out);
    jw.BeginArray();
    for (const auto& v : *w) {
      jw.BeginObject()
          .Key("seq")
          .Int(v.seq)
          .Key("time")
          .String(v.time.Format(6))
          .Key("user")
          .String(v.user);
      jw.Key("org").String(v.org).Key("version").String(v.version).Key("action").String(v.action);
      jw.Key("route").String(v.route).Key("grant").String(v.grant);
      if (!v.node.empty()) jw.Key("node").String(v.node);
      jw.Key("redacted").Bool(v.redacted).EndObject();
    }
    jw.EndArray();
    std::printf("%s\n", out.c_str());
  } else {
    // Where each version came from first (a pulled version names its peer).
    auto from = audit::WhereFrom(a.data, a.object_id);
    if (!from.ok()) return Fail(from.status());
    for (const auto& v : *from) {
      const std::string peer = audit::SourcePeer(v.route);
      std::printf("%s %-12s %-12s %-14s version %s %s (record %lld)\n", v.time.Format(6).c_str(),
                  v.user.c_str(), v.org.c_str(), v.action.c_str(), v.version.c_str(),
                  peer.empty() ? ("via " + v.route).c_str() : ("from peer " + peer).c_str(),
                  static_cast<long long>(v.seq));
    }
    for (const auto& v : *w)
      std::printf("%s %-12s %-12s %-14s version %s%s%s%s (record %lld%s%s)\n",
                  v.time.Format(6).c_str(), v.user.c_str(), v.org.c_str(), v.action.c_str(),
                  v.version.c_str(), v.grant.empty() ? "" : " via ", v.grant.c_str(),
                  v.redacted ? " (redacted)" : "", static_cast<long long>(v.seq),
                  v.node.empty() ? "" : " of node ", v.node.c_str());
  }
  return w->empty() ? kExitNegative : kExitOk;
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand("audit", "Read and verify the audit trail");
  audit->require_subcommand(1);

  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Check the hash chain, signed head and checkpoints (exit 0 intact, 1 broken, 2 error)");
  verify->add_option("--data", args->data, "Data directory")->capture_default_str();
  verify
      ->add_option("--db", args->db,
                   "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db")
      ->envname("CTIHUB_DB");
  verify->add_option("--pubkey", args->pubkey,
                     "The node's Ed25519 public key (hex, printed by `ctihub init`); default: "
                     "DATA/audit.pub");
  verify->add_option("--expect", args->expect,
                     "SEQ:HASH of a head seen earlier (kept elsewhere): the trail must still "
                     "hold it (detects truncation)");
  verify->add_flag("--json", args->json, "Machine-readable output");
  verify->add_flag("--witnesses", args->witnesses,
                   "Also check the trail against the signed head every peer holds of it");
  verify->callback([args, exit_code] { *exit_code = RunVerify(*args); });

  CLI::App* show = audit->add_subcommand("show", "List audit records");
  show->add_option("--data", args->data, "Data directory")->capture_default_str();
  show->add_option("--db", args->db,
                   "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db")
      ->envname("CTIHUB_DB");
  show->add_option("--user", args->user, "Only this user");
  show->add_option("--org", args->org, "Only this organisation");
  show->add_option("--object", args->object, "Only records naming this object id");
  show->add_option("--action", args->action,
                   "Only this action (request, object.written, object.served, object.deleted, "
                   "export, "
                   "login.failed, org.changed, user.changed, token.changed, collection.changed, "
                   "agreement.changed, policy.imported, policy.override, peer.changed, "
                   "sync.pulled, sync.pushed, witness.held)");
  show->add_option("--since", args->since, "From this RFC 3339 time (inclusive)");
  show->add_option("--until", args->until, "Up to this RFC 3339 time (exclusive)");
  show->add_option("--limit", args->limit,
                   "At most this many records, newest first (0 = all); when more match, says "
                   "how many and the --before to continue with")
      ->capture_default_str();
  show->add_option("--before", args->before, "Continue newest first below this record seq");
  show->add_option("--after", args->after, "Read oldest first from above this record seq");
  show->add_flag("--json", args->json, "Machine-readable output");
  show->callback([args, exit_code] { *exit_code = RunShow(*args); });

  CLI::App* who = audit->add_subcommand(
      "who-saw",
      "Every principal served, exported or pushed any version of an object (exit 1 when nobody)");
  who->add_option("OBJECT-ID", args->object_id, "STIX id")->required();
  who->add_option("--data", args->data, "Data directory")->capture_default_str();
  who->add_option("--db", args->db,
                  "PostgreSQL database (postgresql://...): also what every other node's trail "
                  "records, from their copies in the database")
      ->envname("CTIHUB_DB");
  who->add_flag("--json", args->json, "Machine-readable output");
  who->callback([args, exit_code] { *exit_code = RunWhoSaw(*args); });
}

}  // namespace ctihub::cli
