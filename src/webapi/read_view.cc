#include "webapi/read_view.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "auth/auth.h"
#include "core/json.h"
#include "policy/policy_holder.h"
#include "taxii/access.h"

namespace ctihub::webapi {

namespace {
constexpr size_t kMaxVersions = 1000;

bool NewerFirst(const VisibleVersion& a, const VisibleVersion& b) {
  if (b.row.version < a.row.version) return true;
  if (a.row.version < b.row.version) return false;
  return b.row.date_added_us < a.row.date_added_us;
}
}  // namespace

bool LooksLikeStixId(std::string_view id) {
  const size_t sep = id.find("--");
  return id.size() <= 256 && sep != std::string_view::npos && sep > 0 && sep + 2 < id.size() &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
         });
}

Summary Summarise(std::string_view object_json) {
  thread_local json::JsonParser parser;
  Summary s;
  auto doc = parser.Parse(object_json);
  if (!doc.ok() || !doc->is_object()) return s;
  const json::Object fields = doc->get_object().value();
  for (auto field : fields) {
    if (!field.value.is_string()) continue;
    const std::string_view v = field.value.get_string().value();
    const std::string_view key = field.key;
    if (key == "type") s.type = v;
    if (key == "name" || (key == "value" && s.name.empty())) s.name = v;
    if (key == "relationship_type") s.relationship_type = v;
    if (key == "source_ref") s.source_ref = v;
    if (key == "target_ref") s.target_ref = v;
    if (key == "sighting_of_ref") s.sighting_of_ref = v;
  }
  return s;
}

void Serve(std::vector<audit::ObjectRef>& served, const VisibleVersion& v) {
  served.emplace_back(v.row.id, v.row.version.ToString(), v.grant, v.redacted);
}

struct ReadView::Readable {
  store::Collection collection;
  std::unique_ptr<taxii::ReadGate> gate;
};

ReadView::ReadView(const SearchContext& ctx) : ctx_(ctx) {}
ReadView::~ReadView() = default;

Result<std::unique_ptr<ReadView>> ReadView::Open(const SearchContext& ctx) {
  std::shared_ptr<const policy::Policy> policy =
      ctx.access.policy != nullptr ? ctx.access.policy->Current() : nullptr;
  if (policy == nullptr && !ctx.access.without_policy_for_test) {
    return Unavailable("policy_unavailable", "no sharing policy is loaded");
  }
  CTIHUB_ASSIGN_OR_RETURN(auto collections, ctx.store.ListCollections(""));
  std::unique_ptr<ReadView> view(new ReadView(ctx));
  const Timestamp now = Timestamp::Now();
  for (auto& c : collections) {
    if (!auth::CanRead(ctx.principal, c)) continue;
    Readable r;
    r.gate = policy != nullptr ? std::make_unique<taxii::ReadGate>(policy, ctx.principal, c, now)
                               : std::make_unique<taxii::ReadGate>(
                                     taxii::ReadGate::WithoutPolicyForTest(ctx.principal, c));
    r.collection = std::move(c);
    view->readable_.push_back(std::move(r));
  }
  return view;
}

// One query per chunk of ids: the object page and the graph look up a
// hundred referrers or ends at once (a round trip each cost 60 ms for a hub
// object over PostgreSQL).
Result<std::vector<VisibleVersion>> ReadView::VersionsIn(Readable& r,
                                                         const std::vector<std::string>& ids,
                                                         std::optional<Timestamp> only) {
  constexpr size_t kIdsPerQuery = 100;
  std::vector<VisibleVersion> out;
  for (size_t from = 0; from < ids.size(); from += kIdsPerQuery) {
    store::ObjectQuery q;
    q.collection_id = r.collection.id;
    q.ids.assign(
        ids.begin() + static_cast<std::ptrdiff_t>(from),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), from + kIdsPerQuery)));
    q.version_last = false;
    q.version_all = !only;  // match[version]=all, or the one version asked for
    if (only) q.versions = {*only};
    q.limit = kMaxVersions * q.ids.size();
    r.gate->Apply(q);
    CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, ctx_.store.QueryObjects(q));
    for (auto& row : page.objects) {
      const taxii::ServedGrant* grant = r.gate->GrantOf(row);
      VisibleVersion v;
      v.grant = grant != nullptr ? std::string(grant->via) : std::string();
      v.redacted = grant != nullptr && grant->redacted;
      v.collection_title = r.collection.title;
      v.row = std::move(row);
      out.push_back(std::move(v));
    }
  }
  return out;
}

Result<std::vector<VisibleVersion>> ReadView::Versions(std::string_view id,
                                                       std::optional<Timestamp> only) {
  std::vector<VisibleVersion> out;
  const std::vector<std::string> ids = {std::string(id)};
  for (Readable& r : readable_) {
    CTIHUB_ASSIGN_OR_RETURN(auto versions, VersionsIn(r, ids, only));
    for (auto& v : versions) out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), NewerFirst);
  return out;
}

Result<std::map<std::string, VisibleVersion>> ReadView::NewestOf(
    const std::vector<std::string>& ids) {
  std::map<std::string, VisibleVersion> out;
  if (ids.empty()) return out;
  for (Readable& r : readable_) {
    CTIHUB_ASSIGN_OR_RETURN(auto versions, VersionsIn(r, ids, std::nullopt));
    for (auto& v : versions) {
      auto it = out.find(v.row.id);
      if (it == out.end()) {
        std::string key = v.row.id;
        out.emplace(std::move(key), std::move(v));
      } else if (NewerFirst(v, it->second)) {
        it->second = std::move(v);
      }
    }
  }
  return out;
}

Result<std::optional<VisibleVersion>> ReadView::Newest(std::string_view id) {
  CTIHUB_ASSIGN_OR_RETURN(auto newest, NewestOf({std::string(id)}));
  if (newest.empty()) return std::optional<VisibleVersion>();
  return std::optional<VisibleVersion>(std::move(newest.begin()->second));
}

Result<std::vector<VisibleVersion>> ReadView::Referrers(std::string_view id, size_t limit) {
  std::vector<std::string> collections;
  collections.reserve(readable_.size());
  for (const Readable& r : readable_) collections.push_back(r.collection.id);
  CTIHUB_ASSIGN_OR_RETURN(auto referrers, ctx_.store.ReferencesTo(id, collections, limit));
  // The newest readable version of each referrer in its collection, one query
  // per collection.
  std::map<std::pair<std::string, std::string>, VisibleVersion> newest;
  for (Readable& r : readable_) {
    std::vector<std::string> ids;
    for (const store::Referrer& ref : referrers) {
      if (ref.collection_id == r.collection.id) ids.push_back(ref.id);
    }
    if (ids.empty()) continue;
    CTIHUB_ASSIGN_OR_RETURN(auto versions, VersionsIn(r, ids, std::nullopt));
    for (auto& v : versions) {
      auto key = std::make_pair(r.collection.id, v.row.id);
      auto it = newest.find(key);
      if (it == newest.end()) {
        newest.emplace(std::move(key), std::move(v));
      } else if (NewerFirst(v, it->second)) {
        it->second = std::move(v);
      }
    }
  }
  std::vector<VisibleVersion> out;
  std::set<std::string> seen;
  for (const store::Referrer& ref : referrers) {  // most recently added first
    if (seen.count(ref.id) > 0) continue;
    auto it = newest.find({ref.collection_id, ref.id});
    if (it == newest.end()) continue;
    const std::vector<std::string> refs = store::ReferencedIdsOf(it->second.row.json);
    if (std::find(refs.begin(), refs.end(), id) == refs.end()) continue;  // dropped since
    seen.insert(ref.id);
    out.push_back(std::move(it->second));
  }
  return out;
}

}  // namespace ctihub::webapi
