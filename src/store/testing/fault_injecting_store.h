// A Store decorator for fault-injection tests (leveldb's fault_injection_test):
// forwards every call to an inner store, except the operations told to fail,
// which return the injected Status without reaching the inner store
// (WriteObjects: a ready future holding it). Thread-safe; the inner store must
// outlive the decorator. Test-only: link ctihub_store_testing.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

#include "store/store.h"

namespace ctihub::store {

// The operations of the Store interface, one per virtual function.
enum class StoreOp {
  kAddOrganisation,
  kListOrganisations,
  kGetOrganisation,
  kAddUser,
  kListUsers,
  kGetUser,
  kGetUserById,
  kRemoveUser,
  kSetPassword,
  kAddToken,
  kFindTokenByHash,
  kListTokens,
  kRevokeToken,
  kPutApiRoot,
  kListApiRoots,
  kAddCollection,
  kListCollections,
  kGetCollection,
  kRemoveCollection,
  kWriteObjects,
  kQueryObjects,
  kDeleteObject,
  kCreateStatus,
  kGetStatus,
  kCountObjects,
  kCollectionStateOf,
  kSearchObjects,
  kFinishPendingStatus,
  kPutSession,
  kGetSession,
  kTouchSession,
  kUpdateSessionPrincipal,
  kDeleteSession,
  kDeleteExpiredSessions,
  kPing,
};
inline constexpr size_t kStoreOpCount = static_cast<size_t>(StoreOp::kPing) + 1;

class FaultInjectingStore : public Store {
 public:
  static constexpr int kEveryCall = -1;

  explicit FaultInjectingStore(Store& inner) : inner_(inner) {}

  // The next `times` calls of `op` (kEveryCall: every call until Heal) return
  // `status`, which must not be OK.
  void Fail(StoreOp op, Status status, int times = kEveryCall);
  // Calls of `op` reach the inner store again.
  void Heal(StoreOp op);
  // Calls of `op` so far, failed ones included.
  int64_t calls(StoreOp op) const;

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
  Result<CollectionState> CollectionStateOf(std::string_view collection_id) override;
  Status Ping() override;
  Status FinishPendingStatus(std::string_view api_root, std::string_view status_id,
                             std::string_view reason) override;
  // Sessions: kept when the inner store keeps them.
  bool KeepsSessions() const override { return inner_.KeepsSessions(); }
  Status PutSession(const SessionRecord& s, size_t max_sessions, int64_t idle_us) override;
  Result<SessionRecord> GetSession(std::string_view key) override;
  Status TouchSession(std::string_view key, int64_t last_used_us) override;
  Status UpdateSessionPrincipal(const SessionRecord& s) override;
  Result<bool> DeleteSession(std::string_view key) override;
  Result<int64_t> DeleteExpiredSessions(int64_t now_us, int64_t idle_us) override;

 private:
  struct Fault {
    Status status;
    int remaining = 0;  // kEveryCall: until healed
  };
  // Counts the call; the injected Status if this call must fail.
  std::optional<Status> Injected(StoreOp op);

  Store& inner_;
  mutable std::mutex mu_;
  std::array<std::optional<Fault>, kStoreOpCount> faults_;  // guarded by mu_
  std::array<int64_t, kStoreOpCount> calls_{};              // guarded by mu_
};

}  // namespace ctihub::store
