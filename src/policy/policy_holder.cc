#include "policy/policy_holder.h"

#include <sys/stat.h>

#include <algorithm>

namespace ctihub::policy {

std::string PolicyHolder::Fingerprint() const {
  std::string fp;
  for (const char* name : {"/policy.toml", "/agreements.toml"}) {
    struct stat st {};
    if (::stat((dir_ + name).c_str(), &st) != 0) {
      fp += "-;";
      continue;
    }
    fp += std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
          std::to_string(st.st_size) + ":" + std::to_string(st.st_ino) + ";";
  }
  return fp;
}

Result<PolicyModel> PolicyHolder::Load(bool* known_orgs_failed) const {
  *known_orgs_failed = false;
  if (!known_orgs_) return LoadPolicyDir(dir_, /*allow_missing=*/true);
  auto orgs = known_orgs_();
  if (!orgs.ok()) {
    *known_orgs_failed = true;
    return Status(orgs.status().code(),
                  "reading the hub's organisations: " + orgs.status().NamedMessage());
  }
  return LoadPolicyDir(dir_, /*allow_missing=*/true, *orgs);
}

Result<std::unique_ptr<PolicyHolder>> PolicyHolder::Open(const std::string& data_dir,
                                                         std::chrono::milliseconds check_interval,
                                                         KnownOrgsFn known_orgs) {
  std::unique_ptr<PolicyHolder> h(new PolicyHolder());
  h->dir_ = data_dir;
  h->interval_ = check_interval;
  h->known_orgs_ = std::move(known_orgs);
  h->fingerprint_ = h->Fingerprint();
  bool orgs_failed = false;
  CTIHUB_ASSIGN_OR_RETURN(PolicyModel m, h->Load(&orgs_failed));
  h->policy_ = std::make_shared<const Policy>(std::move(m));
  h->last_check_ = std::chrono::steady_clock::now();
  return h;
}

std::shared_ptr<const Policy> PolicyHolder::Current() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    const bool forced = refresh_requested_ > refresh_loaded_;
    auto now = std::chrono::steady_clock::now();
    if (!forced) {
      if (interval_.count() > 0 && now - last_check_ < interval_) return policy_;
      if (loading_) return policy_;  // another thread is reloading: use the current policy
    } else if (loading_) {
      // That reload may have started before our Refresh(): wait, then look again.
      loaded_cv_.wait(lk, [&] { return !loading_; });
      continue;
    }
    last_check_ = now;
    std::string fp = Fingerprint();
    if (!forced && fp == fingerprint_) return policy_;

    loading_ = true;
    const uint64_t refresh_gen = refresh_requested_;
    lk.unlock();
    bool orgs_failed = false;
    auto m = Load(&orgs_failed);
    std::shared_ptr<const Policy> fresh;
    if (m.ok()) fresh = std::make_shared<const Policy>(std::move(*m));
    lk.lock();
    loading_ = false;
    refresh_loaded_ = std::max(refresh_loaded_, refresh_gen);
    const bool loaded = fresh != nullptr;
    if (loaded) {
      policy_ = std::move(fresh);
      error_ = Status::Ok();
      fingerprint_ = fp;
    } else {
      error_ = m.status();  // keep the last good policy
      ++reload_failures_;
      // A broken file is retried when it changes again; a failed store read on the next check.
      if (!orgs_failed) fingerprint_ = fp;
    }
    loaded_cv_.notify_all();
    std::shared_ptr<const Policy> current = policy_;
    if (!loaded && on_reload_error_) {
      lk.unlock();
      on_reload_error_(m.status());
    }
    return current;
  }
}

void PolicyHolder::Refresh() {
  std::lock_guard<std::mutex> lk(mu_);
  ++refresh_requested_;
}

uint64_t PolicyHolder::reload_failures() const {
  std::lock_guard<std::mutex> lk(mu_);
  return reload_failures_;
}

Status PolicyHolder::last_reload_error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

}  // namespace ctihub::policy
