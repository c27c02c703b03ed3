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
// record naming them. Records are appended as the export goes (a part per
// kExportRefsPerRecord objects); an export stopped early closes with what was
// sent, marked aborted (ExportRun::Abort). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
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
#include "taxii/taxii.h"

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

// One export read piece by piece: the HTTP export streams its body this way
// (the next piece is read only once the previous one was sent) and RunExport
// drives the same steps to the end. The audit records follow Commit, not
// Step: an object counts as exported once the caller says its bytes went
// out, so a stream cut short records exactly the objects it sent (Abort).
// Not thread-safe; it may move from thread to thread between calls (its read
// gates keep their own decision memo).
class ExportRun {
 public:
  // Checks the reader and the scope: NotFound for an unknown collection,
  // Forbidden for one the reader may not read, Unavailable without a policy.
  // `store`, `exporter` (and what it writes to) and audit.sink must outlive
  // the run; the rest is copied.
  static Result<std::unique_ptr<ExportRun>> Open(store::Store& store, const ExportReader& reader,
                                                 const ExportScope& scope,
                                                 const formats::ExportOptions& options,
                                                 formats::Exporter& exporter,
                                                 const ExportAudit& audit);
  ~ExportRun();
  ExportRun(const ExportRun&) = delete;
  ExportRun& operator=(const ExportRun&) = delete;

  // Hands objects to the exporter (its Begin first) until `enough()` holds
  // after an object, kExportRefsPerRecord objects wait for Commit, or the
  // scope is read to its end (then the exporter's Finish). Returns whether
  // objects remain. The store's or the output's error stops the export.
  Result<bool> Step(const std::function<bool()>& enough);
  // Records the objects exported by the Steps since the last Commit (call it
  // once their bytes are out). The trail's error stops the export.
  Status Commit();
  // After the last Step and its Commit: the last part and the
  // policy.override record.
  Status Finish();
  // The export stops before its end: what was committed is recorded as the
  // last part with "aborted": true (objects stepped but not committed are
  // not). Nothing after Finish.
  Status Abort();

  const ExportSummary& summary() const;
  // Objects stepped and not yet committed.
  size_t uncommitted() const;

 private:
  class Impl;
  explicit ExportRun(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The ETag of GET /api/v1/export/{format}, known before any object is read:
// the SHA-256 of what the body depends on -- the format and its options, the
// scope, the reader (user, organisation, role) and the policy it reads
// under (this process's policy generation and the reader's next agreement
// boundary), each collection read (id, with its stored versions and newest
// date_added: Store::CollectionStateOf) and the UTC hour of `options.now`
// (indicators expire by valid_until as time passes). A weak validator of the
// inputs, not of the bytes: a server restart or a policy reload changes it
// with the body unchanged, and an indicator whose valid_until passes within
// the hour leaves it unchanged for the rest of that hour. Returned quoted
// with its W/ prefix. Errors as ExportRun::Open's (the export would fail the
// same way), and the store's (Unavailable: a backend without
// CollectionStateOf; the caller then answers without an ETag).
Result<std::string> ExportFingerprint(store::Store& store, const ExportReader& reader,
                                      const ExportScope& scope,
                                      const formats::ExportOptions& options);

// The body of GET /api/v1/export/{format} as a BodyProducer (taxii.h): an
// ExportRun whose exporter writes into a piece of about kBodyChunkBytes at a
// time. Each Next commits the objects of the piece before it (the HTTP layer
// calls Next again only once that piece was written to the connection), and
// the last Next, after the last piece went out, closes the records; Abort
// (or the producer's end without either) records what was sent as aborted.
// The first piece is read here, so an error of the first page is this
// function's error (a status, not a cut body). Errors as ExportRun::Open's,
// InvalidArgument for bad options, and the first Step's.
Result<std::shared_ptr<BodyProducer>> OpenExportStream(store::Store& store,
                                                       const ExportReader& reader,
                                                       const ExportScope& scope,
                                                       const formats::ExportOptions& options,
                                                       const ExportAudit& audit);

// Reads the scope's objects for `reader` and hands them to `exporter`
// (Begin .. Finish), recording what was exported in `audit`: ExportRun's
// steps to the end, committing after each (the output has taken the bytes).
// Errors as ExportRun's.
Result<ExportSummary> RunExport(store::Store& store, const ExportReader& reader,
                                const ExportScope& scope, const formats::ExportOptions& options,
                                formats::Exporter& exporter, const ExportAudit& audit);

}  // namespace ctihub::taxii
