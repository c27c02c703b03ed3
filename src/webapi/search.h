// GET /api/v1/search (docs/API.md "Search"): the store's text index, every
// candidate through the read gate of its collection, totals and facets over
// what the caller may read only, bounded in work.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"

namespace ctihub {
namespace store {
class Store;
struct ObjectVersion;
}  // namespace store
namespace taxii {
struct Response;
struct AccessControl;
}  // namespace taxii
}  // namespace ctihub

namespace ctihub::webapi {

inline constexpr size_t kMaxQueryBytes = 10240;
inline constexpr size_t kMaxQueryWords = 32;
inline constexpr size_t kDefaultSearchLimit = 20;
inline constexpr size_t kMaxSearchLimit = 100;

struct SearchLimits {
  size_t count_cap = 2000;  // admitted objects counted at most (then total_capped)
  size_t scan_cap = 20000;  // candidates examined at most
};

struct SearchContext {
  store::Store& store;
  const taxii::AccessControl& access;
  const auth::Principal& principal;
  SearchLimits limits;
  // Called for every object counted in `total` (the stats' histograms).
  std::function<void(const store::ObjectVersion&)> on_counted = nullptr;
};

// GET /api/v1/stats (docs/API.md "Stats"): two searches (everything; the
// sightings), their counts, facets and first results, and histograms by day
// and minute of what they counted. Bounded like a search, by `limits`.
taxii::Response Stats(const SearchContext& ctx, std::vector<audit::ObjectRef>& served);

// Answers one search; `served` receives the versions on the page with their
// grants (the caller audits them). Never throws on bad input: 400 bad_query /
// bad_filter.
taxii::Response Search(const SearchContext& ctx, std::string_view target,
                       std::vector<audit::ObjectRef>& served);

// The words of q as the store takes them: split on white space; words without
// a letter or digit dropped. Errors: bad_query (size, word count, UTF-8).
Result<std::vector<std::string>> SearchWords(std::string_view q);

// Up to about 160 bytes of `text` around the first word found, the match in
// [ ]; valid UTF-8 whenever `text` is.
std::string Snippet(std::string_view text, const std::vector<std::string>& words);

}  // namespace ctihub::webapi
