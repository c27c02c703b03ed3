#include "store/sqlite_schema.h"

#include <string>
#include <vector>

#include "store/store.h"

namespace ctihub::store {

using sqlite::Connection;
using sqlite::Transaction;

namespace {

// Step i takes the schema from version i to version i+1. Append only: never
// edit a step that has shipped.
const std::vector<const char*>& Steps() {
  static const std::vector<const char*> steps = {
      // 0 -> 1: identities, TAXII resources, objects, statuses.
      R"sql(
CREATE TABLE orgs(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  identity_id TEXT NOT NULL DEFAULT '');
CREATE TABLE users(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  org_id INTEGER NOT NULL REFERENCES orgs(id),
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE tokens(
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX tokens_user ON tokens(user_id);
CREATE TABLE api_roots(
  name TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  max_content_length INTEGER NOT NULL);
CREATE TABLE collections(
  id TEXT PRIMARY KEY,
  api_root TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  alias TEXT NOT NULL DEFAULT '',
  readers TEXT NOT NULL DEFAULT '',
  writers TEXT NOT NULL DEFAULT '');
CREATE INDEX collections_root ON collections(api_root);
-- One row per stored object version. date_added is the rowid: unique and
-- strictly increasing across the store. version is Timestamp::Format(9)
-- (sortable text); version_digits keeps the precision it was written with.
-- is_latest / is_first / spec_latest are maintained per (collection, id) by
-- the writer so version filters are index scans, not GROUP BYs.
CREATE TABLE objects(
  date_added INTEGER PRIMARY KEY,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  version TEXT NOT NULL,
  version_digits INTEGER NOT NULL,
  type TEXT NOT NULL,
  spec_version TEXT NOT NULL,
  is_latest INTEGER NOT NULL,
  is_first INTEGER NOT NULL,
  spec_latest INTEGER NOT NULL,
  json TEXT NOT NULL);
CREATE UNIQUE INDEX objects_id ON objects(collection, id, version);
CREATE INDEX objects_added ON objects(collection, date_added);
CREATE INDEX objects_type ON objects(collection, type, date_added);
CREATE TABLE statuses(
  id TEXT PRIMARY KEY,
  api_root TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  request_timestamp TEXT NOT NULL,
  total_count INTEGER NOT NULL,
  success_count INTEGER NOT NULL,
  failure_count INTEGER NOT NULL,
  pending_count INTEGER NOT NULL);
-- kind: 0 success, 1 failure, 2 pending.
CREATE TABLE status_details(
  status_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  object_id TEXT NOT NULL,
  version TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '');
CREATE INDEX status_details_obj ON status_details(status_id, object_id);
)sql",
      // 1 -> 2: access facts of each object version (store.h AccessFacts), so a
      // read's scope is an SQL condition. recipients is '' or '|r1|r2|' with
      // '%' and '|' inside an id written %25 / %7C, so membership is the exact
      // test instr(recipients, '|' || id || '|') > 0. facts = 0 marks a row
      // written before this step (its facts are unknown: AccessFacts::known).
      // granular is 0, 1 (granular TLP/PAP present) or, since later writers,
      // 2.. with their highest levels (sqlite_objects.cc EncodeGranular).
      // ADD COLUMN with a constant default rewrites no row: instant on any size.
      R"sql(
ALTER TABLE objects ADD COLUMN producer TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN tlp INTEGER NOT NULL DEFAULT -1;
ALTER TABLE objects ADD COLUMN pap INTEGER NOT NULL DEFAULT -1;
ALTER TABLE objects ADD COLUMN recipients TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN granular INTEGER NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN facts INTEGER NOT NULL DEFAULT 0;
)sql",
      // 2 -> 3: the full-text index of the console's search (store.h
      // SearchQuery): one row per object version, rowid = date_added, body =
      // SearchTextOf(json), written by the writer in its transaction; the
      // trigger removes it with its version (deletes, collection removal).
      // Existing rows are indexed by BackfillSearchText in the same step.
      R"sql(
CREATE VIRTUAL TABLE object_text USING fts5(body,
  tokenize = "unicode61 remove_diacritics 2 tokenchars '.-_'", prefix = '2 3');
CREATE TRIGGER object_text_delete AFTER DELETE ON objects BEGIN
  DELETE FROM object_text WHERE rowid = old.date_added;
END;
)sql",
      // 3 -> 4: the reference index (store.h ReferencesTo): one row per id an
      // object version references (ReferencedIdsOf), written by the writer in
      // its transaction, removed with the version by the trigger. Existing
      // rows are indexed by BackfillReferences in the same step.
      R"sql(
CREATE TABLE object_refs(
  ref_id TEXT NOT NULL,
  date_added INTEGER NOT NULL,
  PRIMARY KEY(ref_id, date_added)) WITHOUT ROWID;
CREATE INDEX object_refs_row ON object_refs(date_added);
CREATE TRIGGER object_refs_delete AFTER DELETE ON objects BEGIN
  DELETE FROM object_refs WHERE date_added = old.date_added;
END;
)sql",
      // 4 -> 5: the peer each version was pulled from (store.h
      // NewObject::source_peer), '' for everything else, so a push leaves
      // out what the peer sent. A constant default rewrites no row.
      R"sql(
ALTER TABLE objects ADD COLUMN source_peer TEXT NOT NULL DEFAULT '';
)sql",
      // 5 -> 6: the node that wrote each version and status (store.h "crash
      // recovery": recovery is per node), '' for rows written before, which
      // belong to every node. One process per file here, so no index: the
      // node filter passes nearly every row.
      R"sql(
ALTER TABLE objects ADD COLUMN node TEXT NOT NULL DEFAULT '';
ALTER TABLE statuses ADD COLUMN node TEXT NOT NULL DEFAULT '';
)sql",
  };
  return steps;
}

// Indexes every stored version for search (schema step 2 -> 3), inside the
// step's transaction: a database from before the index finds its old objects.
Status BackfillSearchText(Connection& conn) {
  CTIHUB_ASSIGN_OR_RETURN(sqlite::Statement read,
                          conn.Prepare("SELECT date_added, json FROM objects ORDER BY date_added"));
  CTIHUB_ASSIGN_OR_RETURN(sqlite::Statement write,
                          conn.Prepare("INSERT INTO object_text(rowid, body) VALUES(?1, ?2)"));
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) return Status::Ok();
    CTIHUB_RETURN_IF_ERROR(write.Bind(1, read.Int(0)).Bind(2, SearchTextOf(read.Text(1))).Run());
  }
}

// Indexes the references of every stored version (schema step 3 -> 4).
Status BackfillReferences(Connection& conn) {
  CTIHUB_ASSIGN_OR_RETURN(sqlite::Statement read,
                          conn.Prepare("SELECT date_added, json FROM objects ORDER BY date_added"));
  CTIHUB_ASSIGN_OR_RETURN(
      sqlite::Statement write,
      conn.Prepare("INSERT OR IGNORE INTO object_refs(ref_id, date_added) VALUES(?1, ?2)"));
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, read.Step());
    if (!row) return Status::Ok();
    for (const std::string& ref : ReferencedIdsOf(read.Text(1))) {
      CTIHUB_RETURN_IF_ERROR(write.Bind(1, ref).Bind(2, read.Int(0)).Run());
    }
  }
}

Status ApplyStep(Connection& conn, int from) {
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(conn));
  // Re-read inside the write lock: another process may have migrated meanwhile.
  CTIHUB_ASSIGN_OR_RETURN(int64_t current, conn.QueryInt("PRAGMA user_version"));
  if (current != from) return Status::Ok();
  CTIHUB_RETURN_IF_ERROR(conn.Exec(Steps()[static_cast<size_t>(from)]));
  if (from == 2) CTIHUB_RETURN_IF_ERROR(BackfillSearchText(conn));
  if (from == 3) CTIHUB_RETURN_IF_ERROR(BackfillReferences(conn));
  CTIHUB_RETURN_IF_ERROR(conn.Exec("PRAGMA user_version=" + std::to_string(from + 1)));
  return txn->Commit();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(Steps().size()); }

Status MigrateSchema(Connection& conn) {
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(int64_t version, conn.QueryInt("PRAGMA user_version"));
    if (version == LatestSchemaVersion()) return Status::Ok();
    if (version > LatestSchemaVersion() || version < 0) {
      return Unavailable("schema_too_new", "database schema version " + std::to_string(version) +
                                               " is newer than this build (" +
                                               std::to_string(LatestSchemaVersion()) + ")");
    }
    CTIHUB_RETURN_IF_ERROR(ApplyStep(conn, static_cast<int>(version)));
  }
}

}  // namespace ctihub::store
