#include "store/sql_query.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "store/columns.h"

namespace ctihub::store::sql {

// ---- SqlBuilder ----------------------------------------------------------------------

std::string SqlBuilder::Numbered(std::variant<int64_t, std::string> v) {
  params.push_back(std::move(v));
  return (dialect == Dialect::kSqlite ? "?" : "$") + std::to_string(params.size());
}

void SqlBuilder::InList(std::string_view column, const std::vector<std::string>& values) {
  sql += " AND ";
  sql += column;
  sql += " IN (";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) sql += ',';
    Param(values[i]);
  }
  sql += ')';
}

std::string SqlBuilder::IndexHint(std::string_view name) const {
  if (dialect != Dialect::kSqlite) return {};
  return " INDEXED BY " + std::string(name);
}

// ---- filters, scope and plans ------------------------------------------------------------

namespace {

// Bounds of the scope condition's size. Grants come from sharing agreements
// (a few hundred at most in practice); past these bounds the condition gets
// looser, never tighter: per-grant types are dropped first, then the producers
// (every grant becomes "effective TLP <= the highest grant level").
constexpr size_t kMaxScopeGrants = 500;
constexpr size_t kMaxScopeTypeValues = 2000;
constexpr size_t kMaxScopeProducers = 2000;

}  // namespace

// The scope condition (store.h AccessScope) as " AND (...)". `query_types` is
// the match[type] filter ANDed beside it: a grant's types are narrowed to it
// (a grant none of whose types can match is left out). Built once per query;
// the multi-type plan repeats the same text in each walk.
void AppendScope(const AccessScope& s, const std::vector<std::string>& query_types, SqlBuilder& b) {
  if (!b.scope_sql.empty()) {
    b.sql += b.scope_sql;
    return;
  }
  std::string t;
  if (s.none) {
    t = " AND 1 = 0";
  } else {
    // The level test first: SQLite evaluates OR terms in order and stops at
    // the first true one, and for most readers most rows pass on it.
    const std::string eff =
        "(CASE WHEN tlp < 0 THEN " + b.Numbered(int64_t{s.unmarked_tlp}) + " ELSE tlp END)";
    t = " AND (" + eff + " <= " + b.Numbered(int64_t{s.any_producer_max}) + " OR facts = 0";
    if (!s.own_producer.empty()) t += " OR producer = " + b.Numbered(s.own_producer);

    // Grants grouped by (max_tlp, types): one "producer IN (...)" per group.
    const std::set<std::string> wanted(query_types.begin(), query_types.end());
    size_t type_values = 0;
    for (const auto& g : s.grants) type_values += g.types.size();
    const bool keep_types =
        s.grants.size() <= kMaxScopeGrants && type_values <= kMaxScopeTypeValues;
    std::map<std::pair<int, std::set<std::string>>, std::set<std::string>> groups;
    std::set<std::string> producers;
    int max_grant_tlp = 0;
    bool any_grant = false;
    for (const auto& g : s.grants) {
      std::set<std::string> types;
      if (keep_types && !g.types.empty()) {
        for (const auto& ty : g.types) {
          if (wanted.empty() || wanted.count(ty) > 0) types.insert(ty);
        }
        if (types.empty()) continue;         // no type the query returns
        if (types == wanted) types.clear();  // the query's filter already says it
      }
      groups[{g.max_tlp, std::move(types)}].insert(g.producer);
      producers.insert(g.producer);
      max_grant_tlp = any_grant ? std::max(max_grant_tlp, g.max_tlp) : g.max_tlp;
      any_grant = true;
    }
    if (producers.size() > kMaxScopeProducers) {
      t += " OR " + eff + " <= " + b.Numbered(int64_t{max_grant_tlp});
    } else {
      for (const auto& [key, who] : groups) {
        t += " OR (producer";
        if (who.size() == 1) {
          t += " = " + b.Numbered(*who.begin());
        } else {
          t += " IN (";
          bool first = true;
          for (const auto& p : who) {
            if (!first) t += ',';
            first = false;
            t += b.Numbered(p);
          }
          t += ')';
        }
        t += " AND " + eff + " <= " + b.Numbered(int64_t{key.first});
        if (!key.second.empty()) {
          t += " AND type IN (";
          bool first = true;
          for (const auto& ty : key.second) {
            if (!first) t += ',';
            first = false;
            t += b.Numbered(ty);
          }
          t += ')';
        }
        t += ')';
      }
    }
    // The policy serves an object naming the reader in recipient_orgs whatever
    // its TLP ("named"), so the clause does not test tlp = 4: looser, never tighter.
    if (s.red_if_named && !s.own_producer.empty()) {
      t += b.dialect == Dialect::kSqlite ? " OR instr(recipients, " : " OR strpos(recipients, ";
      t += b.Numbered(RecipientNeedle(s.own_producer)) + ") > 0";
    }
    t += ')';
  }
  b.scope_sql = std::move(t);
  b.sql += b.scope_sql;
}

// Appends " WHERE ..." for the filters of q (collection, date_added lower
// bound, ids, `types` (q.types or a subset of it), spec_version, version
// selection unless the caller applies it) and, when `scope` is set, the
// access scope on top of them.
void AppendWhere(const ObjectQuery& q, const std::vector<std::string>& types, int64_t after_us,
                 const AccessScope* scope, Versions versions, SqlBuilder& b) {
  b.sql += " WHERE collection = ";
  b.Param(q.collection_id);
  b.sql += " AND date_added > ";
  b.Param(after_us);
  if (!q.ids.empty()) b.InList("id", q.ids);
  if (!types.empty()) b.InList("type", types);
  if (!q.not_from_peer.empty()) {
    b.sql += " AND source_peer <> ";
    b.Param(q.not_from_peer);
  }
  // TAXII 2.1: without match[spec_version] only the latest spec version of
  // each object; match[version] then picks among what passes (store.h
  // ObjectQuery::spec_versions: the spec-version filter applies first).
  if (q.spec_versions.empty()) {
    b.sql += " AND spec_latest = 1";
  } else {
    b.InList("spec_version", q.spec_versions);
  }
  if (scope != nullptr) AppendScope(*scope, q.types, b);
  if (q.version_all || versions == Versions::kByCaller) return;
  // first / last are taken among the versions that pass the spec-version
  // filter (ObjectQuery::spec_versions in store.h: the spec_version filter
  // first, then the version selection). A row is the newest (oldest) of them
  // when it is the object's stored newest (oldest) version, or when no newer
  // (older) version of the object passes the filter: one seek in
  // (collection, id, version), newest (oldest) versions being few.
  auto edge = [&](bool last) {
    b.sql += last ? "(is_latest = 1" : "(is_first = 1";
    b.sql += " OR NOT EXISTS (SELECT 1 FROM objects n" + b.IndexHint("objects_id") +
             " WHERE "
             "n.collection = objects.collection AND n.id = objects.id AND n.version ";
    b.sql += last ? "> objects.version" : "< objects.version";
    if (q.spec_versions.empty()) {
      b.sql += " AND n.spec_latest = 1";
    } else {
      b.InList("n.spec_version", q.spec_versions);
    }
    b.sql += "))";
  };
  b.sql += " AND (";
  bool any = false;
  if (q.version_last) {
    edge(/*last=*/true);
    any = true;
  }
  if (q.version_first) {
    if (any) b.sql += " OR ";
    edge(/*last=*/false);
    any = true;
  }
  if (!q.versions.empty()) {
    if (any) b.sql += " OR ";
    b.sql += "version IN (";
    for (size_t i = 0; i < q.versions.size(); ++i) {
      if (i > 0) b.sql += ',';
      b.Param(VersionKey(q.versions[i]));
    }
    b.sql += ')';
  } else if (!any) {
    edge(/*last=*/true);  // nothing selected: the TAXII default
  }
  b.sql += ')';
}

// The SELECT of one page (limit rows). Plans: an id list looks ids up in
// (collection, id, version) and sorts the few rows; one type walks
// (collection, type, date_added); several types (up to kMaxTypeUnion) become
// a UNION ALL of per-type walks, each stopping after `limit` rows, merged by a
// small sort -- a plain `type IN (...)` would walk the whole collection when
// the types are rare. Otherwise (collection, date_added) is walked in order.
namespace {
constexpr size_t kMaxTypeUnion = 16;
}  // namespace

std::string SelectColumns(bool include_json, Versions versions) {
  return std::string("date_added, id, type, spec_version, version, version_digits") +
         (include_json ? ", json" : ", ''") + ", producer, tlp, pap, recipients, granular, facts" +
         (versions == Versions::kByCaller ? ", is_latest, is_first" : "");
}

SqlBuilder BuildSelect(Dialect d, const ObjectQuery& q, int64_t after, size_t limit,
                       bool include_json, Versions versions) {
  const std::string columns = SelectColumns(include_json, versions);
  const AccessScope* scope = q.scope ? &*q.scope : nullptr;
  SqlBuilder b(d);
  if (q.ids.empty() && q.types.size() > 1 && q.types.size() <= kMaxTypeUnion) {
    // Merge the per-type walks on date_added alone, then fetch the rows of
    // the page by rowid (already in order): cheaper than merging whole rows.
    std::set<std::string> distinct(q.types.begin(), q.types.end());
    b.sql = "SELECT " + columns + " FROM objects WHERE date_added IN (";
    bool first = true;
    int walk = 0;
    for (const auto& t : distinct) {
      if (!first) b.sql += " UNION ALL ";
      first = false;
      b.sql += "SELECT * FROM (SELECT date_added FROM objects";
      ++walk;
      AppendWhere(q, {t}, after, scope, versions, b);
      b.sql += " ORDER BY date_added LIMIT ";
      b.Param(static_cast<int64_t>(limit));
      b.sql += ") AS w" + std::to_string(walk);  // PostgreSQL 15 needs the alias
    }
    b.sql += " ORDER BY 1 LIMIT ";
    b.Param(static_cast<int64_t>(limit));
    b.sql += ") ORDER BY date_added";
    return b;
  }
  b.sql = "SELECT " + columns + " FROM objects";
  // Without statistics SQLite prefers walking (collection, date_added) to skip
  // the sort; for an id list the (collection, id, version) lookup is far cheaper.
  if (!q.ids.empty()) b.sql += b.IndexHint("objects_id");
  AppendWhere(q, q.types, after, scope, versions, b);
  b.sql += " ORDER BY date_added LIMIT ";
  b.Param(static_cast<int64_t>(limit));
  return b;
}

SqlBuilder BuildNeighbours(Dialect d, const ObjectQuery& q, bool newer) {
  SqlBuilder b(d);
  b.sql = "SELECT " + SelectColumns(/*include_json=*/true) + " FROM objects" +
          b.IndexHint("objects_id") + " WHERE collection = ";
  b.Param(q.collection_id);  // 1
  b.sql += " AND id = ";
  b.Param(std::string());  // 2, bound per use
  b.sql += newer ? " AND version > " : " AND version < ";
  b.Param(std::string());  // 3, bound per use
  b.sql += newer ? " AND version <= " : " AND version >= ";
  b.Param(std::string());  // 4, bound per use
  if (q.spec_versions.empty()) {
    b.sql += " AND spec_latest = 1";
  } else {
    b.InList("spec_version", q.spec_versions);
  }
  if (q.scope) AppendScope(*q.scope, q.types, b);
  b.sql += newer ? " ORDER BY version DESC" : " ORDER BY version";
  return b;
}

// ---- VersionPicker -----------------------------------------------------------------------

VersionPicker::VersionPicker(const ObjectQuery& q, FirstAdmittedFn first_admitted)
    : q_(q), first_admitted_(std::move(first_admitted)) {
  for (const auto& t : q.versions) explicit_.push_back(VersionKey(t));
}

Result<bool> VersionPicker::Picked(std::string_view id, std::string_view key, bool is_latest,
                                   bool is_first) {
  // Most rows are their object's only version: decided on the flags alone.
  if (q_.version_last && is_latest) return true;
  if (q_.version_first && is_first) return true;
  if (std::find(explicit_.begin(), explicit_.end(), key) != explicit_.end()) return true;
  if (q_.version_last) {
    CTIHUB_ASSIGN_OR_RETURN(bool edge, IsEdge(last_, /*newer=*/true, id, key));
    if (edge) return true;
  }
  if (q_.version_first) {
    CTIHUB_ASSIGN_OR_RETURN(bool edge, IsEdge(first_, /*newer=*/false, id, key));
    if (edge) return true;
  }
  return false;
}

Result<bool> VersionPicker::IsEdge(Side& side, bool newer, std::string_view id,
                                   std::string_view key) {
  // Version keys are digits and punctuation: '~' sorts after every one, "" before.
  auto beyond = [newer](std::string_view a, std::string_view b) { return newer ? a > b : a < b; };
  auto it = side.find(id);
  std::string_view far_end = newer ? "~" : "";
  if (it != side.end()) {
    const Known& k = it->second;
    if (!k.admitted.empty()) return !beyond(k.admitted, key);
    if (!beyond(k.bound, key)) return true;  // all beyond the bound are withheld
    // Read only what lies between key and the bound (the map's nodes stay put).
    far_end = k.bound;
  }
  CTIHUB_ASSIGN_OR_RETURN(std::optional<std::string> found,
                          first_admitted_(newer, id, key, far_end));
  Known& k = side[std::string(id)];
  if (found) {
    k.admitted = std::move(*found);
    return false;
  }
  k.bound = std::string(key);
  return true;
}

}  // namespace ctihub::store::sql
