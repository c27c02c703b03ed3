#include "store/store.h"

namespace ctihub::store {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAdmin:
      return "admin";
    case Role::kPublisher:
      return "publisher";
    case Role::kReader:
      return "reader";
    case Role::kAuditor:
      return "auditor";
    case Role::kHubAuditor:
      return "hub-auditor";
  }
  return "reader";
}

Result<Role> ParseRole(std::string_view s) {
  for (Role r :
       {Role::kAdmin, Role::kPublisher, Role::kReader, Role::kAuditor, Role::kHubAuditor}) {
    if (RoleName(r) == s) return r;
  }
  return InvalidArgument("bad_role", "unknown role '" + std::string(s) +
                                         "' (admin, publisher, reader, auditor, hub-auditor)");
}

Status Store::Ping() { return Status::Ok(); }

bool Store::KeepsPolicyDocuments() const { return false; }

Result<int64_t> Store::PolicyDocumentsRevision() {
  return Unavailable("not_supported", "this store backend keeps no policy documents");
}

Result<PolicyDocuments> Store::ReadPolicyDocuments() {
  return Unavailable("not_supported", "this store backend keeps no policy documents");
}

Result<int64_t> Store::PutPolicyDocument(std::string_view, const std::optional<std::string>&,
                                         int64_t) {
  return Unavailable("not_supported", "this store backend keeps no policy documents");
}

bool Store::KeepsAuditChains() const { return false; }

Status Store::AppendAuditChain(std::string_view, std::string_view,
                               const std::vector<AuditChainRecord>&,
                               const std::vector<AuditChainSeal>&, const AuditChainSeal&) {
  return Unavailable("not_supported", "this store backend keeps no audit chains");
}

Result<std::vector<AuditChainNode>> Store::ListAuditChains() {
  return Unavailable("not_supported", "this store backend keeps no audit chains");
}

Result<std::vector<AuditChainRecord>> Store::ReadAuditChain(std::string_view, int64_t, size_t) {
  return Unavailable("not_supported", "this store backend keeps no audit chains");
}

Result<std::vector<AuditChainSeal>> Store::ReadAuditCheckpoints(std::string_view) {
  return Unavailable("not_supported", "this store backend keeps no audit chains");
}

Result<std::vector<AuditChainRecord>> Store::FindInAuditChain(std::string_view, std::string_view,
                                                              const std::vector<std::string>&,
                                                              int64_t, size_t) {
  return Unavailable("not_supported", "this store backend keeps no audit chains");
}

bool Store::KeepsSessions() const { return false; }

Status Store::PutSession(const SessionRecord&, size_t, int64_t) {
  return Unavailable("not_supported", "this store backend keeps no sessions");
}

Result<SessionRecord> Store::GetSession(std::string_view) {
  return Unavailable("not_supported", "this store backend keeps no sessions");
}

Status Store::TouchSession(std::string_view, int64_t) {
  return Unavailable("not_supported", "this store backend keeps no sessions");
}

Status Store::UpdateSessionPrincipal(const SessionRecord&) {
  return Unavailable("not_supported", "this store backend keeps no sessions");
}

Result<bool> Store::DeleteSession(std::string_view) {
  return Unavailable("not_supported", "this store backend keeps no sessions");
}

Result<int64_t> Store::DeleteExpiredSessions(int64_t, int64_t) {
  return Unavailable("not_supported", "this store backend keeps no sessions");
}

bool Store::KeepsImportJobs() const { return false; }

Status Store::PutImportJob(const ImportJobRecord&) {
  return Unavailable("not_supported", "this store backend keeps no import jobs");
}

Result<ImportJobRecord> Store::GetImportJob(std::string_view) {
  return Unavailable("not_supported", "this store backend keeps no import jobs");
}

Result<int64_t> Store::DeleteImportJobsFinishedBefore(int64_t) {
  return Unavailable("not_supported", "this store backend keeps no import jobs");
}

Result<std::vector<StoredVersionRef>> Store::ListVersionsAddedAfter(int64_t, size_t) {
  return Unavailable("not_supported", "this store backend cannot list versions for recovery");
}

Result<CollectionState> Store::CollectionStateOf(std::string_view) {
  return Unavailable("not_supported", "this store backend cannot summarise a collection");
}

Status Store::SearchObjects(const SearchQuery&, const std::function<bool(SearchHit&)>&) {
  return Unavailable("not_supported", "this store backend has no search index");
}

Result<std::vector<Referrer>> Store::ReferencesTo(std::string_view, const std::vector<std::string>&,
                                                  size_t) {
  return Unavailable("not_supported", "this store backend has no reference index");
}

Result<int64_t> Store::FinishPendingStatuses(std::string_view) {
  return Unavailable("not_supported", "this store backend cannot finish pending statuses");
}

Status Store::FinishPendingStatus(std::string_view, std::string_view, std::string_view) {
  return Unavailable("not_supported", "this store backend cannot finish a pending status");
}

}  // namespace ctihub::store
