// `ctihub policy check`: loads the sharing policy of a data directory (or,
// with --db, of a PostgreSQL deployment's database) exactly as `ctihub serve`
// does (policy.toml, the hub's organisations, agreements.toml) and says
// whether it loads. A running hub that finds its documents broken keeps its
// last good policy and reports `policy_reload_failed` on /healthz and
// /metrics: this command says why.
//
// `ctihub policy import --db URL`: copies DATA/policy.toml and
// DATA/agreements.toml (those present) into the database, where every node
// reads them: how a hub moves its policy files to PostgreSQL.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "core/hash.h"
#include "core/json.h"
#include "policy/model.h"
#include "policy/policy_source.h"

namespace ctihub::cli {
namespace {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub policy: %s\n", msg.c_str());
  return kExitError;
}

struct PolicyArgs {
  std::string data = kDefaultDataDir;
  std::string db;    // postgresql://...: the database's policy documents
  std::string from;  // import: the directory holding the files (default: data)
};

// Exit 0 when the policy loads, 1 when it does not (reason on stderr), 2
// when the hub itself cannot be read.
int CheckPolicy(const PolicyArgs& a) {
  auto store = OpenHubStore(a.data, HubDb(a.db));
  if (!store.ok()) return Fail(store.status().NamedMessage());
  auto known = KnownOrganisations(**store);
  if (!known.ok()) return Fail("reading the hub's organisations: " + known.status().NamedMessage());
  auto source = HubPolicySource(a.data, store->get());
  auto texts = source->Read();
  if (!texts.ok()) return Fail("reading the policy: " + texts.status().NamedMessage());
  auto model = policy::LoadPolicyTexts(*texts, &*known);
  if (!model.ok()) {
    std::fprintf(stderr,
                 "ctihub policy: %s\n"
                 "ctihub policy: the policy does not load: `ctihub serve` refuses to start on it, "
                 "and a running hub keeps its last good policy and reports policy_reload_failed "
                 "on /healthz and /metrics\n",
                 model.status().NamedMessage().c_str());
    return kExitNegative;
  }
  std::printf("ok: %zu organisations, %zu communities, %zu agreements, %zu collections\n",
              model->organisations.size(), model->communities.size(), model->agreements.size(),
              model->collections.size());
  return kExitOk;
}

// The import's audit record, appended by this process as the local user.
Status RecordImport(const std::string& data, const policy::PolicyTexts& imported,
                    const std::string& revision) {
  std::string details;
  json::JsonWriter w(details);
  w.BeginObject();
  w.Key("documents").BeginArray();
  for (const auto* doc : {&imported.policy, &imported.agreements}) {
    if (!*doc) continue;
    w.BeginObject();
    w.Key("name").String(doc == &imported.policy ? policy::kPolicyDocument
                                                 : policy::kAgreementsDocument);
    w.Key("sha256").String(Sha256Hex(**doc));
    w.EndObject();
  }
  w.EndArray();
  w.Key("revision").String(revision);
  w.EndObject();
  auto log = audit::AuditLog::Open(data);
  if (!log.ok()) return log.status().WithContext("audit trail unavailable");
  audit::Record r;
  r.user = audit::LocalActor();
  r.action = std::string(audit::action::kPolicyImported);
  r.route = "cli policy import";
  r.status = 0;
  r.remote = "local";
  r.details = details;
  CTIHUB_RETURN_IF_ERROR((*log)->Append(std::move(r)));
  return (*log)->Flush();
}

// Copies FROM/policy.toml and FROM/agreements.toml (those present) into the
// database, replacing its documents of the same names, once the policy they
// make with the database's other document and organisations loads.
int ImportPolicy(const PolicyArgs& a) {
  if (a.db.empty()) return Fail("import: --db is required (the files are the policy without it)");
  auto store = OpenHubStore(a.data, HubDb(a.db));
  if (!store.ok()) return Fail(store.status().NamedMessage());
  const std::string from = a.from.empty() ? a.data : a.from;
  auto files = policy::FilePolicySource(from)->Read();
  if (!files.ok()) return Fail(files.status().NamedMessage());
  if (!files->policy && !files->agreements) {
    return Fail("import: neither " + from + "/policy.toml nor " + from +
                "/agreements.toml exists: nothing to import");
  }
  auto known = KnownOrganisations(**store);
  if (!known.ok()) return Fail("reading the hub's organisations: " + known.status().NamedMessage());
  auto db = HubPolicySource(a.data, store->get());
  auto current = db->Read();
  if (!current.ok())
    return Fail("reading the database's policy: " + current.status().NamedMessage());
  policy::PolicyTexts next = *current;
  if (files->policy) {
    next.policy = files->policy;
    next.policy_name = files->policy_name;
  }
  if (files->agreements) {
    next.agreements = files->agreements;
    next.agreements_name = files->agreements_name;
  }
  auto model = policy::LoadPolicyTexts(next, &*known);
  if (!model.ok())
    return Fail("refused, the policy would not load: " + model.status().NamedMessage());
  // Compare-and-set on the revision read: a concurrent change makes the import fail, not vanish.
  std::string revision = current->revision;
  for (auto [doc, name] : {std::pair{&files->policy, policy::kPolicyDocument},
                           std::pair{&files->agreements, policy::kAgreementsDocument}}) {
    if (!*doc) continue;
    Status st = db->Write(name, *doc, revision);
    if (!st.ok()) return Fail("import: " + std::string(name) + ": " + st.NamedMessage());
    auto now = db->Revision();
    if (!now.ok()) return Fail("import: " + now.status().NamedMessage());
    revision = *now;
  }
  Status recorded = RecordImport(a.data, *files, revision);
  if (!recorded.ok()) {
    std::fprintf(stderr, "ctihub policy: warning: imported, but the audit record failed: %s\n",
                 recorded.NamedMessage().c_str());
  }
  std::printf("imported%s%s into %s (revision %s): %zu organisations, %zu agreements\n",
              files->policy ? " policy.toml" : "", files->agreements ? " agreements.toml" : "",
              StoreDescription(a.data, a.db).c_str(), revision.c_str(), model->organisations.size(),
              model->agreements.size());
  return recorded.ok() ? kExitOk : kExitError;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, int* exit_code) {
  CLI::App* policy = app.add_subcommand("policy", "check, import and explain the sharing policy");
  policy->require_subcommand(1);
  auto args = std::make_shared<PolicyArgs>();
  CLI::App* check = policy->add_subcommand(
      "check",
      "load the policy (DATA/policy.toml and DATA/agreements.toml, or the database's with --db) "
      "as the server does; exit 0 ok, 1 it does not load (FILE:LINE:COLUMN: reason), 2 error");
  check->add_option("--data", args->data, "hub data directory")->capture_default_str();
  check
      ->add_option("--db", args->db,
                   "PostgreSQL database (postgresql://...): check its policy documents")
      ->envname("CTIHUB_DB");
  check->callback([exit_code, args] { *exit_code = CheckPolicy(*args); });

  CLI::App* import = policy->add_subcommand(
      "import",
      "copy policy.toml and agreements.toml (those present) into a PostgreSQL database, "
      "replacing its documents of the same names; every node reads them from there");
  import->add_option("--data", args->data, "this node's data directory (audit trail)")
      ->capture_default_str();
  import->add_option("--db", args->db, "PostgreSQL database (postgresql://...)")
      ->required()
      ->envname("CTIHUB_DB");
  import->add_option("--from", args->from,
                     "directory holding the files to import (default: --data)");
  import->callback([exit_code, args] { *exit_code = ImportPolicy(*args);
});
RegisterPolicyExplain(*policy, exit_code);
}  // namespace ctihub::cli

}  // namespace ctihub::cli
