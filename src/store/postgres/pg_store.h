// PostgresStore: the PostgreSQL Store backend (see store.h for the contract
// and docs/ARCHITECTURE.md "PostgreSQL store" for the design).
//
// Connections (each its own PostgreSQL session):
//  - one writer connection owned by the writer thread: WriteObjects
//    requests are queued, and the thread commits everything queued (up to
//    max_batch_objects) in one transaction (group commit), then resolves the
//    futures; status resources are updated in that transaction. The
//    transaction first takes the objects advisory lock and assigns
//    date_added above the largest committed one, and commits while holding
//    it, so date_added order is commit order across every node;
//  - one admin connection (mutex) for the rare small writes: organisations,
//    users, tokens, collections, deletes, status recovery;
//  - a pool of reader connections, which also commit new status resources
//    (CreateStatus: a POST's 202 never waits for the writer's batch);
//  - one maintenance connection, opened on first use by its thread (the
//    search index's pending list, the planner's statistics).
// A connection lost to a server restart reconnects on its next use (the
// failed call answers Unavailable "db_unavailable"). Thread-safe.
// Private to src/store/postgres: users go through OpenPostgresStore().
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/pg.h"
#include "store/postgres/postgres_store.h"
#include "store/store.h"

namespace ctihub::store {

class PostgresStore final : public Store {
 public:
  static Result<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& opts);
  ~PostgresStore() override;  // drains queued writes, then stops the writer

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

  Result<int64_t> CountObjects() override;
  Status SearchObjects(const SearchQuery& q, const std::function<bool(SearchHit&)>& visit) override;
  Result<std::vector<Referrer>> ReferencesTo(std::string_view id,
                                             const std::vector<std::string>& collection_ids,
                                             size_t limit) override;
  Status Ping() override;
  Result<CollectionState> CollectionStateOf(std::string_view collection_id) override;

  bool KeepsPolicyDocuments() const override { return true; }
  Result<int64_t> PolicyDocumentsRevision() override;
  Result<PolicyDocuments> ReadPolicyDocuments() override;
  Result<int64_t> PutPolicyDocument(std::string_view name, const std::optional<std::string>& text,
                                    int64_t expected_revision) override;

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

  bool KeepsSessions() const override { return true; }
  Status PutSession(const SessionRecord& s, size_t max_sessions, int64_t idle_us) override;
  Result<SessionRecord> GetSession(std::string_view key) override;
  Status TouchSession(std::string_view key, int64_t last_used_us) override;
  Status UpdateSessionPrincipal(const SessionRecord& s) override;
  Result<bool> DeleteSession(std::string_view key) override;
  Result<int64_t> DeleteExpiredSessions(int64_t now_us, int64_t idle_us) override;
  bool KeepsImportJobs() const override { return true; }
  Status PutImportJob(const ImportJobRecord& job) override;
  Result<ImportJobRecord> GetImportJob(std::string_view id) override;
  Result<int64_t> DeleteImportJobsFinishedBefore(int64_t before_us) override;

  Result<std::vector<StoredVersionRef>> ListVersionsAddedAfter(int64_t after_us,
                                                               size_t limit) override;
  Result<int64_t> FinishPendingStatuses(std::string_view reason) override;
  Status FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                             std::string_view reason) override;

  // Transactions the writer thread has committed.
  int64_t CommitsForTest() const { return commits_.load(); }

 private:
  struct WriteRequest {
    std::string collection_id;
    std::vector<NewObject> objects;
    std::string status_id;
    std::promise<Result<std::vector<WriteOutcome>>> done;
  };

  // A reader connection borrowed from the pool; returned on destruction.
  class ReaderLease {
   public:
    ReaderLease(PostgresStore& s, std::unique_ptr<pg::Connection> c)
        : store_(s), conn_(std::move(c)) {}
    ReaderLease(ReaderLease&& o) noexcept : store_(o.store_), conn_(std::move(o.conn_)) {}
    ~ReaderLease();
    pg::Connection& operator*() { return *conn_; }
    pg::Connection* operator->() { return conn_.get(); }

   private:
    PostgresStore& store_;
    std::unique_ptr<pg::Connection> conn_;
  };

  explicit PostgresStore(PostgresOptions opts) : opts_(std::move(opts)) {}
  Status Init();
  ReaderLease AcquireReader();

  std::future<Result<std::vector<WriteOutcome>>> Enqueue(WriteRequest req);
  Status InsertStatus(pg::Connection& conn, const StatusResource& s) const;
  // REQUIRES: admin_mu_ held and a transaction open on admin_.
  Status FinishStatusDetails(const std::string& status_id, const std::string& api_root,
                             std::string_view reason);

  // Writer thread.
  void WriterLoop();
  std::vector<WriteRequest> TakeBatch();
  void CommitBatch(std::vector<WriteRequest>& batch);
  void RecordFailure(const WriteRequest& req, const Status& why);
  Result<std::vector<std::vector<WriteOutcome>>> WriteBatchTxn(
      const std::vector<WriteRequest>& batch);
  // Writes one request's objects (the objects lock held); `last` is the
  // largest date_added so far. `dates` gets each object's date_added (0 when
  // already present).
  Result<std::vector<WriteOutcome>> WriteRequestObjects(const WriteRequest& req, int64_t* last,
                                                        std::vector<int64_t>* dates);
  // Index maintenance thread (pg_objects.cc): the search index's pending list
  // and the planner's statistics kept up with the writer's inserts.
  void NoteInserted(int64_t rows);
  void MaintenanceLoop();
  Status MaintainIndexes(pg::Connection& c);
  Status UpdateStatus(const std::string& status_id, const std::vector<NewObject>& objects,
                      const std::vector<WriteOutcome>& outcomes,
                      const std::vector<int64_t>& date_added, const std::string& failure_message);

  PostgresOptions opts_;

  std::mutex admin_mu_;
  std::unique_ptr<pg::Connection> admin_;  // guarded by admin_mu_

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<pg::Connection>> readers_;  // guarded by readers_mu_

  std::unique_ptr<pg::Connection> writer_conn_;  // writer thread only
  std::atomic<int64_t> commits_{0};              // written by the writer thread
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable space_cv_;  // the queue has room (Enqueue)
  std::deque<WriteRequest> queue_;    // guarded by queue_mu_
  size_t queued_objects_ = 0;         // guarded by queue_mu_: objects in queue_
  bool stopping_ = false;             // guarded by queue_mu_
  std::thread writer_;

  std::unique_ptr<pg::Connection> maint_conn_;  // maintenance thread only; opened on first use
  std::mutex maint_mu_;
  std::condition_variable maint_cv_;
  int64_t maint_inserted_ = 0;   // guarded by maint_mu_: rows inserted, not yet taken
  bool maint_stopping_ = false;  // guarded by maint_mu_
  std::thread maintainer_;
};

}  // namespace ctihub::store
