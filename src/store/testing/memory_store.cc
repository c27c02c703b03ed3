#include "store/testing/memory_store.h"

#include <algorithm>
#include <set>

#include "core/uuid.h"
#include "store/checks.h"
#include "store/cursor.h"

namespace ctihub::store {

MemoryStore::MemoryStore(std::string node_id)
    : node_id_(std::move(node_id)), writer_([this] { WriterLoop(); }) {}

MemoryStore::~MemoryStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    hold_ = false;
  }
  cv_.notify_all();
  writer_.join();
}

void MemoryStore::SetNodeForTest(std::string node_id) {
  std::lock_guard<std::mutex> lock(mu_);
  node_id_ = std::move(node_id);
}

bool MemoryStore::MineLocked(const std::string& node) const {
  return node == node_id_ || node.empty();
}

void MemoryStore::HoldWritesForTest(bool hold) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
  }
  cv_.notify_all();
}

Result<Organisation> MemoryStore::AddOrganisation(const Organisation& org) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("organisation", org.name));
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& o : orgs_) {
    if (o.name == org.name) {
      return Conflict("org_exists", "organisation '" + org.name + "' already exists");
    }
  }
  Organisation o = org;
  o.id = next_id_++;
  orgs_.push_back(o);
  return o;
}
Result<std::vector<Organisation>> MemoryStore::ListOrganisations() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Organisation> out = orgs_;
  std::sort(out.begin(), out.end(),
            [](const Organisation& a, const Organisation& b) { return a.name < b.name; });
  return out;
}
Result<Organisation> MemoryStore::GetOrganisation(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& o : orgs_) {
    if (o.name == name) return o;
  }
  return NotFound("unknown_org", "no organisation '" + std::string(name) + "'");
}
Result<User> MemoryStore::AddUser(const User& user) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("user", user.name));
  std::lock_guard<std::mutex> lock(mu_);
  auto org = std::find_if(orgs_.begin(), orgs_.end(),
                          [&](const Organisation& o) { return o.id == user.org_id; });
  if (org == orgs_.end()) {
    return NotFound("unknown_org", "no organisation with id " + std::to_string(user.org_id));
  }
  for (const auto& u : users_) {
    if (u.name == user.name)
      return Conflict("user_exists", "user '" + user.name + "' already exists");
  }
  User u = user;
  u.id = next_id_++;
  u.org_name = org->name;
  users_.push_back(u);
  return u;
}
Result<std::vector<User>> MemoryStore::ListUsers() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<User> out = users_;
  std::sort(out.begin(), out.end(), [](const User& a, const User& b) { return a.name < b.name; });
  return out;
}
Result<User> MemoryStore::GetUser(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& u : users_) {
    if (u.name == name) return u;
  }
  return NotFound("unknown_user", "no user '" + std::string(name) + "'");
}
Result<User> MemoryStore::GetUserById(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& u : users_) {
    if (u.id == id) return u;
  }
  return NotFound("unknown_user", "no user with id " + std::to_string(id));
}
// As SQLite (ON DELETE CASCADE): the user's tokens go with it.
Status MemoryStore::RemoveUser(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it =
      std::find_if(users_.begin(), users_.end(), [&](const User& u) { return u.name == name; });
  if (it == users_.end()) return NotFound("unknown_user", "no user '" + std::string(name) + "'");
  const int64_t id = it->id;
  users_.erase(it);
  tokens_.erase(std::remove_if(tokens_.begin(), tokens_.end(),
                               [&](const ApiToken& t) { return t.user_id == id; }),
                tokens_.end());
  return Status::Ok();
}
Status MemoryStore::SetPassword(std::string_view user, std::string_view password_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& u : users_) {
    if (u.name == user) {
      u.password_hash = std::string(password_hash);
      return Status::Ok();
    }
  }
  return NotFound("unknown_user", "no user '" + std::string(user) + "'");
}
Result<ApiToken> MemoryStore::AddToken(const ApiToken& token) {
  if (token.token_hash.size() != 64) {
    return InvalidArgument("bad_token_hash", "expected hex SHA-256 (64 characters)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  bool user = std::any_of(users_.begin(), users_.end(),
                          [&](const User& u) { return u.id == token.user_id; });
  bool duplicate = std::any_of(tokens_.begin(), tokens_.end(),
                               [&](const ApiToken& t) { return t.token_hash == token.token_hash; });
  if (!user || duplicate) {
    return NotFound("unknown_user_or_duplicate_token",
                    "cannot add token for user id " + std::to_string(token.user_id));
  }
  ApiToken t = token;
  if (t.created == Timestamp()) t.created = Timestamp::Now();
  t.id = next_id_++;
  tokens_.push_back(t);
  return t;
}
Result<ApiToken> MemoryStore::FindTokenByHash(std::string_view token_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : tokens_) {
    if (t.token_hash == token_hash) return t;
  }
  return NotFound("unknown_token", "no such token");
}
Result<std::vector<ApiToken>> MemoryStore::ListTokens(int64_t user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ApiToken> out;
  for (const auto& t : tokens_) {
    if (t.user_id == user_id) out.push_back(t);
  }
  return out;
}
Status MemoryStore::RevokeToken(int64_t token_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : tokens_) {
    if (t.id == token_id) {
      t.revoked = true;
      return Status::Ok();
    }
  }
  return NotFound("unknown_token", "no token with id " + std::to_string(token_id));
}
Status MemoryStore::PutApiRoot(const ApiRoot& root) {
  CTIHUB_RETURN_IF_ERROR(ValidateName("api root", root.name));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& r : roots_) {
    if (r.name == root.name) {
      r = root;
      return Status::Ok();
    }
  }
  roots_.push_back(root);
  return Status::Ok();
}
Result<std::vector<ApiRoot>> MemoryStore::ListApiRoots() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ApiRoot> out = roots_;
  std::sort(out.begin(), out.end(),
            [](const ApiRoot& a, const ApiRoot& b) { return a.name < b.name; });
  return out;
}
Result<Collection> MemoryStore::AddCollection(const Collection& c) {
  CTIHUB_RETURN_IF_ERROR(ValidateAclEntries(c.readers));
  CTIHUB_RETURN_IF_ERROR(ValidateAclEntries(c.writers));
  if (c.title.empty()) return InvalidArgument("bad_collection", "title is required");
  Collection col = c;
  if (col.id.empty()) col.id = Uuid::V4().ToString();
  if (!Uuid::Parse(col.id).ok()) return InvalidArgument("bad_collection", "id must be a UUID");
  std::lock_guard<std::mutex> lock(mu_);
  if (std::none_of(roots_.begin(), roots_.end(),
                   [&](const ApiRoot& r) { return r.name == col.api_root; })) {
    return NotFound("unknown_api_root", "no API root '" + col.api_root + "'");
  }
  for (const auto& x : collections_) {
    if (x.id == col.id) {
      return Conflict("collection_exists", "collection " + col.id + " already exists");
    }
  }
  collections_.push_back(col);
  return col;
}
// By API root, then in the order they were added (as SQLite's rowid order).
Result<std::vector<Collection>> MemoryStore::ListCollections(std::string_view api_root) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Collection> out;
  for (const auto& c : collections_) {
    if (api_root.empty() || c.api_root == api_root) out.push_back(c);
  }
  std::stable_sort(out.begin(), out.end(), [](const Collection& a, const Collection& b) {
    return a.api_root < b.api_root;
  });
  return out;
}
// `id` is the collection's id or its alias (the id wins); "" matches any API root.
Result<Collection> MemoryStore::GetCollection(std::string_view api_root, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  const Collection* by_alias = nullptr;
  for (const auto& c : collections_) {
    if (!api_root.empty() && c.api_root != api_root) continue;
    if (c.id == id) return c;
    if (by_alias == nullptr && !c.alias.empty() && c.alias == id) by_alias = &c;
  }
  if (by_alias != nullptr) return *by_alias;
  return NotFound("unknown_collection", "no collection '" + std::string(id) + "'");
}
// Removes the collection and every object version in it.
Status MemoryStore::RemoveCollection(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::remove_if(collections_.begin(), collections_.end(),
                           [&](const Collection& c) { return c.id == id; });
  if (it == collections_.end()) {
    return NotFound("unknown_collection", "no collection '" + std::string(id) + "'");
  }
  collections_.erase(it, collections_.end());
  objects_.erase(std::remove_if(objects_.begin(), objects_.end(),
                                [&](const ObjectVersion& o) { return o.collection_id == id; }),
                 objects_.end());
  return Status::Ok();
}

std::future<Result<std::vector<WriteOutcome>>> MemoryStore::WriteObjects(
    std::string collection_id, std::vector<NewObject> objects, std::string status_id) {
  Job job{std::move(collection_id), std::move(objects), std::move(status_id), {}, {}};
  auto f = job.promise.get_future();
  for (const auto& o : job.objects) {
    Status s = ValidateNewObject(o);
    if (!s.ok()) {
      job.promise.set_value(s);
      return f;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job.node_id = node_id_;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
  return f;
}

namespace {

// Versions compare as SQLite stores them (Timestamp::Format(9)).
std::string VersionKey(const Timestamp& t) { return t.Format(9); }

// The facts as SQLite reads them back: granular levels known only when
// granular, within range; unknown levels read -1.
void NormaliseFacts(AccessFacts& a) {
  a.known = true;
  a.granular_max_known = a.granular_levels && a.granular_max_known && a.granular_max_tlp >= -1 &&
                         a.granular_max_tlp <= 4 && a.granular_max_pap >= -1 &&
                         a.granular_max_pap <= 3;
  if (!a.granular_max_known) a.granular_max_tlp = a.granular_max_pap = -1;
}

// The version text a status resource shows for an object.
std::string StatusVersionText(const NewObject& o, int64_t date_added_us) {
  return o.has_version ? o.version.ToString() : Timestamp::FromMicros(date_added_us).ToString();
}

}  // namespace

void MemoryStore::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || (!hold_ && !jobs_.empty()); });
    if (jobs_.empty() && stop_) return;
    if (jobs_.empty()) continue;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    if (std::none_of(collections_.begin(), collections_.end(),
                     [&](const Collection& c) { return c.id == job.collection_id; })) {
      Status why = NotFound("unknown_collection", "no collection '" + job.collection_id + "'");
      std::vector<int64_t> no_dates(job.objects.size(), 0);
      UpdateStatus(job.status_id, job.objects, {}, no_dates, why.NamedMessage());
      job.promise.set_value(why);
      continue;
    }
    std::vector<WriteOutcome> outcomes;
    std::vector<int64_t> dates;
    for (NewObject& o : job.objects) {
      WriteOutcome out;
      int64_t date_added = std::max(last_date_added_ + 1, Timestamp::Now().micros());
      Timestamp version = o.has_version ? o.version : Timestamp::FromMicros(date_added);
      const std::string key = VersionKey(version);
      bool present = std::any_of(objects_.begin(), objects_.end(), [&](const ObjectVersion& v) {
        return v.collection_id == job.collection_id && v.id == o.id && VersionKey(v.version) == key;
      });
      if (present) {
        out.already_present = true;
        dates.push_back(0);
      } else {
        last_date_added_ = date_added;
        ObjectVersion v;
        v.id = o.id;
        v.type = o.type;
        v.spec_version = o.spec_version;
        v.version = version;
        v.date_added_us = date_added;
        v.collection_id = job.collection_id;
        v.json = o.json;
        v.access = o.access;
        NormaliseFacts(v.access);
        objects_.push_back(std::move(v));
        source_peer_[date_added] = o.source_peer;
        node_of_[date_added] = job.node_id;
        out.stored = true;
        dates.push_back(date_added);
      }
      outcomes.push_back(out);
    }
    if (!job.status_id.empty()) UpdateStatus(job.status_id, job.objects, outcomes, dates, "");
    job.promise.set_value(std::move(outcomes));
  }
}

// As SqliteStore::UpdateStatus: pendings are matched by object id, preferring
// the same version text, and keep the version text the requester gave; an
// object without a pending entry gets a new entry (and counts in the total).
void MemoryStore::UpdateStatus(const std::string& status_id, const std::vector<NewObject>& objects,
                               const std::vector<WriteOutcome>& outcomes,
                               const std::vector<int64_t>& date_added,
                               const std::string& failure_message) {
  auto it = statuses_.find(status_id);
  if (it == statuses_.end()) return;
  StoredStatus& st = it->second;
  const bool success = !outcomes.empty() || objects.empty();
  const DetailKind kind = success ? DetailKind::kSuccess : DetailKind::kFailure;
  int64_t converted = 0, added = 0;
  for (size_t i = 0; i < objects.size(); ++i) {
    const NewObject& o = objects[i];
    std::string version = StatusVersionText(o, date_added[i]);
    std::pair<DetailKind, StatusDetail>* pending = nullptr;
    for (auto& d : st.details) {
      if (d.first != DetailKind::kPending || d.second.id != o.id) continue;
      if (pending == nullptr ||
          (d.second.version == version && pending->second.version != version)) {
        pending = &d;
      }
    }
    if (pending != nullptr) {
      pending->first = kind;
      pending->second.message = failure_message;
      ++converted;
    } else {
      st.details.emplace_back(kind, StatusDetail{o.id, version, failure_message});
      ++added;
    }
  }
  StatusResource& r = st.resource;
  const int64_t n = static_cast<int64_t>(objects.size());
  (success ? r.success_count : r.failure_count) += n;
  r.status = r.pending_count - converted <= 0 ? "complete" : "pending";
  r.pending_count = std::max<int64_t>(r.pending_count - converted, 0);
  r.total_count += added;
}

namespace {

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// store.h AccessScope, exactly (the SQLite backend may be looser past its
// size bounds). Like SQLite's, the "named" clause does not require TLP RED:
// the policy serves an object naming the reader whatever its TLP.
bool InScope(const AccessScope& s, const ObjectVersion& v) {
  if (s.none) return false;
  const AccessFacts& a = v.access;
  if (!a.known) return true;
  if (!s.own_producer.empty() && a.producer == s.own_producer) return true;
  const int tlp = a.tlp < 0 ? s.unmarked_tlp : a.tlp;
  if (tlp <= s.any_producer_max) return true;
  for (const auto& g : s.grants) {
    if (a.producer == g.producer && tlp <= g.max_tlp &&
        (g.types.empty() || Contains(g.types, v.type))) {
      return true;
    }
  }
  return s.red_if_named && !s.own_producer.empty() && Contains(a.recipient_orgs, s.own_producer);
}

}  // namespace

std::vector<ObjectVersion> MemoryStore::Select(const ObjectQuery& q, bool include_json) const {
  std::map<std::string, std::vector<const ObjectVersion*>> by_id;
  for (const auto& o : objects_) {
    if (o.collection_id != q.collection_id) continue;
    if (!q.ids.empty() && !Contains(q.ids, o.id)) continue;
    if (!q.types.empty() && !Contains(q.types, o.type)) continue;
    if (!q.not_from_peer.empty()) {
      auto from = source_peer_.find(o.date_added_us);
      if (from != source_peer_.end() && from->second == q.not_from_peer) continue;
    }
    by_id[o.id].push_back(&o);
  }
  std::vector<ObjectVersion> out;
  for (auto& [id, versions] : by_id) {
    // The spec-version filter first, then first/last among what passes
    // (store.h ObjectQuery::spec_versions).
    std::vector<const ObjectVersion*> vs;
    if (q.spec_versions.empty()) {
      std::string latest;
      for (const auto* v : versions) latest = std::max(latest, v->spec_version);
      for (const auto* v : versions) {
        if (v->spec_version == latest) vs.push_back(v);
      }
    } else {
      for (const auto* v : versions) {
        if (Contains(q.spec_versions, v->spec_version)) vs.push_back(v);
      }
    }
    if (vs.empty()) continue;
    Timestamp min = vs.front()->version, max = min;
    for (const auto* v : vs) {
      min = std::min(min, v->version);
      max = std::max(max, v->version);
    }
    for (const auto* v : vs) {
      bool pick = q.version_all || (q.version_first && v->version == min) ||
                  (q.version_last && v->version == max) ||
                  std::find(q.versions.begin(), q.versions.end(), v->version) != q.versions.end();
      if (!pick) continue;
      if (q.added_after_us && v->date_added_us <= *q.added_after_us) continue;
      // The scope filters what the version selection picked (as in SQLite).
      if (q.scope && !InScope(*q.scope, *v)) continue;
      out.push_back(*v);
      if (!include_json) out.back().json.clear();
    }
  }
  std::sort(out.begin(), out.end(), [](const ObjectVersion& a, const ObjectVersion& b) {
    return a.date_added_us < b.date_added_us;
  });
  return out;
}

bool MemoryStore::PickedByVisibility(const ObjectQuery& q, const ObjectVersion& row) {
  if (std::find(q.versions.begin(), q.versions.end(), row.version) != q.versions.end()) return true;
  ObjectQuery same = q;
  same.ids = {row.id};
  same.version_all = true;
  same.added_after_us.reset();
  std::vector<ObjectVersion> versions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    versions = Select(same, /*include_json=*/true);
  }
  std::sort(versions.begin(), versions.end(),
            [](const ObjectVersion& a, const ObjectVersion& b) { return a.version < b.version; });
  auto admitted = [&](ObjectVersion v) { return (!q.screen || q.screen(v)) && q.admit(v); };
  auto none_admitted = [&](auto begin, auto end, auto beyond) {
    for (auto it = begin; it != end; ++it) {
      if (beyond(*it) && admitted(*it)) return false;
    }
    return true;
  };
  if (q.version_last &&
      none_admitted(versions.begin(), versions.end(),
                    [&](const ObjectVersion& v) { return row.version < v.version; })) {
    return true;
  }
  return q.version_first &&
         none_admitted(versions.rbegin(), versions.rend(),
                       [&](const ObjectVersion& v) { return v.version < row.version; });
}

Result<ObjectPage> MemoryStore::QueryObjects(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  int64_t cursor = -1;
  if (!q.next.empty()) {
    CTIHUB_ASSIGN_OR_RETURN(cursor, DecodeCursor(q.next));
  }
  // On the admitted path first/last are picked among the versions the reader
  // may see (PickedByVisibility): every version is selected here.
  const bool pick_versions = q.admit && !q.version_all && (q.version_first || q.version_last);
  std::vector<ObjectVersion> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pick_versions) {
      ObjectQuery every = q;
      every.version_all = true;
      all = Select(every, /*include_json=*/true);
    } else {
      all = Select(q, q.include_json || q.admit);
    }
  }
  ObjectPage page;
  const size_t limit = q.limit == 0 ? kDefaultPageLimit : std::min(q.limit, kMaxPageLimit);
  if (!q.admit) {
    for (auto& o : all) {
      if (o.date_added_us <= cursor) continue;
      if (page.objects.size() == limit) {
        page.more = true;
        break;
      }
      page.objects.push_back(std::move(o));
    }
    if (page.more) page.next = EncodeCursor(page.objects.back().date_added_us);
    return page;
  }
  // admit runs without the lock held: it may call back into the store.
  const size_t budget = q.max_scan != 0 ? q.max_scan : 20 * limit + 10000;
  size_t examined = 0;
  int64_t last_examined = cursor;
  for (auto& o : all) {
    if (o.date_added_us <= cursor) continue;
    if (examined == budget) {  // budget spent: resume after the last row examined
      page.more = true;
      page.next = EncodeCursor(last_examined);
      return page;
    }
    ++examined;
    last_examined = o.date_added_us;
    if (q.screen && !q.screen(o)) continue;
    if (!q.admit(o)) continue;
    if (pick_versions && !PickedByVisibility(q, o)) continue;
    if (page.objects.size() == limit) {  // the look-ahead found one more admitted row
      page.more = true;
      page.next = EncodeCursor(page.objects.back().date_added_us);
      return page;
    }
    page.objects.push_back(std::move(o));
  }
  return page;
}

Result<int64_t> MemoryStore::DeleteObject(const ObjectQuery& q) {
  CTIHUB_RETURN_IF_ERROR(CheckFilterSizes(q));
  if (q.ids.empty()) return InvalidArgument("bad_delete", "an object id is required");
  std::lock_guard<std::mutex> lock(mu_);
  ObjectQuery all = q;
  all.scope.reset();  // deletes ignore the access scope and admit
  all.admit = nullptr;
  std::vector<ObjectVersion> doomed = Select(all, /*include_json=*/false);
  std::set<int64_t> keys;
  for (const auto& d : doomed) keys.insert(d.date_added_us);
  auto it = std::remove_if(objects_.begin(), objects_.end(), [&](const ObjectVersion& o) {
    return o.collection_id == q.collection_id && keys.count(o.date_added_us) > 0;
  });
  int64_t n = objects_.end() - it;
  objects_.erase(it, objects_.end());
  return n;
}

Status MemoryStore::CreateStatus(const StatusResource& s) {
  if (s.id.empty()) return InvalidArgument("bad_status", "empty id");
  std::lock_guard<std::mutex> lock(mu_);
  if (statuses_.count(s.id) > 0)
    return Conflict("status_exists", "status " + s.id + " already exists");
  StoredStatus st;
  st.resource = s;
  st.node_id = node_id_;
  if (st.resource.status.empty()) st.resource.status = "pending";
  st.resource.successes.clear();
  st.resource.failures.clear();
  st.resource.pendings.clear();
  for (const auto& d : s.successes) st.details.emplace_back(DetailKind::kSuccess, d);
  for (const auto& d : s.failures) st.details.emplace_back(DetailKind::kFailure, d);
  for (const auto& d : s.pendings) st.details.emplace_back(DetailKind::kPending, d);
  statuses_.emplace(s.id, std::move(st));
  return Status::Ok();
}

Result<StatusResource> MemoryStore::GetStatus(std::string_view api_root, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(std::string(id));
  if (it == statuses_.end() || (!api_root.empty() && it->second.resource.api_root != api_root)) {
    return NotFound("unknown_status", "no status '" + std::string(id) + "'");
  }
  StatusResource out = it->second.resource;
  for (const auto& [kind, d] : it->second.details) {
    switch (kind) {
      case DetailKind::kSuccess:
        out.successes.push_back(d);
        break;
      case DetailKind::kFailure:
        out.failures.push_back(d);
        break;
      case DetailKind::kPending:
        out.pendings.push_back(d);
        break;
    }
  }
  return out;
}

Status MemoryStore::SearchObjects(const SearchQuery& q,
                                  const std::function<bool(SearchHit&)>& visit) {
  std::vector<SearchHit> hits;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The newest version of each (collection, id), as SQLite's is_latest.
    std::map<std::pair<std::string, std::string>, const ObjectVersion*> newest;
    for (const auto& v : objects_) {
      auto& n = newest[{v.collection_id, v.id}];
      if (n == nullptr || n->version < v.version) n = &v;
    }
    auto wanted = [](const std::vector<std::string>& list, const std::string& v) {
      return std::find(list.begin(), list.end(), v) != list.end();
    };
    for (auto it = objects_.rbegin(); it != objects_.rend(); ++it) {
      const ObjectVersion& v = *it;
      if (newest[{v.collection_id, v.id}] != &v) continue;
      if (!wanted(q.collection_ids, v.collection_id)) continue;
      if (!q.types.empty() && !wanted(q.types, v.type)) continue;
      if (!q.tlps.empty() &&
          std::find(q.tlps.begin(), q.tlps.end(), v.access.tlp) == q.tlps.end()) {
        continue;
      }
      if (!q.producers.empty() && !wanted(q.producers, v.access.producer)) continue;
      if (q.added_after_us && v.date_added_us <= *q.added_after_us) continue;
      if (q.added_before_us && v.date_added_us >= *q.added_before_us) continue;
      if (q.below_date_added_us && v.date_added_us >= *q.below_date_added_us) continue;
      if (!q.words.empty() && !SearchTextMatches(SearchTextOf(v.json), q.words)) continue;
      hits.push_back(SearchHit{v});
    }
  }
  for (auto& hit : hits) {
    if (!visit(hit)) break;
  }
  return Status::Ok();
}

Result<std::vector<Referrer>> MemoryStore::ReferencesTo(
    std::string_view id, const std::vector<std::string>& collection_ids, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Referrer> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (auto it = objects_.rbegin(); it != objects_.rend() && out.size() < limit; ++it) {
    const ObjectVersion& v = *it;
    if (std::find(collection_ids.begin(), collection_ids.end(), v.collection_id) ==
        collection_ids.end()) {
      continue;
    }
    const std::vector<std::string> refs = ReferencedIdsOf(v.json);
    if (std::find(refs.begin(), refs.end(), id) == refs.end()) continue;
    if (seen.insert({v.collection_id, v.id}).second) out.push_back(Referrer{v.collection_id, v.id});
  }
  return out;
}

Result<int64_t> MemoryStore::CountObjects() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(objects_.size());
}

Result<std::vector<StoredVersionRef>> MemoryStore::ListVersionsAddedAfter(int64_t after_us,
                                                                          size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredVersionRef> out;
  for (const auto& o : objects_) {  // in date_added order
    if (out.size() == std::min(limit, kMaxPageLimit)) break;
    auto node = node_of_.find(o.date_added_us);
    if (node != node_of_.end() && !MineLocked(node->second)) continue;
    if (o.date_added_us > after_us) {
      out.push_back({o.date_added_us, o.collection_id, o.id, o.version});
    }
  }
  return out;
}

Result<store::CollectionState> MemoryStore::CollectionStateOf(std::string_view collection_id) {
  std::lock_guard<std::mutex> lock(mu_);
  store::CollectionState out;
  for (const store::ObjectVersion& v : objects_) {
    if (v.collection_id != collection_id) continue;
    ++out.versions;
    out.newest_date_added_us = std::max(out.newest_date_added_us, v.date_added_us);
  }
  return out;
}

Result<int64_t> MemoryStore::FinishPendingStatuses(std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t finished = 0;
  for (auto& [id, st] : statuses_) {
    if (st.resource.status != "pending" || !MineLocked(st.node_id)) continue;
    FinishDetails(st, reason);
    ++finished;
  }
  return finished;
}

// As the SQLite store: a pending object already stored in a collection of the
// status's API root succeeded, any other failed with `reason`.
Status MemoryStore::FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                                        std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(std::string(status_id));
  if (it == statuses_.end() || it->second.resource.api_root != api_root ||
      it->second.resource.status != "pending") {
    return Status::Ok();
  }
  FinishDetails(it->second, reason);
  return Status::Ok();
}

// As SqliteStore::FinishStatusDetails: a pending detail's version is the text
// the client sent; it is durable when that version (any version when the text
// is empty or not a timestamp) of the object is stored in a collection of the
// status's API root.
void MemoryStore::FinishDetails(StoredStatus& st, std::string_view reason) {
  const std::string& api_root = st.resource.api_root;
  auto in_root = [&](const std::string& collection_id) {
    return std::any_of(collections_.begin(), collections_.end(), [&](const Collection& c) {
      return c.id == collection_id && c.api_root == api_root;
    });
  };
  int64_t successes = 0, failures = 0;
  for (auto& detail : st.details) {
    // Named references, not a structured binding: clang 14 refuses a lambda
    // that captures a binding (the one below reads d).
    DetailKind& kind = detail.first;
    auto& d = detail.second;
    if (kind != DetailKind::kPending) continue;
    std::string key;
    if (auto ts = Timestamp::Parse(d.version); ts.ok()) key = VersionKey(*ts);
    bool stored = std::any_of(objects_.begin(), objects_.end(), [&](const ObjectVersion& v) {
      return v.id == d.id && in_root(v.collection_id) &&
             (key.empty() || VersionKey(v.version) == key);
    });
    kind = stored ? DetailKind::kSuccess : DetailKind::kFailure;
    d.message = stored ? std::string() : std::string(reason);
    ++(stored ? successes : failures);
  }
  StatusResource& r = st.resource;
  r.success_count += successes;
  r.failure_count += failures;
  r.pending_count = 0;
  r.status = "complete";
}

// ---- console sessions ----

namespace {
bool SessionExpired(const SessionRecord& s, int64_t now_us, int64_t idle_us) {
  return s.expires_us <= now_us || s.last_used_us <= now_us - idle_us;
}
}  // namespace

Status MemoryStore::PutSession(const SessionRecord& s, size_t max_sessions, int64_t idle_us) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!sessions_.emplace(s.key, s).second) {
    return Conflict("session_exists", "a session with this key exists");
  }
  if (sessions_.size() <= max_sessions) return Status::Ok();
  std::erase_if(sessions_,
                [&](const auto& kv) { return SessionExpired(kv.second, s.created_us, idle_us); });
  while (sessions_.size() > max_sessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (std::pair(it->second.created_us, it->first) <
          std::pair(oldest->second.created_us, oldest->first)) {
        oldest = it;
      }
    }
    sessions_.erase(oldest);
  }
  return Status::Ok();
}

Result<SessionRecord> MemoryStore::GetSession(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(std::string(key));
  if (it == sessions_.end()) return NotFound("unknown_session", "no such session");
  return it->second;
}

Status MemoryStore::TouchSession(std::string_view key, int64_t last_used_us) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(std::string(key));
  if (it == sessions_.end()) return NotFound("unknown_session", "no such session");
  it->second.last_used_us = std::max(it->second.last_used_us, last_used_us);
  return Status::Ok();
}

Status MemoryStore::UpdateSessionPrincipal(const SessionRecord& s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(s.key);
  if (it == sessions_.end()) return NotFound("unknown_session", "no such session");
  it->second.user_id = s.user_id;
  it->second.user = s.user;
  it->second.org_id = s.org_id;
  it->second.org = s.org;
  it->second.role = s.role;
  return Status::Ok();
}

Result<bool> MemoryStore::DeleteSession(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.erase(std::string(key)) > 0;
}

Result<int64_t> MemoryStore::DeleteExpiredSessions(int64_t now_us, int64_t idle_us) {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(std::erase_if(
      sessions_, [&](const auto& kv) { return SessionExpired(kv.second, now_us, idle_us); }));
}

Status MemoryStore::AppendAuditChain(std::string_view node, std::string_view public_key,
                                     const std::vector<AuditChainRecord>& records,
                                     const std::vector<AuditChainSeal>& checkpoints,
                                     const AuditChainSeal& head) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = audit_chains_.find(node);
  if (it == audit_chains_.end()) {
    AuditChain fresh;
    fresh.node.node = std::string(node);
    fresh.node.public_key = std::string(public_key);
    it = audit_chains_.emplace(std::string(node), std::move(fresh)).first;
  }
  AuditChain& chain = it->second;
  if (chain.node.public_key != public_key) {
    return Conflict("audit_key_changed", "audit chain of node " + std::string(node) +
                                             " is signed with another key than the one pinned");
  }
  int64_t expected = chain.node.last_seq + 1;
  std::string prev = chain.records.empty() ? "" : chain.records.back().hash;
  for (const AuditChainRecord& r : records) {
    if (r.seq != expected || r.prev_hash != prev) {
      return Conflict("audit_chain_gap", "audit chain of node " + std::string(node) + ": record " +
                                             std::to_string(r.seq) + " does not continue record " +
                                             std::to_string(expected - 1));
    }
    ++expected;
    prev = r.hash;
  }
  chain.records.insert(chain.records.end(), records.begin(), records.end());
  if (!chain.records.empty()) chain.node.last_seq = chain.records.back().seq;
  chain.checkpoints.insert(chain.checkpoints.end(), checkpoints.begin(), checkpoints.end());
  if (head.seq > 0 && head.seq >= chain.node.head.seq) chain.node.head = head;
  return Status::Ok();
}

Result<std::vector<AuditChainNode>> MemoryStore::ListAuditChains() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AuditChainNode> out;
  out.reserve(audit_chains_.size());
  for (const auto& [name, chain] : audit_chains_) out.push_back(chain.node);
  return out;
}

Result<std::vector<AuditChainRecord>> MemoryStore::ReadAuditChain(std::string_view node,
                                                                  int64_t after_seq, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AuditChainRecord> out;
  auto it = audit_chains_.find(node);
  if (it == audit_chains_.end()) return out;
  for (const AuditChainRecord& r : it->second.records) {
    if (r.seq > after_seq && out.size() < limit) out.push_back(r);
  }
  return out;
}

Result<std::vector<AuditChainRecord>> MemoryStore::FindInAuditChain(
    std::string_view node, std::string_view needle, const std::vector<std::string>& actions,
    int64_t after_seq, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AuditChainRecord> out;
  auto it = audit_chains_.find(node);
  if (it == audit_chains_.end()) return out;
  for (const AuditChainRecord& r : it->second.records) {
    if (out.size() >= limit) break;
    if (r.seq <= after_seq || r.text.find(needle) == std::string::npos) continue;
    if (std::find(actions.begin(), actions.end(), r.action) != actions.end()) out.push_back(r);
  }
  return out;
}

Result<std::vector<AuditChainSeal>> MemoryStore::ReadAuditCheckpoints(std::string_view node) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = audit_chains_.find(node);
  if (it == audit_chains_.end()) return std::vector<AuditChainSeal>{};
  return it->second.checkpoints;
}

Status MemoryStore::PutImportJob(const ImportJobRecord& job) {
  std::lock_guard<std::mutex> lock(mu_);
  import_jobs_[job.id] = job;
  return Status::Ok();
}

Result<ImportJobRecord> MemoryStore::GetImportJob(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = import_jobs_.find(id);
  if (it == import_jobs_.end()) return NotFound("unknown_import_job", "no such import job");
  return it->second;
}

Result<int64_t> MemoryStore::DeleteImportJobsFinishedBefore(int64_t before_us) {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(std::erase_if(import_jobs_, [&](const auto& kv) {
    return kv.second.finished_us > 0 && kv.second.finished_us < before_us;
  }));
}

}  // namespace ctihub::store
