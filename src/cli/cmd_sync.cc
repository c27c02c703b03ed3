// `ctihub sync [NAME...]`: one exchange pass with each peer now (all peers, or
// those named). Pull (direction pull|both): the peer's collection is paged
// from the peer's durable cursor (sync/cursor.h); each page's objects go
// through the import write path (import_sink.h) as the peer's organisation,
// with the pull producer rules (a known foreign producer needs a relay
// agreement; an unknown one is shared locally as the peer organisation's,
// created_by_ref kept); the page's objects are committed and the trail flushed
// before the cursor moves past them. Each pass appends a `sync.pulled` record
// (counts, refusals with reasons, the cursor, or the error); the stored
// versions are named by the batch's `object.written` records, whose route
// ("sync peer NAME COLLECTION") names the peer they came from.
// Push (issue 15 item 5) is not implemented yet: a push-only peer is skipped
// with a note. Exit 0 when every peer succeeded, 1 when one failed (the
// others still sync), 2 when nothing could start (no hub, unknown peer).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "cli/import_sink.h"
#include "cli/peer_config.h"
#include "core/json.h"
#include "policy/policy_holder.h"
#include "sync/cursor.h"
#include "taxii/access.h"
#include "taxii_client/client.h"

namespace ctihub::cli {
namespace {

namespace tc = taxii_client;

constexpr size_t kAuditedRefusals = 100;  // all are counted; this many named in the record

struct SyncArgs {
  std::string data = kDefaultDataDir;
  std::vector<std::string> names;
  bool json = false;
  double timeout_s = 3600;
  double request_timeout_s = 60;
  int attempts = 4;
  int64_t limit = 0;
  int pause_ms_for_test = 0;  // sleep after each durable page (the kill -9 test)
};

struct PeerResult {
  std::string name;
  std::string direction;
  bool pulled = false;  // a pull was attempted
  bool ok = true;
  std::string error;
  std::string note;
  Summary summary;
  int64_t pages = 0;
  std::string cursor;
};

// What every peer's pass shares: the hub's store, trail and policy.
struct Hub {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> trail;
  std::unique_ptr<policy::PolicyHolder> holder;
  std::shared_ptr<const policy::Policy> policy;
  std::set<std::string> org_identities;
};

Result<Hub> OpenHub(const std::string& data) {
  Hub h;
  CTIHUB_ASSIGN_OR_RETURN(h.store, OpenHubStore(data));
  CTIHUB_ASSIGN_OR_RETURN(h.trail, audit::AuditLog::Open(data));
  CTIHUB_ASSIGN_OR_RETURN(std::vector<policy::KnownOrg> known, KnownOrganisations(*h.store));
  for (const auto& o : known) h.org_identities.insert(o.identity_id);
  auto opened = policy::PolicyHolder::Open(data, std::chrono::milliseconds(0), [known] {
    return Result<std::vector<policy::KnownOrg>>(known);
  });
  if (!opened.ok()) return InvalidArgument("sharing policy: " + opened.status().NamedMessage());
  h.holder = std::move(*opened);
  h.policy = h.holder->Current();
  return h;
}

Status AuditPass(audit::AuditLog& trail, const Peer& p, const PeerResult& r) {
  std::string details;
  json::JsonWriter w(details);
  w.BeginObject().Key("peer").String(p.name).Key("url").String(p.url);
  w.Key("collection").String(p.collection).Key("local_collection").String(p.local_collection);
  w.Key("ok").Bool(r.ok);
  if (!r.ok) w.Key("error").String(r.error);
  w.Key("pages").Int(r.pages).Key("pulled").Int(r.summary.read);
  w.Key("stored").Int(r.summary.stored).Key("already_present").Int(r.summary.already_present);
  w.Key("refused").Int(r.summary.rejected).Key("refused_by_reason").BeginObject();
  for (const auto& [reason, n] : r.summary.rejected_by_reason) w.Key(reason).Int(n);
  w.EndObject().Key("refusals").BeginArray();
  for (size_t i = 0; i < r.summary.rejections.size() && i < kAuditedRefusals; ++i) {
    const Rejection& rej = r.summary.rejections[i];
    w.BeginObject().Key("object").String(rej.origin.object).Key("reason").String(rej.reason);
    w.EndObject();
  }
  w.EndArray().Key("cursor").String(r.cursor).EndObject();
  audit::Record rec;
  rec.user = audit::LocalActor();
  rec.org = p.org;
  rec.action = std::string(audit::action::kSyncPulled);
  rec.route = "sync peer " + p.name;
  rec.status = r.ok ? 0 : 1;
  rec.remote = p.url;
  rec.details = std::move(details);
  CTIHUB_RETURN_IF_ERROR(trail.Append(std::move(rec)));
  return trail.Flush();
}

// One pull pass: pages from the cursor, each page durable before the cursor
// moves past it.
Status Pull(const SyncArgs& a, Hub& hub, const Peer& p, PeerResult& r) {
  CTIHUB_ASSIGN_OR_RETURN(store::Collection local,
                          hub.store->GetCollection("", p.local_collection));
  ImportSink::Writer writer;
  writer.policy = hub.policy.get();
  writer.principal.org = p.org;
  writer.identity = taxii::WriterIdentity(writer.policy, writer.principal);
  if (writer.identity.empty())
    return InvalidArgument("unknown_org", "peer " + p.name + ": organisation '" + p.org +
                                              "' is unknown or has no STIX identity");
  writer.org_identities = hub.org_identities;
  writer.route = "sync peer " + p.name;
  writer.unknown_producer = taxii::UnknownProducer::kAsWriter;
  CTIHUB_ASSIGN_OR_RETURN(sync::PullCursor cursor,
                          sync::PullCursor::Load(a.data, p.name, p.url, p.collection));
  r.cursor = cursor.added_after();

  CTIHUB_ASSIGN_OR_RETURN(tc::ClientOptions o, PeerClientOptions(a.data, p));
  o.operation_timeout = std::chrono::milliseconds(static_cast<int64_t>(a.timeout_s * 1000));
  o.request_timeout = std::chrono::milliseconds(static_cast<int64_t>(a.request_timeout_s * 1000));
  o.transport.connect_timeout = std::min(o.request_timeout, o.transport.connect_timeout);
  o.max_attempts = a.attempts;
  CTIHUB_ASSIGN_OR_RETURN(std::unique_ptr<tc::Client> client, tc::Client::Create(p.url, o));
  CTIHUB_ASSIGN_OR_RETURN(tc::ApiRoot root, client->ResolveApiRoot());

  ImportSink sink(*hub.store, std::move(local), std::move(writer), {}, *hub.trail, r.summary,
                  /*quiet=*/a.json);
  tc::PageQuery q;
  q.added_after = cursor.added_after();
  q.limit = a.limit;
  const std::string origin = "peer " + p.name;
  auto paged = client->GetObjects(root.url, p.collection, q, [&](const tc::ObjectsPage& page) {
    for (const tc::PageObject& obj : page.objects) {
      sink.AddGroup({Pending{obj.text, Origin{origin, -1, obj.id, ""}, false}});
      if (!sink.error().ok()) return sink.error();
    }
    CTIHUB_RETURN_IF_ERROR(sink.Flush());
    CTIHUB_RETURN_IF_ERROR(hub.trail->Flush());
    // The page is durable: only now may the cursor move past it.
    CTIHUB_ASSIGN_OR_RETURN(bool moved, cursor.Advance(page.date_added_last));
    if (moved) CTIHUB_RETURN_IF_ERROR(cursor.Save());
    r.cursor = cursor.added_after();
    ++r.pages;
    if (a.pause_ms_for_test > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(a.pause_ms_for_test));
    return Status::Ok();
  });
  return paged.status();
}

PeerResult SyncPeer(const SyncArgs& a, Hub& hub, const Peer& p) {
  PeerResult r;
  r.name = p.name;
  r.direction = p.direction;
  if (p.direction == "push") {
    r.note = "push is not implemented yet: nothing exchanged";
    return r;
  }
  r.pulled = true;
  Status st = Pull(a, hub, p, r);
  if (!st.ok()) {
    r.ok = false;
    r.error = st.NamedMessage();
  }
  if (p.direction == "both") r.note = "push is not implemented yet";
  if (Status audited = AuditPass(*hub.trail, p, r); !audited.ok() && r.ok) {
    r.ok = false;
    r.error = "audit: " + audited.NamedMessage();
  }
  return r;
}

std::string ReasonsText(const Summary& s) {
  std::string out;
  for (const auto& [reason, n] : s.rejected_by_reason)
    out += (out.empty() ? " (" : ", ") + reason + " " + std::to_string(n);
  return out.empty() ? out : out + ")";
}

void PrintText(const std::vector<PeerResult>& results) {
  for (const PeerResult& r : results) {
    std::printf("%s\t%s", r.name.c_str(), r.ok ? "ok" : "FAILED");
    if (r.pulled) {
      const Summary& s = r.summary;
      std::printf("\tpulled %lld\tstored %lld\talready present %lld\trefused %lld%s",
                  static_cast<long long>(s.read), static_cast<long long>(s.stored),
                  static_cast<long long>(s.already_present), static_cast<long long>(s.rejected),
                  ReasonsText(s).c_str());
    }
    std::printf("\tpushed -");
    if (!r.error.empty()) std::printf("\terror: %s", r.error.c_str());
    if (!r.note.empty()) std::printf("\tnote: %s", r.note.c_str());
    std::printf("\n");
  }
}

void PrintJson(const std::vector<PeerResult>& results, bool all_ok) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("ok").Bool(all_ok).Key("peers").BeginArray();
  for (const PeerResult& r : results) {
    const Summary& s = r.summary;
    w.BeginObject().Key("name").String(r.name).Key("direction").String(r.direction);
    w.Key("ok").Bool(r.ok).Key("pulled").Int(s.read).Key("stored").Int(s.stored);
    w.Key("already_present").Int(s.already_present).Key("refused").Int(s.rejected);
    w.Key("refused_by_reason").BeginObject();
    for (const auto& [reason, n] : s.rejected_by_reason) w.Key(reason).Int(n);
    w.EndObject().Key("refusals").BeginArray();
    for (const Rejection& rej : s.rejections) {
      w.BeginObject().Key("object").String(rej.origin.object).Key("reason").String(rej.reason);
      w.EndObject();
    }
    w.EndArray().Key("pages").Int(r.pages).Key("cursor").String(r.cursor);
    w.Key("pushed").Null();
    if (!r.error.empty()) w.Key("error").String(r.error);
    if (!r.note.empty()) w.Key("note").String(r.note);
    w.EndObject();
  }
  w.EndArray().EndObject();
  std::printf("%s\n", out.c_str());
}

int RunSync(const SyncArgs& a) {
  auto peers = LoadPeers(a.data);
  if (!peers.ok()) {
    std::fprintf(stderr, "ctihub sync: %s\n", peers.status().ToString().c_str());
    return kExitError;
  }
  std::vector<Peer> chosen;
  if (a.names.empty()) {
    chosen = *peers;
  } else {
    for (const std::string& n : a.names) {
      auto it =
          std::find_if(peers->begin(), peers->end(), [&](const Peer& p) { return p.name == n; });
      if (it == peers->end()) {
        std::fprintf(stderr, "ctihub sync: unknown_peer: no peer '%s'\n", n.c_str());
        return kExitError;
      }
      chosen.push_back(*it);
    }
  }
  auto hub = OpenHub(a.data);
  if (!hub.ok()) {
    std::fprintf(stderr, "ctihub sync: %s\n", hub.status().ToString().c_str());
    return kExitError;
  }
  std::vector<PeerResult> results;
  bool all_ok = true;
  for (const Peer& p : chosen) {
    results.push_back(SyncPeer(a, *hub, p));
    all_ok = all_ok && results.back().ok;
  }
  if (a.json) {
    PrintJson(results, all_ok);
  } else {
    PrintText(results);
  }
  if (chosen.empty()) std::fprintf(stderr, "ctihub sync: no peers (ctihub peer add)\n");
  return all_ok ? kExitOk : kExitNegative;
}

}  // namespace

void RegisterSyncCommand(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<SyncArgs>();
  auto* cmd = app.add_subcommand("sync", "one exchange pass with peers now (pull; push: not yet)");
  cmd->add_option("name", a->names, "peers to sync (default: every peer)");
  cmd->add_option("--data", a->data, "data directory")->capture_default_str();
  cmd->add_flag("--json", a->json, "print the summary as one JSON object");
  cmd->add_option("--timeout", a->timeout_s, "seconds per peer (default 3600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--request-timeout", a->request_timeout_s, "seconds for one request (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--attempts", a->attempts, "attempts per request, retries included (default 4)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--limit", a->limit, "page size asked of the peers")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--pause-ms-for-test", a->pause_ms_for_test)->group("");
  cmd->callback([a, exit_code] { *exit_code = RunSync(*a); });
}

}  // namespace ctihub::cli
