// `ctihub agreement add ... --dry-run` (cmd_agreement_dry_run.cc): what an
// agreement would change, computed and printed without changing anything.
#pragma once

#include <string>

#include "policy/model.h"

namespace ctihub::cli {

struct DryRunOptions {
  std::string data;  // the hub's data directory
  std::string db;    // postgresql://...: the hub's database (HubOpenOptions::db_url)
  std::string at;    // RFC 3339 time to decide at; "" = now
  bool json = false;
};

// Checks `agreement` as `agreement add` would (fields, parties, id), then
// decides every stored object's latest version in each collection for every
// organisation under the policy without and with it, and prints what changes
// (by organisation, type and TLP) and the re-share chains it opens.
// `agreement_json` is the agreement as `agreement show --json` prints it.
// Returns the exit code: 0 reported, 2 refused or unreadable (message on stderr).
int RunAgreementDryRun(const DryRunOptions& options, const policy::Agreement& agreement,
                       const std::string& agreement_json);

}  // namespace ctihub::cli
