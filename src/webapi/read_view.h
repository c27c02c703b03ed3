// What one caller may read, decided once per request by the read gates of the
// collections it may read: the object page's versions, relationships and
// sightings, and the graph. Everything a ReadView returns went through the
// gate of its collection (redacted where the policy redacts); nothing else
// reaches the caller.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "core/result.h"
#include "core/timestamp.h"
#include "store/store.h"
#include "webapi/search.h"

namespace ctihub::webapi {

// One version the caller may read, with what let it have it.
struct VisibleVersion {
  store::ObjectVersion row;
  std::string collection_title;
  std::string grant;  // ServedGrant::via
  bool redacted = false;
};

// The few properties of an object the console's lists and graph show.
struct Summary {
  std::string type, name, relationship_type, source_ref, target_ref, sighting_of_ref;
};
// "" for what the JSON lacks; name is "name", else an observable's "value".
Summary Summarise(std::string_view object_json);

// Adds `v` to the versions a response serves (its object.served record).
void Serve(std::vector<audit::ObjectRef>& served, const VisibleVersion& v);

// A STIX id as a path may name one ("type--..." of letters, digits, - and _).
bool LooksLikeStixId(std::string_view id);

class ReadView {
 public:
  // Unavailable "policy_unavailable" when no policy is loaded (fail closed).
  static Result<std::unique_ptr<ReadView>> Open(const SearchContext& ctx);
  ~ReadView();
  ReadView(const ReadView&) = delete;
  ReadView& operator=(const ReadView&) = delete;

  // Every version of `id` (only `only` when set) in every readable
  // collection, newest version first; at most 1000 per collection.
  Result<std::vector<VisibleVersion>> Versions(std::string_view id,
                                               std::optional<Timestamp> only = std::nullopt);
  // The newest readable version of `id` anywhere; nullopt when none.
  Result<std::optional<VisibleVersion>> Newest(std::string_view id);
  // The same for many ids at once (a query per collection and 100 ids):
  // the ids the caller may read, each with its newest readable version.
  Result<std::map<std::string, VisibleVersion>> NewestOf(const std::vector<std::string>& ids);

  // The objects that reference `id` now (store::ReferencesTo, then each one's
  // newest readable version in its collection, kept only if that copy still
  // references `id`), one per object id, most recently added first; at most
  // `limit` looked at.
  Result<std::vector<VisibleVersion>> Referrers(std::string_view id, size_t limit);

 private:
  struct Readable;
  explicit ReadView(const SearchContext& ctx);
  Result<std::vector<VisibleVersion>> VersionsIn(Readable& r, const std::vector<std::string>& ids,
                                                 std::optional<Timestamp> only);

  const SearchContext& ctx_;
  std::vector<Readable> readable_;
};

}  // namespace ctihub::webapi
