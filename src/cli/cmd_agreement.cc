// ctihub agreement add|list|show|revoke: sharing agreements (src/policy).
//
// Agreements live in DATA/policy.toml (hand-written, optional) and
// DATA/agreements.toml (written by these commands). Every change is validated
// against the whole policy, including the hub's organisations (`ctihub org
// add`), exactly as the server loads it, before it is kept, and appended to the
// audit trail; if the audit append fails the change is rolled back.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "audit/audit.h"
#include "cli/agreement_dry_run.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "core/json.h"
#include "policy/model.h"

namespace ctihub::cli {
namespace {

struct AgreementArgs {
  std::string data = "./var";
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

// The policy as the server loads it: DATA/policy.toml (optional), the hub
// database's organisations when there is a database, DATA/agreements.toml.
Result<policy::PolicyModel> LoadPolicy(const std::string& data) {
  std::error_code ec;
  if (!std::filesystem::exists(DatabasePath(data), ec))
    return policy::LoadPolicyDir(data, /*allow_missing=*/true);
  auto store = OpenHubStore(data);
  if (!store.ok()) return store.status();
  auto orgs = (*store)->ListOrganisations();
  if (!orgs.ok()) return orgs.status();
  std::vector<policy::KnownOrg> known;
  for (const auto& o : *orgs) known.push_back({o.name, o.identity_id});
  return policy::LoadPolicyDir(data, /*allow_missing=*/true, known);
}

std::string AgreementJson(const policy::Agreement& a, Timestamp now) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject();
  w.Key("id")
      .String(a.id)
      .Key("producer")
      .String(a.producer.ToString())
      .Key("recipient")
      .String(a.recipient.ToString());
  w.Key("max_tlp").String(policy::TlpName(a.max_tlp));
  w.Key("object_types").BeginArray();
  if (a.object_types.empty()) w.String("*");
  for (const auto& t : a.object_types) w.String(t);
  w.EndArray();
  w.Key("pap_ceiling").String(policy::PapName(a.pap_ceiling));
  w.Key("strip_properties").BeginArray();
  for (const auto& t : a.strip_properties) w.String(t);
  w.EndArray();
  w.Key("withhold_sco_types").BeginArray();
  for (const auto& t : a.withhold_sco_types) w.String(t);
  w.EndArray();
  w.Key("reshare").Bool(a.reshare);
  w.Key("relay").Bool(a.relay);
  w.Key("valid_from")
      .StringOrNull(a.valid_from ? a.valid_from->ToString() : "", a.valid_from.has_value());
  w.Key("expires").StringOrNull(a.expires ? a.expires->ToString() : "", a.expires.has_value());
  w.Key("legal_basis").String(a.legal_basis);
  w.Key("revoked_at")
      .StringOrNull(a.revoked_at ? a.revoked_at->ToString() : "", a.revoked_at.has_value());
  if (!a.revoked_reason.empty()) w.Key("revoked_reason").String(a.revoked_reason);
  const char* state = a.ActiveAt(now)                            ? "active"
                      : (a.revoked_at && !(now < *a.revoked_at)) ? "revoked"
                      : (a.valid_from && now < *a.valid_from)    ? "pending"
                                                                 : "expired";
  w.Key("state").String(state);
  w.EndObject();
  return out;
}

std::string ReadAll(const std::string& path, bool* existed) {
  std::ifstream in(path, std::ios::binary);
  *existed = static_cast<bool>(in);
  std::ostringstream ss;
  if (in) ss << in.rdbuf();
  return ss.str();
}

// Saves `changes`, checks the whole policy still loads, audits the change;
// restores the previous file on any failure.
int Commit(const AgreementArgs& a, const policy::AgreementChanges& changes, std::string_view route,
           const std::string& details) {
  const std::string path = a.data + "/agreements.toml";
  bool existed = false;
  std::string previous = ReadAll(path, &existed);
  auto restore = [&] {
    if (existed) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << previous;
    } else {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  };
  Status st = policy::SaveAgreementChanges(path, changes);
  if (!st.ok()) return Fail(st.NamedMessage());
  auto model = LoadPolicy(a.data);
  if (!model.ok()) {
    restore();
    return Fail("refused: " + model.status().NamedMessage());
  }
  auto log = audit::AuditLog::Open(a.data);
  if (!log.ok()) {
    restore();
    return Fail("audit trail unavailable, change not kept: " + log.status().NamedMessage());
  }
  audit::Record r;
  r.user = audit::LocalActor();
  r.action = std::string(audit::action::kAgreementChanged);
  r.route = std::string(route);
  r.status = 0;
  r.remote = "local";
  r.details = details;
  st = (*log)->Append(std::move(r));
  if (st.ok()) st = (*log)->Flush();
  if (!st.ok()) {
    restore();
    return Fail("audit append failed, change not kept: " + st.NamedMessage());
  }
  return kExitOk;
}

// The agreement `agreement add` describes; InvalidArgument naming the flag.
Result<policy::Agreement> BuildAgreement(const AgreementArgs& a) {
  policy::Agreement ag;
  ag.id = a.id;
  auto p = policy::ParseParty(a.producer);
  if (!p.ok()) return InvalidArgument("--producer: " + p.status().NamedMessage());
  ag.producer = *p;
  auto r = policy::ParseParty(a.recipient);
  if (!r.ok()) return InvalidArgument("--recipient: " + r.status().NamedMessage());
  ag.recipient = *r;
  auto tlp = policy::ParseTlp(a.max_tlp);
  if (!tlp) return InvalidArgument("--max-tlp: unknown TLP level '" + a.max_tlp + "'");
  ag.max_tlp = *tlp;
  auto pap = policy::ParsePap(a.pap_ceiling);
  if (!pap) return InvalidArgument("--pap-ceiling: unknown PAP level '" + a.pap_ceiling + "'");
  ag.pap_ceiling = *pap;
  if (a.types.empty()) return InvalidArgument("--types is required (use '*' for every type)");
  if (!(a.types.size() == 1 && a.types[0] == "*")) ag.object_types = a.types;
  ag.strip_properties = a.strip;
  ag.withhold_sco_types = a.withhold_sco;
  ag.reshare = a.reshare;
  ag.relay = a.relay;
  for (auto [text, slot, name] : {std::tuple{&a.valid_from, &ag.valid_from, "--valid-from"},
                                  std::tuple{&a.expires, &ag.expires, "--expires"}}) {
    if (text->empty()) continue;
    auto t = Timestamp::Parse(*text);
    if (!t.ok()) return InvalidArgument(std::string(name) + ": " + t.status().NamedMessage());
    *slot = *t;
  }
  ag.legal_basis = a.legal_basis;
  return ag;
}

int RunAdd(const AgreementArgs& a) {
  auto ag = BuildAgreement(a);
  if (!ag.ok()) return Fail(ag.status().NamedMessage());
  if (a.dry_run) {
    return RunAgreementDryRun({a.data, a.at, a.json}, *ag, AgreementJson(*ag, Timestamp::Now()));
  }
  auto changes = policy::LoadAgreementChanges(a.data + "/agreements.toml");
  if (!changes.ok()) return Fail(changes.status().NamedMessage());
  changes->added.push_back(*ag);
  // The TOML round trip validates every field with the loader's rules and messages.
  int rc = Commit(a, *changes, "cli agreement add", AgreementJson(*ag, Timestamp::Now()));
  if (rc == kExitOk) std::printf("agreement %s added\n", ag->id.c_str());
  return rc;
}

int RunList(const AgreementArgs& a, bool one) {
  auto model = LoadPolicy(a.data);
  if (!model.ok()) return Fail(model.status().NamedMessage());
  Timestamp now = Timestamp::Now();
  if (one) {
    const policy::Agreement* ag = model->FindAgreement(a.id);
    if (!ag) return Fail("no agreement '" + a.id + "'");
    if (a.json) {
      std::printf("%s\n", AgreementJson(*ag, now).c_str());
    } else {
      std::printf("%s", policy::AgreementToToml(*ag).c_str());
    }
    return kExitOk;
  }
  if (a.json) {
    std::string out = "[";
    for (size_t i = 0; i < model->agreements.size(); ++i)
      out += (i ? "," : "") + AgreementJson(model->agreements[i], now);
    std::printf("%s]\n", out.c_str());
    return kExitOk;
  }
  std::printf("%-28s %-26s %-26s %-13s %-7s %-5s %s\n", "ID", "PRODUCER", "RECIPIENT", "MAX TLP",
              "RESHARE", "RELAY", "STATE");
  for (const auto& ag : model->agreements) {
    std::string j = AgreementJson(ag, now);
    std::string state = j.substr(j.rfind("\"state\":\"") + 9);
    state.resize(state.size() - 2);
    std::printf("%-28s %-26s %-26s %-13s %-7s %-5s %s\n", ag.id.c_str(),
                ag.producer.ToString().c_str(), ag.recipient.ToString().c_str(),
                std::string(policy::TlpName(ag.max_tlp)).c_str(), ag.reshare ? "yes" : "no",
                ag.relay ? "yes" : "no", state.c_str());
  }
  return kExitOk;
}

int RunRevoke(const AgreementArgs& a) {
  auto model = LoadPolicy(a.data);
  if (!model.ok()) return Fail(model.status().NamedMessage());
  const policy::Agreement* ag = model->FindAgreement(a.id);
  if (!ag) return Fail("no agreement '" + a.id + "'");
  Timestamp at = Timestamp::Now();
  if (!a.at.empty()) {
    auto t = Timestamp::Parse(a.at);
    if (!t.ok()) return Fail("--at: " + t.status().NamedMessage());
    at = *t;
  }
  if (ag->revoked_at && !(at < *ag->revoked_at))
    return Fail("agreement '" + a.id + "' is already revoked");
  auto changes = policy::LoadAgreementChanges(a.data + "/agreements.toml");
  if (!changes.ok()) return Fail(changes.status().NamedMessage());
  changes->revocations.push_back({a.id, at, a.reason});
  std::string details;
  json::JsonWriter w(details);
  w.BeginObject()
      .Key("agreement")
      .String(a.id)
      .Key("revoked_at")
      .String(at.ToString())
      .Key("reason")
      .String(a.reason);
  w.EndObject();
  int rc = Commit(a, *changes, "cli agreement revoke", details);
  if (rc == kExitOk)
    std::printf("agreement %s revoked as of %s\n", a.id.c_str(), at.ToString().c_str());
  return rc;
}

}  // namespace

void RegisterAgreementCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<AgreementArgs>();
  CLI::App* ag =
      app.add_subcommand("agreement", "Manage sharing agreements (every change is audited)");
  ag->require_subcommand(1);

  CLI::App* add = ag->add_subcommand("add", "Add a directed sharing agreement");
  add->add_option("--data", args->data, "Data directory")->capture_default_str();
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
  list->add_flag("--json", args->json, "Machine-readable output");
  list->callback([args, exit_code] { *exit_code = RunList(*args, false); });

  CLI::App* show = ag->add_subcommand("show", "Show one agreement");
  show->add_option("ID", args->id, "Agreement id")->required();
  show->add_option("--data", args->data, "Data directory")->capture_default_str();
  show->add_flag("--json", args->json, "Machine-readable output");
  show->callback([args, exit_code] { *exit_code = RunList(*args, true); });

  CLI::App* revoke = ag->add_subcommand("revoke", "Revoke an agreement (takes effect at once)");
  revoke->add_option("ID", args->id, "Agreement id")->required();
  revoke->add_option("--data", args->data, "Data directory")->capture_default_str();
  revoke->add_option("--reason", args->reason, "Why")->required();
  revoke->add_option("--at", args->at, "RFC 3339 time (default now)");
  revoke->callback([args, exit_code] { *exit_code = RunRevoke(*args); });
}

}  // namespace ctihub::cli
