#include "store/testing/fault_injecting_store.h"

#include <cassert>
#include <utility>

namespace ctihub::store {

void FaultInjectingStore::Fail(StoreOp op, Status status, int times) {
  assert(!status.ok());
  std::lock_guard<std::mutex> lock(mu_);
  faults_[static_cast<size_t>(op)] = Fault{std::move(status), times};
}

void FaultInjectingStore::Heal(StoreOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_[static_cast<size_t>(op)].reset();
}

int64_t FaultInjectingStore::calls(StoreOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_[static_cast<size_t>(op)];
}

std::optional<Status> FaultInjectingStore::Injected(StoreOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto i = static_cast<size_t>(op);
  ++calls_[i];
  std::optional<Fault>& fault = faults_[i];
  if (!fault) return std::nullopt;
  Status status = fault->status;
  if (fault->remaining != kEveryCall && --fault->remaining == 0) fault.reset();
  return status;
}

Result<Organisation> FaultInjectingStore::AddOrganisation(const Organisation& org) {
  if (auto fault = Injected(StoreOp::kAddOrganisation)) return std::move(*fault);
  return inner_.AddOrganisation(org);
}

Result<std::vector<Organisation>> FaultInjectingStore::ListOrganisations() {
  if (auto fault = Injected(StoreOp::kListOrganisations)) return std::move(*fault);
  return inner_.ListOrganisations();
}

Result<Organisation> FaultInjectingStore::GetOrganisation(std::string_view name) {
  if (auto fault = Injected(StoreOp::kGetOrganisation)) return std::move(*fault);
  return inner_.GetOrganisation(name);
}

Result<User> FaultInjectingStore::AddUser(const User& user) {
  if (auto fault = Injected(StoreOp::kAddUser)) return std::move(*fault);
  return inner_.AddUser(user);
}

Result<std::vector<User>> FaultInjectingStore::ListUsers() {
  if (auto fault = Injected(StoreOp::kListUsers)) return std::move(*fault);
  return inner_.ListUsers();
}

Result<User> FaultInjectingStore::GetUser(std::string_view name) {
  if (auto fault = Injected(StoreOp::kGetUser)) return std::move(*fault);
  return inner_.GetUser(name);
}

Result<User> FaultInjectingStore::GetUserById(int64_t id) {
  if (auto fault = Injected(StoreOp::kGetUserById)) return std::move(*fault);
  return inner_.GetUserById(id);
}

Status FaultInjectingStore::RemoveUser(std::string_view name) {
  if (auto fault = Injected(StoreOp::kRemoveUser)) return std::move(*fault);
  return inner_.RemoveUser(name);
}

Status FaultInjectingStore::SetPassword(std::string_view user, std::string_view password_hash) {
  if (auto fault = Injected(StoreOp::kSetPassword)) return std::move(*fault);
  return inner_.SetPassword(user, password_hash);
}

Result<ApiToken> FaultInjectingStore::AddToken(const ApiToken& token) {
  if (auto fault = Injected(StoreOp::kAddToken)) return std::move(*fault);
  return inner_.AddToken(token);
}

Result<ApiToken> FaultInjectingStore::FindTokenByHash(std::string_view token_hash) {
  if (auto fault = Injected(StoreOp::kFindTokenByHash)) return std::move(*fault);
  return inner_.FindTokenByHash(token_hash);
}

Result<std::vector<ApiToken>> FaultInjectingStore::ListTokens(int64_t user_id) {
  if (auto fault = Injected(StoreOp::kListTokens)) return std::move(*fault);
  return inner_.ListTokens(user_id);
}

Status FaultInjectingStore::RevokeToken(int64_t token_id) {
  if (auto fault = Injected(StoreOp::kRevokeToken)) return std::move(*fault);
  return inner_.RevokeToken(token_id);
}

Status FaultInjectingStore::PutApiRoot(const ApiRoot& root) {
  if (auto fault = Injected(StoreOp::kPutApiRoot)) return std::move(*fault);
  return inner_.PutApiRoot(root);
}

Result<std::vector<ApiRoot>> FaultInjectingStore::ListApiRoots() {
  if (auto fault = Injected(StoreOp::kListApiRoots)) return std::move(*fault);
  return inner_.ListApiRoots();
}

Result<Collection> FaultInjectingStore::AddCollection(const Collection& c) {
  if (auto fault = Injected(StoreOp::kAddCollection)) return std::move(*fault);
  return inner_.AddCollection(c);
}

Result<std::vector<Collection>> FaultInjectingStore::ListCollections(std::string_view api_root) {
  if (auto fault = Injected(StoreOp::kListCollections)) return std::move(*fault);
  return inner_.ListCollections(api_root);
}

Result<Collection> FaultInjectingStore::GetCollection(std::string_view api_root,
                                                      std::string_view id) {
  if (auto fault = Injected(StoreOp::kGetCollection)) return std::move(*fault);
  return inner_.GetCollection(api_root, id);
}

Status FaultInjectingStore::RemoveCollection(std::string_view id) {
  if (auto fault = Injected(StoreOp::kRemoveCollection)) return std::move(*fault);
  return inner_.RemoveCollection(id);
}

std::future<Result<std::vector<WriteOutcome>>> FaultInjectingStore::WriteObjects(
    std::string collection_id, std::vector<NewObject> objects, std::string status_id) {
  if (auto fault = Injected(StoreOp::kWriteObjects)) {
    std::promise<Result<std::vector<WriteOutcome>>> failed;
    failed.set_value(std::move(*fault));
    return failed.get_future();
  }
  return inner_.WriteObjects(std::move(collection_id), std::move(objects), std::move(status_id));
}

Result<ObjectPage> FaultInjectingStore::QueryObjects(const ObjectQuery& q) {
  if (auto fault = Injected(StoreOp::kQueryObjects)) return std::move(*fault);
  return inner_.QueryObjects(q);
}

Result<int64_t> FaultInjectingStore::DeleteObject(const ObjectQuery& q) {
  if (auto fault = Injected(StoreOp::kDeleteObject)) return std::move(*fault);
  return inner_.DeleteObject(q);
}

Status FaultInjectingStore::CreateStatus(const StatusResource& s) {
  if (auto fault = Injected(StoreOp::kCreateStatus)) return std::move(*fault);
  return inner_.CreateStatus(s);
}

Result<StatusResource> FaultInjectingStore::GetStatus(std::string_view api_root,
                                                      std::string_view id) {
  if (auto fault = Injected(StoreOp::kGetStatus)) return std::move(*fault);
  return inner_.GetStatus(api_root, id);
}

Result<int64_t> FaultInjectingStore::CountObjects() {
  if (auto fault = Injected(StoreOp::kCountObjects)) return std::move(*fault);
  return inner_.CountObjects();
}

Status FaultInjectingStore::Ping() {
  if (auto fault = Injected(StoreOp::kPing)) return std::move(*fault);
  return inner_.Ping();
}

Status FaultInjectingStore::SearchObjects(const SearchQuery& q,
                                          const std::function<bool(SearchHit&)>& visit) {
  if (auto fault = Injected(StoreOp::kSearchObjects)) return *fault;
  return inner_.SearchObjects(q, visit);
}

Result<CollectionState> FaultInjectingStore::CollectionStateOf(std::string_view collection_id) {
  if (auto fault = Injected(StoreOp::kCollectionStateOf)) return std::move(*fault);
  return inner_.CollectionStateOf(collection_id);
}

Status FaultInjectingStore::FinishPendingStatus(std::string_view api_root,
                                                std::string_view status_id,
                                                std::string_view reason) {
  if (auto fault = Injected(StoreOp::kFinishPendingStatus)) return std::move(*fault);
  return inner_.FinishPendingStatus(api_root, status_id, reason);
}

Status FaultInjectingStore::PutSession(const SessionRecord& s, size_t max_sessions,
                                       int64_t idle_us) {
  if (auto fault = Injected(StoreOp::kPutSession)) return std::move(*fault);
  return inner_.PutSession(s, max_sessions, idle_us);
}

Result<SessionRecord> FaultInjectingStore::GetSession(std::string_view key) {
  if (auto fault = Injected(StoreOp::kGetSession)) return std::move(*fault);
  return inner_.GetSession(key);
}

Status FaultInjectingStore::TouchSession(std::string_view key, int64_t last_used_us) {
  if (auto fault = Injected(StoreOp::kTouchSession)) return std::move(*fault);
  return inner_.TouchSession(key, last_used_us);
}

Status FaultInjectingStore::UpdateSessionPrincipal(const SessionRecord& s) {
  if (auto fault = Injected(StoreOp::kUpdateSessionPrincipal)) return std::move(*fault);
  return inner_.UpdateSessionPrincipal(s);
}

Result<bool> FaultInjectingStore::DeleteSession(std::string_view key) {
  if (auto fault = Injected(StoreOp::kDeleteSession)) return std::move(*fault);
  return inner_.DeleteSession(key);
}

Result<int64_t> FaultInjectingStore::DeleteExpiredSessions(int64_t now_us, int64_t idle_us) {
  if (auto fault = Injected(StoreOp::kDeleteExpiredSessions)) return std::move(*fault);
  return inner_.DeleteExpiredSessions(now_us, idle_us);
}

}  // namespace ctihub::store
