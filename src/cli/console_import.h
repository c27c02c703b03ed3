// The console's uploads (POST /api/v1/import, webapi/import_jobs.h): the
// function `ctihub serve` gives webapi::ConsoleOptions::import_run. Each
// upload goes through `ctihub import`'s code (importer.h, import_sink.h) as
// `ctihub import --org ORG --collection ID --format F [--csv-map ...]
// [--tlp ..] [--pap ..]` would: the importer's organisation is the producer,
// one store transaction and one `object.written` audit record per batch, with
// the importer as the record's user and route "console import <collection>".
// The upload is written to DATA/uploads/ (0600) while it is read, then removed.
#pragma once

#include <string>

#include "webapi/import_jobs.h"

namespace ctihub {
namespace audit {
class AuditLog;
}
namespace policy {
class PolicyHolder;
}
namespace store {
class Store;
}
}  // namespace ctihub

namespace ctihub::cli {

// `hub`, `trail` and `policy` must outlive the returned function's calls.
// Removes what a stopped server left in DATA/uploads/.
webapi::ImportRunFn ConsoleImporter(store::Store& hub, audit::AuditLog& trail,
                                    policy::PolicyHolder& policy, const std::string& data_dir);

}  // namespace ctihub::cli
