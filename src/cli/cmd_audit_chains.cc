// The nodes' audit chains in the database: the copier and the reader
// (audit_chains.h).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "cli/audit_chains.h"

namespace ctihub::cli {
namespace {

// Moves: a record's text can be megabytes (an export names every object).
std::vector<store::AuditChainRecord> ToStore(std::vector<audit::ChainEntry>&& in) {
  std::vector<store::AuditChainRecord> out;
  out.reserve(in.size());
  for (auto& e : in) {
    out.push_back(
        {e.seq, std::move(e.hash), std::move(e.prev_hash), std::move(e.action), std::move(e.text)});
  }
  return out;
}

store::AuditChainSeal ToStore(const audit::ChainSeal& s) {
  return {s.seq, s.hash, s.checkpoints, s.signature};
}

audit::ChainSeal FromStore(const store::AuditChainSeal& s) {
  return {s.seq, s.hash, s.checkpoints, s.signature};
}

std::vector<audit::ChainEntry> FromStore(std::vector<store::AuditChainRecord>&& rows) {
  std::vector<audit::ChainEntry> out;
  out.reserve(rows.size());
  for (auto& r : rows) {
    out.push_back(
        {r.seq, std::move(r.hash), std::move(r.prev_hash), std::move(r.action), std::move(r.text)});
  }
  return out;
}

class StoreReader : public audit::ChainReader {
 public:
  explicit StoreReader(store::Store& store) : store_(store) {}

  Result<std::vector<Node>> Nodes() override {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<store::AuditChainNode> chains, store_.ListAuditChains());
    std::vector<Node> out;
    out.reserve(chains.size());
    for (const auto& c : chains)
      out.push_back({c.node, c.public_key, FromStore(c.head), c.last_seq});
    return out;
  }
  Result<std::vector<audit::ChainEntry>> Records(const std::string& node, int64_t after_seq,
                                                 size_t limit) override {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<store::AuditChainRecord> rows,
                            store_.ReadAuditChain(node, after_seq, limit));
    return FromStore(std::move(rows));
  }
  Result<std::vector<audit::ChainEntry>> RecordsContaining(const std::string& node,
                                                           std::string_view needle,
                                                           const std::vector<std::string>& actions,
                                                           int64_t after_seq,
                                                           size_t limit) override {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<store::AuditChainRecord> rows,
                            store_.FindInAuditChain(node, needle, actions, after_seq, limit));
    return FromStore(std::move(rows));
  }
  Result<std::vector<audit::ChainSeal>> Checkpoints(const std::string& node) override {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<store::AuditChainSeal> rows,
                            store_.ReadAuditCheckpoints(node));
    std::vector<audit::ChainSeal> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(FromStore(r));
    return out;
  }

 private:
  store::Store& store_;
};

}  // namespace

std::unique_ptr<audit::ChainReader> StoreChainReader(store::Store& store) {
  return std::make_unique<StoreReader>(store);
}

AuditChainCopier::AuditChainCopier(store::Store& store, audit::AuditLog* log, std::string data_dir,
                                   std::string node_id, Options options)
    : store_(store),
      log_(log),
      data_dir_(std::move(data_dir)),
      node_id_(std::move(node_id)),
      options_(options) {}

AuditChainCopier::~AuditChainCopier() {
  std::unique_lock<std::mutex> lock(mu_);
  stop_ = true;
  lock.unlock();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status AuditChainCopier::CopyOnce() {
  // A gap means another process of this node copied first: re-read where
  // the database's copy ends and go on from there.
  Status st;
  for (int attempt = 0; attempt < 3; ++attempt) {
    st = CopyPieces();
    if (st.code() != ErrorCode::kConflict || st.name() != "audit_chain_gap") return st;
  }
  return st;
}

Status AuditChainCopier::CopyPieces() {
  if (copied_seq_ < 0) {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<store::AuditChainNode> chains, store_.ListAuditChains());
    copied_seq_ = 0;
    copied_head_seq_ = 0;
    for (const auto& c : chains) {
      if (c.node != node_id_) continue;
      copied_seq_ = c.last_seq;
      copied_head_seq_ = c.head.seq;
    }
  }
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(audit::ChainPiece piece,
                            audit::ReadChainPiece(data_dir_, copied_seq_, options_.piece_records));
    own_seq_ = piece.head_seq;
    if (piece.records.empty() && (piece.head.seq == 0 || piece.head.seq == copied_head_seq_))
      return Status::Ok();
    std::vector<store::AuditChainSeal> checkpoints;
    checkpoints.reserve(piece.checkpoints.size());
    for (const auto& c : piece.checkpoints) checkpoints.push_back(ToStore(c));
    const int64_t last_seq = piece.records.empty() ? copied_seq_ : piece.records.back().seq;
    Status st =
        store_.AppendAuditChain(node_id_, piece.public_key_hex, ToStore(std::move(piece.records)),
                                checkpoints, ToStore(piece.head));
    if (!st.ok()) {
      copied_seq_ = -1;  // re-read where the database's copy ends
      return st;
    }
    copied_seq_ = last_seq;
    if (piece.head.seq > 0) {
      copied_head_seq_ = piece.head.seq;
      return Status::Ok();
    }
  }
}

Status AuditChainCopier::CrossCheckOnce(bool force) {
  if (log_ == nullptr) return Internal("no_audit_log", "the copier has no audit log");
  const auto now = std::chrono::steady_clock::now();
  // The first cross-check is due at once (a steady clock's epoch is its boot).
  if (!force && last_crosscheck_ != std::chrono::steady_clock::time_point{}) {
    if (now - last_crosscheck_ < options_.crosscheck_every) return Status::Ok();
    // Only cross-checks moved this node's head since the last one: idle.
    if (own_seq_ <= seq_after_crosscheck_ &&
        now - last_crosscheck_ < options_.idle_crosscheck_every)
      return Status::Ok();
  }
  CTIHUB_ASSIGN_OR_RETURN(std::vector<store::AuditChainNode> chains, store_.ListAuditChains());
  std::vector<audit::WitnessedHead> heads;
  for (const auto& c : chains) {
    if (c.node != node_id_ && c.head.seq > 0) heads.push_back({c.node, c.head.seq, c.head.hash});
  }
  auto same = [](const audit::WitnessedHead& a, const audit::WitnessedHead& b) {
    return a.node == b.node && a.seq == b.seq && a.hash == b.hash;
  };
  const bool moved =
      !std::equal(heads.begin(), heads.end(), witnessed_.begin(), witnessed_.end(), same);
  last_crosscheck_ = now;
  if (heads.empty() || !moved) return Status::Ok();
  CTIHUB_RETURN_IF_ERROR(log_->Append(audit::CrossCheckRecord(heads)));
  CTIHUB_RETURN_IF_ERROR(log_->Flush());
  witnessed_ = std::move(heads);
  seq_after_crosscheck_ = log_->committed_seq();
  return Status::Ok();
}

void AuditChainCopier::Start() {
  thread_ = std::thread([this] { Run(); });
}

void AuditChainCopier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (Status st = CopyOnce(); !st.ok()) LogError(st);
}

void AuditChainCopier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    Status st = CopyOnce();
    if (st.ok()) st = CrossCheckOnce();
    if (!st.ok()) {
      LogError(st);
    } else {
      last_error_.clear();
    }
    lock.lock();
    cv_.wait_for(lock, options_.every, [this] { return stop_; });
  }
}

// Once per distinct error: a database that is down fails every tick.
void AuditChainCopier::LogError(const Status& st) {
  if (st.NamedMessage() == last_error_) return;
  last_error_ = st.NamedMessage();
  std::shared_ptr<spdlog::logger> log = spdlog::get("audit");
  if (!log) log = spdlog::stderr_logger_mt("audit");
  log->error("copying the audit trail into the database: {}", last_error_);
}

}  // namespace ctihub::cli
