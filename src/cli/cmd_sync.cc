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
//
// Push (direction push|both, after the pull): the local collection is read as
// a reader of the peer's organisation through taxii::ReadGate, the one read
// decision of TAXII GET and `export --as-user` (collection ACL, policy,
// redactions: the redacted copy is what leaves), every readable version
// (match[version]=all) added after the durable push cursor, in date_added
// order, except the versions pulled from this same peer (store column
// source_peer: a `both` peer is never sent back what it sent), at most 1000 per POST (fewer with
// --limit, and split to fit the peer API root's max_content_length; a version larger than that
// alone is counted failed, `too_large`, and not sent). Before each POST a `sync.pushed` record
// names the versions about to leave, with their grants (so `audit who-saw` names the peer's
// organisation), and is flushed; the POST's status is polled until complete, then the push cursor
// moves past the batch and is saved. Versions the peer reports failed are counted by reason and not
// retried (the cursor moves past them; a newer version is pushed as usual;
// removing DATA/sync/PEER.push-cursor pushes everything again). A POST that
// fails or stays pending leaves the cursor before its batch: the next pass
// sends it again (a TAXII server stores a version once). Each pass ends with
// one `sync.pushed` record without objects: counts, failures with reasons,
// the cursor reached, or the error.
//
// A pass holds the peer's lock (DATA/sync/PEER.lock, sync/peer_lock.h) from
// before the pull to after the push: a peer whose lock another pass holds
// (serve's scheduler, another `ctihub sync`) is reported busy (peer_busy,
// naming the holder's pid) and counts as failed; the other peers still sync.
//
// --timeout bounds each peer's whole pass (pull and push). Exit 0 when every
// peer succeeded, 1 when one failed or was busy (the others still sync), 2
// when nothing could start (no hub, unknown peer).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "audit/witness.h"
#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "cli/import_sink.h"
#include "cli/peer_config.h"
#include "cli/peer_sync.h"
#include "core/json.h"
#include "core/uuid.h"
#include "policy/policy_holder.h"
#include "sync/cursor.h"
#include "sync/peer_lock.h"
#include "sync/peer_stats.h"
#include "taxii/access.h"
#include "taxii_client/client.h"

namespace ctihub::cli {
namespace {

namespace tc = taxii_client;

constexpr size_t kAuditedRefusals = 100;    // all are counted; this many named in the record
constexpr int64_t kPushBatch = 1000;        // versions per POST at most (--limit: fewer)
constexpr size_t kKeptPushFailures = 1000;  // all are counted; this many named in the output
// {"objects":[ ... ]}: what an envelope adds to its objects and their commas.
constexpr int64_t kEnvelopeOverhead = 14;

using Clock = std::chrono::steady_clock;

struct SyncArgs {
  PassOptions pass;
  std::string db;  // --db: the PostgreSQL store (peers and cursors stay in the data directory)
  std::vector<std::string> names;
  bool json = false;
};

// The hub `ctihub sync` opens for itself: the store, trail and policy that
// every peer's pass shares (`serve` passes its own, sync_scheduler.h).
struct OpenedHub {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> trail;
  std::unique_ptr<policy::PolicyHolder> holder;
  SyncHub view;
};

Result<OpenedHub> OpenHub(const std::string& data, const std::string& db) {
  OpenedHub h;
  CTIHUB_ASSIGN_OR_RETURN(h.store, OpenHubStore(data, HubDb(db)));
  CTIHUB_ASSIGN_OR_RETURN(h.trail, audit::AuditLog::Open(data));
  CTIHUB_ASSIGN_OR_RETURN(std::vector<policy::KnownOrg> known, KnownOrganisations(*h.store));
  for (const auto& o : known) h.view.org_identities.insert(o.identity_id);
  auto opened =
      policy::PolicyHolder::Open(HubPolicySource(data, h.store.get()), std::chrono::milliseconds(0),
                                 [known] { return Result<std::vector<policy::KnownOrg>>(known); });
  if (!opened.ok()) return InvalidArgument("sharing policy: " + opened.status().NamedMessage());
  h.holder = std::move(*opened);
  h.view.store = h.store.get();
  h.view.trail = h.trail.get();
  h.view.policy = h.holder->Current();
  return h;
}

bool Stopping(const PassOptions& a) {
  return a.stop != nullptr && a.stop->load(std::memory_order_relaxed);
}

Status Stopped() {
  return Unavailable("stopped", "the hub is stopping; the pass resumes from its cursor");
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

// When a pull saves its cursor. The cursor moves past a page only once the
// page's objects are committed and their records flushed (a crash re-fetches
// what came after the last save; the store keeps a version once, so nothing
// is lost or duplicated). Waiting for that after every page of 1,000 made the
// pull one fetch, one commit and four fsyncs at a time (3,400 objects/s
// under load, docs/PERFORMANCE.md); a checkpoint every kObjects objects or
// kInterval lets the store's writer batch the pages it is handed while the
// next ones are fetched, and bounds what a crash makes the next pass fetch
// again.
class PullCheckpoint {
 public:
  static constexpr int64_t kObjects = 10000;
  static constexpr std::chrono::milliseconds kInterval{2000};

  PullCheckpoint(ImportSink& sink, audit::AuditLog& trail, sync::PullCursor& cursor, PeerResult& r)
      : sink_(sink), trail_(trail), cursor_(cursor), r_(r), last_save_(Clock::now()) {}

  // A page's objects were handed to the sink.
  Status PageDone(const tc::ObjectsPage& page) {
    if (!page.date_added_last.empty()) {
      // Validated now, kept for the save: the cursor moves only then.
      CTIHUB_RETURN_IF_ERROR(sync::PullCursor(cursor_).Advance(page.date_added_last).status());
      pending_until_ = page.date_added_last;
    }
    pending_objects_ += static_cast<int64_t>(page.objects.size());
    if (pending_objects_ >= kObjects || Clock::now() - last_save_ >= kInterval) return Save();
    return Status::Ok();
  }

  // Makes everything handed over durable, then moves the cursor past it.
  Status Save() {
    CTIHUB_RETURN_IF_ERROR(sink_.Flush());
    CTIHUB_RETURN_IF_ERROR(trail_.Flush());
    last_save_ = Clock::now();
    pending_objects_ = 0;
    if (pending_until_.empty()) return Status::Ok();
    CTIHUB_ASSIGN_OR_RETURN(bool moved, cursor_.Advance(pending_until_));
    pending_until_.clear();
    if (moved) CTIHUB_RETURN_IF_ERROR(cursor_.Save());
    r_.cursor = cursor_.added_after();
    return Status::Ok();
  }

 private:
  ImportSink& sink_;
  audit::AuditLog& trail_;
  sync::PullCursor& cursor_;
  PeerResult& r_;
  Clock::time_point last_save_;
  int64_t pending_objects_ = 0;
  std::string pending_until_;  // the newest date_added_last handed over, not yet saved
};

// The peer's pages, fetched on a thread of their own (at most kAhead ahead)
// while the pass stores the previous ones: fetching (~40,000 objects/s) and
// storing (~16,000/s through the import write path) overlap instead of
// taking turns. Pages come out in the peer's order; the cursor logic sees
// exactly the sequence a plain loop would.
class PagePrefetch {
 public:
  static constexpr size_t kAhead = 2;
  // Runs `fetch` (which hands each page to its sink) on the fetching thread.
  using Fetch = std::function<Status(const tc::ObjectsSink&)>;

  explicit PagePrefetch(Fetch fetch) : thread_([this, fetch = std::move(fetch)] { Run(fetch); }) {}
  ~PagePrefetch() { (void)Finish(); }
  PagePrefetch(const PagePrefetch&) = delete;
  PagePrefetch& operator=(const PagePrefetch&) = delete;

  // The next page; nullopt once the fetch ended (Finish says how).
  std::optional<tc::ObjectsPage> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !pages_.empty() || done_; });
    if (pages_.empty()) return std::nullopt;
    tc::ObjectsPage page = std::move(pages_.front());
    pages_.pop_front();
    cv_.notify_all();
    return page;
  }

  // Stops fetching (pages not taken are dropped) and returns how the fetch
  // ended: OK when every page was delivered.
  Status Finish() {
    {
      std::lock_guard lock(mu_);
      abandoned_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  void Run(const Fetch& fetch) {
    Status st = fetch([this](const tc::ObjectsPage& page) -> Status {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return pages_.size() < kAhead || abandoned_; });
      if (abandoned_) return Unavailable("stopped", "the pass stopped reading");
      pages_.push_back(page);
      cv_.notify_all();
      return Status::Ok();
    });
    std::lock_guard lock(mu_);
    status_ = std::move(st);
    done_ = true;
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<tc::ObjectsPage> pages_;
  bool done_ = false;
  bool abandoned_ = false;
  Status status_;
  std::thread thread_;  // last: starts once the members it uses exist
};

// One page into the sink; the checkpoint decides when the cursor moves.
Status StorePage(const PassOptions& a, const tc::ObjectsPage& page, const std::string& origin,
                 ImportSink& sink, PullCheckpoint& checkpoint, PeerResult& r) {
  for (const tc::PageObject& obj : page.objects) {
    sink.AddGroup({Pending{obj.text, Origin{origin, -1, obj.id, ""}, false}});
    if (!sink.error().ok()) return sink.error();
  }
  ++r.pages;
  CTIHUB_RETURN_IF_ERROR(checkpoint.PageDone(page));
  if (a.pause_ms_for_test > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(a.pause_ms_for_test));
  if (Stopping(a)) return Stopped();  // Pull saves the checkpoint: what was read is kept
  return Status::Ok();
}

// One pull pass: pages from the cursor (fetched ahead, PagePrefetch), the
// cursor saved only after the pages before it are durable (PullCheckpoint).
Status Pull(const PassOptions& a, SyncHub& hub, const Peer& p, PeerResult& r) {
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
  writer.source_peer = p.name;
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
                  /*quiet=*/a.quiet);
  tc::PageQuery q;
  q.added_after = cursor.added_after();
  q.limit = a.limit;
  // Every version, as a push sends them: a replica with only each object's
  // newest version at the time of its first pull would lack the history the
  // peer serves (a version added later arrives either way, by added_after).
  q.filters.emplace_back("match[version]", "all");
  const std::string origin = "peer " + p.name;
  PullCheckpoint checkpoint(sink, *hub.trail, cursor, r);
  PagePrefetch prefetch([&](const tc::ObjectsSink& deliver) {
    return client->GetObjects(root.url, p.collection, q, deliver).status();
  });
  Status stored;
  while (std::optional<tc::ObjectsPage> page = prefetch.Next()) {
    stored = StorePage(a, *page, origin, sink, checkpoint, r);
    if (!stored.ok()) break;
  }
  Status fetched = prefetch.Finish();
  // The last pages, and on an error everything stored before it.
  Status saved = checkpoint.Save();
  if (!stored.ok()) return stored;
  if (!fetched.ok()) return fetched;
  return saved;
}

// Untrusted text from a peer, made safe for one line of output: control
// characters become spaces, at most `max` bytes.
std::string OneLine(std::string_view text, size_t max) {
  std::string out(text.substr(0, max));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// The reason of a status failure message: its name before the first ':'
// ("producer_not_allowed: ...", "invalid STIX: ..."), else the message.
std::string FailureReason(std::string_view message) {
  std::string_view head = message.substr(0, message.find(':'));
  while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
  if (head.empty()) return "unspecified";
  return OneLine(head, 64);
}

std::string CursorText(const sync::PushCursor& c) {
  return c.date_added_us() > 0 ? Timestamp::FromMicros(c.date_added_us()).Format(6) : "";
}

void AddFailure(PushResult& r, std::string object, std::string version, std::string reason) {
  ++r.failed;
  ++r.failed_by_reason[reason];
  if (r.failures.size() < kKeptPushFailures)
    r.failures.push_back({std::move(object), std::move(version), std::move(reason)});
}

// One push pass (see the file comment). kSightingsBack: the sightings-back
// pass of a pull-only peer (RunPeerPass): only the sightings the peer may read
// whose indicator it speaks for (SpokenFor), with their own cursor.
class Pusher {
 public:
  using Kind = sync::PushCursor::Kind;

  Pusher(const PassOptions& a, SyncHub& hub, const Peer& p, Clock::time_point deadline,
         PushResult& r, Kind kind = Kind::kPush)
      : a_(a),
        hub_(hub),
        p_(p),
        deadline_(deadline),
        r_(r),
        kind_(kind),
        push_id_(Uuid::V4().ToString()) {}

  Status Run() {
    r_.attempted = true;
    CTIHUB_ASSIGN_OR_RETURN(store::Collection local,
                            hub_.store->GetCollection("", p_.local_collection));
    auth::Principal reader;
    reader.user = "sync:" + p_.name;  // no user entry of an ACL can name it
    reader.org = p_.org;
    reader.role = store::Role::kReader;
    if (taxii::WriterIdentity(hub_.policy.get(), reader).empty())
      return InvalidArgument("unknown_org", "peer " + p_.name + ": organisation '" + p_.org +
                                                "' is unknown or has no STIX identity");
    if (!auth::CanRead(reader, local))
      return Forbidden("read_forbidden", "organisation " + p_.org + " may not read collection " +
                                             p_.local_collection + ": nothing may be pushed to it");
    CTIHUB_ASSIGN_OR_RETURN(cursor_, sync::PushCursor::Load(a_.data, p_.name, p_.url, p_.collection,
                                                            p_.local_collection, kind_));
    r_.cursor = CursorText(*cursor_);
    local_ = local.id;

    store::ObjectQuery q;
    q.collection_id = local.id;
    q.version_last = false;
    q.version_all = true;
    if (kind_ == Kind::kSightingsBack) q.types = {"sighting"};
    q.not_from_peer = p_.name;  // what the peer sent is never echoed back to it
    if (cursor_->date_added_us() > 0) q.added_after_us = cursor_->date_added_us();
    q.limit = static_cast<size_t>(a_.limit > 0 ? std::min(a_.limit, kPushBatch) : kPushBatch);
    taxii::ReadGate gate(hub_.policy, reader, local);
    gate.Apply(q);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, hub_.store->QueryObjects(q));
      const int64_t last_examined = page.objects.empty() ? 0 : page.objects.back().date_added_us;
      if (kind_ == Kind::kSightingsBack) CTIHUB_RETURN_IF_ERROR(KeepSpokenFor(page.objects));
      std::vector<audit::ObjectRef> refs;  // the grants, taken before the next admit
      refs.reserve(page.objects.size());
      for (const store::ObjectVersion& row : page.objects) {
        const taxii::ServedGrant* grant = gate.GrantOf(row);
        refs.emplace_back(row.id, row.version.ToString(),
                          grant != nullptr ? std::string(grant->via) : std::string(),
                          grant != nullptr && grant->redacted);
      }
      CTIHUB_RETURN_IF_ERROR(PushPage(page.objects, refs));
      if (last_examined > 0) CTIHUB_RETURN_IF_ERROR(MoveCursor(last_examined));
      if (!page.more) break;
      q.next = page.next;
    }
    return Status::Ok();
  }

  // The pass's closing record (also after an error).
  Status Audit(const Status& outcome) {
    std::string details;
    json::JsonWriter w(details);
    w.BeginObject().Key("push_id").String(push_id_).Key("peer").String(p_.name);
    if (kind_ == Kind::kSightingsBack) w.Key("sightings_back").Bool(true);
    w.Key("url").String(p_.url).Key("collection").String(p_.collection);
    w.Key("local_collection").String(p_.local_collection).Key("ok").Bool(outcome.ok());
    if (!outcome.ok()) w.Key("error").String(outcome.NamedMessage());
    w.Key("posts").Int(r_.posts).Key("sent").Int(r_.sent).Key("pushed").Int(r_.pushed);
    w.Key("failed").Int(r_.failed).Key("failed_by_reason").BeginObject();
    for (const auto& [reason, n] : r_.failed_by_reason) w.Key(reason).Int(n);
    w.EndObject().Key("failures").BeginArray();
    for (size_t i = 0; i < r_.failures.size() && i < kAuditedRefusals; ++i) {
      const PushFailure& f = r_.failures[i];
      w.BeginObject().Key("object").String(f.object).Key("version").String(f.version);
      w.Key("reason").String(f.reason).EndObject();
    }
    w.EndArray().Key("cursor").String(r_.cursor).EndObject();
    audit::Record rec = BaseRecord();
    rec.status = outcome.ok() ? 0 : 1;
    rec.details = std::move(details);
    CTIHUB_RETURN_IF_ERROR(hub_.trail->Append(std::move(rec)));
    return hub_.trail->Flush();
  }

 private:
  audit::Record BaseRecord() const {
    audit::Record rec;
    rec.user = audit::LocalActor();
    rec.org = p_.org;  // who receives the versions: what who-saw names
    rec.action = std::string(audit::action::kSyncPushed);
    rec.route = "sync peer " + p_.name;
    if (kind_ == Kind::kSightingsBack) rec.route += " sightings-back";
    rec.remote = p_.url;
    return rec;
  }

  // The client, created at the first batch to send: a sightings-back pass with
  // nothing to send never calls the peer.
  Status Connect() {
    if (client_ != nullptr) return Status::Ok();
    CTIHUB_ASSIGN_OR_RETURN(tc::ClientOptions o, PeerClientOptions(a_.data, p_));
    o.operation_timeout =
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()),
                 std::chrono::milliseconds(1));
    o.request_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(a_.request_timeout_s * 1000));
    o.transport.connect_timeout = std::min(o.request_timeout, o.transport.connect_timeout);
    o.max_attempts = a_.attempts;
    CTIHUB_ASSIGN_OR_RETURN(client_, tc::Client::Create(p_.url, o));
    CTIHUB_ASSIGN_OR_RETURN(root_, client_->ResolveApiRoot());
    return Status::Ok();
  }

  // Keeps the sightings whose indicator (sighting_of_ref) the peer speaks for:
  // the indicator's producer, as the local collection holds it, is the peer's
  // organisation, or one the peer's organisation may relay for (a relay
  // agreement: the peer received it from that producer). An indicator this
  // hub does not hold in the peer's local collection is no one's here.
  Status KeepSpokenFor(std::vector<store::ObjectVersion>& rows) {
    std::vector<store::ObjectVersion> kept;
    for (store::ObjectVersion& row : rows) {
      CTIHUB_ASSIGN_OR_RETURN(bool spoken_for, SpokenFor(row));
      if (spoken_for) kept.push_back(std::move(row));
    }
    rows = std::move(kept);
    return Status::Ok();
  }

  Result<bool> SpokenFor(const store::ObjectVersion& sighting) {
    json::JsonParser parser;
    auto root = parser.Parse(sighting.json);
    std::string_view ref;
    if (!root.ok() || (*root)["sighting_of_ref"].get_string().get(ref) != simdjson::SUCCESS ||
        !ref.starts_with("indicator--"))
      return false;
    auto known = producer_of_.find(std::string(ref));
    if (known == producer_of_.end()) {
      store::ObjectQuery q;
      q.collection_id = local_;
      q.ids = {std::string(ref)};
      q.include_json = false;
      q.limit = 1;
      CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, hub_.store->QueryObjects(q));
      std::string producer = page.objects.empty() ? "" : page.objects.front().access.producer;
      known = producer_of_.emplace(std::string(ref), std::move(producer)).first;
    }
    const std::string& producer = known->second;
    if (producer.empty()) return false;
    if (producer == hub_.policy->IdentityOf(p_.org)) return true;
    return hub_.policy->MayRelay(p_.org, producer, Timestamp::Now());
  }

  // Sends one page's versions in batches that fit the peer's
  // max_content_length, each moving the cursor once the peer reported it.
  Status PushPage(std::vector<store::ObjectVersion>& rows, std::vector<audit::ObjectRef>& refs) {
    if (rows.empty()) return Status::Ok();
    CTIHUB_RETURN_IF_ERROR(Connect());
    const int64_t max_body = root_.info.max_content_length;
    size_t begin = 0;
    int64_t body = kEnvelopeOverhead;
    for (size_t i = 0; i <= rows.size(); ++i) {
      const int64_t size = i < rows.size() ? static_cast<int64_t>(rows[i].json.size()) : 0;
      const bool last = i == rows.size();
      const bool too_large = !last && max_body > 0 && kEnvelopeOverhead + size > max_body;
      const bool full = !last && max_body > 0 && begin < i && body + size + 1 > max_body;
      if (last || too_large || full) {
        if (begin < i) CTIHUB_RETURN_IF_ERROR(Post(rows, refs, begin, i));
        begin = i;
        body = kEnvelopeOverhead;
      }
      if (last) break;
      if (too_large) {
        // Never sent: counted, and passed by the cursor with its neighbours.
        AddFailure(r_, rows[i].id, refs[i].version, "too_large");
        begin = i + 1;
        continue;
      }
      body += size + (begin < i ? 1 : 0);
    }
    return Status::Ok();
  }

  // POSTs rows [begin, end) after naming them in the trail; moves the cursor
  // past them once the peer's status is complete.
  Status Post(std::vector<store::ObjectVersion>& rows, std::vector<audit::ObjectRef>& refs,
              size_t begin, size_t end) {
    if (Stopping(a_)) return Stopped();
    if (Clock::now() >= deadline_)
      return Unavailable("operation_timeout", "the peer's --timeout ran out; " +
                                                  std::to_string(r_.sent) + " versions sent");
    audit::Record rec = BaseRecord();
    rec.objects.assign(refs.begin() + static_cast<std::ptrdiff_t>(begin),
                       refs.begin() + static_cast<std::ptrdiff_t>(end));
    std::string details;
    json::JsonWriter w(details);
    w.BeginObject().Key("push_id").String(push_id_).Key("peer").String(p_.name);
    w.Key("collection").String(p_.collection).Key("post").Int(r_.posts + 1).EndObject();
    rec.details = std::move(details);
    // Named in the trail before they leave, as a TAXII read is before it is served.
    CTIHUB_RETURN_IF_ERROR(hub_.trail->Append(std::move(rec)));
    CTIHUB_RETURN_IF_ERROR(hub_.trail->Flush());
    std::vector<std::string> texts;
    texts.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) texts.push_back(std::move(rows[i].json));
    ++r_.posts;
    r_.sent += static_cast<int64_t>(end - begin);
    CTIHUB_ASSIGN_OR_RETURN(
        tc::StatusInfo st, client_->AddObjects(root_.url, p_.collection, tc::BuildEnvelope(texts)));
    r_.pushed += st.success_count;
    for (const tc::StatusDetail& d : st.failures)
      AddFailure(r_, OneLine(d.id, 200), OneLine(d.version, 64), FailureReason(d.message));
    // A server that counts failures it does not list.
    for (int64_t i = static_cast<int64_t>(st.failures.size()); i < st.failure_count; ++i)
      AddFailure(r_, "", "", "unspecified");
    CTIHUB_RETURN_IF_ERROR(MoveCursor(rows[end - 1].date_added_us));
    if (a_.pause_ms_for_test > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(a_.pause_ms_for_test));
    return Status::Ok();
  }

  Status MoveCursor(int64_t date_added_us) {
    if (!cursor_->Advance(date_added_us)) return Status::Ok();
    CTIHUB_RETURN_IF_ERROR(cursor_->Save());
    r_.cursor = CursorText(*cursor_);
    return Status::Ok();
  }

  const PassOptions& a_;
  SyncHub& hub_;
  const Peer& p_;
  Clock::time_point deadline_;
  PushResult& r_;
  Kind kind_;
  std::string push_id_;
  std::string local_;                               // the local collection's id
  std::map<std::string, std::string> producer_of_;  // indicator id -> its producer here
  std::optional<sync::PushCursor> cursor_;
  std::unique_ptr<tc::Client> client_;
  tc::ApiRoot root_;
};

// Sightings back (issue 15 item 6) to a peer this hub only pulls from: the
// local sightings of the indicators the peer speaks for, as far as the policy
// lets the peer's organisation read them, POSTed to the peer's collection.
// A peer pushed to (push|both) gets them with everything else it may read.
void SendSightingsBack(const PassOptions& a, SyncHub& hub, const Peer& p,
                       Clock::time_point deadline, PeerResult& r) {
  Pusher back(a, hub, p, deadline, r.sightings, Pusher::Kind::kSightingsBack);
  Status st = back.Run();
  if (!st.ok()) {
    r.ok = false;
    r.sightings.error = st.NamedMessage();
  }
  if (Status audited = back.Audit(st); !audited.ok() && st.ok()) {
    r.ok = false;
    r.sightings.error = "audit: " + audited.NamedMessage();
  }
}

// The witness exchange (audit/witness.h): POST this hub's signed head, keep
// the peer's. The pass's own records are flushed first, so the head handed
// over covers them.
Status WitnessExchange(const PassOptions& a, SyncHub& hub, const Peer& p,
                       Clock::time_point deadline, WitnessResult& w) {
  w.attempted = true;
  CTIHUB_RETURN_IF_ERROR(hub.trail->Flush());
  CTIHUB_ASSIGN_OR_RETURN(audit::SignedHead mine, audit::ReadSignedHead(a.data));
  CTIHUB_ASSIGN_OR_RETURN(tc::ClientOptions o, PeerClientOptions(a.data, p));
  o.operation_timeout =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
               std::chrono::milliseconds(1));
  o.request_timeout = std::chrono::milliseconds(static_cast<int64_t>(a.request_timeout_s * 1000));
  o.transport.connect_timeout = std::min(o.request_timeout, o.transport.connect_timeout);
  o.max_attempts = a.attempts;
  CTIHUB_ASSIGN_OR_RETURN(std::unique_ptr<tc::Client> client, tc::Client::Create(p.url, o));
  CTIHUB_ASSIGN_OR_RETURN(std::string answer,
                          client->CallHubApi("POST", "/api/v1/witness",
                                             "{\"head\":" + audit::SignedHeadJson(mine) + "}"));
  json::JsonParser parser;
  auto root = parser.Parse(answer);
  simdjson::dom::element held, theirs;
  if (!root.ok() || (*root)["held"].get(held) != simdjson::SUCCESS ||
      (*root)["head"].get(theirs) != simdjson::SUCCESS)
    return InvalidArgument("bad_witness_answer", p.url + ": not a witness answer");
  if (auto ack = audit::ParseSignedHead(held);
      ack.ok() && ack->seq == mine.seq && ack->hash == mine.hash) {
    w.acknowledged_seq = ack->seq;
    w.acknowledged_hash = ack->hash;
  } else {
    return InvalidArgument("witness_not_acknowledged",
                           p.url + ": the peer does not hold the head it was handed");
  }
  CTIHUB_ASSIGN_OR_RETURN(audit::SignedHead head, audit::ParseSignedHead(theirs));
  CTIHUB_RETURN_IF_ERROR(audit::HoldPartnerHead(a.data, audit::PartnerKind::kPeer, p.name, head));
  w.held_seq = head.seq;
  return Status::Ok();
}

// A peer that is no ctihub (no /api/v1/witness) is noted, not failed; any
// other error fails the pass: a partner whose trail went back is an alarm.
void ExchangeWitness(const PassOptions& a, SyncHub& hub, const Peer& p, Clock::time_point deadline,
                     PeerResult& r) {
  Status st = WitnessExchange(a, hub, p, deadline, r.witness);
  if (st.ok()) return;
  if (st.name() == "not_found") {
    r.witness.note = "the peer keeps no audit witness";
    return;
  }
  r.ok = false;
  r.witness.error = st.NamedMessage();
}

// Adds the pass to the peer's totals (sync/peer_stats.h: /metrics, `peer
// show`). Still under the peer's lock. The totals are observability: a file
// that cannot be written is said in the pass's note, the pass keeps its result.
void RecordTotals(const PassOptions& a, PeerResult& r) {
  sync::PassCounts c;
  c.ok = r.ok;
  c.error = !r.error.empty()             ? r.error
            : !r.push.error.empty()      ? r.push.error
            : !r.sightings.error.empty() ? r.sightings.error
                                         : r.witness.error;
  c.witness_acknowledged_seq = r.witness.acknowledged_seq;
  c.witness_held_seq = r.witness.held_seq;
  c.pulled = r.summary.read;
  c.stored = r.summary.stored;
  c.refused = r.summary.rejected;
  c.pushed = r.push.pushed;
  c.push_failed = r.push.failed;
  c.sightings_back = r.sightings.pushed;
  Status st = sync::RecordPass(a.data, r.name, c, Timestamp::Now().ToString());
  if (!st.ok()) r.note += (r.note.empty() ? "" : "; ") + ("totals not saved: " + st.NamedMessage());
}

}  // namespace

PeerResult RunPeerPass(const PassOptions& a, SyncHub& hub, const Peer& p) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(a.timeout_s * 1000));
  PeerResult r;
  r.name = p.name;
  r.direction = p.direction;
  // Held until the pass returns, on every path (one writer of the cursors).
  auto lock = sync::PeerLock::Acquire(a.data, p.name);
  if (!lock.ok()) {
    r.ok = false;
    r.busy = lock.status().name() == "peer_busy";
    r.error = lock.status().NamedMessage();
    return r;
  }
  if (p.direction != "push") {
    r.pulled = true;
    Status st = Pull(a, hub, p, r);
    if (!st.ok()) {
      r.ok = false;
      r.error = st.NamedMessage();
    }
    if (Status audited = AuditPass(*hub.trail, p, r); !audited.ok() && r.ok) {
      r.ok = false;
      r.error = "audit: " + audited.NamedMessage();
    }
  }
  if (p.direction == "pull" && !Stopping(a)) SendSightingsBack(a, hub, p, deadline, r);
  if (p.direction != "pull" && !Stopping(a)) {
    Pusher pusher(a, hub, p, deadline, r.push);
    Status st = pusher.Run();
    if (!st.ok()) {
      r.ok = false;
      r.push.error = st.NamedMessage();
    }
    if (Status audited = pusher.Audit(st); !audited.ok() && st.ok()) {
      r.ok = false;
      r.push.error = "audit: " + audited.NamedMessage();
    }
  }
  // Only after a pass that could reach the peer: a down peer fails once.
  if (r.ok && !Stopping(a)) ExchangeWitness(a, hub, p, deadline, r);
  RecordTotals(a, r);
  return r;
}

namespace {

std::string ReasonsText(const std::map<std::string, int64_t>& by_reason) {
  std::string out;
  for (const auto& [reason, n] : by_reason)
    out += (out.empty() ? " (" : ", ") + reason + " " + std::to_string(n);
  return out.empty() ? out : out + ")";
}

}  // namespace

std::string PassLine(const PeerResult& r) {
  std::string out = r.name + (r.ok ? "\tok" : "\tFAILED");
  if (r.pulled) {
    const Summary& s = r.summary;
    out += "\tpulled " + std::to_string(s.read) + "\tstored " + std::to_string(s.stored) +
           "\talready present " + std::to_string(s.already_present) + "\trefused " +
           std::to_string(s.rejected) + ReasonsText(s.rejected_by_reason);
  }
  if (r.push.attempted) {
    out += "\tpushed " + std::to_string(r.push.pushed) + "\tfailed " +
           std::to_string(r.push.failed) + ReasonsText(r.push.failed_by_reason);
  } else {
    out += "\tpushed -";
  }
  if (r.sightings.sent > 0 || !r.sightings.error.empty())
    out += "\tsightings back " + std::to_string(r.sightings.pushed) + " (failed " +
           std::to_string(r.sightings.failed) + ")";
  if (!r.error.empty()) out += "\terror: " + r.error;
  if (!r.push.error.empty()) out += "\tpush error: " + r.push.error;
  if (!r.sightings.error.empty()) out += "\tsightings back error: " + r.sightings.error;
  if (r.witness.acknowledged_seq > 0)
    out += "\twitness " + std::to_string(r.witness.acknowledged_seq) + " acknowledged";
  if (!r.witness.error.empty()) out += "\twitness error: " + r.witness.error;
  if (!r.witness.note.empty()) out += "\twitness: " + r.witness.note;
  if (!r.note.empty()) out += "\tnote: " + r.note;
  return out;
}

namespace {

void PrintText(const std::vector<PeerResult>& results) {
  for (const PeerResult& r : results) std::printf("%s\n", PassLine(r).c_str());
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
    const PushResult& pr = r.push;
    if (pr.attempted) {
      w.Key("pushed").Int(pr.pushed).Key("push_sent").Int(pr.sent);
      w.Key("push_failed").Int(pr.failed).Key("push_failed_by_reason").BeginObject();
      for (const auto& [reason, n] : pr.failed_by_reason) w.Key(reason).Int(n);
      w.EndObject().Key("push_failures").BeginArray();
      for (const PushFailure& f : pr.failures) {
        w.BeginObject().Key("object").String(f.object).Key("version").String(f.version);
        w.Key("reason").String(f.reason).EndObject();
      }
      w.EndArray().Key("posts").Int(pr.posts).Key("push_cursor").String(pr.cursor);
      if (!pr.error.empty()) w.Key("push_error").String(pr.error);
    } else {
      w.Key("pushed").Null();
    }
    if (r.sightings.attempted) {
      w.Key("sightings_back").BeginObject().Key("sent").Int(r.sightings.sent);
      w.Key("pushed").Int(r.sightings.pushed).Key("failed").Int(r.sightings.failed);
      w.Key("cursor").String(r.sightings.cursor);
      if (!r.sightings.error.empty()) w.Key("error").String(r.sightings.error);
      w.EndObject();
    }
    if (r.witness.attempted) {
      w.Key("witness").BeginObject().Key("acknowledged_seq").Int(r.witness.acknowledged_seq);
      w.Key("acknowledged_hash").String(r.witness.acknowledged_hash);
      w.Key("held_seq").Int(r.witness.held_seq);
      if (!r.witness.note.empty()) w.Key("note").String(r.witness.note);
      if (!r.witness.error.empty()) w.Key("error").String(r.witness.error);
      w.EndObject();
    }
    if (!r.error.empty()) w.Key("error").String(r.error);
    if (!r.note.empty()) w.Key("note").String(r.note);
    w.EndObject();
  }
  w.EndArray().EndObject();
  std::printf("%s\n", out.c_str());
}

int RunSync(const SyncArgs& a) {
  auto peers = LoadPeers(a.pass.data);
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
  auto hub = OpenHub(a.pass.data, a.db);
  if (!hub.ok()) {
    std::fprintf(stderr, "ctihub sync: %s\n", hub.status().ToString().c_str());
    return kExitError;
  }
  std::vector<PeerResult> results;
  bool all_ok = true;
  for (const Peer& p : chosen) {
    results.push_back(RunPeerPass(a.pass, hub->view, p));
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
  a->pass.data = kDefaultDataDir;
  auto* cmd = app.add_subcommand("sync", "one exchange pass with peers now (pull, then push)");
  cmd->add_option("name", a->names, "peers to sync (default: every peer)");
  cmd->add_option("--data", a->pass.data, "data directory")->capture_default_str();
  cmd->add_option("--db", a->db,
                  "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db; peers and "
                  "their cursors stay in the data directory")
      ->envname("CTIHUB_DB");
  cmd->add_flag("--json", a->json, "print the summary as one JSON object");
  cmd->add_option("--timeout", a->pass.timeout_s, "seconds per peer, pull and push (default 3600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--request-timeout", a->pass.request_timeout_s,
                  "seconds for one request (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--attempts", a->pass.attempts,
                  "attempts per request, retries included (default 4)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--limit", a->pass.limit,
                  "page size asked of the peers; versions per push POST (at most 1000)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--pause-ms-for-test", a->pass.pause_ms_for_test)->group("");
  cmd->callback([a, exit_code] {
    a->pass.quiet = a->json;
    *exit_code = RunSync(*a);
  });
}

}  // namespace ctihub::cli
