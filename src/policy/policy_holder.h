// PolicyHolder: the server's current Policy, reloaded when DATA/policy.toml or
// DATA/agreements.toml change (e.g. `ctihub agreement revoke` while the hub
// runs), so a revocation takes effect on the next request.
//
// Thread-safe. Current() is cheap (two stat calls at most every
// `check_interval`, and a shared_ptr copy); callers keep the returned pointer
// for the whole request so one request sees one policy.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.h"
#include "policy/policy.h"

namespace ctihub::policy {

class PolicyHolder {
 public:
  // Loads DIR's policy; refuses (with FILE:LINE:COLUMN: reason) when it does
  // not parse: the hub must not start with a policy it cannot parse.
  static Result<std::unique_ptr<PolicyHolder>> Open(
      const std::string& data_dir,
      std::chrono::milliseconds check_interval = std::chrono::milliseconds(0));

  // The current policy. If the files changed and no longer parse, the last
  // good policy stays in force and last_reload_error() says why.
  std::shared_ptr<const Policy> Current();
  Status last_reload_error() const;

 private:
  PolicyHolder() = default;
  std::string Fingerprint() const;

  std::string dir_;
  std::chrono::milliseconds interval_{0};
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> policy_;  // guarded by mu_
  std::string fingerprint_;               // guarded by mu_
  std::chrono::steady_clock::time_point last_check_;
  Status error_;
};

}  // namespace ctihub::policy
