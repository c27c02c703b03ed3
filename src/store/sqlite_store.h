// SqliteStore: the embedded Store backend (see store.h for the contract).
//
// Connections:
//  - one writer connection owned by the writer thread: WriteObjects requests
//    are queued, and the thread commits everything queued (up to
//    max_batch_objects) in one transaction, one fsync (group commit), then
//    resolves the futures;
//    CreateStatus goes through the same queue, so a status resource is written
//    in the group commit too, and a POST never polls SQLite's busy handler; a
//    status queued while a batch is being written joins that batch's
//    transaction (one fsync for both);
//  - one admin connection (mutex) for the rare small writes: organisations,
//    users, tokens, collections, deletes;
//  - a pool of reader connections; in WAL mode readers never wait for writers;
//  - a checkpointer thread with its own connection that copies the WAL back
//    into the database (PASSIVE checkpoints) off the writer's commit path;
//    when it falls behind a busy writer (each of its checkpoints ends short of
//    the frames appended meanwhile, so the log is never reset and grows
//    without bound: 6 GB while importing 1M objects), the writer checkpoints
//    between two batches itself, when nothing appends.
// Every connection has busy_timeout set, so CLI admin commands can run against
// a database a server has open. Thread-safe.
// Private to src/store: users go through OpenSqliteStore().
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

#include "sqlite/db.h"
#include "store/store.h"

namespace ctihub::store {

// Checkpoint thresholds, in WAL pages (8 KiB each).
struct WalTuning {
  // The checkpointer thread runs once the log holds this many; SQLite's own
  // automatic checkpoint uses 1000 but runs it inside the committing call.
  int checkpoint_pages = 2000;
  // The writer thread checkpoints before its next batch past this many: the
  // bound on the log however far the checkpointer is behind (64 MiB, also
  // the journal_size_limit the log file is cut back to).
  int writer_checkpoint_pages = 8192;
};

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& opts,
                                                   const WalTuning& wal = {});
  ~SqliteStore() override;  // drains queued writes, then stops the writer

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

  // Transactions the writer thread has committed (one fsync each).
  int64_t CommitsForTest() const { return commits_.load(); }

 private:
  struct WriteRequest {
    std::string collection_id;
    std::vector<NewObject> objects;
    std::string status_id;
    std::unique_ptr<StatusResource> new_status;  // set: this request creates a status
    std::promise<Result<std::vector<WriteOutcome>>> done;
  };

  // A reader connection borrowed from the pool; returned on destruction.
  class ReaderLease {
   public:
    ReaderLease(SqliteStore& s, std::unique_ptr<sqlite::Connection> c)
        : store_(s), conn_(std::move(c)) {}
    ReaderLease(ReaderLease&& o) noexcept : store_(o.store_), conn_(std::move(o.conn_)) {}
    ~ReaderLease();
    sqlite::Connection& operator*() { return *conn_; }
    sqlite::Connection* operator->() { return conn_.get(); }

   private:
    SqliteStore& store_;
    std::unique_ptr<sqlite::Connection> conn_;
  };

  explicit SqliteStore(SqliteOptions opts) : opts_(std::move(opts)) {}
  Status Init();
  ReaderLease AcquireReader();

  // Queues a request for the writer thread.
  std::future<Result<std::vector<WriteOutcome>>> Enqueue(WriteRequest req);
  Status InsertStatus(sqlite::Connection& conn, const StatusResource& s) const;
  // REQUIRES: admin_mu_ held and a write transaction open on admin_.
  Status FinishStatusDetails(const std::string& status_id, const std::string& api_root,
                             std::string_view reason);

  // Writer thread.
  void WriterLoop();
  std::vector<WriteRequest> TakeBatch(std::unique_lock<std::mutex>& lock);
  void CommitBatch(std::vector<WriteRequest>& batch);
  void RecordFailure(const WriteRequest& req, const Status& why);
  Result<std::vector<std::vector<WriteOutcome>>> WriteBatchTxn(std::vector<WriteRequest>& batch);
  Result<WriteOutcome> WriteOne(const std::string& collection_id, const NewObject& obj,
                                int64_t* last_date_added);
  Status UpdateStatus(const std::string& status_id, const std::vector<NewObject>& objects,
                      const std::vector<WriteOutcome>& outcomes,
                      const std::vector<int64_t>& date_added, const std::string& failure_message);

  // Checkpointer thread.
  void CheckpointLoop();
  // Writer and admin connections, after each commit: notes the log's size and
  // wakes the checkpointer once it holds wal_.checkpoint_pages.
  void OnWalCommit(int wal_pages);
  // Writer thread, between batches: a PASSIVE checkpoint of its own once the
  // log holds wal_.writer_checkpoint_pages (never waits for readers: one that
  // holds an old snapshot only delays the log's reset).
  void CheckpointIfLogTooLong();

  SqliteOptions opts_;
  WalTuning wal_;
  std::atomic<int> wal_pages_{0};  // the log's size at the last commit

  std::mutex admin_mu_;
  std::unique_ptr<sqlite::Connection> admin_;  // guarded by admin_mu_

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<sqlite::Connection>> readers_;  // guarded by readers_mu_

  std::unique_ptr<sqlite::Connection> writer_conn_;  // writer thread only
  int64_t last_date_added_ = 0;                      // writer thread only
  std::atomic<int64_t> commits_{0};                  // written by the writer thread
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<WriteRequest> queue_;  // guarded by queue_mu_
  bool stopping_ = false;           // guarded by queue_mu_
  std::thread writer_;

  std::unique_ptr<sqlite::Connection> checkpoint_conn_;  // checkpointer thread only
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;    // guarded by checkpoint_mu_
  bool checkpoint_stopping_ = false;  // guarded by checkpoint_mu_
  std::thread checkpointer_;
};

}  // namespace ctihub::store
