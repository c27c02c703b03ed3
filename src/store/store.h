// Store: the backend-neutral persistence interface of the hub.
//
// Everything the hub keeps goes through this interface: organisations, users,
// API tokens, API roots, collections, STIX object versions (as canonical JSON
// plus the columns queries need), TAXII status resources. The SQLite backend
// (sqlite_store.h) is the embedded default; PostgreSQL (postgres/postgres_store.h)
// serves many hub nodes over one database. Nothing
// above this interface may depend on SQL.
//
// Thread-safety: every method may be called from any thread concurrently.
// Writes of objects go through one writer that batches commits; a write is
// acknowledged (its future resolves, its status says "complete") only once the
// transaction is durable (fsync'd).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"

namespace ctihub::store {

// ---- identities ---------------------------------------------------------------

struct Organisation {
  int64_t id = 0;
  std::string name;         // unique, used on the CLI and in collection ACLs
  std::string identity_id;  // STIX identity id used as created_by_ref (may be empty)
};

// kAuditor reads its own organisation's audit records; kHubAuditor, a
// separate and explicit role, reads the whole trail.
enum class Role { kAdmin, kPublisher, kReader, kAuditor, kHubAuditor };
std::string_view RoleName(Role r);
Result<Role> ParseRole(std::string_view s);

struct User {
  int64_t id = 0;
  std::string name;  // unique login name
  int64_t org_id = 0;
  std::string org_name;  // filled on reads
  Role role = Role::kReader;
  std::string
      password_hash;  // libsodium crypto_pwhash_str (Argon2id) output; empty = no password login
  bool disabled = false;
};

struct ApiToken {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string token_hash;  // hex SHA-256 of the secret; the secret itself is never stored
  std::string label;
  Timestamp created;
  bool revoked = false;
};

// ---- TAXII resources --------------------------------------------------------------

struct ApiRoot {
  std::string name;  // path segment under the server, e.g. "api1"
  std::string title;
  std::string description;
  int64_t max_content_length = int64_t{10} * 1024 * 1024;
};

struct Collection {
  std::string id;        // UUID (string form)
  std::string api_root;  // ApiRoot::name
  std::string title;
  std::string description;
  std::string alias;
  // Access lists: entries are "org:NAME" or "user:NAME". Decided by auth::Access.
  std::vector<std::string> readers;
  std::vector<std::string> writers;
};

// What the sharing policy (src/policy) needs of an object version, kept in
// columns beside it so a page is decided without parsing every object. The
// codes are policy::Tlp / policy::Pap values; the store only compares them.
struct AccessFacts {
  std::string producer;  // STIX identity id of the producing organisation ("" unknown)
  int tlp = -1;          // highest TLP among object_marking_refs; -1: unmarked
  int pap = -1;          // highest PAP among object_marking_refs; -1: unmarked
  std::vector<std::string> recipient_orgs;  // TLP:RED recipients (identity ids)
  bool granular_levels = false;             // some granular marking carries a TLP or PAP
  // Their highest TLP and PAP codes (-1: none of that kind), when
  // granular_max_known; rows written before the store kept them have only
  // the flag above.
  bool granular_max_known = false;
  int granular_max_tlp = -1;
  int granular_max_pap = -1;
  // false for versions stored before the columns existed (schema 1): the
  // caller must read the facts from the JSON. Such rows always pass a scope.
  bool known = true;
};

// A read's pre-filter: an upper bound of what one reader may see, so a reader
// with little access does not scan everything. The policy decides each row
// that passes (ObjectQuery::admit); the scope only has to never drop a row the
// policy would serve. A row passes when any of these holds:
//   producer == own_producer (non-empty);
//   effective TLP <= any_producer_max;
//   producer == g.producer, effective TLP <= g.max_tlp, type in g.types (empty = any);
//   red_if_named and own_producer is in recipient_orgs (any TLP: the policy's
//   "named" grant serves such objects whatever their level);
//   the row's facts are not known.
// The effective TLP of an unmarked row (tlp -1) is `unmarked_tlp`.
struct AccessScope {
  bool none = false;  // nothing passes
  std::string own_producer;
  int any_producer_max = 0;
  int unmarked_tlp = 2;
  struct Grant {
    std::string producer;
    int max_tlp = 0;
    std::vector<std::string> types;
  };
  std::vector<Grant> grants;
  bool red_if_named = false;
};

// One stored version of a STIX object.
struct ObjectVersion {
  std::string id;  // "type--uuid"
  std::string type;
  std::string spec_version;  // "2.1" or "2.0"
  // The version: `modified`, else `created`, else date_added (SCOs, some markings).
  Timestamp version;
  int64_t date_added_us = 0;  // server-assigned, strictly increasing across the store
  std::string collection_id;
  std::string json;  // canonical JSON (RFC 8785) of the object as stored
  AccessFacts access;
};

// What a writer hands to the store: date_added is assigned by the store.
struct NewObject {
  std::string id;
  std::string type;
  std::string spec_version;
  Timestamp version;
  bool has_version = false;  // false: the store uses date_added as the version
  std::string json;          // canonical JSON
  AccessFacts access;        // stored in columns beside the JSON (`known` is ignored)
  // The federation peer the version was pulled from (`ctihub sync`); "" for
  // anything else. Kept in a column: a push to that peer leaves it out
  // (ObjectQuery::not_from_peer), so what a peer sent is never echoed back.
  std::string source_peer;
};

enum class VersionSelector { kLast, kFirst, kAll };

// Filters of the TAXII objects/manifest/versions endpoints.
struct ObjectQuery {
  std::string collection_id;
  std::optional<int64_t> added_after_us;  // strictly after
  std::vector<std::string> ids;           // match[id]
  std::vector<std::string> types;         // match[type]
  // Leaves out the versions pulled from this peer (NewObject::source_peer);
  // "" leaves nothing out.
  std::string not_from_peer;
  // match[spec_version]; empty = the object's latest spec version.
  //
  // How the two TAXII filters combine. TAXII 2.1 (section 3.4.2) says "If no
  // spec_version parameter is provided, the server MUST return only the latest
  // specification version that it can provide for each object matching the
  // remainder of the request" and "If no version parameter is provided, the
  // server MUST return only the latest version for each object matching the
  // remainder of the request": each rule refers to the other, and the order is
  // left open (OASIS cti-taxii2 issue #114, an errata item). The hub applies the
  // spec-version filter first and match[version] among the versions it passes:
  // `first`/`last` are the oldest/newest version *in the requested (or the
  // object's latest) spec version(s)*, since "the latest specification version
  // that it can provide for each object" is a property of the object, and a
  // client that reads only 2.1 asks for the newest version it can read. So an
  // object always shows up while it has a version in the requested spec
  // versions: a 2.0 version modified after 2.1 ones does not hide it. Example,
  // versions 2.1@Jan, 2.1@Feb, 2.0@Mar: default -> 2.1@Feb; first -> 2.1@Jan;
  // spec 2.0 -> 2.0@Mar; spec 2.0,2.1 + last -> 2.0@Mar, + first -> 2.1@Jan.
  std::vector<std::string> spec_versions;
  // match[version]: any of first/last/all and explicit timestamps, applied
  // among the versions that pass `spec_versions` (above).
  bool version_first = false;
  bool version_last = true;  // the TAXII default
  bool version_all = false;
  std::vector<Timestamp> versions;
  size_t limit = 1000;
  std::string next;          // opaque cursor from a previous page
  bool include_json = true;  // false for manifest queries (ignored when `admit` is set)

  // Access control (src/policy). `scope` pre-filters in the backend. `admit`
  // is called for each row that passes every filter, in date_added order,
  // with its JSON and facts; false withholds the row exactly as if it were
  // absent, and it may replace `json` (a redacted copy). With `admit`:
  //  - `objects` holds up to `limit` admitted rows;
  //  - `more` is true only if another admitted row follows (the store looks
  //    ahead), or if `max_scan` rows were examined first;
  //  - `next` resumes after the last admitted row (or, when the scan budget
  //    ran out, after the last examined row);
  //  - match[version] `first`/`last` are taken among the admitted versions
  //    (a withheld version is absent for them too), so the callbacks are
  //    also called, out of date_added order and possibly more than once per
  //    version, on other versions of an object the store is deciding about.
  //    They must decide a version the same way each time.
  // `screen` (optional, with `admit`) is called first with only the row's
  // type, date_added and access facts filled in; false withholds the row
  // without reading the rest of it (a caller that already knows the answer
  // from the facts saves reading the JSON). It must never refuse a row
  // `admit` would admit. Neither callback may call back into the store: the
  // SQLite store holds a reader connection while they run.
  std::optional<AccessScope> scope;
  std::function<bool(const ObjectVersion&)> screen;
  std::function<bool(ObjectVersion&)> admit;
  size_t max_scan = 0;  // rows examined per call at most; 0: 20 * limit + 10000
};

struct ObjectPage {
  std::vector<ObjectVersion> objects;
  bool more = false;
  std::string next;  // set when more is true
};

// TAXII 2.1 status resource.
struct StatusDetail {
  std::string id;
  std::string version;  // timestamp text of the object version
  std::string message;
};
struct StatusResource {
  std::string id;  // UUID
  std::string api_root;
  int64_t user_id = 0;  // the requester; only they may read it
  std::string status;   // "pending" or "complete"
  Timestamp request_timestamp;
  int64_t total_count = 0;
  int64_t success_count = 0;
  int64_t failure_count = 0;
  int64_t pending_count = 0;
  std::vector<StatusDetail> successes;
  std::vector<StatusDetail> failures;
  std::vector<StatusDetail> pendings;
};

// One stored version as crash recovery and the audit cross-check list them.
struct StoredVersionRef {
  int64_t date_added_us = 0;
  std::string collection_id;
  std::string id;
  Timestamp version;  // as ObjectVersion::version (date_added for objects without one)
};

// What a collection holds, in two numbers that change whenever its content
// does (a write adds a newer date_added, a delete lowers the count): the
// export's ETag is made of them, before any object is read.
struct CollectionState {
  int64_t versions = 0;              // stored object versions
  int64_t newest_date_added_us = 0;  // 0 when empty
};

// Full-text search of the web console (GET /api/v1/search, docs/API.md).
// Each stored version keeps a text (SearchTextOf) in the backend's index,
// written in the writer's transaction and removed with the version.
struct SearchQuery {
  // Words the text must all hold (AND), each matching as the prefix of a
  // token: tokens are runs of letters, digits and the joiners . - _ (so
  // "198.51.100.7" and "evil.example.com" are one token each; SearchTextOf
  // also indexes their pieces), compared without case (and, in SQLite,
  // without diacritics); a word of several tokens ("evil/x") matches them in
  // order, adjacent. Plain text: the backend quotes every word itself, so no
  // query syntax reaches its index. A word without any letter or digit
  // matches nothing. Empty: every object.
  std::vector<std::string> words;
  std::vector<std::string> collection_ids;     // only these collections (empty: nothing)
  std::vector<std::string> types;              // empty: any type
  std::vector<int> tlps;                       // AccessFacts::tlp codes (-1 unmarked); empty: any
  std::vector<std::string> producers;          // AccessFacts::producer identity ids; empty: any
  std::optional<int64_t> added_after_us;       // date_added strictly after
  std::optional<int64_t> added_before_us;      // date_added strictly before
  std::optional<int64_t> below_date_added_us;  // resume a walk: date_added strictly below
};

// One object a search walk found: its newest version (collection_id, json
// and access facts filled). Its text is SearchTextOf(object.json): not read
// from the index, which would cost a lookup per candidate.
struct SearchHit {
  ObjectVersion object;
};

// The text the search index keeps for an object version: name, description,
// labels, aliases, *_types vocabularies, the quoted literals of an indicator's
// pattern (the values it matches), and observable values (value, hashes, path,
// key, ...). One line per value; with `parts`, a value holding . - or _ is
// followed by a line of its pieces (what the index keeps; without: what a
// snippet shows). "" for text that is not a JSON object.
std::string SearchTextOf(std::string_view json, bool parts = true);
// Whether `text` holds every word as SearchQuery::words says, decided in
// memory (the in-memory store; a redacted copy re-checked above the store).
// Tokens are ASCII letters, digits and . - _, case-folded; any byte >= 0x80 counts as
// a letter (SQLite's Unicode tokenizer also folds diacritics: non-ASCII text
// may match there and not here).
bool SearchTextMatches(std::string_view text, const std::vector<std::string>& words);
// For an index over tokens (PostgreSQL's GIN over a tsvector): the distinct
// tokens of SearchTextOf(json) as SearchTextMatches sees them, sorted,
// joined by spaces (a token holds none), each cut to 2000 bytes.
std::string SearchLexemesOf(std::string_view json);
// The tsquery text that pre-selects what `words` may match in such an index:
// every token of every word as a quoted prefix ('tok':*), ANDed; "" when a
// word has no token (it matches nothing). A pre-selection only: phrases and
// token order are checked afterwards with SearchTextMatches.
std::string SearchTsQuery(const std::vector<std::string>& words);

// The ids an object version references through its top-level *_ref and *_refs
// properties (source_ref, target_ref, sighting_of_ref, where_sighted_refs,
// object_refs, ...), each once, in order of appearance; not created_by_ref
// and object_marking_refs, which nearly every object carries. What the
// backends' reference index keeps for the version (Store::ReferencesTo).
// Empty for text that is not a JSON object.
std::vector<std::string> ReferencedIdsOf(std::string_view json);
// The same references with the property naming each ("target_ref",
// "object_refs", ...), in order of appearance, repeats kept.
struct Reference {
  std::string property;
  std::string id;
};
std::vector<Reference> ReferencesOf(std::string_view json);

// An object that references another (Store::ReferencesTo).
struct Referrer {
  std::string collection_id;
  std::string id;
};

// The sharing policy's documents as a backend that keeps them holds them
// (Store::ReadPolicyDocuments): a PostgreSQL deployment keeps policy.toml and
// agreements.toml in the database, so every node reads the same policy.
struct PolicyDocument {
  std::string name;                 // "policy.toml" or "agreements.toml"
  std::optional<std::string> text;  // nullopt: the document is absent
};
struct PolicyDocuments {
  // Grows with every change of any document (0: none was ever stored); one
  // snapshot with `documents`.
  int64_t revision = 0;
  std::vector<PolicyDocument> documents;  // the ones ever stored, by name
};

// Audit chains kept in the database (Store::AppendAuditChain): a PostgreSQL
// deployment keeps a copy of every node's hash-chained audit trail, so one
// `ctihub audit verify --db` checks the trails of all nodes
// (docs/ARCHITECTURE.md "Audit with several nodes"). The store keeps what it
// is given; the chain's meaning (hashes, signatures) belongs to audit/.
struct AuditChainRecord {
  int64_t seq = 0;
  std::string hash;       // hex SHA-256 of `text`
  std::string prev_hash;  // the previous record's hash ("" for seq 1)
  std::string action;
  std::string text;  // the record's canonical text (audit::CanonicalRecord)
};
// A signed head (checkpoints: how many checkpoints it signs) or a signed
// checkpoint (checkpoints 0).
struct AuditChainSeal {
  int64_t seq = 0;
  std::string hash;
  int64_t checkpoints = 0;
  std::string signature;  // hex
};
struct AuditChainNode {
  std::string node;
  std::string public_key;  // hex, pinned by the node's first append
  AuditChainSeal head;     // the last signed head appended (seq 0: none yet)
  int64_t last_seq = 0;    // the last record stored (can pass head.seq mid-copy)
};

// One console session as a backend that keeps them holds it
// (Store::PutSession): a PostgreSQL deployment keeps the web console's
// sessions in the database, so a login on one node is known to every node.
// No usable secret is stored: `key` is the SHA-256 of the session cookie
// (which only the browser holds); the CSRF token is useless without the
// cookie. Times are microseconds since the epoch.
struct SessionRecord {
  std::string key;  // SHA-256 of the cookie value, 64 lowercase hex digits
  int64_t user_id = 0;
  std::string user;
  int64_t org_id = 0;
  std::string org;
  Role role = Role::kReader;
  std::string csrf_token;
  int64_t created_us = 0;
  int64_t last_used_us = 0;
  int64_t expires_us = 0;  // absolute expiry
};

// A console import job as a backend that keeps them holds it
// (Store::PutImportJob): the node running the job publishes its progress, so
// the job's status is answered by every node (webapi/import_jobs.h).
struct ImportJobRecord {
  std::string id;             // 32 hex digits
  int64_t owner_user_id = 0;  // who may read it (and admins)
  std::string body;           // the status endpoint's JSON body, as the runner last wrote it
  int64_t updated_us = 0;
  int64_t finished_us = 0;  // 0 while running
};

// Outcome of one object of a write batch.
struct WriteOutcome {
  bool stored = false;           // a new version was written
  bool already_present = false;  // same id+version already in the collection: success, nothing new
};

class Store {
 public:
  virtual ~Store() = default;

  // Organisations and users.
  virtual Result<Organisation> AddOrganisation(const Organisation& org) = 0;
  virtual Result<std::vector<Organisation>> ListOrganisations() = 0;
  virtual Result<Organisation> GetOrganisation(std::string_view name) = 0;
  virtual Result<User> AddUser(const User& user) = 0;  // org_id must exist
  virtual Result<std::vector<User>> ListUsers() = 0;
  virtual Result<User> GetUser(std::string_view name) = 0;
  virtual Result<User> GetUserById(int64_t id) = 0;
  virtual Status RemoveUser(std::string_view name) = 0;
  virtual Status SetPassword(std::string_view user, std::string_view password_hash) = 0;

  // API tokens (hashes only).
  virtual Result<ApiToken> AddToken(const ApiToken& token) = 0;
  virtual Result<ApiToken> FindTokenByHash(std::string_view token_hash) = 0;
  virtual Result<std::vector<ApiToken>> ListTokens(int64_t user_id) = 0;
  virtual Status RevokeToken(int64_t token_id) = 0;

  // API roots and collections.
  virtual Status PutApiRoot(const ApiRoot& root) = 0;
  virtual Result<std::vector<ApiRoot>> ListApiRoots() = 0;
  virtual Result<Collection> AddCollection(const Collection& c) = 0;  // id generated when empty
  virtual Result<std::vector<Collection>> ListCollections(
      std::string_view api_root) = 0;  // "" = all
  virtual Result<Collection> GetCollection(std::string_view api_root, std::string_view id) = 0;
  virtual Status RemoveCollection(std::string_view id) = 0;

  // Objects. Write: validated, canonical objects of one collection, committed
  // durably in a batch by the single writer; the future resolves after fsync.
  // If `status_id` is not empty the status resource is updated in the same
  // transaction, so a status reads "complete" only once the data is durable.
  virtual std::future<Result<std::vector<WriteOutcome>>> WriteObjects(
      std::string collection_id, std::vector<NewObject> objects, std::string status_id) = 0;

  // Keyset-paginated read ordered by date_added (never OFFSET).
  virtual Result<ObjectPage> QueryObjects(const ObjectQuery& q) = 0;

  // Deletes the versions of `id` selected by q's version/spec_version filters.
  // Returns how many versions were deleted (0: NotFound is the caller's answer).
  virtual Result<int64_t> DeleteObject(const ObjectQuery& q) = 0;

  // Status resources.
  virtual Status CreateStatus(const StatusResource& s) = 0;
  virtual Result<StatusResource> GetStatus(std::string_view api_root, std::string_view id) = 0;

  // Walks the objects matching `q`: in each collection the newest version of
  // each object (the version TAXII serves by default) that matches, newest
  // date_added first, calling `visit` until it returns false or none is left.
  // `visit` must not call back into the store (SQLite holds a reader meanwhile).
  // Backends without a text index answer Unavailable.
  virtual Status SearchObjects(const SearchQuery& q, const std::function<bool(SearchHit&)>& visit);

  // The objects of `collection_ids` a stored version of which references `id`
  // (ReferencedIdsOf), each (collection, object) once, the one with the most
  // recently added such version first, at most `limit` (the console's
  // relationships, sightings and graph). The index answers "which versions
  // pointed at it": the caller reads each object through its read gate and
  // checks the reference again on the copy it may see (a newer version may
  // have dropped it). Backends without the index answer Unavailable.
  virtual Result<std::vector<Referrer>> ReferencesTo(std::string_view id,
                                                     const std::vector<std::string>& collection_ids,
                                                     size_t limit);

  // Counters for /metrics.
  virtual Result<int64_t> CountObjects() = 0;

  // Whether the backend can serve requests now (/healthz): Unavailable
  // "db_unavailable" when its database server cannot be reached. The default
  // answers OK: an embedded backend has no server to lose.
  virtual Status Ping();

  // A collection's CollectionState (zeros for an unknown or empty one): one
  // indexed aggregate in SQLite. Backends without it answer Unavailable (the
  // export then has no ETag).
  virtual Result<CollectionState> CollectionStateOf(std::string_view collection_id);

  // ---- the sharing policy's documents (docs/ARCHITECTURE.md "PostgreSQL store") ----
  // Whether this backend keeps the policy documents (PostgreSQL). The
  // default, false: they are files in the data directory (SQLite), and the
  // three methods below answer Unavailable "not_supported".
  virtual bool KeepsPolicyDocuments() const;
  // PolicyDocuments::revision alone: one cheap read (nodes poll it).
  virtual Result<int64_t> PolicyDocumentsRevision();
  virtual Result<PolicyDocuments> ReadPolicyDocuments();
  // Stores document `name` ("policy.toml" or "agreements.toml"; `text`
  // nullopt: absent) if the revision is still `expected_revision`, in one
  // transaction; returns the new revision. Conflict "policy_changed" when
  // another writer changed a document since (nothing written),
  // InvalidArgument "bad_policy_document" for another name.
  virtual Result<int64_t> PutPolicyDocument(std::string_view name,
                                            const std::optional<std::string>& text,
                                            int64_t expected_revision);

  // ---- audit chains (docs/ARCHITECTURE.md "Audit with several nodes") ----
  // Whether this backend keeps the nodes' audit chains (PostgreSQL). The
  // default, false: each node's trail is only its DATA/audit.db, and the
  // methods below answer Unavailable "not_supported".
  virtual bool KeepsAuditChains() const;
  // Appends `records` to node's chain, with the checkpoints among them, and
  // when `head` is set (seq > 0) makes it the node's signed head, in one
  // transaction. The records must continue the stored chain (first seq =
  // last stored + 1, its prev_hash = the last hash): else Conflict
  // "audit_chain_gap" and nothing is written. The node's first append pins
  // `public_key`; another key later is Conflict "audit_key_changed".
  virtual Status AppendAuditChain(std::string_view node, std::string_view public_key,
                                  const std::vector<AuditChainRecord>& records,
                                  const std::vector<AuditChainSeal>& checkpoints,
                                  const AuditChainSeal& head);
  // Every node with a chain, by node id.
  virtual Result<std::vector<AuditChainNode>> ListAuditChains();
  // Up to `limit` records of node's chain with seq > after_seq, in seq order.
  virtual Result<std::vector<AuditChainRecord>> ReadAuditChain(std::string_view node,
                                                               int64_t after_seq, size_t limit);
  // Node's checkpoints in seq order.
  virtual Result<std::vector<AuditChainSeal>> ReadAuditCheckpoints(std::string_view node);
  // Up to `limit` records of node's chain with seq > after_seq whose action
  // is one of `actions` and whose text contains `needle`, in seq order: a
  // search of every node's copy (who-saw) done where the copies are; the
  // caller checks what each record states.
  virtual Result<std::vector<AuditChainRecord>> FindInAuditChain(
      std::string_view node, std::string_view needle, const std::vector<std::string>& actions,
      int64_t after_seq, size_t limit);

  // ---- the web console's sessions (docs/ARCHITECTURE.md "PostgreSQL store") ----
  // Whether this backend keeps console sessions (PostgreSQL). The default,
  // false: each node keeps its own in memory (webapi/session.h), and the
  // methods below answer Unavailable "not_supported".
  virtual bool KeepsSessions() const;
  // Stores a new session. Then, if more than `max_sessions` are stored, the
  // expired ones (expires_us <= s.created_us, or last_used_us <= s.created_us
  // - idle_us) are deleted, then the ones created first until `max_sessions`
  // are left, so the table stays bounded. Conflict "session_exists" when
  // the key is stored already.
  virtual Status PutSession(const SessionRecord& s, size_t max_sessions, int64_t idle_us);
  // NotFound "unknown_session" when none has `key`.
  virtual Result<SessionRecord> GetSession(std::string_view key);
  // Sets the session's last use to `last_used_us` unless it is later already.
  // NotFound "unknown_session" when none has `key`.
  virtual Status TouchSession(std::string_view key, int64_t last_used_us);
  // Replaces the principal (user, org_id, org, role) of session `s.key`;
  // the other fields are left. NotFound "unknown_session" when none has it
  // (a session deleted meanwhile is never brought back).
  virtual Status UpdateSessionPrincipal(const SessionRecord& s);
  // Deletes a session; whether there was one.
  virtual Result<bool> DeleteSession(std::string_view key);
  // Deletes the sessions expired at `now_us` (expires_us <= now_us, or
  // last_used_us <= now_us - idle_us); how many.
  virtual Result<int64_t> DeleteExpiredSessions(int64_t now_us, int64_t idle_us);

  // ---- console import jobs (webapi/import_jobs.h) ----
  // Whether this backend keeps import jobs for every node (PostgreSQL). The
  // default, false: a job is known to the node that runs it; the others
  // answer Unavailable "not_supported".
  virtual bool KeepsImportJobs() const;
  // Inserts or replaces the job `job.id`.
  virtual Status PutImportJob(const ImportJobRecord& job);
  // NotFound "unknown_import_job" when there is none.
  virtual Result<ImportJobRecord> GetImportJob(std::string_view id);
  // Removes the jobs finished before `before_us`; how many.
  virtual Result<int64_t> DeleteImportJobsFinishedBefore(int64_t before_us);

  // ---- crash recovery (docs/ARCHITECTURE.md "Crash recovery") ----
  // Backends that do not implement these answer Unavailable, so a server
  // that needs them refuses to start rather than skip the recovery.
  //
  // Recovery is per node. A store is opened as one node (the `node_id` of
  // its options: the data directory's, cli/hub_context.h NodeIdOf), and every
  // object version and status resource it writes records that node. Several
  // nodes may share one database (PostgreSQL): what these two calls see is
  // only the opening node's own rows, so a node restarting never finishes a
  // status another node is still writing, nor claims another node's versions
  // for its audit trail. Rows written without a node (node_id "", or before
  // the backend's schema recorded it) belong to every node.

  // Up to `limit` versions this node stored with date_added > after_us, in
  // date_added order (all collections): how the node's audit trail is
  // reconciled with the store (and cross-checked by `audit verify`).
  virtual Result<std::vector<StoredVersionRef>> ListVersionsAddedAfter(int64_t after_us,
                                                                       size_t limit);
  // Finishes every status resource of this node still "pending": the node
  // stopped before its write committed (a status is updated in the write's
  // transaction). Each pending object whose version is stored in a collection
  // of the status's API root counts as a success, every other one as a
  // failure with `reason`; the status becomes "complete". Other nodes'
  // statuses are left as they are. Returns how many statuses it finished.
  // REQUIRES: no write of this node is in flight (call it at start-up,
  // before serving).
  virtual Result<int64_t> FinishPendingStatuses(std::string_view reason);
  // Finishes one status resource still "pending" whose write failed while the
  // hub kept running: each pending object already stored counts as a success,
  // every other one as a failure with `reason`. A status that is not pending is
  // left as it is.
  virtual Status FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                                     std::string_view reason);
};

struct SqliteOptions {
  std::string path;  // database file; directories must exist
  // The node this store writes as and recovers for (see "crash recovery"
  // above); "" for none.
  std::string node_id;
  size_t max_batch_objects = 20000;
  int reader_connections = 4;
};

// Opens (creating and migrating as needed) the SQLite store.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& opts);

}  // namespace ctihub::store
