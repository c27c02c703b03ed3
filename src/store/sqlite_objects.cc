// SqliteStore: STIX object versions. The single writer thread (group commit),
// keyset-paginated queries and deletes.
#include <algorithm>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>

#include "store/checks.h"
#include "store/cursor.h"
#include "store/sqlite_store.h"

namespace ctihub::store {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

// Versions are stored as Timestamp::Format(9): fixed width, so text order is time order.
std::string VersionKey(const Timestamp& t) { return t.Format(9); }

// A parameterised SQL text built from an ObjectQuery. Filters use plain `?`
// parameters; the access scope uses numbered ones (`?N`) so the multi-type
// plan repeats its text in every per-type walk without repeating its values.
// Invariant: params.size() is the highest number assigned so far, so the next
// plain `?` is params.size() + 1 as SQLite numbers it.
struct SqlBuilder {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;
  std::string scope_sql;  // the scope condition once built (parameters numbered)

  void Param(int64_t v) {
    sql += '?';
    params.emplace_back(v);
  }
  void Param(std::string v) {
    sql += '?';
    params.emplace_back(std::move(v));
  }
  // Adds a parameter and returns its numbered reference "?N".
  std::string Numbered(std::variant<int64_t, std::string> v) {
    params.push_back(std::move(v));
    return "?" + std::to_string(params.size());
  }
  void InList(std::string_view column, const std::vector<std::string>& values) {
    sql += " AND ";
    sql += column;
    sql += " IN (";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) sql += ',';
      Param(values[i]);
    }
    sql += ')';
  }
  void BindAll(Statement& st) const {
    int i = 1;
    for (const auto& p : params) {
      if (const auto* n = std::get_if<int64_t>(&p)) {
        st.Bind(i++, *n);
      } else {
        st.Bind(i++, std::get<std::string>(p));
      }
    }
  }
};

// ---- access facts ------------------------------------------------------------------

// The recipients column: '' for none, else '|r1|r2|' with '%' and '|' inside
// an id written %25 and %7C, so "'|' + escaped id + '|' occurs in it" is an
// exact membership test (never a prefix or substring match).
void AppendEscapedRecipient(std::string_view id, std::string& out) {
  for (char c : id) {
    if (c == '%') {
      out += "%25";
    } else if (c == '|') {
      out += "%7C";
    } else {
      out += c;
    }
  }
}

std::string EncodeRecipients(const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  std::string out = "|";
  for (const auto& id : ids) {
    AppendEscapedRecipient(id, out);
    out += '|';
  }
  return out;
}

std::string RecipientNeedle(std::string_view id) {
  std::string out = "|";
  AppendEscapedRecipient(id, out);
  out += '|';
  return out;
}

std::vector<std::string> DecodeRecipients(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2) return out;
  text = text.substr(1, text.size() - 2);
  for (;;) {
    size_t bar = text.find('|');
    std::string_view item = text.substr(0, bar);
    std::string id;
    id.reserve(item.size());
    for (size_t i = 0; i < item.size(); ++i) {
      if (item[i] == '%' && item.substr(i, 3) == "%25") {
        id += '%';
        i += 2;
      } else if (item[i] == '%' && item.substr(i, 3) == "%7C") {
        id += '|';
        i += 2;
      } else {
        id += item[i];
      }
    }
    out.push_back(std::move(id));
    if (bar == std::string_view::npos) break;
    text.remove_prefix(bar + 1);
  }
  return out;
}

// Bounds of the scope condition's size. Grants come from sharing agreements
// (a few hundred at most in practice); past these bounds the condition gets
// looser, never tighter: per-grant types are dropped first, then the producers
// (every grant becomes "effective TLP <= the highest grant level").
constexpr size_t kMaxScopeGrants = 500;
constexpr size_t kMaxScopeTypeValues = 2000;
constexpr size_t kMaxScopeProducers = 2000;

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
    t = " AND 0";
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
      t += " OR instr(recipients, " + b.Numbered(RecipientNeedle(s.own_producer)) + ") > 0";
    }
    t += ')';
  }
  b.scope_sql = std::move(t);
  b.sql += b.scope_sql;
}

// How the version selection of match[version] is applied. In SQL: the
// is_latest / is_first flags and the explicit versions. By the caller: every
// version passes the SQL (the admitted path picks first/last among the
// versions the reader may see: VersionPicker).
enum class Versions { kInSql, kByCaller };

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
    b.sql +=
        " OR NOT EXISTS (SELECT 1 FROM objects n INDEXED BY objects_id WHERE "
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
constexpr size_t kMaxTypeUnion = 16;

// Columns 7..12 of every SELECT: the access facts; 13, 14 when the caller
// picks versions (Versions::kByCaller): is_latest, is_first.
constexpr int kFactsColumn = 7;
constexpr int kLatestColumn = 13;
constexpr int kFirstColumn = 14;

std::string SelectColumns(bool include_json, Versions versions = Versions::kInSql) {
  return std::string("date_added, id, type, spec_version, version, version_digits") +
         (include_json ? ", json" : ", ''") + ", producer, tlp, pap, recipients, granular, facts" +
         (versions == Versions::kByCaller ? ", is_latest, is_first" : "");
}

SqlBuilder BuildSelect(const ObjectQuery& q, int64_t after, size_t limit, bool include_json,
                       Versions versions = Versions::kInSql) {
  const std::string columns = SelectColumns(include_json, versions);
  const AccessScope* scope = q.scope ? &*q.scope : nullptr;
  SqlBuilder b;
  if (q.ids.empty() && q.types.size() > 1 && q.types.size() <= kMaxTypeUnion) {
    // Merge the per-type walks on date_added alone, then fetch the rows of
    // the page by rowid (already in order): cheaper than merging whole rows.
    std::set<std::string> distinct(q.types.begin(), q.types.end());
    b.sql = "SELECT " + columns + " FROM objects WHERE date_added IN (";
    bool first = true;
    for (const auto& t : distinct) {
      if (!first) b.sql += " UNION ALL ";
      first = false;
      b.sql += "SELECT * FROM (SELECT date_added FROM objects";
      AppendWhere(q, {t}, after, scope, versions, b);
      b.sql += " ORDER BY date_added LIMIT ";
      b.Param(static_cast<int64_t>(limit));
      b.sql += ')';
    }
    b.sql += " ORDER BY 1 LIMIT ";
    b.Param(static_cast<int64_t>(limit));
    b.sql += ") ORDER BY date_added";
    return b;
  }
  b.sql = "SELECT " + columns + " FROM objects";
  // Without statistics SQLite prefers walking (collection, date_added) to skip
  // the sort; for an id list the (collection, id, version) lookup is far cheaper.
  if (!q.ids.empty()) b.sql += " INDEXED BY objects_id";
  AppendWhere(q, q.types, after, scope, versions, b);
  b.sql += " ORDER BY date_added LIMIT ";
  b.Param(static_cast<int64_t>(limit));
  return b;
}

Result<Timestamp> StoredVersion(std::string_view key, int64_t digits) {
  auto ts = Timestamp::Parse(key);
  if (!ts.ok()) return Internal("corrupt version in store: " + std::string(key));
  return Timestamp(ts->seconds(), ts->nanos(),
                   static_cast<uint8_t>(std::clamp<int64_t>(digits, 0, 9)));
}

// The granular column: 0 no granular TLP/PAP marking; 1 some, highest
// levels not recorded (rows written before they were); 2 + (tlp + 1) +
// 6 * (pap + 1) with the highest granular TLP (-1..4) and PAP (-1..3) codes.
int64_t EncodeGranular(const AccessFacts& a) {
  if (!a.granular_levels) return 0;
  if (!a.granular_max_known || a.granular_max_tlp < -1 || a.granular_max_tlp > 4 ||
      a.granular_max_pap < -1 || a.granular_max_pap > 3)
    return 1;
  return 2 + (a.granular_max_tlp + 1) + 6 * (a.granular_max_pap + 1);
}

void DecodeGranular(int64_t v, AccessFacts& a) {
  a.granular_levels = v != 0;
  a.granular_max_known = v >= 2 && v < 2 + 6 * 5;
  a.granular_max_tlp = a.granular_max_known ? static_cast<int>((v - 2) % 6) - 1 : -1;
  a.granular_max_pap = a.granular_max_known ? static_cast<int>((v - 2) / 6) - 1 : -1;
}

// The access facts, type and date_added of the current row of a SELECT
// built by BuildSelect (what ObjectQuery::screen looks at).
void ReadFacts(const Statement& st, ObjectVersion& v) {
  v.date_added_us = st.Int(0);
  v.type = st.Text(2);
  AccessFacts& a = v.access;
  a.producer = st.Text(kFactsColumn);
  a.tlp = static_cast<int>(st.Int(kFactsColumn + 1));
  a.pap = static_cast<int>(st.Int(kFactsColumn + 2));
  std::string_view recipients = st.Text(kFactsColumn + 3);
  if (recipients.empty()) {
    a.recipient_orgs.clear();
  } else {
    a.recipient_orgs = DecodeRecipients(recipients);
  }
  DecodeGranular(st.Int(kFactsColumn + 4), a);
  a.known = st.Int(kFactsColumn + 5) != 0;
}

// The rest of the row after ReadFacts: id, spec version, version, JSON.
Status ReadRest(const Statement& st, const std::string& collection_id, bool include_json,
                ObjectVersion& v) {
  v.id = st.Text(1);
  v.spec_version = st.Text(3);
  CTIHUB_ASSIGN_OR_RETURN(v.version, StoredVersion(st.Text(4), st.Int(5)));
  v.collection_id = collection_id;
  if (include_json) {
    v.json = st.Text(6);
  } else {
    v.json.clear();
  }
  return Status::Ok();
}

// One row of a SELECT built by BuildSelect.
Result<ObjectVersion> ReadRow(const Statement& st, const std::string& collection_id,
                              bool include_json) {
  ObjectVersion v;
  ReadFacts(st, v);
  CTIHUB_RETURN_IF_ERROR(ReadRest(st, collection_id, include_json, v));
  return v;
}

// The version text a status resource shows for an object.
std::string StatusVersionText(const NewObject& o, int64_t date_added_us) {
  return o.has_version ? o.version.ToString() : Timestamp::FromMicros(date_added_us).ToString();
}

// match[version] first/last on the admitted path: among the versions the
// reader may see. A version the policy withholds is treated exactly as if it
// were not stored, so the reader's "last" is the newest version it may see
// (and "first" the oldest): the SQL walk passes every version, and a row that
// is not the object's stored latest (first) version is picked only when no
// newer (older) version of the object is admitted. Explicit versions are
// matched here too.
//
// For "last", the newer versions of a row's object are read newest first and
// the first admitted one is the object's newest admitted version: remembered
// per object, so the object's other rows in the walk need no read. When none
// is admitted, "every version above this one is withheld" is remembered
// instead, and a later, older row reads only the versions below that bound:
// each version is read at most once per walk. "first" mirrors it.
class VersionPicker {
 public:
  VersionPicker(const ObjectQuery& q, Connection& conn) : q_(q), conn_(conn) {
    for (const auto& t : q.versions) explicit_.push_back(VersionKey(t));
  }

  // Whether the current row of `st` (a BuildSelect row) is selected, provided
  // q.admit admits it. Runs q.screen / q.admit on the neighbours it reads.
  Result<bool> Picked(const Statement& st) {
    // Most rows are their object's only version: decided on the flags alone.
    if (q_.version_last && st.Int(kLatestColumn) != 0) return true;
    if (q_.version_first && st.Int(kFirstColumn) != 0) return true;
    const std::string_view key = st.Text(4);
    if (std::find(explicit_.begin(), explicit_.end(), key) != explicit_.end()) return true;
    if (q_.version_last) {
      CTIHUB_ASSIGN_OR_RETURN(bool edge, IsEdge(last_, /*newer=*/true, st.Text(1), key));
      if (edge) return true;
    }
    if (q_.version_first) {
      CTIHUB_ASSIGN_OR_RETURN(bool edge, IsEdge(first_, /*newer=*/false, st.Text(1), key));
      if (edge) return true;
    }
    return false;
  }

 private:
  // What the walk learnt of one object's versions on one side ("last": newer).
  struct Known {
    std::string admitted;  // the newest (oldest) admitted version, once found
    std::string bound;     // else: every version above (below) it is withheld
  };
  // Looks ids up as string_views (the row's text), without a copy.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  struct Side {
    std::unordered_map<std::string, Known, IdHash, std::equal_to<>> known;  // by object id
    std::optional<Statement> select;  // bound once but for ?2..?4
  };

  // The versions of one object strictly beyond ?3 and up to ?4 inclusive,
  // nearest the far end first (newer: version in (?3, ?4], newest first;
  // older: version in [?4, ?3), oldest first), under the query's
  // spec-version filter and access scope.
  SqlBuilder BuildNeighbours(bool newer) const {
    SqlBuilder b;
    b.sql = "SELECT " + SelectColumns(/*include_json=*/true) +
            " FROM objects INDEXED BY objects_id WHERE collection = ";
    b.Param(q_.collection_id);  // ?1
    b.sql += " AND id = ";
    b.Param(std::string());  // ?2, bound per use
    b.sql += newer ? " AND version > " : " AND version < ";
    b.Param(std::string());  // ?3, bound per use
    b.sql += newer ? " AND version <= " : " AND version >= ";
    b.Param(std::string());  // ?4, bound per use
    if (q_.spec_versions.empty()) {
      b.sql += " AND spec_latest = 1";
    } else {
      b.InList("spec_version", q_.spec_versions);
    }
    if (q_.scope) AppendScope(*q_.scope, q_.types, b);
    b.sql += newer ? " ORDER BY version DESC" : " ORDER BY version";
    return b;
  }

  // Whether no version beyond `key` (newer, or older) of object `id` is admitted.
  Result<bool> IsEdge(Side& side, bool newer, std::string_view id, std::string_view key) {
    // Version keys are digits and punctuation: '~' sorts after every one, "" before.
    auto beyond = [newer](std::string_view a, std::string_view b) { return newer ? a > b : a < b; };
    auto it = side.known.find(id);
    std::string_view far_end = newer ? "~" : "";
    if (it != side.known.end()) {
      const Known& k = it->second;
      if (!k.admitted.empty()) return !beyond(k.admitted, key);
      if (!beyond(k.bound, key)) return true;  // all beyond the bound are withheld
      // Read only what lies between key and the bound (the map's nodes stay put).
      far_end = k.bound;
    }
    CTIHUB_ASSIGN_OR_RETURN(std::optional<std::string> found,
                            FirstAdmitted(side, newer, id, key, far_end));
    Known& k = side.known[std::string(id)];
    if (found) {
      k.admitted = std::move(*found);
      return false;
    }
    k.bound = std::string(key);
    return true;
  }

  // The admitted version nearest `far_end` among those between `key`
  // (exclusive) and `far_end` (inclusive), if any.
  Result<std::optional<std::string>> FirstAdmitted(Side& side, bool newer, std::string_view id,
                                                   std::string_view key, std::string_view far_end) {
    if (!side.select) {
      SqlBuilder b = BuildNeighbours(newer);
      CTIHUB_ASSIGN_OR_RETURN(Statement prepared, conn_.Prepare(b.sql));
      b.BindAll(prepared);
      side.select.emplace(std::move(prepared));
    } else {
      side.select->Rewind();
    }
    Statement& st = *side.select;
    st.Bind(2, id).Bind(3, key).Bind(4, far_end);
    ObjectVersion n;
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return std::optional<std::string>();
      ReadFacts(st, n);
      if (q_.screen && !q_.screen(n)) continue;
      CTIHUB_RETURN_IF_ERROR(ReadRest(st, q_.collection_id, /*include_json=*/true, n));
      if (q_.admit(n)) return std::optional<std::string>(st.String(4));
    }
  }

  const ObjectQuery& q_;
  Connection& conn_;
  std::vector<std::string> explicit_;
  Side last_, first_;
};

// QueryObjects with an `admit` callback: one SELECT of the rows that pass
// the SQL filters, LIMIT the scan budget, stepped until the page holds
// `limit` admitted rows and one more admitted row was seen (the look-ahead
// for `more`), or the rows or the budget run out. `admit` runs between
// steps, on the reader connection's snapshot: the connection is held for
// one page's decisions (sub-microsecond each; a redaction a few more), as
// the plain path holds it for one page's rows. (Reading in chunks on fresh
// connections cost a re-prepared statement and re-read rows per chunk.)
// `st` is the prepared SELECT (BuildSelect with JSON); a row's facts are
// read first, the rest only for rows `screen` lets through. With `picker`
// the SELECT passed every version and the picker applies match[version].
Result<ObjectPage> QueryAdmitted(const ObjectQuery& q, size_t limit, size_t budget, Statement& st,
                                 VersionPicker* picker) {
  ObjectPage page;
  page.objects.reserve(std::min<size_t>(limit, 1024));
  size_t examined = 0;
  int64_t cursor = 0;  // date_added of the last row examined
  ObjectVersion v;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) {
      if (examined == budget) {  // the scan budget ran out first
        page.more = true;
        page.next = EncodeCursor(cursor);
      }
      return page;
    }
    ReadFacts(st, v);
    ++examined;
    cursor = v.date_added_us;
    if (q.screen && !q.screen(v)) continue;
    if (picker != nullptr) {  // before the row's JSON: most older versions are not picked
      CTIHUB_ASSIGN_OR_RETURN(bool picked, picker->Picked(st));
      if (!picked) continue;
    }
    CTIHUB_RETURN_IF_ERROR(ReadRest(st, q.collection_id, /*include_json=*/true, v));
    if (!q.admit(v)) continue;
    if (page.objects.size() == limit) {  // the look-ahead found one more
      page.more = true;
      page.next = EncodeCursor(page.objects.back().date_added_us);
      return page;
    }
    page.objects.push_back(std::move(v));
  }
}

}  // namespace

// ---- writing -------------------------------------------------------------------

std::future<Result<std::vector<WriteOutcome>>> SqliteStore::WriteObjects(
    std::string collection_id, std::vector<NewObject> objects, std::string status_id) {
  std::promise<Result<std::vector<WriteOutcome>>> done;
  for (const auto& o : objects) {
    Status s = ValidateNewObject(o);
    if (!s.ok()) {
      auto future = done.get_future();
      done.set_value(s);
      return future;
    }
  }
  WriteRequest req;
  req.collection_id = std::move(collection_id);
  req.objects = std::move(objects);
  req.status_id = std::move(status_id);
  req.done = std::move(done);
  return Enqueue(std::move(req));
}

std::future<Result<std::vector<WriteOutcome>>> SqliteStore::Enqueue(WriteRequest req) {
  auto future = req.done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!stopping_) {
      queue_.push_back(std::move(req));
      queue_cv_.notify_one();
      return future;
    }
  }
  req.done.set_value(Unavailable("store_closing", "the store is shutting down"));
  return future;
}

void SqliteStore::WriterLoop() {
  for (;;) {
    std::vector<WriteRequest> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued write is done
      batch = TakeBatch(lock);
    }
    CommitBatch(batch);
  }
}

// REQUIRES: queue_mu_ held, queue_ not empty.
std::vector<SqliteStore::WriteRequest> SqliteStore::TakeBatch(std::unique_lock<std::mutex>&) {
  std::vector<WriteRequest> batch;
  size_t objects = 0;
  while (!queue_.empty()) {
    size_t n = queue_.front().objects.size();
    if (!batch.empty() && objects + n > opts_.max_batch_objects) break;
    objects += n;
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return batch;
}

void SqliteStore::CommitBatch(std::vector<WriteRequest>& batch) {
  auto results = WriteBatchTxn(batch);
  if (results.ok()) {
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move((*results)[i]));
    return;
  }
  // A request-specific failure (unknown collection, duplicate status id) is
  // isolated by retrying each request alone; a store-wide one (the database
  // is locked by another process beyond busy_timeout, disk full) fails them all.
  const bool store_wide = results.status().code() == ErrorCode::kUnavailable ||
                          results.status().code() == ErrorCode::kInternal;
  if (batch.size() > 1 && !store_wide) {
    // Isolate the request that broke the shared transaction.
    for (auto& req : batch) {
      std::vector<WriteRequest> one;
      one.push_back(std::move(req));
      CommitBatch(one);
    }
    return;
  }
  for (WriteRequest& req : batch) {
    if (!req.status_id.empty()) RecordFailure(req, results.status());
    req.done.set_value(results.status());
  }
}

// Marks the objects of a failed request as failures in its status resource,
// so the status does not stay pending forever. Best effort.
void SqliteStore::RecordFailure(const WriteRequest& req, const Status& why) {
  auto txn = Transaction::Begin(*writer_conn_);
  if (!txn.ok()) return;
  std::vector<int64_t> no_dates(req.objects.size(), 0);
  Status s = UpdateStatus(req.status_id, req.objects, {}, no_dates, why.NamedMessage());
  if (s.ok()) (void)(*txn)->Commit();
}

Result<std::vector<std::vector<WriteOutcome>>> SqliteStore::WriteBatchTxn(
    std::vector<WriteRequest>& batch) {
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*writer_conn_));
  // Another process (an import run from the CLI) may have written meanwhile.
  CTIHUB_ASSIGN_OR_RETURN(
      int64_t max_in_db,
      writer_conn_->QueryInt("SELECT COALESCE(MAX(date_added), 0) FROM objects"));
  int64_t last = std::max(last_date_added_, max_in_db);
  std::vector<std::vector<WriteOutcome>> results;
  results.reserve(batch.size());
  for (auto& req : batch) {
    if (req.new_status) {
      CTIHUB_RETURN_IF_ERROR(InsertStatus(*writer_conn_, *req.new_status));
      results.emplace_back();
      continue;
    }
    {
      CTIHUB_ASSIGN_OR_RETURN(Statement st,
                              writer_conn_->Prepare("SELECT 1 FROM collections WHERE id = ?1"));
      st.Bind(1, req.collection_id);
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return NotFound("unknown_collection", "no collection '" + req.collection_id + "'");
    }
    std::vector<WriteOutcome> outcomes;
    std::vector<int64_t> dates;
    outcomes.reserve(req.objects.size());
    dates.reserve(req.objects.size());
    for (const auto& obj : req.objects) {
      int64_t before = last;
      CTIHUB_ASSIGN_OR_RETURN(WriteOutcome o, WriteOne(req.collection_id, obj, &last));
      outcomes.push_back(o);
      dates.push_back(last != before ? last : 0);
    }
    if (!req.status_id.empty()) {
      CTIHUB_RETURN_IF_ERROR(UpdateStatus(req.status_id, req.objects, outcomes, dates, ""));
    }
    results.push_back(std::move(outcomes));
  }
  // Status resources created while this batch was being written join its
  // transaction: one commit and one fsync for both. Before, a POST's
  // CreateStatus waited behind the batch of the previous POST and its fsync,
  // then paid an fsync of its own (issue 11). Only from the front of the
  // queue, so a status is never committed after objects queued behind it.
  for (;;) {
    WriteRequest late;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (queue_.empty() || !queue_.front().new_status) break;
      late = std::move(queue_.front());
      queue_.pop_front();
    }
    Status inserted = InsertStatus(*writer_conn_, *late.new_status);
    batch.push_back(std::move(late));  // CommitBatch answers it, whatever happens
    CTIHUB_RETURN_IF_ERROR(inserted);
    results.emplace_back();
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  ++commits_;
  last_date_added_ = last;
  return results;
}

// Inserts one object version (or finds it already present) and maintains the
// is_latest / is_first / spec_latest flags of its (collection, id).
Result<WriteOutcome> SqliteStore::WriteOne(const std::string& collection_id, const NewObject& obj,
                                           int64_t* last_date_added) {
  Connection& c = *writer_conn_;
  int64_t date_added = std::max(Timestamp::Now().micros(), *last_date_added + 1);
  Timestamp version = obj.has_version ? obj.version : Timestamp::FromMicros(date_added);
  std::string key = VersionKey(version);

  // The rows that currently carry a flag, plus the same version if present.
  bool have_latest = false, have_first = false, have_spec = false;
  int64_t latest_row = 0, first_row = 0;
  std::string latest_key, first_key, max_spec;
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT date_added, version, spec_version, is_latest, is_first, spec_latest "
                  "FROM objects WHERE collection = ?1 AND id = ?2 AND "
                  "(version = ?3 OR is_latest = 1 OR is_first = 1 OR spec_latest = 1)"));
    st.Bind(1, collection_id).Bind(2, obj.id).Bind(3, key);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      if (st.Text(1) == key) return WriteOutcome{false, true};
      if (st.Int(3) != 0) {
        have_latest = true;
        latest_row = st.Int(0);
        latest_key = st.String(1);
      }
      if (st.Int(4) != 0) {
        have_first = true;
        first_row = st.Int(0);
        first_key = st.String(1);
      }
      if (st.Int(5) != 0 && (!have_spec || st.Text(2) > max_spec)) {
        have_spec = true;
        max_spec = st.String(2);
      }
    }
  }
  bool is_latest = !have_latest || key > latest_key;
  bool is_first = !have_first || key < first_key;
  bool spec_latest = !have_spec || obj.spec_version >= max_spec;
  if (is_latest && have_latest) {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("UPDATE objects SET is_latest = 0 WHERE date_added = ?1"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, latest_row).Run());
  }
  if (is_first && have_first) {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("UPDATE objects SET is_first = 0 WHERE date_added = ?1"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, first_row).Run());
  }
  if (have_spec && obj.spec_version > max_spec) {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("UPDATE objects SET spec_latest = 0 WHERE collection = ?1 AND "
                                "id = ?2 AND spec_latest = 1"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, collection_id).Bind(2, obj.id).Run());
  }
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare(
            "INSERT INTO objects(date_added, collection, id, version, version_digits, type, "
            "spec_version, is_latest, is_first, spec_latest, json, producer, tlp, pap, "
            "recipients, granular, facts) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 1)"));
    st.Bind(1, date_added).Bind(2, collection_id).Bind(3, obj.id).Bind(4, key);
    st.Bind(5, int64_t{version.fraction_digits()}).Bind(6, obj.type).Bind(7, obj.spec_version);
    st.Bind(8, int64_t{is_latest}).Bind(9, int64_t{is_first}).Bind(10, int64_t{spec_latest});
    st.Bind(11, obj.json);
    const AccessFacts& a = obj.access;
    st.Bind(12, a.producer).Bind(13, int64_t{a.tlp}).Bind(14, int64_t{a.pap});
    st.Bind(15, EncodeRecipients(a.recipient_orgs)).Bind(16, EncodeGranular(a));
    CTIHUB_RETURN_IF_ERROR(st.Run());
  }
  {
    // The search index, in the same transaction (schema step 2 -> 3).
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("INSERT INTO object_text(rowid, body) VALUES(?1, ?2)"));
    CTIHUB_RETURN_IF_ERROR(st.Bind(1, date_added).Bind(2, SearchTextOf(obj.json)).Run());
  }
  *last_date_added = date_added;
  return WriteOutcome{true, false};
}

namespace {

// Whether the ids of `objects` are, as a multiset, the ids of the pending
// entries of status `status_id`: what a POST hands the writer (the status
// lists each object it queues as pending, once), so the common case
// converts every pending entry in one statement instead of one per object.
Result<bool> ObjectsArePendings(Connection& c, const std::string& status_id,
                                const std::vector<NewObject>& objects) {
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT object_id FROM status_details WHERE status_id = ?1 AND kind = 2"));
  st.Bind(1, status_id);
  std::vector<std::string> pending;
  pending.reserve(objects.size());
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (pending.size() == objects.size()) return false;
    pending.push_back(st.String(0));
  }
  if (pending.size() != objects.size()) return false;
  std::vector<std::string_view> ids;
  ids.reserve(objects.size());
  for (const NewObject& o : objects) ids.emplace_back(o.id);
  std::sort(pending.begin(), pending.end());
  std::sort(ids.begin(), ids.end());
  return std::equal(pending.begin(), pending.end(), ids.begin(), ids.end());
}

}  // namespace

// Moves the status entries of `objects` from pending to success (outcomes
// given) or failure (outcomes empty, `failure_message` set), in the caller's
// transaction. Pendings are matched by object id, preferring the same version
// text, and keep the version text the requester gave; an object without a
// pending entry gets a new entry.
Status SqliteStore::UpdateStatus(const std::string& status_id,
                                 const std::vector<NewObject>& objects,
                                 const std::vector<WriteOutcome>& outcomes,
                                 const std::vector<int64_t>& date_added,
                                 const std::string& failure_message) {
  Connection& c = *writer_conn_;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT 1 FROM statuses WHERE id = ?1"));
    st.Bind(1, status_id);
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();  // nothing to update; the caller created no status
  }
  const bool success = !outcomes.empty() || objects.empty();
  const int64_t kind = success ? 0 : 1;
  int64_t converted = 0, added = 0;
  CTIHUB_ASSIGN_OR_RETURN(bool all_pending, ObjectsArePendings(c, status_id, objects));
  if (all_pending) {
    // Each object converts one pending entry of its id, so converting them
    // all in one statement leaves the rows exactly as the loop below would
    // (rowids, version texts and order unchanged).
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("UPDATE status_details SET kind = ?2, message = ?3 "
                                      "WHERE status_id = ?1 AND kind = 2"));
    st.Bind(1, status_id).Bind(2, kind).Bind(3, failure_message);
    CTIHUB_RETURN_IF_ERROR(st.Run());
    converted = static_cast<int64_t>(objects.size());
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement convert,
      c.Prepare("UPDATE status_details SET kind = ?4, message = ?5 WHERE rowid = "
                "(SELECT rowid FROM status_details WHERE status_id = ?1 AND object_id = ?2 AND "
                "kind = 2 ORDER BY version = ?3 DESC LIMIT 1)"));
  CTIHUB_ASSIGN_OR_RETURN(
      Statement insert,
      c.Prepare("INSERT INTO status_details(status_id, kind, object_id, version, message) "
                "VALUES(?1, ?4, ?2, ?3, ?5)"));
  for (size_t i = 0; i < objects.size() && !all_pending; ++i) {
    const NewObject& o = objects[i];
    std::string version = StatusVersionText(o, date_added[i]);
    convert.Bind(1, status_id).Bind(2, o.id).Bind(3, version).Bind(4, kind);
    convert.Bind(5, failure_message);
    CTIHUB_RETURN_IF_ERROR(convert.Run());
    if (c.Changes() > 0) {
      ++converted;
      continue;
    }
    insert.Bind(1, status_id).Bind(2, o.id).Bind(3, version).Bind(4, kind);
    insert.Bind(5, failure_message);
    CTIHUB_RETURN_IF_ERROR(insert.Run());
    ++added;
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("UPDATE statuses SET "
                "success_count = success_count + ?2, failure_count = failure_count + ?3, "
                "pending_count = max(pending_count - ?4, 0), total_count = total_count + ?5, "
                "status = CASE WHEN pending_count - ?4 <= 0 THEN 'complete' ELSE 'pending' END "
                "WHERE id = ?1"));
  int64_t n = static_cast<int64_t>(objects.size());
  st.Bind(1, status_id).Bind(2, success ? n : 0).Bind(3, success ? 0 : n);
  st.Bind(4, converted).Bind(5, added);
  return st.Run();
}

// ---- reading -------------------------------------------------------------------

Result<ObjectPage> SqliteStore::QueryObjects(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  int64_t after = q.added_after_us.value_or(-1);
  if (!q.next.empty()) {
    CTIHUB_ASSIGN_OR_RETURN(int64_t cursor, DecodeCursor(q.next));
    after = std::max(after, cursor);
  }
  size_t limit = q.limit == 0 ? kDefaultPageLimit : std::min(q.limit, kMaxPageLimit);
  if (q.scope && q.scope->none) return ObjectPage{};
  if (q.admit) {
    const size_t budget = q.max_scan != 0 ? q.max_scan : 20 * limit + 10000;
    // first/last among the versions the reader may see (VersionPicker).
    const bool pick_versions = !q.version_all && (q.version_first || q.version_last);
    SqlBuilder b = BuildSelect(q, after, budget, /*include_json=*/true,
                               pick_versions ? Versions::kByCaller : Versions::kInSql);
    auto conn = AcquireReader();
    CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
    b.BindAll(st);
    std::optional<VersionPicker> picker;
    if (pick_versions) picker.emplace(q, *conn);
    return QueryAdmitted(q, limit, budget, st, picker ? &*picker : nullptr);
  }

  SqlBuilder b = BuildSelect(q, after, limit + 1, q.include_json);

  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
  b.BindAll(st);
  ObjectPage page;
  page.objects.reserve(std::min<size_t>(limit, 1024));
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (page.objects.size() == limit) {
      page.more = true;
      break;
    }
    CTIHUB_ASSIGN_OR_RETURN(ObjectVersion v, ReadRow(st, q.collection_id, q.include_json));
    page.objects.push_back(std::move(v));
  }
  if (page.more) page.next = EncodeCursor(page.objects.back().date_added_us);
  return page;
}

Result<int64_t> SqliteStore::DeleteObject(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  if (q.ids.empty()) return InvalidArgument("bad_delete", "an object id is required");
  SqlBuilder b;
  b.sql = "DELETE FROM objects";
  // No scope, no admit: a delete removes what the filters select.
  AppendWhere(q, q.types, q.added_after_us.value_or(-1), /*scope=*/nullptr, Versions::kInSql, b);
  b.sql += " RETURNING id";

  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  int64_t deleted = 0;
  std::set<std::string> touched;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st, admin_->Prepare(b.sql));
    b.BindAll(st);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      ++deleted;
      touched.insert(st.String(0));
    }
  }
  // Recompute the version flags of every object that lost a version.
  CTIHUB_ASSIGN_OR_RETURN(
      Statement fix,
      admin_->Prepare(
          "UPDATE objects SET "
          "is_latest = (version = (SELECT max(version) FROM objects o WHERE o.collection = ?1 "
          "AND o.id = ?2)), "
          "is_first = (version = (SELECT min(version) FROM objects o WHERE o.collection = ?1 "
          "AND o.id = ?2)), "
          "spec_latest = (spec_version = (SELECT max(spec_version) FROM objects o WHERE "
          "o.collection = ?1 AND o.id = ?2)) "
          "WHERE collection = ?1 AND id = ?2"));
  for (const auto& id : touched) {
    CTIHUB_RETURN_IF_ERROR(fix.Bind(1, q.collection_id).Bind(2, id).Run());
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return deleted;
}

namespace {

// The FTS5 query of SearchQuery::words: every word quoted as a phrase (a
// '"' inside doubled), as a prefix, all required. No operator the user typed
// survives quoting; a word without letters or digits is an empty phrase,
// which matches nothing.
std::string Fts5Query(const std::vector<std::string>& words) {
  std::string q;
  for (const auto& w : words) {
    if (!q.empty()) q += " AND ";
    q += '"';
    for (char ch : w) {
      if (ch == '"') q += '"';
      q += ch;
    }
    q += "\"*";
  }
  return q;
}

}  // namespace

// With words the FTS index is walked by rowid (= date_added) downwards and
// each hit's row looked up (CROSS JOIN keeps that order); without, the
// objects table itself. Filters on date_added become rowid bounds of the walk.
Status SqliteStore::SearchObjects(const SearchQuery& q,
                                  const std::function<bool(SearchHit&)>& visit) {
  if (q.collection_ids.empty()) return Status::Ok();
  if (q.collection_ids.size() > 1000 || q.types.size() > 1000 || q.words.size() > 64 ||
      q.tlps.size() > 16 || q.producers.size() > 1000) {
    return InvalidArgument("bad_filter", "too many search filter values");
  }
  const bool text = !q.words.empty();
  SqlBuilder b;
  b.sql =
      "SELECT o.date_added, o.id, o.type, o.spec_version, o.version, o.version_digits, "
      "o.json, o.producer, o.tlp, o.pap, o.recipients, o.granular, o.facts, o.collection";
  const std::string walk = text ? "t.rowid" : "o.date_added";
  if (text) {
    b.sql +=
        " FROM object_text t CROSS JOIN objects o ON o.date_added = t.rowid "
        "WHERE object_text MATCH ";
    b.Param(Fts5Query(q.words));
    b.sql += " AND ";
  } else {
    b.sql += " FROM objects o WHERE ";
  }
  b.sql += "o.is_latest = 1 AND o.collection IN (";
  for (size_t i = 0; i < q.collection_ids.size(); ++i) {
    if (i > 0) b.sql += ", ";
    b.Param(q.collection_ids[i]);
  }
  b.sql += ')';
  if (!q.types.empty()) {
    b.sql += " AND o.type IN (";
    for (size_t i = 0; i < q.types.size(); ++i) {
      if (i > 0) b.sql += ", ";
      b.Param(q.types[i]);
    }
    b.sql += ')';
  }
  if (!q.tlps.empty()) {
    b.sql += " AND o.tlp IN (";
    for (size_t i = 0; i < q.tlps.size(); ++i) {
      if (i > 0) b.sql += ", ";
      b.Param(int64_t{q.tlps[i]});
    }
    b.sql += ')';
  }
  if (!q.producers.empty()) {
    b.sql += " AND o.producer IN (";
    for (size_t i = 0; i < q.producers.size(); ++i) {
      if (i > 0) b.sql += ", ";
      b.Param(q.producers[i]);
    }
    b.sql += ')';
  }
  if (q.added_after_us) {
    b.sql += " AND " + walk + " > ";
    b.Param(*q.added_after_us);
  }
  if (q.added_before_us) {
    b.sql += " AND " + walk + " < ";
    b.Param(*q.added_before_us);
  }
  if (q.below_date_added_us) {
    b.sql += " AND " + walk + " < ";
    b.Param(*q.below_date_added_us);
  }
  b.sql += " ORDER BY " + walk + " DESC";
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(Statement st, conn->Prepare(b.sql));
  b.BindAll(st);
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::Ok();
    SearchHit hit;
    ReadFacts(st, hit.object);
    const std::string collection = st.String(13);
    CTIHUB_RETURN_IF_ERROR(ReadRest(st, collection, /*include_json=*/true, hit.object));
    if (!visit(hit)) return Status::Ok();
  }
}

Result<int64_t> SqliteStore::CountObjects() {
  auto conn = AcquireReader();
  return conn->QueryInt("SELECT count(*) FROM objects");
}

// Served by the objects_added index (collection, date_added).
Result<CollectionState> SqliteStore::CollectionStateOf(std::string_view collection_id) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st, conn->Prepare("SELECT count(*), coalesce(max(date_added), 0) FROM objects "
                                  "WHERE collection = ?1"));
  st.Bind(1, collection_id);
  CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
  CollectionState out;
  if (row) {
    out.versions = st.Int(0);
    out.newest_date_added_us = st.Int(1);
  }
  return out;
}

// ---- crash recovery ------------------------------------------------------------

Result<std::vector<StoredVersionRef>> SqliteStore::ListVersionsAddedAfter(int64_t after_us,
                                                                          size_t limit) {
  auto conn = AcquireReader();
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      conn->Prepare("SELECT date_added, collection, id, version, version_digits FROM objects "
                    "WHERE date_added > ?1 ORDER BY date_added LIMIT ?2"));
  st.Bind(1, after_us).Bind(2, static_cast<int64_t>(std::min(limit, kMaxPageLimit)));
  std::vector<StoredVersionRef> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    StoredVersionRef v;
    v.date_added_us = st.Int(0);
    v.collection_id = st.String(1);
    v.id = st.String(2);
    CTIHUB_ASSIGN_OR_RETURN(v.version, StoredVersion(st.Text(3), st.Int(4)));
    out.push_back(std::move(v));
  }
  return out;
}

Result<int64_t> SqliteStore::FinishPendingStatuses(std::string_view reason) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  std::vector<std::pair<std::string, std::string>> pending;  // (id, api_root)
  {
    CTIHUB_ASSIGN_OR_RETURN(
        Statement st,
        admin_->Prepare("SELECT id, api_root FROM statuses WHERE status = 'pending'"));
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      pending.emplace_back(st.String(0), st.String(1));
    }
  }
  for (const auto& [id, api_root] : pending) {
    CTIHUB_RETURN_IF_ERROR(FinishStatusDetails(id, api_root, reason));
  }
  CTIHUB_RETURN_IF_ERROR(txn->Commit());
  return static_cast<int64_t>(pending.size());
}

// A pending detail's version is the text the client sent (or empty for an
// object without one): it is durable when that version, or for an empty one
// any version, of the object is stored in a collection of the API root.
Status SqliteStore::FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                                        std::string_view reason) {
  std::lock_guard<std::mutex> lock(admin_mu_);
  CTIHUB_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(*admin_));
  bool pending = false;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            admin_->Prepare("SELECT 1 FROM statuses WHERE id = ?1 "
                                            "AND api_root = ?2 AND status = 'pending'"));
    st.Bind(1, status_id).Bind(2, api_root);
    CTIHUB_ASSIGN_OR_RETURN(pending, st.Step());
  }
  if (!pending) return Status::Ok();
  CTIHUB_RETURN_IF_ERROR(
      FinishStatusDetails(std::string(status_id), std::string(api_root), reason));
  return txn->Commit();
}

Status SqliteStore::FinishStatusDetails(const std::string& status_id, const std::string& api_root,
                                        std::string_view reason) {
  Connection& c = *admin_;
  struct Detail {
    int64_t rowid;
    std::string object_id;
    std::string version;
  };
  std::vector<Detail> details;
  {
    CTIHUB_ASSIGN_OR_RETURN(Statement st,
                            c.Prepare("SELECT rowid, object_id, version FROM status_details "
                                      "WHERE status_id = ?1 AND kind = 2 ORDER BY rowid"));
    st.Bind(1, status_id);
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      details.push_back({st.Int(0), st.String(1), st.String(2)});
    }
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement stored,
      c.Prepare("SELECT 1 FROM objects o JOIN collections c ON c.id = o.collection "
                "WHERE c.api_root = ?1 AND o.id = ?2 AND (?3 = '' OR o.version = ?3) LIMIT 1"));
  CTIHUB_ASSIGN_OR_RETURN(
      Statement finish,
      c.Prepare("UPDATE status_details SET kind = ?2, message = ?3 WHERE rowid = ?1"));
  int64_t successes = 0, failures = 0;
  for (const Detail& d : details) {
    std::string key;
    if (auto ts = Timestamp::Parse(d.version); ts.ok()) key = VersionKey(*ts);
    stored.Bind(1, api_root).Bind(2, d.object_id).Bind(3, key);
    CTIHUB_ASSIGN_OR_RETURN(bool durable, stored.Step());
    stored.Reset();
    finish.Bind(1, d.rowid).Bind(2, int64_t{durable ? 0 : 1});
    finish.Bind(3, durable ? std::string_view("") : reason);
    CTIHUB_RETURN_IF_ERROR(finish.Run());
    ++(durable ? successes : failures);
  }
  CTIHUB_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("UPDATE statuses SET success_count = success_count + ?2, "
                "failure_count = failure_count + ?3, pending_count = 0, status = 'complete' "
                "WHERE id = ?1"));
  st.Bind(1, status_id).Bind(2, successes).Bind(3, failures);
  return st.Run();
}

}  // namespace ctihub::store
