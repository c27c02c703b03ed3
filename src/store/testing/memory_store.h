// MemoryStore: an in-memory Store for tests of the TAXII resources (and
// anything else above the store) without SQLite. Test-only: link
// ctihub_store_testing. It passes the store conformance suite
// (src/store/store_conformance_test.cc) like the SQLite backend: the same
// checks and stable error names, strictly increasing date_added, keyset
// pagination with the same opaque cursors (cursor.h), version selection,
// access facts, the access scope (exact: no size bounds) and the `admit`
// callback with its look-ahead and scan budget (called without the store's
// lock held), status resources updated together with the write, crash-recovery
// listing. Writes complete on a background thread so callers see "pending"
// then "complete" like with the real store; HoldWritesForTest holds them back
// for tests of the pending state. Recovery is per node like the real stores':
// writes record the store's node, and SetNodeForTest plays another node over
// the same data. Thread-safe (one mutex).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/store.h"

namespace ctihub::store {

class MemoryStore final : public Store {
 public:
  // `node_id`: the node this store writes as and recovers for (store.h
  // "crash recovery"); "" for none.
  explicit MemoryStore(std::string node_id = "");
  ~MemoryStore() override;

  Result<Organisation> AddOrganisation(const Organisation& org) override;
  Result<std::vector<Organisation>> ListOrganisations() override;
  Result<Organisation> GetOrganisation(std::string_view name) override;
  Result<User> AddUser(const User& user) override;
  Result<std::vector<User>> ListUsers() override;
  Result<User> GetUser(std::string_view name) override;
  Result<User> GetUserById(int64_t id) override;
  Status RemoveUser(std::string_view name) override;
  Status SetPassword(std::string_view user, std::string_view password_hash) override;
  Result<ApiToken> AddToken(const ApiToken& token) override;
  Result<ApiToken> FindTokenByHash(std::string_view token_hash) override;
  Result<std::vector<ApiToken>> ListTokens(int64_t user_id) override;
  Status RevokeToken(int64_t token_id) override;
  Status PutApiRoot(const ApiRoot& root) override;
  Result<std::vector<ApiRoot>> ListApiRoots() override;
  Result<Collection> AddCollection(const Collection& c) override;
  Result<std::vector<Collection>> ListCollections(std::string_view api_root) override;
  Result<Collection> GetCollection(std::string_view api_root, std::string_view id) override;
  Status RemoveCollection(std::string_view id) override;
  std::future<Result<std::vector<WriteOutcome>>> WriteObjects(std::string collection_id,
                                                              std::vector<NewObject> objects,
                                                              std::string status_id) override;
  Result<ObjectPage> QueryObjects(const ObjectQuery& q) override;
  Result<int64_t> DeleteObject(const ObjectQuery& q) override;
  Status CreateStatus(const StatusResource& s) override;
  Result<StatusResource> GetStatus(std::string_view api_root, std::string_view id) override;
  Status SearchObjects(const SearchQuery& q, const std::function<bool(SearchHit&)>& visit) override;
  Result<std::vector<Referrer>> ReferencesTo(std::string_view id,
                                             const std::vector<std::string>& collection_ids,
                                             size_t limit) override;
  Result<int64_t> CountObjects() override;
  Result<CollectionState> CollectionStateOf(std::string_view collection_id) override;
  Result<std::vector<StoredVersionRef>> ListVersionsAddedAfter(int64_t after_us,
                                                               size_t limit) override;
  Result<int64_t> FinishPendingStatuses(std::string_view reason) override;
  Status FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                             std::string_view reason) override;
  // Console sessions, as PostgreSQL keeps them: several SessionTables over
  // one MemoryStore play several nodes over one database.
  bool KeepsSessions() const override { return true; }
  Status PutSession(const SessionRecord& s, size_t max_sessions, int64_t idle_us) override;
  Result<SessionRecord> GetSession(std::string_view key) override;
  Status TouchSession(std::string_view key, int64_t last_used_us) override;
  Status UpdateSessionPrincipal(const SessionRecord& s) override;
  Result<bool> DeleteSession(std::string_view key) override;
  Result<int64_t> DeleteExpiredSessions(int64_t now_us, int64_t idle_us) override;
  // Console import jobs, as PostgreSQL keeps them: several ImportJobs over
  // one MemoryStore play several nodes over one database.
  bool KeepsImportJobs() const override { return true; }
  Status PutImportJob(const ImportJobRecord& job) override;
  Result<ImportJobRecord> GetImportJob(std::string_view id) override;
  Result<int64_t> DeleteImportJobsFinishedBefore(int64_t before_us) override;
  // The nodes' audit chains, as PostgreSQL keeps them (a piece must continue
  // the copy, the first pins the key, a head never moves back).
  bool KeepsAuditChains() const override { return true; }
  Status AppendAuditChain(std::string_view node, std::string_view public_key,
                          const std::vector<AuditChainRecord>& records,
                          const std::vector<AuditChainSeal>& checkpoints,
                          const AuditChainSeal& head) override;
  Result<std::vector<AuditChainNode>> ListAuditChains() override;
  Result<std::vector<AuditChainRecord>> ReadAuditChain(std::string_view node, int64_t after_seq,
                                                       size_t limit) override;
  Result<std::vector<AuditChainRecord>> FindInAuditChain(std::string_view node,
                                                         std::string_view needle,
                                                         const std::vector<std::string>& actions,
                                                         int64_t after_seq, size_t limit) override;
  Result<std::vector<AuditChainSeal>> ReadAuditCheckpoints(std::string_view node) override;

  // From now on the store writes as, and recovers for, node `node_id`: as if
  // another node had opened the same data (the stores over a database do).
  void SetNodeForTest(std::string node_id);
  // Holds writes back until ReleaseWritesForTest().
  void HoldWritesForTest(bool hold);

 private:
  struct Job {
    std::string collection_id;
    std::vector<NewObject> objects;
    std::string status_id;
    std::promise<Result<std::vector<WriteOutcome>>> promise;
    std::string node_id;  // the writing node
  };
  // A status resource as stored: the header and counts in `resource` (its
  // detail lists empty) and the details in one list in the order they were
  // added, each with its kind, as SQLite keeps them (GetStatus splits them).
  enum class DetailKind { kSuccess, kFailure, kPending };
  struct StoredStatus {
    StatusResource resource;
    std::vector<std::pair<DetailKind, StatusDetail>> details;
    std::string node_id;  // the node that created it
  };

  void WriterLoop();
  // Whether a row written by `node` is this store's node's (store.h: rows of
  // no node belong to every node). REQUIRES: mu_.
  bool MineLocked(const std::string& node) const;
  // Moves the status entries of `objects` from pending to success (`outcomes`
  // given) or failure (`outcomes` empty, `failure_message` set), as
  // SqliteStore::UpdateStatus. REQUIRES: mu_.
  void UpdateStatus(const std::string& status_id, const std::vector<NewObject>& objects,
                    const std::vector<WriteOutcome>& outcomes,
                    const std::vector<int64_t>& date_added, const std::string& failure_message);
  // Finishes a pending status: a pending object stored in a collection of the
  // status's API root succeeded, any other failed with `reason`. REQUIRES: mu_.
  void FinishDetails(StoredStatus& st, std::string_view reason);
  // The versions q selects (scope applied, cursor not), in date_added order.
  std::vector<ObjectVersion> Select(const ObjectQuery& q,
                                    bool include_json) const;  // REQUIRES: mu_
  // On the admitted path, whether `row` (admitted) is selected by q's
  // match[version]: explicitly, or as the newest (oldest) version of its
  // object that q.admit admits (as SqliteStore's VersionPicker).
  bool PickedByVisibility(const ObjectQuery& q, const ObjectVersion& row);

  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool stop_ = false;
  std::deque<Job> jobs_;
  int64_t next_id_ = 1;
  int64_t last_date_added_ = 0;
  std::vector<Organisation> orgs_;
  std::vector<User> users_;
  std::vector<ApiToken> tokens_;
  std::vector<ApiRoot> roots_;
  std::vector<Collection> collections_;
  std::vector<ObjectVersion> objects_;          // in date_added order
  std::map<int64_t, std::string> source_peer_;  // NewObject::source_peer by date_added
  std::map<int64_t, std::string> node_of_;      // the writing node by date_added
  std::string node_id_;                         // this store's node
  std::map<std::string, StoredStatus> statuses_;
  std::map<std::string, SessionRecord> sessions_;                    // by key
  std::map<std::string, ImportJobRecord, std::less<>> import_jobs_;  // by id
  struct AuditChain {
    AuditChainNode node;
    std::vector<AuditChainRecord> records;
    std::vector<AuditChainSeal> checkpoints;
  };
  std::map<std::string, AuditChain, std::less<>> audit_chains_;  // by node
  std::thread writer_;
};

}  // namespace ctihub::store
