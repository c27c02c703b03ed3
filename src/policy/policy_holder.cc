#include "policy/policy_holder.h"

#include <sys/stat.h>

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

Result<std::unique_ptr<PolicyHolder>> PolicyHolder::Open(const std::string& data_dir,
                                                         std::chrono::milliseconds check_interval) {
  std::unique_ptr<PolicyHolder> h(new PolicyHolder());
  h->dir_ = data_dir;
  h->interval_ = check_interval;
  h->fingerprint_ = h->Fingerprint();
  CTIHUB_ASSIGN_OR_RETURN(PolicyModel m, LoadPolicyDir(data_dir));
  h->policy_ = std::make_shared<const Policy>(std::move(m));
  h->last_check_ = std::chrono::steady_clock::now();
  return h;
}

std::shared_ptr<const Policy> PolicyHolder::Current() {
  std::lock_guard<std::mutex> lk(mu_);
  auto now = std::chrono::steady_clock::now();
  if (interval_.count() > 0 && now - last_check_ < interval_) return policy_;
  last_check_ = now;
  std::string fp = Fingerprint();
  if (fp == fingerprint_) return policy_;
  auto m = LoadPolicyDir(dir_);
  if (!m.ok()) {
    error_ = m.status();  // keep the last good policy; retry on the next change
  } else {
    policy_ = std::make_shared<const Policy>(std::move(*m));
    error_ = Status::Ok();
  }
  fingerprint_ = fp;
  return policy_;
}

Status PolicyHolder::last_reload_error() const {
  std::lock_guard<std::mutex> lk(mu_);
  return error_;
}

}  // namespace ctihub::policy
