// MemoryStore: an in-memory store::Store for tests of the TAXII resources (and
// anything else above the store) without SQLite. It follows the contract of
// store.h closely enough for TAXII semantics: strictly increasing date_added,
// keyset pagination with an opaque cursor, version selection, access facts,
// the access scope (exact: no size bounds) and the `admit` callback with its
// look-ahead and scan budget (called without the store's lock held), status
// resources updated together with the write. Writes complete on a background thread so
// callers see "pending" then "complete" like with the real store;
// SetWriteDelayForTest holds them back for tests of the pending state.
// Thread-safe (one mutex).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace ctihub::taxii {

class MemoryStore final : public store::Store {
 public:
  MemoryStore();
  ~MemoryStore() override;

  Result<store::Organisation> AddOrganisation(const store::Organisation& org) override;
  Result<std::vector<store::Organisation>> ListOrganisations() override;
  Result<store::Organisation> GetOrganisation(std::string_view name) override;
  Result<store::User> AddUser(const store::User& user) override;
  Result<std::vector<store::User>> ListUsers() override;
  Result<store::User> GetUser(std::string_view name) override;
  Result<store::User> GetUserById(int64_t id) override;
  Status RemoveUser(std::string_view name) override;
  Status SetPassword(std::string_view user, std::string_view password_hash) override;
  Result<store::ApiToken> AddToken(const store::ApiToken& token) override;
  Result<store::ApiToken> FindTokenByHash(std::string_view token_hash) override;
  Result<std::vector<store::ApiToken>> ListTokens(int64_t user_id) override;
  Status RevokeToken(int64_t token_id) override;
  Status PutApiRoot(const store::ApiRoot& root) override;
  Result<std::vector<store::ApiRoot>> ListApiRoots() override;
  Result<store::Collection> AddCollection(const store::Collection& c) override;
  Result<std::vector<store::Collection>> ListCollections(std::string_view api_root) override;
  Result<store::Collection> GetCollection(std::string_view api_root, std::string_view id) override;
  Status RemoveCollection(std::string_view id) override;
  std::future<Result<std::vector<store::WriteOutcome>>> WriteObjects(
      std::string collection_id, std::vector<store::NewObject> objects,
      std::string status_id) override;
  Result<store::ObjectPage> QueryObjects(const store::ObjectQuery& q) override;
  Result<int64_t> DeleteObject(const store::ObjectQuery& q) override;
  Status CreateStatus(const store::StatusResource& s) override;
  Result<store::StatusResource> GetStatus(std::string_view api_root, std::string_view id) override;
  Result<int64_t> CountObjects() override;
  Status FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                             std::string_view reason) override;

  // Holds writes back until ReleaseWritesForTest().
  void HoldWritesForTest(bool hold);

 private:
  struct Job {
    std::string collection_id;
    std::vector<store::NewObject> objects;
    std::string status_id;
    std::promise<Result<std::vector<store::WriteOutcome>>> promise;
  };
  void WriterLoop();
  // The versions q selects (scope applied, cursor not), in date_added order.
  std::vector<store::ObjectVersion> Select(const store::ObjectQuery& q,
                                           bool include_json) const;  // REQUIRES: mu_
  // On the admitted path, whether `row` (admitted) is selected by q's
  // match[version]: explicitly, or as the newest (oldest) version of its
  // object that q.admit admits (as SqliteStore's VersionPicker).
  bool PickedByVisibility(const store::ObjectQuery& q, const store::ObjectVersion& row);

  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool stop_ = false;
  std::deque<Job> jobs_;
  int64_t next_id_ = 1;
  int64_t last_date_added_ = 0;
  std::vector<store::Organisation> orgs_;
  std::vector<store::User> users_;
  std::vector<store::ApiToken> tokens_;
  std::vector<store::ApiRoot> roots_;
  std::vector<store::Collection> collections_;
  std::vector<store::ObjectVersion> objects_;  // in date_added order
  std::map<std::string, store::StatusResource> statuses_;
  std::thread writer_;
};

}  // namespace ctihub::taxii
