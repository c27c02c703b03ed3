#include "store/postgres/pg_schema.h"

#include <string>
#include <vector>

#include "store/store.h"

namespace ctihub::store::pg {

namespace {

// Step i takes the schema from version i to version i+1. Append only: never
// edit a step that has shipped. Version 1 holds what SQLite's schema 2 holds
// (sqlite_schema.cc), with these differences: flags are smallints, ordered
// text columns use the "C" collation (byte order, as SQLite's BINARY:
// versions are Timestamp::Format(9) text and must compare as bytes whatever
// the database's locale), and rows that SQLite orders by rowid carry a
// `seq` identity column.
const std::vector<const char*>& Steps() {
  static const std::vector<const char*> steps = {
      // 0 -> 1
      R"sql(
CREATE TABLE orgs(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  identity_id TEXT NOT NULL DEFAULT '');
CREATE TABLE users(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL UNIQUE,
  org_id BIGINT NOT NULL REFERENCES orgs(id),
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled BOOLEAN NOT NULL DEFAULT false);
CREATE TABLE tokens(
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  revoked BOOLEAN NOT NULL DEFAULT false);
CREATE INDEX tokens_user ON tokens(user_id);
CREATE TABLE api_roots(
  name TEXT COLLATE "C" PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  max_content_length BIGINT NOT NULL);
CREATE TABLE collections(
  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id TEXT COLLATE "C" PRIMARY KEY,
  api_root TEXT COLLATE "C" NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  alias TEXT NOT NULL DEFAULT '',
  readers TEXT NOT NULL DEFAULT '',
  writers TEXT NOT NULL DEFAULT '');
CREATE INDEX collections_root ON collections(api_root);
-- One row per stored object version. date_added: microseconds, unique and
-- strictly increasing in commit order (assigned under the objects advisory
-- lock). The columns mean what they mean in SQLite (sqlite_schema.cc).
CREATE TABLE objects(
  date_added BIGINT PRIMARY KEY,
  collection TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  version TEXT COLLATE "C" NOT NULL,
  version_digits SMALLINT NOT NULL,
  type TEXT COLLATE "C" NOT NULL,
  spec_version TEXT COLLATE "C" NOT NULL,
  is_latest SMALLINT NOT NULL,
  is_first SMALLINT NOT NULL,
  spec_latest SMALLINT NOT NULL,
  json TEXT NOT NULL,
  producer TEXT COLLATE "C" NOT NULL DEFAULT '',
  tlp INTEGER NOT NULL DEFAULT -1,
  pap INTEGER NOT NULL DEFAULT -1,
  recipients TEXT NOT NULL DEFAULT '',
  granular INTEGER NOT NULL DEFAULT 0,
  facts SMALLINT NOT NULL DEFAULT 1);
CREATE UNIQUE INDEX objects_id ON objects(collection, id, version);
CREATE INDEX objects_added ON objects(collection, date_added);
CREATE INDEX objects_type ON objects(collection, type, date_added);
CREATE TABLE statuses(
  id TEXT COLLATE "C" PRIMARY KEY,
  api_root TEXT COLLATE "C" NOT NULL,
  user_id BIGINT NOT NULL,
  status TEXT NOT NULL,
  request_timestamp TEXT NOT NULL,
  total_count BIGINT NOT NULL,
  success_count BIGINT NOT NULL,
  failure_count BIGINT NOT NULL,
  pending_count BIGINT NOT NULL);
CREATE INDEX statuses_pending ON statuses(status) WHERE status = 'pending';
-- kind: 0 success, 1 failure, 2 pending.
CREATE TABLE status_details(
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status_id TEXT COLLATE "C" NOT NULL,
  kind SMALLINT NOT NULL,
  object_id TEXT COLLATE "C" NOT NULL,
  version TEXT COLLATE "C" NOT NULL,
  message TEXT NOT NULL DEFAULT '');
CREATE INDEX status_details_obj ON status_details(status_id, object_id);
)sql",
      // 1 -> 2: the reference index (SQLite's schema 4, store.h ReferencesTo),
      // removed with its version by the foreign key. Existing rows are indexed
      // here in SQL with what ReferencedIdsOf keeps: top-level *_ref strings
      // and *_refs string arrays holding an id, not created_by_ref and
      // object_marking_refs.
      R"sql(
CREATE TABLE object_refs(
  ref_id TEXT COLLATE "C" NOT NULL,
  date_added BIGINT NOT NULL REFERENCES objects(date_added) ON DELETE CASCADE,
  PRIMARY KEY(ref_id, date_added));
CREATE INDEX object_refs_row ON object_refs(date_added);
INSERT INTO object_refs(ref_id, date_added)
SELECT DISTINCT r.ref, o.date_added
FROM objects o
CROSS JOIN LATERAL jsonb_each(o.json::jsonb) AS e(key, value)
CROSS JOIN LATERAL (
  SELECT e.value #>> '{}' AS ref WHERE jsonb_typeof(e.value) = 'string'
  UNION ALL
  SELECT x #>> '{}' FROM jsonb_array_elements(
    CASE WHEN jsonb_typeof(e.value) = 'array' THEN e.value ELSE '[]'::jsonb END) AS x
  WHERE jsonb_typeof(x) = 'string') AS r
WHERE (right(e.key, 4) = '_ref' OR right(e.key, 5) = '_refs')
  AND e.key NOT IN ('created_by_ref', 'object_marking_refs')
  AND position('--' IN r.ref) > 1 AND position('--' IN r.ref) + 1 < length(r.ref)
  AND length(r.ref) <= 256;
)sql",
      // 2 -> 3: the search index (SQLite's FTS5 table, store.h SearchQuery): a
      // tsvector of each version's tokens (SearchLexemesOf: made in C++ so the
      // tokens are the ones SearchTextMatches checks, not PostgreSQL's
      // parser's) under a GIN index, written by the writer with the row.
      // Existing rows are filled by BackfillSearch in the same transaction.
      R"sql(
ALTER TABLE objects ADD COLUMN search tsvector;
CREATE INDEX objects_search ON objects USING gin(search);
)sql",
      // 3 -> 4: the peer each version was pulled from (SQLite's schema 5).
      R"sql(
ALTER TABLE objects ADD COLUMN source_peer TEXT NOT NULL DEFAULT '';
)sql",
      // 4 -> 5: the node that wrote each version and status (store.h "crash
      // recovery": a node's start-up recovery finishes and lists only its
      // own rows), '' for rows written before, which belong to every node.
      // The indexes serve the recovery's reads of one node's rows; pending
      // statuses are few, so that index stays partial.
      R"sql(
ALTER TABLE objects ADD COLUMN node TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE statuses ADD COLUMN node TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX objects_node ON objects(node, date_added);
DROP INDEX statuses_pending;
CREATE INDEX statuses_pending ON statuses(node) WHERE status = 'pending';
)sql",
      // 5 -> 6: the sharing policy's documents (policy.toml, agreements.toml:
      // store.h PolicyDocuments), so every node reads the same policy. A row
      // is never deleted (an absent document is a NULL text); each write sets
      // its row's revision to the table's largest plus one, so max(revision)
      // grows with every change (what nodes poll and writers compare-and-set).
      R"sql(
CREATE TABLE policy_documents(
  name TEXT COLLATE "C" PRIMARY KEY,
  text TEXT,
  revision BIGINT NOT NULL);
)sql",
      // 6 -> 7: a copy of every node's audit chain (store.h AuditChainRecord),
      // so one `audit verify --db` checks the trails of all nodes. Rows are
      // only ever inserted; the chain's hashes and signatures make any other
      // change visible to that verify.
      R"sql(
CREATE TABLE audit_chain_nodes(
  node TEXT COLLATE "C" PRIMARY KEY,
  public_key TEXT NOT NULL,
  head_seq BIGINT NOT NULL DEFAULT 0,
  head_hash TEXT NOT NULL DEFAULT '',
  head_checkpoints BIGINT NOT NULL DEFAULT 0,
  head_signature TEXT NOT NULL DEFAULT '',
  last_seq BIGINT NOT NULL DEFAULT 0,
  last_hash TEXT NOT NULL DEFAULT '');
CREATE TABLE audit_chain_records(
  node TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  action TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY(node, seq));
CREATE TABLE audit_chain_checkpoints(
  node TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY(node, seq));
)sql",
      // 7 -> 8: the web console's sessions (store.h SessionRecord), so a
      // login on one node is known to every node. `key` is the SHA-256 of the
      // cookie (hex), never the cookie. No foreign key to users: the console
      // ends a session whose user is gone on its next use. The indexes serve
      // the purge of expired sessions (absolute and idle expiry) and the
      // bound on their number (the oldest go first).
      R"sql(
CREATE TABLE console_sessions(
  key TEXT COLLATE "C" PRIMARY KEY,
  user_id BIGINT NOT NULL,
  user_name TEXT NOT NULL,
  org_id BIGINT NOT NULL,
  org_name TEXT NOT NULL,
  role TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_us BIGINT NOT NULL,
  last_used_us BIGINT NOT NULL,
  expires_us BIGINT NOT NULL);
CREATE INDEX console_sessions_expires ON console_sessions(expires_us);
CREATE INDEX console_sessions_last_used ON console_sessions(last_used_us);
CREATE INDEX console_sessions_created ON console_sessions(created_us, key);
)sql",
      // 8 -> 9: the console's import jobs (store.h ImportJobRecord), so the
      // status of a job running on one node is answered by every node.
      R"sql(
CREATE TABLE import_jobs(
  id TEXT COLLATE "C" PRIMARY KEY,
  owner_user_id BIGINT NOT NULL,
  body TEXT NOT NULL,
  updated_us BIGINT NOT NULL,
  finished_us BIGINT NOT NULL DEFAULT 0);
CREATE INDEX import_jobs_finished ON import_jobs(finished_us) WHERE finished_us > 0;
)sql",
      // 9 -> 10: a status's details as runs (pg_status.cc): one row per run
      // of consecutive details of one kind and message, the run's ids and
      // versions as arrays, in place of one row per detail. Existing details
      // become runs in their order (seq minus the rank within the kind and
      // message is constant along a run). And the search index's pending
      // list may grow to 64 MB (in kB) before an insert must merge it: the
      // store's maintenance thread merges it first (pg_objects.cc
      // MaintenanceLoop).
      R"sql(
ALTER INDEX objects_search SET (gin_pending_list_limit = 65536);
CREATE TABLE status_entries(
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status_id TEXT COLLATE "C" NOT NULL,
  kind SMALLINT NOT NULL,
  object_ids TEXT[] NOT NULL,
  versions TEXT[] NOT NULL,
  message TEXT NOT NULL DEFAULT '');
CREATE INDEX status_entries_status ON status_entries(status_id);
INSERT INTO status_entries(status_id, kind, object_ids, versions, message)
SELECT status_id, kind, array_agg(object_id ORDER BY seq), array_agg(version ORDER BY seq), message
FROM (SELECT d.*, row_number() OVER (PARTITION BY status_id ORDER BY seq) -
                  row_number() OVER (PARTITION BY status_id, kind, message ORDER BY seq) AS run
      FROM status_details d) AS runs
GROUP BY status_id, kind, message, run
ORDER BY min(seq);
DROP TABLE status_details;
)sql",
  };
  return steps;
}

constexpr const char* kVersionTable =
    "CREATE TABLE IF NOT EXISTS ctihub_schema(version INTEGER NOT NULL)";

Status TooNew(int version) {
  return Unavailable("schema_too_new", "database schema version " + std::to_string(version) +
                                           " is newer than this build knows (" +
                                           std::to_string(LatestSchemaVersion()) +
                                           "): upgrade ctihub");
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Steps().size()); }

Result<int> CurrentSchemaVersion(Connection& conn) {
  CTIHUB_ASSIGN_OR_RETURN(
      Rows t, conn.Query("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND "
                         "tablename = 'ctihub_schema'"));
  if (t.empty()) return 0;
  CTIHUB_ASSIGN_OR_RETURN(Rows r, conn.Query("SELECT max(version) FROM ctihub_schema"));
  return r.empty() ? 0 : static_cast<int>(r.Int(0, 0));
}

namespace {

// Fills the search column of the rows stored before schema 3, a chunk at a
// time, inside the migration's transaction.
Status BackfillSearch(Connection& conn) {
  constexpr int kChunk = 1000;
  int64_t after = -1;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(
        Rows r, conn.Query("SELECT date_added, json FROM objects WHERE date_added > $1 ORDER BY "
                           "date_added LIMIT $2",
                           Params().Int(after).Int(kChunk)));
    if (r.empty()) return Status::Ok();
    std::vector<int64_t> rows;
    std::vector<std::string> lexemes;
    rows.reserve(static_cast<size_t>(r.size()));
    lexemes.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      rows.push_back(r.Int(i, 0));
      lexemes.push_back(SearchLexemesOf(r.Text(i, 1)));
    }
    after = rows.back();
    CTIHUB_RETURN_IF_ERROR(
        conn.Run("UPDATE objects SET search = array_to_tsvector(string_to_array(u.s, ' ')) FROM "
                 "unnest($1::int8[], $2::text[]) AS u(d, s) WHERE objects.date_added = u.d",
                 Params().IntArray(rows).TextArray(lexemes)));
  }
}

}  // namespace

Status MigrateSchema(Connection& conn) {
  // Fast path: nothing to do, no lock taken.
  CTIHUB_ASSIGN_OR_RETURN(int version, CurrentSchemaVersion(conn));
  if (version == LatestSchemaVersion()) return Status::Ok();
  if (version > LatestSchemaVersion()) return TooNew(version);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(conn));
  CTIHUB_RETURN_IF_ERROR(conn.Run(kMigrationLockSql));
  CTIHUB_RETURN_IF_ERROR(conn.Exec(kVersionTable));
  // Re-read under the lock: another node may have migrated meanwhile.
  CTIHUB_ASSIGN_OR_RETURN(Rows r, conn.Query("SELECT max(version) FROM ctihub_schema"));
  version = r.empty() ? 0 : static_cast<int>(r.Int(0, 0));
  if (version > LatestSchemaVersion()) return TooNew(version);
  for (; version < LatestSchemaVersion(); ++version) {
    CTIHUB_RETURN_IF_ERROR(conn.Exec(Steps()[static_cast<size_t>(version)]));
    if (version == 2) CTIHUB_RETURN_IF_ERROR(BackfillSearch(conn));
  }
  CTIHUB_RETURN_IF_ERROR(conn.Exec("DELETE FROM ctihub_schema"));
  CTIHUB_RETURN_IF_ERROR(
      conn.Exec("INSERT INTO ctihub_schema(version) VALUES (" + std::to_string(version) + ")"));
  return txn->Commit();
}

}  // namespace ctihub::store::pg
