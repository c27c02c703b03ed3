// The SQL of the object queries, shared by the SQL backends (SQLite and
// PostgreSQL): one implementation of the filters, the version selection, the
// access scope (store.h AccessScope) as an SQL condition, the query plans, and
// the admitted path's version picker, so both backends select exactly alike.
// The dialects differ only in parameter markers (?N / $N), index hints and the
// substring function. For backends only. Not thread-safe per object; the
// functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace ctihub::store::sql {

enum class Dialect { kSqlite, kPostgres };

// A parameterised SQL text built from an ObjectQuery. Every parameter is
// numbered (?N in SQLite, $N in PostgreSQL): the access scope's text is built
// once and repeated in every per-type walk of the multi-type plan without
// repeating its values. params[i] is parameter i + 1.
struct SqlBuilder {
  explicit SqlBuilder(Dialect d) : dialect(d) {}
  Dialect dialect;
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;
  std::string scope_sql;  // the scope condition once built (parameters numbered)

  void Param(int64_t v) { sql += Numbered(v); }
  void Param(std::string v) { sql += Numbered(std::move(v)); }
  // Adds a parameter and returns its reference ("?N" / "$N").
  std::string Numbered(std::variant<int64_t, std::string> v);
  void InList(std::string_view column, const std::vector<std::string>& values);
  // " INDEXED BY name" in SQLite (its planner has no statistics to choose the
  // index well); nothing in PostgreSQL.
  std::string IndexHint(std::string_view name) const;
};

// How the version selection of match[version] is applied. In SQL: the
// is_latest / is_first flags and the explicit versions. By the caller: every
// version passes the SQL (the admitted path picks first/last among the
// versions the reader may see: VersionPicker).
enum class Versions { kInSql, kByCaller };

// The scope condition (store.h AccessScope) as " AND (...)". `query_types` is
// the match[type] filter ANDed beside it.
void AppendScope(const AccessScope& s, const std::vector<std::string>& query_types, SqlBuilder& b);

// Appends " WHERE ..." for the filters of q (collection, date_added lower
// bound, ids, `types`, spec_version, version selection unless the caller
// applies it) and, when `scope` is set, the access scope on top of them.
void AppendWhere(const ObjectQuery& q, const std::vector<std::string>& types, int64_t after_us,
                 const AccessScope* scope, Versions versions, SqlBuilder& b);

// Columns of every object SELECT: 0 date_added, 1 id, 2 type, 3 spec_version,
// 4 version, 5 version_digits, 6 json ('' without), 7..12 the access facts
// (producer, tlp, pap, recipients, granular, facts); 13, 14 with
// Versions::kByCaller: is_latest, is_first.
inline constexpr int kFactsColumn = 7;
inline constexpr int kLatestColumn = 13;
inline constexpr int kFirstColumn = 14;
std::string SelectColumns(bool include_json, Versions versions = Versions::kInSql);

// The SELECT of one page (limit rows) in date_added order.
SqlBuilder BuildSelect(Dialect d, const ObjectQuery& q, int64_t after, size_t limit,
                       bool include_json, Versions versions = Versions::kInSql);

// The versions of one object strictly beyond parameter 3 and up to parameter
// 4 inclusive, nearest the far end first (newer: version in ($3, $4], newest
// first; older: version in [$4, $3), oldest first), under the query's
// spec-version filter and access scope; parameter 2 is the object id.
// Parameters 2..4 are placeholders, bound per use.
SqlBuilder BuildNeighbours(Dialect d, const ObjectQuery& q, bool newer);

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
  // The admitted version nearest `far_end` among the versions of object `id`
  // between `key` (exclusive) and `far_end` (inclusive) (BuildNeighbours
  // rows, screened and admitted by the query's callbacks), if any.
  using FirstAdmittedFn = std::function<Result<std::optional<std::string>>(
      bool newer, std::string_view id, std::string_view key, std::string_view far_end)>;

  VersionPicker(const ObjectQuery& q, FirstAdmittedFn first_admitted);

  // Whether a row (its id, version key and flags) is selected, provided
  // q.admit admits it.
  Result<bool> Picked(std::string_view id, std::string_view key, bool is_latest, bool is_first);

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
  using Side = std::unordered_map<std::string, Known, IdHash, std::equal_to<>>;  // by object id

  // Whether no version beyond `key` (newer, or older) of object `id` is admitted.
  Result<bool> IsEdge(Side& side, bool newer, std::string_view id, std::string_view key);

  const ObjectQuery& q_;
  FirstAdmittedFn first_admitted_;
  std::vector<std::string> explicit_;
  Side last_, first_;
};

}  // namespace ctihub::store::sql
