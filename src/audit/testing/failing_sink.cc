#include "audit/testing/failing_sink.h"

#include <cassert>
#include <utility>

namespace ctihub::audit {

void FailingSink::FailWith(Status status) {
  assert(!status.ok());
  std::lock_guard<std::mutex> lock(mu_);
  failure_ = std::move(status);
}

void FailingSink::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  failure_ = Status::Ok();
}

Status FailingSink::Append(Record r) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!failure_.ok()) {
    ++refused_;
    return failure_;
  }
  records_.push_back(std::move(r));
  return Status::Ok();
}

Status FailingSink::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

std::vector<Record> FailingSink::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

int FailingSink::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

}  // namespace ctihub::audit
