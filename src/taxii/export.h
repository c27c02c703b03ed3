// Exports through the read path: the one place `ctihub export` and
// GET /api/v1/export/{format} read the objects they hand to a
// formats::Exporter. A reader's export pages every collection it may read
// through a ReadGate, exactly as the TAXII objects endpoint does (the same
// policy decision, redactions included, the latest version of each object);
// only the hub's local administrator (`ctihub export` without --as-user)
// exports without a gate, and is audited like anyone else.
//
// Audit: every export appends `export` records naming each exported object
// version with its grant (at most kExportRefsPerRecord per record, all with
// the same export_id in their details), and, when PAP:AMBER/RED indicators
// went into an active-blocking format by override, one `policy.override`
// record naming them. Not thread-safe; one export per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/result.h"
#include "formats/export.h"
#include "policy/policy.h"
#include "store/store.h"

namespace ctihub::taxii {

inline constexpr size_t kExportRefsPerRecord = 10000;

// What to export.
struct ExportScope {
  std::string collection;          // id or alias; "" every collection the reader may read
  std::string api_root;            // of `collection`; "" any
  std::vector<std::string> types;  // STIX types; empty: all (the format still picks)
  std::optional<int64_t> added_after_us;
};

// Who reads. No principal: the local administrator (every stored object, no
// policy). With a principal the policy is mandatory (null: nothing is read).
struct ExportReader {
  const auth::Principal* principal = nullptr;
  std::shared_ptr<const policy::Policy> policy;
};

// Where the export's audit records go, and what they say about it.
struct ExportAudit {
  audit::Sink* sink = nullptr;  // null: nothing is recorded (tests of the reading only)
  audit::Record base;           // user, org, route, remote, status; action and objects are set here
  std::string export_id;        // a UUID naming the export in every record
};

struct ExportSummary {
  int64_t exported = 0;
  int64_t by_override = 0;  // PAP-restricted indicators exported by include_pap_restricted
  std::map<std::string, int64_t> left_out;  // by formats::ExportOutcomeName
  std::vector<std::string> collections;     // ids read
  int64_t newest_date_added_us = 0;
};

// Reads the scope's objects for `reader` and hands them to `exporter`
// (Begin .. Finish), recording what was exported in `audit`. NotFound for
// an unknown collection, Forbidden for one the reader may not read; the
// audit trail's or the output's error stops the export.
Result<ExportSummary> RunExport(store::Store& store, const ExportReader& reader,
                                const ExportScope& scope, const formats::ExportOptions& options,
                                formats::Exporter& exporter, const ExportAudit& audit);

}  // namespace ctihub::taxii
