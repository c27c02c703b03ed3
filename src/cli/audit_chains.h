// The nodes' audit chains in a PostgreSQL deployment (docs/ARCHITECTURE.md
// "Audit with several nodes"; audit/chains.h says what is checked).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"
#include "audit/chains.h"
#include "core/result.h"
#include "store/store.h"

namespace ctihub::cli {

// Copies this node's trail (DATA/audit.db) into the store's audit chains, and
// appends an audit.crosscheck record naming the other nodes' signed heads
// when they moved. A background thread does both while the node serves; a
// copy that fails (the database is down) is retried on the next tick, from
// where the database's copy ends.
class AuditChainCopier {
 public:
  struct Options {
    std::chrono::milliseconds every{250};               // how often the trail is copied
    std::chrono::milliseconds crosscheck_every{10000};  // at most this often a cross-check
    // While only cross-checks (its own and the others') move the heads, a
    // cross-check at most this often: two idle nodes would otherwise witness
    // each other's cross-checks forever.
    std::chrono::milliseconds idle_crosscheck_every{300000};
    size_t piece_records = 2000;  // records per database transaction
  };

  // `store` keeps audit chains (KeepsAuditChains); `store` and `log` outlive
  // the copier. Without a log (`audit verify`) the copier only copies.
  AuditChainCopier(store::Store& store, audit::AuditLog* log, std::string data_dir,
                   std::string node_id, Options options);
  AuditChainCopier(store::Store& store, audit::AuditLog* log, std::string data_dir,
                   std::string node_id)
      : AuditChainCopier(store, log, std::move(data_dir), std::move(node_id), Options()) {}
  ~AuditChainCopier();
  AuditChainCopier(const AuditChainCopier&) = delete;
  AuditChainCopier& operator=(const AuditChainCopier&) = delete;

  // Copies the trail up to its signed head. Another process of the node
  // (`audit verify`, a second serve) copying at the same time is not an
  // error: the copy continues from where the database's copy ends.
  Status CopyOnce();
  // Appends an audit.crosscheck record when it is due and another node's
  // head moved since the last one (the record is copied by the next copy).
  // FailedPrecondition without a log.
  Status CrossCheckOnce(bool force = false);

  void Start();
  // Stops the thread, then copies what the trail holds now (flush the log first).
  void Stop();

 private:
  Status CopyPieces();
  void Run();
  void LogError(const Status& st);

  store::Store& store_;
  audit::AuditLog* const log_;
  const std::string data_dir_;
  const std::string node_id_;
  const Options options_;

  int64_t copied_seq_ = -1;      // the database's last record of this node (-1: not read yet)
  int64_t copied_head_seq_ = 0;  // the database's signed head of this node
  int64_t own_seq_ = 0;          // the trail's signed head at the last copy
  int64_t seq_after_crosscheck_ = 0;
  std::chrono::steady_clock::time_point last_crosscheck_{};
  std::vector<audit::WitnessedHead> witnessed_;
  std::string last_error_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The store's audit chains as audit::VerifyChains reads them. `store` must
// outlive the reader.
std::unique_ptr<audit::ChainReader> StoreChainReader(store::Store& store);

}  // namespace ctihub::cli
