// Hub administration commands: init, org, user, token, api-root, collection.
// Each works on the SQLite database in --data DIR (default ./var), also while a
// server has it open (WAL + busy_timeout). Exit codes: 0 ok, 2 error with a
// message on stderr. Secrets (passwords, token secrets) are never echoed,
// except a new token's secret, printed once on stdout.
//
// Every change (org add, user add|remove, token create|revoke, api-root add,
// collection add|remove) is appended to the audit trail DATA/audit.db (see
// AdminAudit below for the order of change and record).
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/password_policy.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "core/json.h"
#include "core/uuid.h"
#include "policy/model.h"
#include "store/postgres/postgres_store.h"

namespace ctihub::cli {
namespace {

using store::Store;

int Fail(const Status& s) {
  std::fprintf(stderr, "ctihub: %s\n", s.NamedMessage().c_str());
  return kExitError;
}
int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub: %s\n", msg.c_str());
  return kExitError;
}

// Options every hub command shares.
struct HubFlags {
  std::string data = kDefaultDataDir;
  std::string db;  // postgresql://... (HubOpenOptions::db_url)
  bool json = false;

  HubOpenOptions Open() const {
    HubOpenOptions o;
    o.db_url = db;
    return o;
  }
};

void AddDataOption(CLI::App* cmd, HubFlags& f) {
  cmd->add_option("--data", f.data, "hub data directory (database: DIR/ctihub.db)")
      ->capture_default_str();
  cmd->add_option("--db", f.db,
                  "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db; the data "
                  "directory keeps the node's own files")
      ->envname("CTIHUB_DB");
}

// Runs `body` with the opened store and stores its exit code.
template <typename Body>
void SetRun(CLI::App* cmd, int* exit_code, const std::shared_ptr<HubFlags>& flags, Body body) {
  cmd->callback([exit_code, flags, body]() {
    auto store = OpenHubStore(flags->data, flags->Open());
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    *exit_code = body(**store);
  });
}

// ---- audit of admin changes ------------------------------------------------------
//
// Each change appends one record: user "cli:LOGIN" (audit::LocalActor), route
// "cli user add" and so on, status 0, details naming what changed (never a
// password or a token secret). The order guarantees that no change is kept
// without a durable record, whichever step fails:
//  - the audit trail is opened before anything changes: no trail, no change;
//  - a change the store can undo (user add, token create, collection add) is
//    made, then recorded; if the record cannot be written the change is undone
//    and the command fails, as `ctihub agreement add` restores its file. The
//    new token's secret and the collection's id are printed only after that;
//  - a change it cannot undo (org add and api-root add: the store has no
//    remove; user remove, token revoke and collection remove destroy
//    something) is recorded first, then made; if it then fails, a second
//    record with status 2 and the error follows. So the trail may show an
//    attempt that failed (and says so when it can), but never misses a change.
// Pre-checks (unknown user, duplicate name, ...) run before either step, so a
// refused command leaves no record.

// An audit record's details: a flat JSON object, members in insertion order
// (AuditLog canonicalises it).
class Details {
 public:
  Details& Str(std::string_view key, std::string_view v) {
    std::string q;
    json::JsonWriter(q).String(v);
    return Raw(key, std::move(q));
  }
  Details& Int(std::string_view key, int64_t v) { return Raw(key, std::to_string(v)); }
  Details& Bool(std::string_view key, bool v) { return Raw(key, v ? "true" : "false"); }
  Details& List(std::string_view key, const std::vector<std::string>& v) {
    std::string q;
    json::JsonWriter w(q);
    w.BeginArray();
    for (const auto& e : v) w.String(e);
    w.EndArray();
    return Raw(key, std::move(q));
  }
  std::string Json() const {
    std::string out;
    json::JsonWriter w(out);
    w.BeginObject();
    for (const auto& [k, v] : members_) w.Key(k).Raw(v);
    w.EndObject();
    return out;
  }

 private:
  Details& Raw(std::string_view key, std::string value) {
    members_.emplace_back(std::string(key), std::move(value));
    return *this;
  }
  std::vector<std::pair<std::string, std::string>> members_;
};

class AdminAudit {
 public:
  static Result<AdminAudit> Open(const std::string& data_dir) {
    auto log = audit::AuditLog::Open(data_dir);
    if (!log.ok()) return log.status();
    AdminAudit a;
    a.log_ = std::move(*log);
    return a;
  }

  // Appends one record and waits until it is durable.
  Status Record(std::string_view action, std::string_view route, const Details& details,
                int status = kExitOk) {
    audit::Record r;
    r.user = audit::LocalActor();
    r.action = std::string(action);
    r.route = std::string(route);
    r.status = status;
    r.remote = "local";
    r.details = details.Json();
    Status st = log_->Append(std::move(r));
    return st.ok() ? log_->Flush() : st;
  }

  // Recorded first, the change then failed: records that (best effort) and
  // returns the command's exit code.
  int ChangeFailed(std::string_view action, std::string_view route, Details details,
                   const Status& error) {
    details.Str("error", error.NamedMessage());
    Status st = Record(action, route, details, kExitError);
    if (!st.ok())
      std::fprintf(stderr, "ctihub: the failure could not be audited either: %s\n",
                   st.NamedMessage().c_str());
    return Fail(error);
  }

  // Made first, recording failed: undoes the change and returns the exit code.
  static int NotRecorded(const Status& error, const Status& undo) {
    if (!undo.ok())
      return Fail("audit append failed (" + error.NamedMessage() +
                  ") and undoing the change failed too (" + undo.NamedMessage() +
                  "): the change was made but is NOT in the audit trail");
    return Fail("audit append failed, change not kept: " + error.NamedMessage());
  }

 private:
  AdminAudit() = default;
  std::unique_ptr<audit::AuditLog> log_;
};

// Like SetRun, with the audit trail opened before `body` changes anything.
template <typename Body>
void SetRunAudited(CLI::App* cmd, int* exit_code, const std::shared_ptr<HubFlags>& flags,
                   Body body) {
  cmd->callback([exit_code, flags, body]() {
    auto store = OpenHubStore(flags->data, flags->Open());
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    auto trail = AdminAudit::Open(flags->data);
    if (!trail.ok()) {
      *exit_code =
          Fail("audit trail unavailable, nothing changed: " + trail.status().NamedMessage());
      return;
    }
    *exit_code = body(**store, *trail);
  });
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> SplitComma(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = list.find(',');
    std::string item = Trim(list.substr(0, comma));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// One access-list name to an entry: "*" -> "org:*", an organisation name ->
// "org:NAME", a user name -> "user:NAME"; "org:NAME" / "user:NAME" are taken
// as written after checking the name exists.
Result<std::string> ResolveAclName(Store& store, const std::string& name) {
  if (name == "*" || name == "org:*") return std::string("org:*");
  if (name.rfind("org:", 0) == 0) {
    CTIHUB_RETURN_IF_ERROR(store.GetOrganisation(name.substr(4)).status());
    return name;
  }
  if (name.rfind("user:", 0) == 0) {
    CTIHUB_RETURN_IF_ERROR(store.GetUser(name.substr(5)).status());
    return name;
  }
  if (store.GetOrganisation(name).ok()) return "org:" + name;
  if (store.GetUser(name).ok()) return "user:" + name;
  return NotFound("unknown organisation or user '" + name + "' in access list");
}

Result<std::vector<std::string>> ResolveAcl(Store& store, const std::string& list) {
  std::vector<std::string> out;
  for (const auto& name : SplitComma(list)) {
    CTIHUB_ASSIGN_OR_RETURN(std::string entry, ResolveAclName(store, name));
    out.push_back(std::move(entry));
  }
  return out;
}

std::string JoinComma(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

void PrintJson(const std::string& text) { std::printf("%s\n", text.c_str()); }

// ---- init ----------------------------------------------------------------------

// Creates the audit trail, the node key and its pin (DATA/audit.pub), and
// starts the trail with hub.init naming the key, so an emptied trail never
// verifies. Returns the public key (hex). Idempotent.
Result<std::string> InitAuditTrail(const std::string& data_dir) {
  CTIHUB_ASSIGN_OR_RETURN(auto log, audit::AuditLog::Open(data_dir));
  const std::string key = log->public_key_hex();
  if (log->committed_seq() == 0) {
    audit::Record r;
    r.user = audit::LocalActor();
    r.action = std::string(audit::action::kHubInit);
    r.route = "cli init";
    r.details = "{\"public_key\":\"" + key + "\"}";
    CTIHUB_RETURN_IF_ERROR(log->Append(std::move(r)));
    CTIHUB_RETURN_IF_ERROR(log->Flush());
  }
  return key;
}

void RegisterInit(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<HubFlags>();
  CLI::App* cmd = app.add_subcommand("init", "create the data directory and database (idempotent)");
  AddDataOption(cmd, *flags);
  cmd->callback([exit_code, flags]() {
    HubOpenOptions o = flags->Open();
    o.create = true;
    o.migrate = true;
    auto store = OpenHubStore(flags->data, o);
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    std::printf("hub database ready: %s\n", StoreDescription(flags->data, flags->db).c_str());
    auto key = InitAuditTrail(flags->data);
    if (!key.ok()) {
      *exit_code = Fail(key.status());
      return;
    }
    std::printf(
        "audit public key: %s (pinned in %s/audit.pub; keep a copy elsewhere and check "
        "the trail with `ctihub audit verify --pubkey %s`)\n",
        key->c_str(), flags->data.c_str(), key->c_str());
    *exit_code = kExitOk;
  });
}

// ---- migrate -------------------------------------------------------------------

// PostgreSQL only: a SQLite database migrates itself when opened, while a
// node refuses an older PostgreSQL schema (other nodes may still run the old
// build) until an operator migrates it once, here.
void RegisterMigrate(CLI::App& app, int* exit_code) {
  auto db = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "migrate", "bring a PostgreSQL database's schema up to this build's (idempotent)");
  cmd->add_option("--db", *db, "PostgreSQL database (postgresql://...)")
      ->required()
      ->envname("CTIHUB_DB");
  cmd->callback([exit_code, db]() {
    if (!store::IsPostgresUrl(*db)) {
      *exit_code = Fail(InvalidArgument("bad_db_url", "--db takes a postgresql:// URL"));
      return;
    }
    store::PostgresOptions po;
    po.url = *db;
    po.migrate = true;
    po.reader_connections = 1;
    auto opened = store::OpenPostgresStore(po);
    if (!opened.ok()) {
      *exit_code = Fail(opened.status());
      return;
    }
    std::printf("schema of %s at version %d\n", StoreDescription("", *db).c_str(),
                store::PostgresSchemaVersion());
    *exit_code = kExitOk;
  });
}

// ---- org -----------------------------------------------------------------------

// The identity a new organisation gets: --identity-id, else the one
// DATA/policy.toml gives it, else a fresh identity--<UUID v4>. Refuses an
// identity another organisation (store or policy) has, and an --identity-id
// that contradicts policy.toml (the server would refuse to start).
Result<std::string> NewOrgIdentity(Store& s, const std::string& data_dir, const std::string& name,
                                   const std::string& given, std::string* source) {
  if (!given.empty() && !policy::IsIdentityId(given))
    return InvalidArgument("--identity-id must be identity--<UUID> (RFC 4122), got '" + given +
                           "'");
  CTIHUB_ASSIGN_OR_RETURN(auto orgs, s.ListOrganisations());
  std::vector<policy::KnownOrg> known;
  known.reserve(orgs.size());
  for (const auto& o : orgs) known.push_back({o.name, o.identity_id});
  known.push_back({name, ""});
  std::optional<policy::PolicyModel> model;
  auto m = policy::LoadPolicyFrom(*HubPolicySource(data_dir, &s), &known);
  if (m.ok()) {
    model = std::move(*m);
  } else {
    std::fprintf(stderr,
                 "ctihub: warning: the sharing policy does not load, so the new organisation's "
                 "identity is not checked against it: %s\n",
                 m.status().NamedMessage().c_str());
  }
  std::string from_policy;
  if (model) {
    if (const policy::Organisation* o = model->FindOrganisation(name)) from_policy = o->identity_id;
  }
  std::string id;
  if (!given.empty()) {
    if (!from_policy.empty() && from_policy != given)
      return InvalidArgument("policy.toml gives organisation '" + name + "' identity " +
                             from_policy + "; leave --identity-id out or change policy.toml");
    id = given;
    *source = "--identity-id";
  } else if (!from_policy.empty()) {
    id = from_policy;
    *source = "policy.toml";
  } else {
    id = "identity--" + Uuid::V4().ToString();
    *source = "generated";
  }
  for (const auto& o : orgs)
    if (o.identity_id == id)
      return Conflict("identity " + id + " already belongs to organisation '" + o.name + "'");
  if (model) {
    const policy::Organisation* o = model->FindOrganisationByIdentity(id);
    if (o != nullptr && o->name != name)
      return Conflict("policy.toml gives identity " + id + " to organisation '" + o->name + "'");
  }
  return id;
}

void RegisterOrg(CLI::App& app, int* exit_code) {
  CLI::App* org = app.add_subcommand("org", "manage organisations");
  org->require_subcommand(1);

  auto flags = std::make_shared<HubFlags>();
  auto name = std::make_shared<std::string>();
  auto identity = std::make_shared<std::string>();
  CLI::App* add =
      org->add_subcommand("add", "add an organisation; prints its name and STIX identity id");
  add->add_option("NAME", *name, "organisation name")->required();
  add->add_option("--identity-id", *identity,
                  "STIX identity id used as created_by_ref (default: the one policy.toml gives "
                  "it, else a new identity--<UUID v4>)");
  AddDataOption(add, *flags);
  SetRunAudited(add, exit_code, flags, [name, identity, flags](Store& s, AdminAudit& trail) {
    if (name->empty()) return Fail(std::string("organisation name must not be empty"));
    if (s.GetOrganisation(*name).ok()) return Fail("organisation '" + *name + "' already exists");
    std::string source;
    auto id = NewOrgIdentity(s, flags->data, *name, *identity, &source);
    if (!id.ok()) return Fail(id.status());
    // The store cannot remove an organisation: recorded first.
    Details d;
    d.Str("op", "add").Str("org", *name).Str("identity_id", *id).Str("identity_from", source);
    constexpr std::string_view kRoute = "cli org add";
    Status st = trail.Record(audit::action::kOrgChanged, kRoute, d);
    if (!st.ok()) return Fail("audit append failed, nothing changed: " + st.NamedMessage());
    auto r = s.AddOrganisation({0, *name, *id});
    if (!r.ok()) return trail.ChangeFailed(audit::action::kOrgChanged, kRoute, d, r.status());
    std::printf("%s\t%s\n", r->name.c_str(), r->identity_id.c_str());
    return kExitOk;
  });

  auto lflags = std::make_shared<HubFlags>();
  CLI::App* list = org->add_subcommand("list", "list organisations");
  list->add_flag("--json", lflags->json, "JSON output");
  AddDataOption(list, *lflags);
  SetRun(list, exit_code, lflags, [lflags](Store& s) {
    auto orgs = s.ListOrganisations();
    if (!orgs.ok()) return Fail(orgs.status());
    if (lflags->json) {
      std::string out;
      json::JsonWriter w(out);
      w.BeginArray();
      for (const auto& o : *orgs) {
        w.BeginObject().Key("id").Int(o.id).Key("name").String(o.name);
        w.Key("identity_id").String(o.identity_id).EndObject();
      }
      w.EndArray();
      PrintJson(out);
    } else {
      for (const auto& o : *orgs) std::printf("%s\t%s\n", o.name.c_str(), o.identity_id.c_str());
    }
    return kExitOk;
  });
}

// ---- user ----------------------------------------------------------------------

// Reads one line from stdin as the password (without the line end).
Result<std::string> ReadPasswordFromStdin() {
  std::string line;
  if (!std::getline(std::cin, line)) line.clear();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return InvalidArgument("empty password on stdin");
  return line;
}

// An alias names one collection in the whole hub: `--collection ALIAS` and
// `[[collection]] name` in policy.toml look it up without an API root.
Status AliasIsFree(Store& s, const std::string& alias) {
  if (alias.empty()) return Status::Ok();
  CTIHUB_ASSIGN_OR_RETURN(auto all, s.ListCollections(""));
  for (const auto& c : all) {
    if (c.alias == alias || c.id == alias) {
      return Conflict("collection_alias_taken", "alias '" + alias + "' already names collection " +
                                                    c.id + " (API root " + c.api_root + ")");
    }
  }
  return Status::Ok();
}

void RegisterUser(CLI::App& app, int* exit_code) {
  CLI::App* user = app.add_subcommand("user", "manage users");
  user->require_subcommand(1);

  struct AddArgs {
    std::string name, org, role;
    bool password_stdin = false;
  };
  auto flags = std::make_shared<HubFlags>();
  auto args = std::make_shared<AddArgs>();
  CLI::App* add = user->add_subcommand("add", "add a user");
  add->add_option("NAME", args->name, "login name")->required();
  add->add_option("--org", args->org, "organisation name")->required();
  add->add_option("--role", args->role,
                  "admin, publisher, reader, auditor (its organisation's audit records) or "
                  "hub-auditor (the whole trail)")
      ->required();
  add->add_flag("--password-stdin", args->password_stdin,
                "read the password (one line) from stdin: at least 12 characters, not one of "
                "the commonest passwords; without it the user can only use API tokens");
  AddDataOption(add, *flags);
  SetRunAudited(add, exit_code, flags, [args](Store& s, AdminAudit& trail) {
    auto role = store::ParseRole(args->role);
    if (!role.ok()) return Fail(role.status());
    auto org = s.GetOrganisation(args->org);
    if (!org.ok()) return Fail(org.status());
    store::User u;
    u.name = args->name;
    u.org_id = org->id;
    u.role = *role;
    if (args->password_stdin) {
      auto pw = ReadPasswordFromStdin();
      if (!pw.ok()) return Fail(pw.status());
      Status strong = auth::CheckNewPassword(*pw, args->name);
      if (!strong.ok()) return Fail(strong);
      u.password_hash = auth::HashPassword(*pw);
      if (u.password_hash.empty()) return Fail(std::string("password hashing failed"));
    }
    auto r = s.AddUser(u);
    if (!r.ok()) return Fail(r.status());
    Details d;
    d.Str("op", "add").Str("user", r->name).Str("org", org->name);
    d.Str("role", store::RoleName(r->role)).Bool("password", !u.password_hash.empty());
    Status st = trail.Record(audit::action::kUserChanged, "cli user add", d);
    if (!st.ok()) return AdminAudit::NotRecorded(st, s.RemoveUser(r->name));
    std::printf("%s\n", r->name.c_str());
    return kExitOk;
  });

  auto lflags = std::make_shared<HubFlags>();
  CLI::App* list = user->add_subcommand("list", "list users");
  list->add_flag("--json", lflags->json, "JSON output");
  AddDataOption(list, *lflags);
  SetRun(list, exit_code, lflags, [lflags](Store& s) {
    auto users = s.ListUsers();
    if (!users.ok()) return Fail(users.status());
    if (lflags->json) {
      std::string out;
      json::JsonWriter w(out);
      w.BeginArray();
      for (const auto& u : *users) {
        w.BeginObject().Key("id").Int(u.id).Key("name").String(u.name);
        w.Key("org").String(u.org_name).Key("role").String(store::RoleName(u.role));
        w.Key("password").Bool(!u.password_hash.empty()).Key("disabled").Bool(u.disabled);
        w.EndObject();
      }
      w.EndArray();
      PrintJson(out);
    } else {
      for (const auto& u : *users) {
        std::printf("%s\t%s\t%s%s\n", u.name.c_str(), u.org_name.c_str(),
                    std::string(store::RoleName(u.role)).c_str(), u.disabled ? "\tdisabled" : "");
      }
    }
    return kExitOk;
  });

  auto rflags = std::make_shared<HubFlags>();
  auto rname = std::make_shared<std::string>();
  CLI::App* remove = user->add_subcommand("remove", "remove a user and their tokens");
  remove->add_option("NAME", *rname, "login name")->required();
  AddDataOption(remove, *rflags);
  SetRunAudited(remove, exit_code, rflags, [rname](Store& s, AdminAudit& trail) {
    auto u = s.GetUser(*rname);
    if (!u.ok()) return Fail(u.status());
    Details d;
    d.Str("op", "remove").Str("user", u->name).Str("org", u->org_name);
    constexpr std::string_view kRoute = "cli user remove";
    Status st = trail.Record(audit::action::kUserChanged, kRoute, d);
    if (!st.ok()) return Fail("audit append failed, nothing changed: " + st.NamedMessage());
    st = s.RemoveUser(*rname);
    return st.ok() ? kExitOk : trail.ChangeFailed(audit::action::kUserChanged, kRoute, d, st);
  });
}

// ---- token ---------------------------------------------------------------------

void RegisterToken(CLI::App& app, int* exit_code) {
  CLI::App* token = app.add_subcommand("token", "manage API tokens");
  token->require_subcommand(1);

  auto flags = std::make_shared<HubFlags>();
  auto user = std::make_shared<std::string>();
  auto label = std::make_shared<std::string>();
  CLI::App* create = token->add_subcommand("create", "create a token; its secret is printed once");
  create->add_option("--user", *user, "login name")->required();
  create->add_option("--label", *label, "what the token is for");
  AddDataOption(create, *flags);
  SetRunAudited(create, exit_code, flags, [user, label](Store& s, AdminAudit& trail) {
    auto u = s.GetUser(*user);
    if (!u.ok()) return Fail(u.status());
    auto t = auth::CreateToken(s, u->id, *label);
    if (!t.ok()) return Fail(t.status());
    Details d;  // the token's id, never its secret or hash
    d.Str("op", "create").Int("token_id", t->token.id).Str("user", u->name);
    d.Str("org", u->org_name).Str("label", t->token.label);
    Status st = trail.Record(audit::action::kTokenChanged, "cli token create", d);
    if (!st.ok()) return AdminAudit::NotRecorded(st, s.RevokeToken(t->token.id));
    std::printf("%s\n", t->secret.c_str());
    std::fprintf(stderr, "token %lld created for %s; store the secret now, it is not shown again\n",
                 static_cast<long long>(t->token.id), u->name.c_str());
    return kExitOk;
  });

  auto rflags = std::make_shared<HubFlags>();
  auto id = std::make_shared<int64_t>(0);
  CLI::App* revoke = token->add_subcommand("revoke", "revoke a token by id");
  revoke->add_option("ID", *id, "token id (see `token list`)")->required();
  AddDataOption(revoke, *rflags);
  SetRunAudited(revoke, exit_code, rflags, [id](Store& s, AdminAudit& trail) {
    // Find the token's owner, so an unknown id leaves no record and the record names the user.
    auto users = s.ListUsers();
    if (!users.ok()) return Fail(users.status());
    const store::User* owner = nullptr;
    for (const auto& u : *users) {
      auto tokens = s.ListTokens(u.id);
      if (!tokens.ok()) return Fail(tokens.status());
      for (const auto& t : *tokens)
        if (t.id == *id) owner = &u;
      if (owner != nullptr) break;
    }
    if (owner == nullptr) return Fail("no token " + std::to_string(*id));
    Details d;
    d.Str("op", "revoke").Int("token_id", *id).Str("user", owner->name).Str("org", owner->org_name);
    constexpr std::string_view kRoute = "cli token revoke";
    Status st = trail.Record(audit::action::kTokenChanged, kRoute, d);
    if (!st.ok()) return Fail("audit append failed, nothing changed: " + st.NamedMessage());
    st = s.RevokeToken(*id);
    return st.ok() ? kExitOk : trail.ChangeFailed(audit::action::kTokenChanged, kRoute, d, st);
  });

  auto lflags = std::make_shared<HubFlags>();
  auto luser = std::make_shared<std::string>();
  CLI::App* list = token->add_subcommand("list", "list a user's tokens (never their secrets)");
  list->add_option("--user", *luser, "login name")->required();
  list->add_flag("--json", lflags->json, "JSON output");
  AddDataOption(list, *lflags);
  SetRun(list, exit_code, lflags, [luser, lflags](Store& s) {
    auto u = s.GetUser(*luser);
    if (!u.ok()) return Fail(u.status());
    auto tokens = s.ListTokens(u->id);
    if (!tokens.ok()) return Fail(tokens.status());
    if (lflags->json) {
      std::string out;
      json::JsonWriter w(out);
      w.BeginArray();
      for (const auto& t : *tokens) {
        w.BeginObject().Key("id").Int(t.id).Key("label").String(t.label);
        w.Key("created").String(t.created.ToString()).Key("revoked").Bool(t.revoked).EndObject();
      }
      w.EndArray();
      PrintJson(out);
    } else {
      for (const auto& t : *tokens) {
        std::printf("%lld\t%s\t%s\t%s\n", static_cast<long long>(t.id), t.label.c_str(),
                    t.created.ToString().c_str(), t.revoked ? "revoked" : "active");
      }
    }
    return kExitOk;
  });
}

// ---- api-root ------------------------------------------------------------------

void RegisterApiRoot(CLI::App& app, int* exit_code) {
  CLI::App* root = app.add_subcommand("api-root", "manage TAXII API roots");
  root->require_subcommand(1);
  auto flags = std::make_shared<HubFlags>();
  auto r = std::make_shared<store::ApiRoot>();
  CLI::App* add = root->add_subcommand("add", "add (or update) an API root");
  add->add_option("NAME", r->name, "path segment, e.g. api1")->required();
  add->add_option("--title", r->title, "title")->required();
  add->add_option("--description", r->description, "description");
  add->add_option("--max-content-length", r->max_content_length, "largest request body in bytes")
      ->capture_default_str();
  AddDataOption(add, *flags);
  SetRunAudited(add, exit_code, flags, [r](Store& s, AdminAudit& trail) {
    if (r->max_content_length <= 0) return Fail(std::string("--max-content-length must be > 0"));
    auto roots = s.ListApiRoots();
    if (!roots.ok()) return Fail(roots.status());
    bool existed = false;
    for (const auto& a : *roots) existed = existed || a.name == r->name;
    // The store cannot remove an API root (nor restore the previous one): recorded first.
    Details d;
    d.Str("op", existed ? "update" : "add").Str("api_root", r->name).Str("title", r->title);
    d.Int("max_content_length", r->max_content_length);
    constexpr std::string_view kRoute = "cli api-root add";
    Status st = trail.Record(audit::action::kCollectionChanged, kRoute, d);
    if (!st.ok()) return Fail("audit append failed, nothing changed: " + st.NamedMessage());
    st = s.PutApiRoot(*r);
    if (!st.ok()) return trail.ChangeFailed(audit::action::kCollectionChanged, kRoute, d, st);
    std::printf("%s\n", r->name.c_str());
    return kExitOk;
  });

  auto lflags = std::make_shared<HubFlags>();
  CLI::App* list = root->add_subcommand("list", "list API roots");
  list->add_flag("--json", lflags->json, "JSON output");
  AddDataOption(list, *lflags);
  SetRun(list, exit_code, lflags, [lflags](Store& s) {
    auto roots = s.ListApiRoots();
    if (!roots.ok()) return Fail(roots.status());
    if (lflags->json) {
      std::string out;
      json::JsonWriter w(out);
      w.BeginArray();
      for (const auto& a : *roots) {
        w.BeginObject().Key("name").String(a.name).Key("title").String(a.title);
        w.Key("description").String(a.description);
        w.Key("max_content_length").Int(a.max_content_length).EndObject();
      }
      w.EndArray();
      PrintJson(out);
    } else {
      for (const auto& a : *roots) std::printf("%s\t%s\n", a.name.c_str(), a.title.c_str());
    }
    return kExitOk;
  });
}

// ---- collection ----------------------------------------------------------------

void RegisterCollection(CLI::App& app, int* exit_code) {
  CLI::App* coll = app.add_subcommand("collection", "manage TAXII collections");
  coll->require_subcommand(1);

  struct AddArgs {
    store::Collection c;
    std::string readers, writers;
  };
  auto flags = std::make_shared<HubFlags>();
  auto args = std::make_shared<AddArgs>();
  CLI::App* add = coll->add_subcommand("add", "add a collection; prints its id");
  add->add_option("--root", args->c.api_root, "API root name")->required();
  add->add_option("--title", args->c.title, "title")->required();
  add->add_option("--description", args->c.description, "description");
  add->add_option("--alias", args->c.alias, "alias");
  add->add_option("--readers", args->readers,
                  "comma-separated organisation or user names allowed to read; * = every "
                  "organisation");
  add->add_option("--writers", args->writers,
                  "comma-separated organisation or user names allowed to write; * = every "
                  "organisation");
  AddDataOption(add, *flags);
  SetRunAudited(add, exit_code, flags, [args](Store& s, AdminAudit& trail) {
    store::Collection c = args->c;
    auto readers = ResolveAcl(s, args->readers);
    if (!readers.ok()) return Fail(readers.status());
    auto writers = ResolveAcl(s, args->writers);
    if (!writers.ok()) return Fail(writers.status());
    c.readers = std::move(*readers);
    c.writers = std::move(*writers);
    if (Status unique = AliasIsFree(s, c.alias); !unique.ok()) return Fail(unique);
    auto r = s.AddCollection(c);
    if (!r.ok()) return Fail(r.status());
    Details d;
    d.Str("op", "add").Str("collection", r->id).Str("api_root", r->api_root);
    d.Str("title", r->title).Str("alias", r->alias).List("readers", r->readers);
    d.List("writers", r->writers);
    Status st = trail.Record(audit::action::kCollectionChanged, "cli collection add", d);
    if (!st.ok()) return AdminAudit::NotRecorded(st, s.RemoveCollection(r->id));  // still empty
    std::printf("%s\n", r->id.c_str());
    return kExitOk;
  });

  auto lflags = std::make_shared<HubFlags>();
  auto root = std::make_shared<std::string>();
  CLI::App* list = coll->add_subcommand("list", "list collections");
  list->add_option("--root", *root, "only this API root");
  list->add_flag("--json", lflags->json, "JSON output");
  AddDataOption(list, *lflags);
  SetRun(list, exit_code, lflags, [lflags, root](Store& s) {
    auto colls = s.ListCollections(*root);
    if (!colls.ok()) return Fail(colls.status());
    if (lflags->json) {
      std::string out;
      json::JsonWriter w(out);
      w.BeginArray();
      for (const auto& c : *colls) {
        w.BeginObject().Key("id").String(c.id).Key("api_root").String(c.api_root);
        w.Key("title").String(c.title).Key("description").String(c.description);
        w.Key("alias").String(c.alias);
        w.Key("readers").BeginArray();
        for (const auto& e : c.readers) w.String(e);
        w.EndArray().Key("writers").BeginArray();
        for (const auto& e : c.writers) w.String(e);
        w.EndArray().EndObject();
      }
      w.EndArray();
      PrintJson(out);
    } else {
      for (const auto& c : *colls) {
        std::printf("%s\t%s\t%s\t%s\treaders=%s\twriters=%s\n", c.id.c_str(), c.api_root.c_str(),
                    c.title.c_str(), c.alias.c_str(), JoinComma(c.readers).c_str(),
                    JoinComma(c.writers).c_str());
      }
    }
    return kExitOk;
  });

  auto rflags = std::make_shared<HubFlags>();
  auto id = std::make_shared<std::string>();
  CLI::App* remove = coll->add_subcommand("remove", "remove a collection and its objects");
  remove->add_option("ID", *id, "collection id")->required();
  AddDataOption(remove, *rflags);
  SetRunAudited(remove, exit_code, rflags, [id](Store& s, AdminAudit& trail) {
    auto colls = s.ListCollections("");
    if (!colls.ok()) return Fail(colls.status());
    const store::Collection* c = nullptr;
    for (const auto& e : *colls)
      if (e.id == *id) c = &e;
    if (c == nullptr) return Fail("no collection " + *id);
    // Removing deletes its objects: recorded first.
    Details d;
    d.Str("op", "remove").Str("collection", c->id).Str("api_root", c->api_root);
    d.Str("title", c->title).Str("alias", c->alias);
    constexpr std::string_view kRoute = "cli collection remove";
    Status st = trail.Record(audit::action::kCollectionChanged, kRoute, d);
    if (!st.ok()) return Fail("audit append failed, nothing changed: " + st.NamedMessage());
    st = s.RemoveCollection(*id);
    return st.ok() ? kExitOk : trail.ChangeFailed(audit::action::kCollectionChanged, kRoute, d, st);
  });
}

}  // namespace

void RegisterHubCommands(CLI::App& app, int* exit_code) {
  RegisterInit(app, exit_code);
  RegisterMigrate(app, exit_code);
  RegisterOrg(app, exit_code);
  RegisterUser(app, exit_code);
  RegisterToken(app, exit_code);
  RegisterApiRoot(app, exit_code);
  RegisterCollection(app, exit_code);
}

}  // namespace ctihub::cli
