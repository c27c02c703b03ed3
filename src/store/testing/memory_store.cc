#include "store/testing/memory_store.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/uuid.h"

namespace ctihub::store {

MemoryStore::MemoryStore() : writer_([this] { WriterLoop(); }) {}

MemoryStore::~MemoryStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    hold_ = false;
  }
  cv_.notify_all();
  writer_.join();
}

void MemoryStore::HoldWritesForTest(bool hold) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
  }
  cv_.notify_all();
}

Result<Organisation> MemoryStore::AddOrganisation(const Organisation& org) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& o : orgs_) {
    if (o.name == org.name) return Conflict("organisation exists");
  }
  Organisation o = org;
  o.id = next_id_++;
  orgs_.push_back(o);
  return o;
}
Result<std::vector<Organisation>> MemoryStore::ListOrganisations() {
  std::lock_guard<std::mutex> lock(mu_);
  return orgs_;
}
Result<Organisation> MemoryStore::GetOrganisation(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& o : orgs_) {
    if (o.name == name) return o;
  }
  return NotFound("no such organisation");
}
Result<User> MemoryStore::AddUser(const User& user) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& u : users_) {
    if (u.name == user.name) return Conflict("user exists");
  }
  User u = user;
  u.id = next_id_++;
  for (const auto& o : orgs_) {
    if (o.id == u.org_id) u.org_name = o.name;
  }
  users_.push_back(u);
  return u;
}
Result<std::vector<User>> MemoryStore::ListUsers() {
  std::lock_guard<std::mutex> lock(mu_);
  return users_;
}
Result<User> MemoryStore::GetUser(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& u : users_) {
    if (u.name == name) return u;
  }
  return NotFound("no such user");
}
Result<User> MemoryStore::GetUserById(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& u : users_) {
    if (u.id == id) return u;
  }
  return NotFound("no such user");
}
Status MemoryStore::RemoveUser(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it =
      std::remove_if(users_.begin(), users_.end(), [&](const User& u) { return u.name == name; });
  if (it == users_.end()) return NotFound("no such user");
  users_.erase(it, users_.end());
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
  return NotFound("no such user");
}
Result<ApiToken> MemoryStore::AddToken(const ApiToken& token) {
  std::lock_guard<std::mutex> lock(mu_);
  ApiToken t = token;
  t.id = next_id_++;
  tokens_.push_back(t);
  return t;
}
Result<ApiToken> MemoryStore::FindTokenByHash(std::string_view token_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : tokens_) {
    if (t.token_hash == token_hash) return t;
  }
  return NotFound("no such token");
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
  return NotFound("no such token");
}
Status MemoryStore::PutApiRoot(const ApiRoot& root) {
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
  return roots_;
}
Result<Collection> MemoryStore::AddCollection(const Collection& c) {
  std::lock_guard<std::mutex> lock(mu_);
  Collection col = c;
  if (col.id.empty()) col.id = Uuid::V4().ToString();
  for (const auto& x : collections_) {
    if (x.id == col.id) return Conflict("collection exists");
  }
  collections_.push_back(col);
  return col;
}
Result<std::vector<Collection>> MemoryStore::ListCollections(std::string_view api_root) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Collection> out;
  for (const auto& c : collections_) {
    if (api_root.empty() || c.api_root == api_root) out.push_back(c);
  }
  return out;
}
Result<Collection> MemoryStore::GetCollection(std::string_view api_root, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : collections_) {
    if (c.api_root == api_root && c.id == id) return c;
  }
  return NotFound("no such collection");
}
Status MemoryStore::RemoveCollection(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::remove_if(collections_.begin(), collections_.end(),
                           [&](const Collection& c) { return c.id == id; });
  if (it == collections_.end()) return NotFound("no such collection");
  collections_.erase(it, collections_.end());
  return Status::Ok();
}

std::future<Result<std::vector<WriteOutcome>>> MemoryStore::WriteObjects(
    std::string collection_id, std::vector<NewObject> objects, std::string status_id) {
  Job job{std::move(collection_id), std::move(objects), std::move(status_id), {}};
  auto f = job.promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
  return f;
}

void MemoryStore::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || (!hold_ && !jobs_.empty()); });
    if (jobs_.empty() && stop_) return;
    if (jobs_.empty()) continue;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    std::vector<WriteOutcome> outcomes;
    StatusResource* st = nullptr;
    if (auto it = statuses_.find(job.status_id); it != statuses_.end()) st = &it->second;
    for (NewObject& o : job.objects) {
      WriteOutcome out;
      int64_t date_added = std::max(last_date_added_ + 1, Timestamp::Now().micros());
      Timestamp version = o.has_version ? o.version : Timestamp::FromMicros(date_added);
      bool present = false;
      for (const auto& v : objects_) {
        if (v.collection_id == job.collection_id && v.id == o.id &&
            (!o.has_version || v.version == version)) {
          present = true;
          break;
        }
      }
      if (present) {
        out.already_present = true;
      } else {
        last_date_added_ = date_added;
        ObjectVersion v;
        v.id = o.id;
        v.type = o.type;
        v.spec_version = o.spec_version;
        v.version = version;
        v.date_added_us = date_added;
        v.collection_id = job.collection_id;
        v.json = std::move(o.json);
        v.access = std::move(o.access);
        v.access.known = true;
        objects_.push_back(std::move(v));
        out.stored = true;
      }
      if (st != nullptr) {
        std::string version_text = version.ToString();
        for (auto pit = st->pendings.begin(); pit != st->pendings.end(); ++pit) {
          if (pit->id == o.id) {
            StatusDetail d = *pit;
            if (out.already_present) d.message = "already present";
            st->pendings.erase(pit);
            st->successes.push_back(std::move(d));
            break;
          }
        }
      }
      outcomes.push_back(out);
    }
    if (st != nullptr) {
      st->pending_count = static_cast<int64_t>(st->pendings.size());
      st->success_count = static_cast<int64_t>(st->successes.size());
      if (st->pending_count == 0) st->status = "complete";
    }
    job.promise.set_value(std::move(outcomes));
  }
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
    by_id[o.id].push_back(&o);
  }
  std::vector<ObjectVersion> out;
  for (auto& [id, versions] : by_id) {
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
  int64_t cursor = -1;
  if (!q.next.empty()) {
    std::string_view n = q.next;
    if (n.substr(0, 2) != "m:") return InvalidArgument("bad_next", "unknown next token");
    auto [p, ec] = std::from_chars(n.data() + 2, n.data() + n.size(), cursor);
    if (ec != std::errc() || p != n.data() + n.size())
      return InvalidArgument("bad_next", "unknown next token");
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
  size_t limit = std::max<size_t>(q.limit, 1);
  if (!q.admit) {
    for (auto& o : all) {
      if (o.date_added_us <= cursor) continue;
      if (page.objects.size() == limit) {
        page.more = true;
        break;
      }
      page.objects.push_back(std::move(o));
    }
    if (page.more) page.next = "m:" + std::to_string(page.objects.back().date_added_us);
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
      page.next = "m:" + std::to_string(last_examined);
      return page;
    }
    ++examined;
    last_examined = o.date_added_us;
    if (q.screen && !q.screen(o)) continue;
    if (!q.admit(o)) continue;
    if (pick_versions && !PickedByVisibility(q, o)) continue;
    if (page.objects.size() == limit) {  // the look-ahead found one more admitted row
      page.more = true;
      page.next = "m:" + std::to_string(page.objects.back().date_added_us);
      return page;
    }
    page.objects.push_back(std::move(o));
  }
  return page;
}

Result<int64_t> MemoryStore::DeleteObject(const ObjectQuery& q) {
  std::lock_guard<std::mutex> lock(mu_);
  ObjectQuery all = q;
  all.added_after_us.reset();
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
  std::lock_guard<std::mutex> lock(mu_);
  statuses_[s.id] = s;
  return Status::Ok();
}

Result<StatusResource> MemoryStore::GetStatus(std::string_view api_root, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(std::string(id));
  if (it == statuses_.end() || it->second.api_root != api_root) return NotFound("no such status");
  return it->second;
}

Result<int64_t> MemoryStore::CountObjects() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(objects_.size());
}

// As the SQLite store: a pending object already stored in a collection of the
// status's API root succeeded, any other failed with `reason`.
Status MemoryStore::FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                                        std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = statuses_.find(std::string(status_id));
  if (it == statuses_.end() || it->second.api_root != api_root || it->second.status != "pending")
    return Status::Ok();
  StatusResource& st = it->second;
  auto in_root = [&](const std::string& collection_id) {
    return std::any_of(collections_.begin(), collections_.end(), [&](const Collection& c) {
      return c.id == collection_id && c.api_root == api_root;
    });
  };
  for (StatusDetail& d : st.pendings) {
    auto version = Timestamp::Parse(d.version);
    bool stored = std::any_of(objects_.begin(), objects_.end(), [&](const ObjectVersion& v) {
      return v.id == d.id && in_root(v.collection_id) &&
             (d.version.empty() || (version.ok() && v.version == *version));
    });
    if (stored) {
      st.successes.push_back(std::move(d));
    } else {
      d.message = std::string(reason);
      st.failures.push_back(std::move(d));
    }
  }
  st.pendings.clear();
  st.success_count = static_cast<int64_t>(st.successes.size());
  st.failure_count = static_cast<int64_t>(st.failures.size());
  st.pending_count = 0;
  st.status = "complete";
  return Status::Ok();
}

}  // namespace ctihub::store
