#include "policy/policy_holder.h"

#include <algorithm>
#include <optional>

namespace ctihub::policy {

Result<PolicyModel> PolicyHolder::Load(bool* transient_failure, std::string* revision) const {
  *transient_failure = false;
  auto texts = source_->Read();
  if (!texts.ok()) {
    // A file that cannot be read is retried on the next check, as a database that cannot be
    // reached.
    *transient_failure = true;
    return texts.status().WithContext("reading the policy (" + source_->Describe() + ")");
  }
  *revision = texts->revision;
  if (!known_orgs_) return LoadPolicyTexts(*texts, nullptr);
  auto orgs = known_orgs_();
  if (!orgs.ok()) {
    *transient_failure = true;
    return Status(orgs.status().code(),
                  "reading the hub's organisations: " + orgs.status().NamedMessage());
  }
  return LoadPolicyTexts(*texts, &*orgs);
}

Result<std::unique_ptr<PolicyHolder>> PolicyHolder::Open(const std::string& data_dir,
                                                         std::chrono::milliseconds check_interval,
                                                         KnownOrgsFn known_orgs) {
  return Open(FilePolicySource(data_dir), check_interval, std::move(known_orgs));
}

Result<std::unique_ptr<PolicyHolder>> PolicyHolder::Open(std::unique_ptr<PolicySource> source,
                                                         std::chrono::milliseconds check_interval,
                                                         KnownOrgsFn known_orgs) {
  std::unique_ptr<PolicyHolder> h(new PolicyHolder());
  h->source_ = std::move(source);
  h->interval_ = check_interval;
  h->known_orgs_ = std::move(known_orgs);
  bool transient = false;
  CTIHUB_ASSIGN_OR_RETURN(PolicyModel m, h->Load(&transient, &h->fingerprint_));
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
      if (loading_)
        return policy_;  // another thread is checking or reloading: use the current policy
    } else if (loading_) {
      // That reload may have started before our Refresh(): wait, then look again.
      loaded_cv_.wait(lk, [&] { return !loading_; });
      continue;
    }
    last_check_ = now;
    std::optional<Result<std::string>> checked;
    if (!forced && interval_.count() == 0) {
      // Checked on every call (files: two stat calls): under the lock, so a
      // call that starts after a change always sees it.
      checked = source_->Revision();
      if (checked->ok() && **checked == fingerprint_) {
        read_error_ = Status::Ok();
        last_logged_error_.clear();
        return policy_;
      }
    }
    loading_ = true;
    const uint64_t refresh_gen = refresh_requested_;
    const std::string known_revision = fingerprint_;
    lk.unlock();

    // A revision check with an interval (a database read) and the reload run unlocked.
    bool transient = false;
    std::string revision;
    Status failure;
    bool unchanged = false;
    if (!forced) {
      auto rev = checked ? std::move(*checked) : source_->Revision();
      if (!rev.ok()) {
        transient = true;
        failure =
            rev.status().WithContext("reading the policy's revision (" + source_->Describe() + ")");
      } else {
        unchanged = *rev == known_revision;
      }
    }
    std::shared_ptr<const Policy> fresh;
    if (!unchanged && failure.ok()) {
      auto m = Load(&transient, &revision);
      if (m.ok()) {
        fresh = std::make_shared<const Policy>(std::move(*m));
      } else {
        failure = m.status();
      }
    }

    lk.lock();
    loading_ = false;
    refresh_loaded_ = std::max(refresh_loaded_, refresh_gen);
    loaded_cv_.notify_all();
    if (unchanged) {
      // Readable again and nothing changed: a broken document (load_error_) still is.
      read_error_ = Status::Ok();
      last_logged_error_.clear();
      return policy_;
    }
    const bool loaded = fresh != nullptr;
    bool report = false;
    if (loaded) {
      policy_ = std::move(fresh);
      load_error_ = Status::Ok();
      read_error_ = Status::Ok();
      fingerprint_ = revision;
      last_logged_error_.clear();
    } else {
      // Keep the last good policy. A broken document is retried when it
      // changes again; a failed read at the next check.
      ++reload_failures_;
      if (transient) {
        read_error_ = failure;
      } else {
        load_error_ = failure;
        read_error_ = Status::Ok();
        fingerprint_ = revision;
      }
      // A read that keeps failing (the database is down) is logged once, not at every check.
      const std::string message = failure.NamedMessage();
      report = !transient || message != last_logged_error_;
      last_logged_error_ = transient ? message : std::string();
    }
    std::shared_ptr<const Policy> current = policy_;
    if (report && on_reload_error_) {
      lk.unlock();
      on_reload_error_(failure);
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
  return read_error_.ok() ? load_error_ : read_error_;
}

}  // namespace ctihub::policy
