// ctihub agreement add|list|show|revoke: sharing agreements (src/policy).
//
// Agreements live in DATA/policy.toml (hand-written, optional) and
// DATA/agreements.toml (written by these commands), or with --db in the
// PostgreSQL database's documents of the same names, which every node reads
// (a change takes effect on each within kDatabasePolicyCheck). Every change is validated
// against the whole policy, including the hub's organisations (`ctihub org
// add`), exactly as the server loads it, before it is kept, and appended to the
// audit trail; if the audit append fails the change is rolled back. The work is
// policy/agreement_edit.h's, shared with the console's /api/v1/agreements.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "cli/agreement_dry_run.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "policy/agreement_edit.h"
#include "policy/model.h"

namespace ctihub::cli {
namespace {

struct AgreementArgs {
  std::string data = "./var";
  std::string db;  // postgresql://...: the policy documents of that database
  bool json = false;
  std::string id, producer, recipient, max_tlp, pap_ceiling = "red", legal_basis;
  std::vector<std::string> types, strip, withhold_sco;
  bool reshare = false;
  bool relay = false;
  bool dry_run = false;
  std::string valid_from, expires, reason, at;
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub agreement: %s\n", msg.c_str());
  return kExitError;
}

// A refusal of policy/agreement_edit.h, naming the flag at fault.
int FailWith(const Status& st) {
  std::string flag(policy::AgreementErrorField(st));
  if (flag.empty() || flag == "id") return Fail(st.NamedMessage());
  std::replace(flag.begin(), flag.end(), '_', '-');
  return Fail("--" + flag + ": " + st.message());
}

// The hub a command works on: its store (none when the hub has no database
// yet: the policy then stands on policy.toml alone), the store's
// organisations as the server merges them, and where the policy's documents
// are (DATA's files, or the database's with --db).
struct AgreementHub {
  std::unique_ptr<store::Store> store;
  policy::AgreementOrgsFn known_orgs;
  std::unique_ptr<policy::PolicySource> source;
};

Result<AgreementHub> OpenAgreementHub(const AgreementArgs& a) {
  AgreementHub h;
  std::error_code ec;
  if (!a.db.empty() || std::filesystem::exists(DatabasePath(a.data), ec)) {
    CTIHUB_ASSIGN_OR_RETURN(h.store, OpenHubStore(a.data, HubDb(a.db)));
    store::Store* hub = h.store.get();
    h.known_orgs = [hub] { return KnownOrganisations(*hub); };
  }
  h.source = HubPolicySource(a.data, h.store.get());
  return h;
}

// The change's audit record, appended by this process as the local user.
policy::RecordAgreementChangeFn CliRecord(const std::string& data, std::string_view route) {
  return [data, route = std::string(route)](const std::string& details) -> Status {
    auto log = audit::AuditLog::Open(data);
    if (!log.ok()) return log.status().WithContext("audit trail unavailable");
    audit::Record r;
    r.user = audit::LocalActor();
    r.action = std::string(audit::action::kAgreementChanged);
    r.route = route;
    r.status = 0;
    r.remote = "local";
    r.details = details;
    CTIHUB_RETURN_IF_ERROR((*log)->Append(std::move(r)));
    return (*log)->Flush();
  };
}

policy::AgreementDraft DraftOf(const AgreementArgs& a) {
  policy::AgreementDraft d;
  d.id = a.id;
  d.producer = a.producer;
  d.recipient = a.recipient;
  d.max_tlp = a.max_tlp;
  d.pap_ceiling = a.pap_ceiling;
  d.types = a.types;
  d.strip = a.strip;
  d.withhold_sco = a.withhold_sco;
  d.reshare = a.reshare;
  d.relay = a.relay;
  d.valid_from = a.valid_from;
  d.expires = a.expires;
  d.legal_basis = a.legal_basis;
  return d;
}

int RunAdd(const AgreementArgs& a) {
  auto ag = policy::BuildAgreement(DraftOf(a));
  if (!ag.ok()) return FailWith(ag.status());
  if (a.dry_run) {
    return RunAgreementDryRun({a.data, a.db, a.at, a.json}, *ag,
                              policy::AgreementJson(*ag, Timestamp::Now()));
  }
  auto hub = OpenAgreementHub(a);
  if (!hub.ok()) return Fail(hub.status().NamedMessage());
  Status st = policy::AddAgreement(*hub->source, hub->known_orgs, *ag,
                                   CliRecord(a.data, "cli agreement add"));
  if (!st.ok()) return FailWith(st);
  std::printf("agreement %s added\n", ag->id.c_str());
  return kExitOk;
}

int RunList(const AgreementArgs& a, bool one) {
  auto hub = OpenAgreementHub(a);
  if (!hub.ok()) return Fail(hub.status().NamedMessage());
  auto model = policy::LoadPolicyWithOrgs(*hub->source, hub->known_orgs);
  if (!model.ok()) return Fail(model.status().NamedMessage());
  Timestamp now = Timestamp::Now();
  if (one) {
    const policy::Agreement* ag = model->FindAgreement(a.id);
    if (!ag) return Fail("no agreement '" + a.id + "'");
    if (a.json) {
      std::printf("%s\n", policy::AgreementJson(*ag, now).c_str());
    } else {
      std::printf("%s", policy::AgreementToToml(*ag).c_str());
    }
    return kExitOk;
  }
  if (a.json) {
    std::string out = "[";
    for (size_t i = 0; i < model->agreements.size(); ++i)
      out += (i ? "," : "") + policy::AgreementJson(model->agreements[i], now);
    std::printf("%s]\n", out.c_str());
    return kExitOk;
  }
  std::printf("%-28s %-26s %-26s %-13s %-7s %-5s %s\n", "ID", "PRODUCER", "RECIPIENT", "MAX TLP",
              "RESHARE", "RELAY", "STATE");
  for (const auto& ag : model->agreements) {
    std::printf("%-28s %-26s %-26s %-13s %-7s %-5s %s\n", ag.id.c_str(),
                ag.producer.ToString().c_str(), ag.recipient.ToString().c_str(),
                std::string(policy::TlpName(ag.max_tlp)).c_str(), ag.reshare ? "yes" : "no",
                ag.relay ? "yes" : "no", std::string(policy::AgreementState(ag, now)).c_str());
  }
  return kExitOk;
}

int RunRevoke(const AgreementArgs& a) {
  Timestamp at = Timestamp::Now();
  if (!a.at.empty()) {
    auto t = Timestamp::Parse(a.at);
    if (!t.ok()) return Fail("--at: " + t.status().NamedMessage());
    at = *t;
  }
  auto hub = OpenAgreementHub(a);
  if (!hub.ok()) return Fail(hub.status().NamedMessage());
  Status st = policy::RevokeAgreement(*hub->source, hub->known_orgs, a.id, at, a.reason,
                                      CliRecord(a.data, "cli agreement revoke"));
  if (!st.ok()) return FailWith(st);
  std::printf("agreement %s revoked as of %s\n", a.id.c_str(), at.ToString().c_str());
  return kExitOk;
}

}  // namespace

void RegisterAgreementCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<AgreementArgs>();
  CLI::App* ag =
      app.add_subcommand("agreement", "Manage sharing agreements (every change is audited)");
  ag->require_subcommand(1);

  CLI::App* add = ag->add_subcommand("add", "Add a directed sharing agreement");
  add->add_option("--data", args->data, "Data directory")->capture_default_str();
  add->add_option("--db", args->db,
                  "PostgreSQL database (postgresql://...): its policy documents, which every "
                  "node reads, instead of DATA's files")
      ->envname("CTIHUB_DB");
  add->add_option("--id", args->id, "Agreement id")->required();
  add->add_option("--producer", args->producer, "org:NAME or community:NAME")->required();
  add->add_option("--recipient", args->recipient, "org:NAME or community:NAME")->required();
  add->add_option("--max-tlp", args->max_tlp, "clear|green|amber|amber+strict|red")->required();
  add->add_option("--types", args->types, "Object types, or '*'")->delimiter(',')->required();
  add->add_option("--pap-ceiling", args->pap_ceiling, "clear|green|amber|red")
      ->capture_default_str();
  add->add_option("--strip", args->strip, "Properties to strip: selector or type:selector")
      ->delimiter(',');
  add->add_option("--withhold-sco", args->withhold_sco, "SCO types to withhold")->delimiter(',');
  add->add_flag("--reshare", args->reshare, "The recipient may re-share (one hop, up to AMBER)");
  add->add_flag("--relay", args->relay,
                "The recipient may write objects whose created_by_ref is the producer's identity "
                "(it relays the producer's intelligence)");
  add->add_option("--valid-from", args->valid_from, "RFC 3339 start");
  add->add_option("--expires", args->expires, "RFC 3339 expiry");
  add->add_option("--legal-basis", args->legal_basis, "Legal basis (text)")->required();
  add->add_flag("--dry-run", args->dry_run,
                "Change nothing: report what the recipient would newly see (latest version of "
                "each stored object, by type and TLP) and the re-share chains it would open");
  add->add_option("--at", args->at, "With --dry-run: decide at this RFC 3339 time (default now)");
  add->add_flag("--json", args->json, "With --dry-run: machine-readable report");
  add->callback([args, exit_code] { *exit_code = RunAdd(*args); });

  CLI::App* list = ag->add_subcommand("list", "List agreements and their state");
  list->add_option("--data", args->data, "Data directory")->capture_default_str();
  list->add_option("--db", args->db,
                   "PostgreSQL database (postgresql://...): its policy documents, which every "
                   "node reads, instead of DATA's files")
      ->envname("CTIHUB_DB");
  list->add_flag("--json", args->json, "Machine-readable output");
  list->callback([args, exit_code] { *exit_code = RunList(*args, false); });

  CLI::App* show = ag->add_subcommand("show", "Show one agreement");
  show->add_option("ID", args->id, "Agreement id")->required();
  show->add_option("--data", args->data, "Data directory")->capture_default_str();
  show->add_option("--db", args->db,
                   "PostgreSQL database (postgresql://...): its policy documents, which every "
                   "node reads, instead of DATA's files")
      ->envname("CTIHUB_DB");
  show->add_flag("--json", args->json, "Machine-readable output");
  show->callback([args, exit_code] { *exit_code = RunList(*args, true); });

  CLI::App* revoke = ag->add_subcommand("revoke", "Revoke an agreement (takes effect at once)");
  revoke->add_option("ID", args->id, "Agreement id")->required();
  revoke->add_option("--data", args->data, "Data directory")->capture_default_str();
  revoke
      ->add_option("--db", args->db,
                   "PostgreSQL database (postgresql://...): its policy documents, which every "
                   "node reads, instead of DATA's files")
      ->envname("CTIHUB_DB");
  revoke->add_option("--reason", args->reason, "Why")->required();
  revoke->add_option("--at", args->at, "RFC 3339 time (default now)");
  revoke->callback([args, exit_code] { *exit_code = RunRevoke(*args); });
}

}  // namespace ctihub::cli
