// The audit trail: an append-only, hash-chained record of who did what.
//
// Each record carries the SHA-256 of the previous record (prev_hash) and its
// own hash over its canonical JSON (RFC 8785) including prev_hash, so changing
// a byte, deleting or reordering records breaks the chain. After every commit
// the head (last seq + hash) is signed with the node's Ed25519 key, and every
// `checkpoint_every` records a signed checkpoint is kept, so cutting records
// off the end is detected too.
//
// Storage: its own SQLite file DATA/audit.db in WAL mode, separate from the
// object store. AuditLog::Append only enqueues (a mutex and a deque); one
// appender thread assigns seq numbers, chains, batches and commits, so reads
// never wait on audit I/O. Append blocks only when `max_queue` records are
// pending (back-pressure when the disk cannot keep up).
//
// Several processes may append to the same DATA/audit.db at once (the server
// and CLI admin commands such as `ctihub user add`): each commit takes the
// SQLite write lock (BEGIN IMMEDIATE) and re-reads the chain head under it, so
// the chain stays one line with contiguous seq numbers. They must share
// DATA/node.key (they do: it is created once, O_EXCL).
//
// AuditLog is thread-safe. The read functions (Verify, Query, WhoSaw) open
// their own read-only connection and may run concurrently with an AuditLog.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"

namespace ctihub::audit {

// Stable action names (what `audit show --action` filters on).
namespace action {
// The first record of a hub's trail (ctihub init): details {"public_key": HEX}.
inline constexpr std::string_view kHubInit = "hub.init";
inline constexpr std::string_view kRequest = "request";               // every authenticated request
inline constexpr std::string_view kObjectWritten = "object.written";  // object versions written
inline constexpr std::string_view kObjectServed = "object.served";    // object versions served
// Object versions deleted (TAXII DELETE): one record naming every deleted version.
inline constexpr std::string_view kObjectDeleted = "object.deleted";
inline constexpr std::string_view kExport = "export";  // object versions exported
inline constexpr std::string_view kLoginFailed = "login.failed";
inline constexpr std::string_view kOrgChanged = "org.changed";      // organisation added
inline constexpr std::string_view kUserChanged = "user.changed";    // user added or removed
inline constexpr std::string_view kTokenChanged = "token.changed";  // API token created or revoked
// Collection added or removed, API root added or updated.
inline constexpr std::string_view kCollectionChanged = "collection.changed";
inline constexpr std::string_view kAgreementChanged = "agreement.changed";
// `ctihub policy import`: policy documents copied into the database, details
// {"documents": [{"name", "sha256"}], "revision"}.
inline constexpr std::string_view kPolicyImported = "policy.imported";
inline constexpr std::string_view kPolicyOverride =
    "policy.override";  // e.g. PAP override on export
// The store and the trail were reconciled at start-up (ReconcileWrites).
inline constexpr std::string_view kStoreReconciled = "store.reconciled";
// One `ctihub sync` pull pass with a peer: counts, refusals with reasons, the
// cursor reached, or the error (the versions stored: its object.written records).
inline constexpr std::string_view kSyncPulled = "sync.pulled";
// `ctihub sync` push to a peer: records naming the object versions handed to
// the peer's organisation (the record's org) with their grants, each appended
// and flushed before its POST, and one record per pass with the counts,
// failures with reasons, the push cursor, or the error (no objects).
inline constexpr std::string_view kSyncPushed = "sync.pushed";
// A partner hub handed its signed audit head to keep as a witness
// (POST /api/v1/witness): details {seq, hash, public_key} of what is now held,
// or the refusal (a head behind the one held: the partner's trail went back).
inline constexpr std::string_view kWitnessHeld = "witness.held";
}  // namespace action

// The actor of the records the hub appends for itself at start-up.
inline constexpr std::string_view kRecoveryActor = "hub:recovery";

struct ObjectRef {
  ObjectRef() = default;
  ObjectRef(std::string id_, std::string version_, std::string grant_ = {}, bool redacted_ = false)
      : id(std::move(id_)),
        version(std::move(version_)),
        grant(std::move(grant_)),
        redacted(redacted_) {}

  std::string id;
  std::string version;  // the version's `modified` (or created) timestamp text
  // For a served copy: the grant that allowed it (policy::Decision::via:
  // "own", "public", "community:X", "agreement:A", "reshare:A>B", "named");
  // "" where none applies (written, deleted; records before 2026-12-04).
  std::string grant;
  bool redacted = false;  // the copy was served with properties removed (kServeRedacted)
};

struct Record {
  int64_t seq = 0;   // assigned by the log
  Timestamp time;    // set by Append when zero (epoch)
  std::string user;  // actor login name ("" anonymous, "cli:NAME" for local commands)
  std::string org;
  std::string action;
  std::string route;   // "GET /taxii2/...", "cli agreement add", ...
  int status = 0;      // HTTP status or CLI exit code
  std::string remote;  // remote address
  std::vector<ObjectRef> objects;
  std::string details;    // a JSON object's text; canonicalised on Append ("{}" when empty)
  std::string prev_hash;  // hex; assigned by the log
  std::string hash;       // hex; assigned by the log
};

// The actor of a local command: "cli:" + the login name of the real user id
// (getpwuid; getlogin() when the uid has no passwd entry; else the uid
// number). Never taken from the environment ($USER can be set to anything).
std::string LocalActor();

// The text the hash covers: canonical JSON of every field except `hash`.
std::string CanonicalRecord(const Record& r);
// A record's object list as CanonicalRecord writes it ([[id, version, grant?,
// redacted?], ...]); entries that cannot be read are skipped.
std::vector<ObjectRef> ParseObjectList(std::string_view objects_json);
std::string ComputeHash(const Record& r);

// The node's Ed25519 key pair: DATA/node.key (64-byte libsodium secret key,
// hex, mode 0600), created on first use. Its public half is pinned in
// DATA/audit.pub (hex), the key `Verify` checks against unless given one.
struct NodeKey {
  std::string public_key;  // 32 bytes raw
  std::string secret_key;  // 64 bytes raw
  std::string PublicHex() const;
  std::string Sign(std::string_view message) const;  // 64-byte detached signature, hex
};
Result<NodeKey> LoadOrCreateNodeKey(const std::string& path);
Result<NodeKey> LoadNodeKey(const std::string& path);  // NotFound when absent
// DATA/audit.pub: the pinned public key, raw 32 bytes. NotFound when absent.
Result<std::string> LoadPinnedKey(const std::string& data_dir);
bool VerifySignature(std::string_view public_key_raw, std::string_view message,
                     std::string_view signature_hex);

struct Options {
  int64_t checkpoint_every = 1000;
  size_t max_queue = 100000;
  // Append also blocks while this many object refs are queued (an export
  // record names up to 10,000): the queue's memory is bounded by refs, not
  // only by records. A record is always admitted to an empty queue.
  size_t max_queue_objects = 100000;
  size_t max_batch = 2000;
  // Export records' index rows gather in audit_object_recent and are moved,
  // sorted, into audit_export_object (keyed by a hash bucket of the id, then
  // seq) once this many have gathered: one append per bucket per merge
  // instead of one random B-tree insert per row (README.md). Lookups by
  // object scan the unmerged rows, so this also bounds that scan.
  int64_t index_merge_rows = 2000000;
  bool sign = true;  // sign head and checkpoints with DATA/node.key
};

// Where the request path appends records: an AuditLog, or a test double
// (audit/testing/failing_sink.h). Implementations are thread-safe.
class Sink {
 public:
  virtual ~Sink() = default;
  // Enqueues a record; not OK when the trail cannot take it (the caller must
  // then fail the request: no read path may go unaudited).
  virtual Status Append(Record r) = 0;
  // Waits until everything appended before the call is committed.
  virtual Status Flush() = 0;
};

class AuditLog : public Sink {
 public:
  // Opens (creating if needed) DATA/audit.db and starts the appender thread.
  // With `sign`, DATA/node.key is created (and pinned in DATA/audit.pub) only
  // for a new trail: a missing key when the trail has records or a pin, or a
  // key that is not the pinned one, is an error (FailedPrecondition-like
  // Unavailable), never a fresh key that would silently re-sign the trail.
  // Unavailable/Internal on I/O or SQLite errors.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& data_dir, Options options = {});
  ~AuditLog() override;  // drains the queue, commits, stops the thread

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Enqueues a record. InvalidArgument for details that are not a JSON object;
  // Unavailable once the log has failed (the caller must then fail the request:
  // no read path may go unaudited).
  Status Append(Record r) override;
  // Waits until everything appended before the call is committed.
  Status Flush() override;

  int64_t committed_seq() const;
  // The node's public key (hex); empty when the log does not sign.
  std::string public_key_hex() const { return key_ ? key_->PublicHex() : std::string(); }

 private:
  AuditLog() = default;
  void Run();
  Status CommitBatch(std::vector<Record>& batch);

  struct Db;
  std::unique_ptr<Db> db_;
  Options options_;
  std::optional<NodeKey> key_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // appender waits for records
  std::condition_variable done_cv_;  // Flush and back-pressure wait for commits
  std::deque<Record> queue_;
  size_t queued_objects_ = 0;  // guarded by mu_: refs in queue_
  uint64_t enqueued_ = 0;      // guarded by mu_
  uint64_t committed_ = 0;     // guarded by mu_
  int64_t committed_seq_ = 0;
  bool stop_ = false;
  Status failed_;
  std::thread thread_;

  // Appender-thread state: the chain head, re-read from the database at the
  // start of every commit (another process may have appended).
  int64_t last_seq_ = 0;
  std::string last_hash_;
};

// REQUIRES: the trail is not being appended to. The number of export index
// rows not yet merged into the main object index (tests, docs).
Result<int64_t> UnmergedIndexRowsForTest(const std::string& data_dir);

// ---------------------------------------------------------------- reading

struct StoredVersion;
using StoredVersionLister =
    std::function<Result<std::vector<StoredVersion>>(int64_t after_us, size_t limit)>;

struct VerifyReport {
  bool intact = true;
  int64_t records = 0;
  int64_t checkpoints = 0;
  bool signed_head = false;      // the head signature was checked
  int64_t first_broken_seq = 0;  // when !intact; 0 when no one record is at fault
  std::string reason;            // when !intact
  std::string head_hash;
  bool store_checked = false;  // cross-checked against the store's versions
};

struct VerifyOptions {
  // The key to check signatures against (hex). Empty: DATA/audit.pub; with
  // neither, Verify is an error (it never reports intact unchecked).
  std::string public_key_hex;
  // With a lister, an intact chain is also cross-checked against the store:
  // every stored version must have its object.written record.
  StoredVersionLister store_versions;
  // A head or checkpoint seen elsewhere (`audit verify` prints the head as
  // SEQ:HASH): the trail must still hold record `expect_seq` with that hash,
  // so a truncation (even re-signed with the node key) is detected.
  int64_t expect_seq = 0;
  std::string expect_hash;
};

// Walks the whole chain and checks the head's and every checkpoint's
// signature against the pinned key; the head signs the number of checkpoints
// too, so deleting some is detected. An empty trail is broken (a hub's trail
// starts with hub.init; an emptied one must not pass). Errors (NotFound,
// Unavailable, InvalidArgument) when the file cannot be read or there is no
// key to check against.
Result<VerifyReport> Verify(const std::string& data_dir, const VerifyOptions& options);

struct Filter {
  std::string user;
  std::string org;
  std::string object_id;
  std::string action;
  std::optional<Timestamp> since;  // inclusive
  std::optional<Timestamp> until;  // exclusive
  // Records of this organisation, plus records of any other that name
  // objects (the caller screens those: taxii's GET /api/v1/audit for an
  // organisation's auditor). Combines with `org` (AND).
  std::string org_or_naming_objects;
  int64_t after_seq = 0;      // records with seq > after_seq (paging oldest first)
  int64_t before_seq = 0;     // records with seq < before_seq (paging newest first)
  bool newest_first = false;  // order by seq descending
  int64_t limit = 1000;       // 0: no limit
};
// The records matching `filter`, in seq order (descending with newest_first),
// at most `limit`. NotFound without a trail; Unavailable on SQLite errors.
Result<std::vector<Record>> Query(const std::string& data_dir, const Filter& filter);
// How many records match `filter`, whatever its after_seq, before_seq and limit
// (for "showing 50 of 1234").
Result<int64_t> Count(const std::string& data_dir, const Filter& filter);

struct Viewing {
  int64_t seq = 0;
  Timestamp time;
  std::string user;
  std::string org;
  std::string version;
  std::string action;  // object.served, export or sync.pushed
  std::string route;
  std::string grant;  // ObjectRef::grant of the copy ("" in records before it was kept)
  bool redacted = false;
  std::string node;  // the node whose trail holds it (WhoSawInChains; "" from WhoSaw)
};
// Every principal served, exported or pushed to (sync.pushed: the peer's
// organisation) any version of the object, oldest first.
Result<std::vector<Viewing>> WhoSaw(const std::string& data_dir, std::string_view object_id);
// Where each version of the object came from: its object.written records,
// oldest first (route "sync peer NAME COLLECTION" for a version pulled from a
// peer, "cli import ...", "POST /..." for a TAXII client; user and org of the
// writer).
Result<std::vector<Viewing>> WhereFrom(const std::string& data_dir, std::string_view object_id);
// The peer a written record's route names ("sync peer NAME ..."), else "".
std::string SourcePeer(std::string_view route);

// ------------------------------------------------- store <-> trail cross-check
//
// Every stored object version must have an `object.written` record. The
// store write and its record are two commits in two files, so a crash between
// them loses the record: ReconcileWrites, run at start-up before serving,
// appends the missing ones (marked recovered). The audit module does not know
// the store: the caller lists its versions through a StoredVersionLister.

struct StoredVersion {
  int64_t date_added_us = 0;  // strictly increasing across the store
  ObjectRef ref;              // version as Timestamp::ToString() of the stored version
};
// StoredVersionLister (declared above Verify): up to `limit` stored versions
// with date_added > after_us, in date_added order.

// Stored versions with date_added > after_us that have no object.written
// record (a record naming the object with that version, or with no version:
// objects without one are written once). `*through` (optional) receives the
// last date_added listed (after_us when none).
Result<std::vector<ObjectRef>> UnrecordedVersions(const std::string& data_dir,
                                                  const StoredVersionLister& list,
                                                  int64_t after_us = 0, int64_t* through = nullptr);

struct ReconcileReport {
  int64_t checked_after = 0;  // the previous reconciliation's watermark
  int64_t through = 0;        // every version added up to here now has its record
  int64_t recovered = 0;      // object.written records appended for versions without one
};
// Appends an object.written record by kRecoveryActor (details
// {"recovered":true,...}) for every version added since the last
// reconciliation that has none, then a store.reconciled record whose details
// carry the watermark {"through_date_added": N}, and flushes. REQUIRES: this
// process has not written to the store yet (call it before serving).
Result<ReconcileReport> ReconcileWrites(AuditLog& log, const std::string& data_dir,
                                        const StoredVersionLister& list);

// One record as a JSON object (for --json and GET /api/v1/audit).
std::string RecordToJson(const Record& r);

}  // namespace ctihub::audit
