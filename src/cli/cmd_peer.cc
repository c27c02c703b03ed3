// `ctihub peer add|list|show|remove|check`: the partner hubs this hub exchanges
// with over TAXII 2.1. Peers live in DATA/peers.json (mode 0600, replaced
// atomically); a peer's password or token is kept only as a libsodium
// secretbox sealed with a key derived from the node key (DATA/node.key), and is
// never printed, logged or audited. Every change appends a `peer.changed`
// record (the trail is opened first: no trail, no change; a file that cannot
// be recorded is restored). `peer check` opens the stored credentials and
// resolves the peer's API root and collection with the TAXII client.
#include <sodium.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "cli/peer_config.h"
#include "cli/peer_status.h"
#include "core/durable_file.h"
#include "core/encoding.h"
#include "core/json.h"
#include "taxii_client/client.h"

namespace ctihub::cli {
namespace {

namespace fs = std::filesystem;
namespace tc = taxii_client;

constexpr const char* kPeersFile = "peers.json";
constexpr const char* kKeyContext = "ctihub peer credentials v1";

int Fail(const Status& st) {
  std::fprintf(stderr, "ctihub peer: %s\n", st.ToString().c_str());
  return kExitError;
}

std::string PeersPath(const std::string& data) { return (fs::path(data) / kPeersFile).string(); }

// ---- sealing credentials ---------------------------------------------------

Result<std::array<uint8_t, crypto_secretbox_KEYBYTES>> SealKey(const std::string& data) {
  auto key = audit::LoadNodeKey((fs::path(data) / "node.key").string());
  if (!key.ok())
    return Unavailable("no_node_key",
                       "the node key (DATA/node.key) is needed to seal peer "
                       "credentials: " +
                           key.status().NamedMessage());
  std::array<uint8_t, crypto_secretbox_KEYBYTES> out{};
  crypto_generichash(out.data(), out.size(),
                     reinterpret_cast<const unsigned char*>(key->secret_key.data()),
                     key->secret_key.size(), reinterpret_cast<const unsigned char*>(kKeyContext),
                     std::strlen(kKeyContext));
  return out;
}

Result<std::string> Seal(const std::string& data, const std::string& secret) {
  CTIHUB_ASSIGN_OR_RETURN(auto key, SealKey(data));
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + secret.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(out, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), out,
                        key.data());
  sodium_memzero(key.data(), key.size());
  return HexEncode(box);
}

Result<std::string> Open(const std::string& data, const Peer& p) {
  CTIHUB_ASSIGN_OR_RETURN(std::string box, HexDecode(p.sealed));
  if (box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return InvalidArgument("bad_sealed_secret", "peer " + p.name + ": sealed secret too short");
  CTIHUB_ASSIGN_OR_RETURN(auto key, SealKey(data));
  const auto* in = reinterpret_cast<const unsigned char*>(box.data());
  std::string secret(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  const int rc = crypto_secretbox_open_easy(
      reinterpret_cast<unsigned char*>(secret.data()), in + crypto_secretbox_NONCEBYTES,
      box.size() - crypto_secretbox_NONCEBYTES, in, key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0)
    return InvalidArgument("bad_sealed_secret",
                           "peer " + p.name + ": credentials do not open with this node's key");
  return secret;
}

// ---- the peers file --------------------------------------------------------

std::string Serialize(const std::vector<Peer>& peers) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("peers").BeginArray();
  for (const Peer& p : peers) {
    w.BeginObject()
        .Key("name")
        .String(p.name)
        .Key("url")
        .String(p.url)
        .Key("collection")
        .String(p.collection)
        .Key("local_collection")
        .String(p.local_collection)
        .Key("org")
        .String(p.org)
        .Key("direction")
        .String(p.direction)
        .Key("every")
        .String(p.every)
        .Key("ca_file")
        .String(p.ca_file)
        .Key("insecure_tls")
        .Bool(p.insecure_tls)
        .Key("auth")
        .String(p.auth)
        .Key("user")
        .String(p.user)
        .Key("sealed")
        .String(p.sealed)
        .EndObject();
  }
  w.EndArray().EndObject();
  out += '\n';
  return out;
}

}  // namespace

Result<std::vector<Peer>> LoadPeers(const std::string& data) {
  std::vector<Peer> peers;
  const std::string path = PeersPath(data);
  CTIHUB_ASSIGN_OR_RETURN(std::optional<std::string> text,
                          ReadFileIfPresent(path, "peers_read_failed"));
  if (!text) return peers;  // no peers yet
  json::JsonParser parser;
  auto root = parser.Parse(*text);
  if (!root.ok()) return root.status().WithContext(path);
  json::Array arr;
  if ((*root)["peers"].get_array().get(arr) != simdjson::SUCCESS)
    return InvalidArgument("bad_peers_file", path + ": no 'peers' array");
  for (json::Element e : arr) {
    Peer p;
    auto str = [&](const char* key, std::string* out) {
      std::string_view v;
      if (e[key].get_string().get(v) == simdjson::SUCCESS) *out = std::string(v);
    };
    str("name", &p.name);
    str("url", &p.url);
    str("collection", &p.collection);
    str("local_collection", &p.local_collection);
    str("org", &p.org);
    str("direction", &p.direction);
    str("every", &p.every);
    str("ca_file", &p.ca_file);
    str("auth", &p.auth);
    str("user", &p.user);
    str("sealed", &p.sealed);
    bool insecure = false;
    if (e["insecure_tls"].get_bool().get(insecure) == simdjson::SUCCESS) p.insecure_tls = insecure;
    if (p.name.empty() || p.url.empty())
      return InvalidArgument("bad_peers_file", path + ": a peer without a name or url");
    peers.push_back(std::move(p));
  }
  return peers;
}

namespace {

// Writes DATA/peers.json atomically and durably, mode 0600 (sealed credentials).
Status SavePeers(const std::string& data, const std::vector<Peer>& peers) {
  return WriteFileDurably(PeersPath(data), Serialize(peers), "peers_write_failed", 0600);
}

// ---- audit -------------------------------------------------------------------

Status RecordChange(audit::AuditLog& log, std::string_view route, const Peer& p,
                    std::string_view change) {
  std::string details;
  json::JsonWriter w(details);
  w.BeginObject()
      .Key("change")
      .String(change)
      .Key("peer")
      .String(p.name)
      .Key("url")
      .String(p.url)
      .Key("collection")
      .String(p.collection)
      .Key("local_collection")
      .String(p.local_collection)
      .Key("org")
      .String(p.org)
      .Key("direction")
      .String(p.direction)
      .Key("auth")
      .String(p.auth)
      .Key("insecure_tls")
      .Bool(p.insecure_tls)
      .EndObject();
  audit::Record r;
  r.user = audit::LocalActor();
  r.action = "peer.changed";
  r.route = std::string(route);
  r.status = 0;
  r.remote = "local";
  r.details = std::move(details);
  CTIHUB_RETURN_IF_ERROR(log.Append(std::move(r)));
  return log.Flush();
}

// ---- commands ------------------------------------------------------------------

struct PeerArgs {
  std::string data = kDefaultDataDir;
  std::string db;  // --db: the store `peer add` checks the local collection in
  Peer peer;
  bool password_stdin = false;
  bool token_stdin = false;
  bool json = false;
};

Result<std::string> ReadSecret(const char* what) {
  std::string line;
  if (!std::getline(std::cin, line)) line.clear();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return InvalidArgument(std::string("empty ") + what + " on stdin");
  return line;
}

Status CheckNewPeer(store::Store& hub, PeerArgs& a) {
  Peer& p = a.peer;
  static const std::regex kName("[a-z0-9][a-z0-9_-]{0,63}");
  if (!std::regex_match(p.name, kName))
    return InvalidArgument("bad_peer_name", "'" + p.name + "': use 1-64 of a-z 0-9 _ -");
  CTIHUB_RETURN_IF_ERROR(tc::ParseUrl(p.url).status());
  if (p.direction != "pull" && p.direction != "push" && p.direction != "both")
    return InvalidArgument("bad_direction", "--direction must be pull, push or both");
  CTIHUB_RETURN_IF_ERROR(hub.GetOrganisation(p.org).status());
  CTIHUB_ASSIGN_OR_RETURN(auto cols, hub.ListCollections(""));
  const store::Collection* local = nullptr;
  for (const auto& c : cols)
    if (c.id == p.local_collection || (!c.alias.empty() && c.alias == p.local_collection))
      local = &c;
  if (local == nullptr)
    return NotFound("unknown_collection", "no local collection '" + p.local_collection + "'");
  p.local_collection = local->id;
  if (!p.every.empty() && !std::regex_match(p.every, std::regex("[1-9][0-9]{0,6}[smhd]")))
    return InvalidArgument("bad_every", "--every takes a duration such as 30s, 15m, 1h, 1d");
  if (a.password_stdin && a.token_stdin)
    return InvalidArgument("give --password-stdin or --token-stdin, not both");
  if (a.password_stdin && p.user.empty()) return InvalidArgument("--password-stdin needs --user");
  if (!a.password_stdin && !p.user.empty()) return InvalidArgument("--user needs --password-stdin");
  return Status::Ok();
}

int RunAdd(PeerArgs& a) {
  auto hub = OpenHubStore(a.data, HubDb(a.db));
  if (!hub.ok()) return Fail(hub.status());
  if (Status st = CheckNewPeer(**hub, a); !st.ok()) return Fail(st);
  auto peers = LoadPeers(a.data);
  if (!peers.ok()) return Fail(peers.status());
  for (const Peer& p : *peers)
    if (p.name == a.peer.name)
      return Fail(Conflict("peer_exists", "peer '" + p.name + "' exists; remove it first"));
  if (a.password_stdin || a.token_stdin) {
    auto secret = ReadSecret(a.password_stdin ? "password" : "token");
    if (!secret.ok()) return Fail(secret.status());
    auto sealed = Seal(a.data, *secret);
    sodium_memzero(secret->data(), secret->size());
    if (!sealed.ok()) return Fail(sealed.status());
    a.peer.sealed = *sealed;
    a.peer.auth = a.password_stdin ? "basic" : "bearer";
  }
  auto log = audit::AuditLog::Open(a.data);
  if (!log.ok())
    return Fail(
        Unavailable("audit trail unavailable, nothing changed: " + log.status().NamedMessage()));
  const std::vector<Peer> before = *peers;
  peers->push_back(a.peer);
  if (Status st = SavePeers(a.data, *peers); !st.ok()) return Fail(st);
  if (Status st = RecordChange(**log, "cli peer add", a.peer, "add"); !st.ok()) {
    Status undo = SavePeers(a.data, before);
    return Fail(
        Unavailable("audit append failed, peer not kept: " + st.NamedMessage() +
                    (undo.ok() ? "" : "; restoring peers.json failed: " + undo.NamedMessage())));
  }
  std::printf("%s\n", a.peer.name.c_str());
  return kExitOk;
}

void PrintPeer(const Peer& p, bool detail) {
  if (!detail) {
    std::printf("%s\t%s\t%s\t%s\t%s\n", p.name.c_str(), p.direction.c_str(), p.org.c_str(),
                p.url.c_str(), p.collection.c_str());
    return;
  }
  std::printf("name\t%s\nurl\t%s\ncollection\t%s\nlocal_collection\t%s\norg\t%s\ndirection\t%s\n",
              p.name.c_str(), p.url.c_str(), p.collection.c_str(), p.local_collection.c_str(),
              p.org.c_str(), p.direction.c_str());
  std::printf("every\t%s\n", p.every.empty() ? "on demand" : p.every.c_str());
  std::printf("tls\t%s\n", p.insecure_tls      ? "NOT VERIFIED (--insecure-tls)"
                           : p.ca_file.empty() ? "verified (system trust store)"
                                               : ("verified (CA file " + p.ca_file + ")").c_str());
  if (p.auth == "basic")
    std::printf("credentials\tbasic, user %s, password sealed\n", p.user.c_str());
  else if (p.auth == "bearer")
    std::printf("credentials\tbearer token, sealed\n");
  else
    std::printf("credentials\tnone\n");
}

int RunList(const PeerArgs& a) {
  auto peers = LoadPeers(a.data);
  if (!peers.ok()) return Fail(peers.status());
  for (const Peer& p : *peers) PrintPeer(p, false);
  return kExitOk;
}

}  // namespace

Result<Peer> FindPeer(const std::string& data, const std::string& name) {
  CTIHUB_ASSIGN_OR_RETURN(auto peers, LoadPeers(data));
  for (Peer& p : peers)
    if (p.name == name) return std::move(p);
  return NotFound("unknown_peer", "no peer '" + name + "'");
}

Result<tc::ClientOptions> PeerClientOptions(const std::string& data, const Peer& p) {
  tc::ClientOptions o;
  o.tls.ca_file = p.ca_file;
  o.tls.insecure_tls = p.insecure_tls;
  if (p.auth != "none") {
    CTIHUB_ASSIGN_OR_RETURN(std::string secret, Open(data, p));
    if (p.auth == "basic") {
      o.credentials.user = p.user;
      o.credentials.password = std::move(secret);
    } else {
      o.credentials.token = std::move(secret);
    }
  }
  return o;
}

namespace {

// The exchange so far (peer_status.h): what /metrics says of the peer.
void PrintStatus(const PeerStatus& s) {
  const sync::PeerStats& t = s.stats;
  std::printf("passes\t%lld (%lld failed)\n", static_cast<long long>(t.passes),
              static_cast<long long>(t.failed));
  std::printf("last_pass\t%s\n", t.last_pass.empty() ? "never" : t.last_pass.c_str());
  std::printf("last_success\t%s\n", t.last_success.empty() ? "never" : t.last_success.c_str());
  if (!t.last_error.empty()) std::printf("last_error\t%s\n", t.last_error.c_str());
  if (s.peer.direction != "push") {
    std::printf("pulled_until\t%s\n",
                s.pulled_until.empty() ? "nothing yet" : s.pulled_until.c_str());
    if (s.lag_s) std::printf("lag_seconds\t%.3f\n", *s.lag_s);
  }
  std::printf("objects\tpulled %lld, stored %lld, refused %lld, pushed %lld, push failed %lld\n",
              static_cast<long long>(t.pulled), static_cast<long long>(t.stored),
              static_cast<long long>(t.refused), static_cast<long long>(t.pushed),
              static_cast<long long>(t.push_failed));
  std::printf("sightings_back\t%lld\n", static_cast<long long>(t.sightings_back));
  if (t.witness_acknowledged_seq > 0)
    std::printf("witness_acknowledged\tthis hub's audit head %lld, at %s\n",
                static_cast<long long>(t.witness_acknowledged_seq),
                t.witness_acknowledged_at.c_str());
  else
    std::printf("witness_acknowledged\tnone yet\n");
  if (t.witness_held_seq > 0)
    std::printf("witness_held\tthe peer's audit head %lld\n",
                static_cast<long long>(t.witness_held_seq));
  if (!s.stats_error.empty()) std::printf("status_error\t%s\n", s.stats_error.c_str());
}

int RunShow(const PeerArgs& a) {
  auto p = FindPeer(a.data, a.peer.name);
  if (!p.ok()) return Fail(p.status());
  PrintPeer(*p, true);
  auto statuses = PeerStatuses(a.data, Timestamp::Now());
  if (!statuses.ok()) return Fail(statuses.status());
  for (const PeerStatus& s : *statuses)
    if (s.peer.name == p->name) PrintStatus(s);
  return kExitOk;
}

int RunRemove(const PeerArgs& a) {
  auto peers = LoadPeers(a.data);
  if (!peers.ok()) return Fail(peers.status());
  auto it = std::find_if(peers->begin(), peers->end(),
                         [&](const Peer& p) { return p.name == a.peer.name; });
  if (it == peers->end()) return Fail(NotFound("unknown_peer", "no peer '" + a.peer.name + "'"));
  auto log = audit::AuditLog::Open(a.data);
  if (!log.ok())
    return Fail(
        Unavailable("audit trail unavailable, nothing changed: " + log.status().NamedMessage()));
  // Recorded first: removing destroys the sealed credentials, which cannot be undone.
  if (Status st = RecordChange(**log, "cli peer remove", *it, "remove"); !st.ok()) return Fail(st);
  peers->erase(it);
  if (Status st = SavePeers(a.data, *peers); !st.ok()) return Fail(st);
  return kExitOk;
}

// Opens the peer's credentials and checks its API root and collection.
int RunCheck(const PeerArgs& a) {
  auto p = FindPeer(a.data, a.peer.name);
  if (!p.ok()) return Fail(p.status());
  auto o = PeerClientOptions(a.data, *p);
  if (!o.ok()) return Fail(o.status());
  o->operation_timeout = std::chrono::minutes(2);
  auto client = tc::Client::Create(p->url, std::move(*o));
  if (!client.ok()) return Fail(client.status());
  auto root = (*client)->ResolveApiRoot();
  if (!root.ok()) return Fail(root.status());
  auto cols = (*client)->Collections(root->url);
  if (!cols.ok()) return Fail(cols.status());
  for (const auto& c : *cols) {
    if (c.id != p->collection) continue;
    const bool need_read = p->direction != "push", need_write = p->direction != "pull";
    std::printf("api_root\t%s\ncollection\t%s\tread=%s\twrite=%s\n", root->url.ToString().c_str(),
                c.id.c_str(), c.can_read ? "yes" : "no", c.can_write ? "yes" : "no");
    if ((need_read && !c.can_read) || (need_write && !c.can_write)) {
      std::fprintf(stderr, "ctihub peer: the peer does not grant what --direction %s needs\n",
                   p->direction.c_str());
      return kExitNegative;
    }
    return kExitOk;
  }
  std::fprintf(stderr, "ctihub peer: the peer lists no collection %s for these credentials\n",
               p->collection.c_str());
  return kExitNegative;
}

}  // namespace

void RegisterPeerCommands(CLI::App& app, int* exit_code) {
  if (sodium_init() < 0) return;
  auto* peer = app.add_subcommand("peer", "partner hubs exchanged with over TAXII 2.1");
  peer->require_subcommand(1);
  auto a = std::make_shared<PeerArgs>();
  auto data = [a](CLI::App* c) {
    c->add_option("--data", a->data, "data directory")->capture_default_str();
    c->add_option("--db", a->db,
                  "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db; peers stay "
                  "in the data directory (their secrets are sealed with the node key)")
        ->envname("CTIHUB_DB");
  };

  auto* add = peer->add_subcommand("add", "add a peer (credentials sealed with the node key)");
  add->add_option("name", a->peer.name, "peer name")->required();
  add->add_option("--url", a->peer.url, "discovery or API root URL of the peer")->required();
  add->add_option("--collection", a->peer.collection, "the peer's collection id")->required();
  add->add_option("--local-collection", a->peer.local_collection, "local collection id or alias")
      ->required();
  add->add_option("--org", a->peer.org, "local organisation the peer speaks for")->required();
  add->add_option("--direction", a->peer.direction, "pull, push or both")->required();
  add->add_option("--user", a->peer.user, "HTTP Basic user (with --password-stdin)");
  add->add_flag("--password-stdin", a->password_stdin, "read the Basic password from stdin");
  add->add_flag("--token-stdin", a->token_stdin, "read a Bearer token from stdin");
  add->add_option("--every", a->peer.every, "sync schedule for serve: 30s, 15m, 1h, 1d");
  add->add_option("--ca-file", a->peer.ca_file, "PEM CA certificates to trust for this peer")
      ->check(CLI::ExistingFile);
  add->add_flag("--insecure-tls", a->peer.insecure_tls, "do not verify the peer's certificate");
  data(add);
  add->callback([a, exit_code] {
    if (!a->peer.ca_file.empty()) a->peer.ca_file = fs::absolute(a->peer.ca_file).string();
    *exit_code = RunAdd(*a);
  });

  auto* list = peer->add_subcommand("list", "list peers (never their credentials)");
  data(list);
  list->callback([a, exit_code] { *exit_code = RunList(*a); });

  auto* show = peer->add_subcommand("show", "show one peer (never its credentials)");
  show->add_option("name", a->peer.name, "peer name")->required();
  data(show);
  show->callback([a, exit_code] { *exit_code = RunShow(*a); });

  auto* remove = peer->add_subcommand("remove", "remove a peer and its sealed credentials");
  remove->add_option("name", a->peer.name, "peer name")->required();
  data(remove);
  remove->callback([a, exit_code] { *exit_code = RunRemove(*a); });

  auto* check = peer->add_subcommand(
      "check", "open the credentials and check the peer's API root and collection");
  check->add_option("name", a->peer.name, "peer name")->required();
  data(check);
  check->callback([a, exit_code] { *exit_code = RunCheck(*a); });
}

}  // namespace ctihub::cli
