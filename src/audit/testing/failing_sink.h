// An audit Sink for fault-injection tests: keeps appended records in memory and,
// when told to, refuses them with an injected Status (a full disk, a closed
// log). Thread-safe. Test-only: link ctihub_audit_testing.
#pragma once

#include <mutex>
#include <vector>

#include "audit/audit.h"

namespace ctihub::audit {

class FailingSink : public Sink {
 public:
  // From now on every Append and Flush returns `status` (not OK) and keeps nothing.
  void FailWith(Status status);
  // Appends are taken again.
  void Heal();

  Status Append(Record r) override;
  Status Flush() override;

  // Copies of the records taken so far.
  std::vector<Record> records() const;
  // Appends refused so far.
  int refused() const;

 private:
  mutable std::mutex mu_;
  Status failure_;               // guarded by mu_; OK: appends are taken
  std::vector<Record> records_;  // guarded by mu_
  int refused_ = 0;              // guarded by mu_
};

}  // namespace ctihub::audit
