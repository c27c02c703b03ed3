// PolicyHolder: the server's current Policy, reloaded when its documents
// change (PolicySource::Revision: DATA/policy.toml and DATA/agreements.toml,
// or a PostgreSQL deployment's database documents; e.g. `ctihub agreement
// revoke` while the hub runs), so a revocation takes effect on the next
// request after the next check, and on Refresh() (an organisation added with
// `ctihub org add` while the hub runs).
//
// The model is policy.toml (optional: without it every unmarked object is
// AMBER and there are no agreements), the store's organisations (see
// KnownOrg and LoadPolicyDir in model.h) and agreements.toml.
//
// Thread-safe. Current() is cheap (one PolicySource::Revision() at most every
// `check_interval`, and a shared_ptr copy); callers keep the returned pointer
// for the whole request so one request sees one policy. With a zero interval
// (files: two stat calls) the revision is checked under the lock on every
// call, so a call that starts after a change sees it; with an interval (a
// database read) the check runs without the lock. A reload (parsing, calling
// `known_orgs`) runs in the calling thread without holding the lock: while it
// runs other callers keep getting the current policy; after Refresh(),
// callers wait for the reload it asked for.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "policy/model.h"
#include "policy/policy.h"
#include "policy/policy_source.h"

namespace ctihub::policy {

class PolicyHolder {
 public:
  // The store's organisations, read on every (re)load. May be called from any
  // thread that calls Current(); must not call back into the holder. An error
  // fails Open; on a reload it keeps the last good policy (and retries on the
  // next check).
  using KnownOrgsFn = std::function<Result<std::vector<KnownOrg>>()>;

  // Loads DIR's policy; refuses (with FILE:LINE:COLUMN: reason) when a file
  // exists but does not parse, or contradicts the store's organisations: the
  // hub must not start with a policy it cannot parse. A missing policy.toml is
  // the default model. `known_orgs` may be empty (no store organisations).
  static Result<std::unique_ptr<PolicyHolder>> Open(
      const std::string& data_dir,
      std::chrono::milliseconds check_interval = std::chrono::milliseconds(0),
      KnownOrgsFn known_orgs = nullptr);
  // The same over any source (a database's documents); an error reading it
  // fails Open too.
  static Result<std::unique_ptr<PolicyHolder>> Open(std::unique_ptr<PolicySource> source,
                                                    std::chrono::milliseconds check_interval,
                                                    KnownOrgsFn known_orgs);

  // The current policy. If the files changed and no longer parse, the last
  // good policy stays in force and last_reload_error() says why.
  std::shared_ptr<const Policy> Current();

  // Forces a reload (files and known_orgs) on the next Current(), whatever
  // check_interval says: call it when a request names an organisation the
  // current policy does not know (Policy::model().FindOrganisation == nullptr).
  // A Current() that starts after Refresh() returns a policy loaded after it
  // (waiting for a reload already running if need be), or the last good one
  // when that reload fails (last_reload_error() says why). Each call costs one
  // reload: do not call it for organisations that stay unknown after one.
  void Refresh();

  // Ok, or why the documents do not load or cannot be read (the last good
  // policy is in force meanwhile); cleared by the next successful reload, and
  // a read failure also by the next check that reads an unchanged revision.
  Status last_reload_error() const;
  // Reloads that failed since Open.
  uint64_t reload_failures() const;

  // Called (in the thread that ran the reload, no lock held) once per failed
  // reload, with the reason (`FILE:LINE:COLUMN: reason`): the server logs it.
  // A read of the source (or of `known_orgs`) that keeps failing with the
  // same reason (a database down) is reported once, not at every check.
  // Set before the holder is shared between threads.
  using ReloadErrorFn = std::function<void(const Status&)>;
  void SetOnReloadError(ReloadErrorFn fn) { on_reload_error_ = std::move(fn); }

 private:
  PolicyHolder() = default;
  // Reads the documents and known organisations; no lock held. `revision`
  // gets the documents' revision as read.
  Result<PolicyModel> Load(bool* transient_failure, std::string* revision) const;

  std::unique_ptr<PolicySource> source_;
  std::chrono::milliseconds interval_{0};
  KnownOrgsFn known_orgs_;
  ReloadErrorFn on_reload_error_;
  mutable std::mutex mu_;
  std::condition_variable loaded_cv_;                 // a reload finished
  std::shared_ptr<const Policy> policy_;              // guarded by mu_
  std::string fingerprint_;                           // guarded by mu_
  std::chrono::steady_clock::time_point last_check_;  // guarded by mu_
  Status load_error_;               // guarded by mu_: the documents at fingerprint_ do not load
  Status read_error_;               // guarded by mu_: the last check could not read the source
  bool loading_ = false;            // guarded by mu_: a reload is running
  uint64_t refresh_requested_ = 0;  // guarded by mu_: Refresh() calls so far
  uint64_t refresh_loaded_ = 0;     // guarded by mu_: Refresh() calls the policy reflects
  uint64_t reload_failures_ = 0;    // guarded by mu_
  std::string last_logged_error_;   // guarded by mu_: a repeated failure is logged once
};

}  // namespace ctihub::policy
