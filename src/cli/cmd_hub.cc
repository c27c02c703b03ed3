// Hub administration commands: init, org, user, token, api-root, collection.
// Each works on the SQLite database in --data DIR (default ./var), also while a
// server has it open (WAL + busy_timeout). Exit codes: 0 ok, 2 error with a
// message on stderr. Secrets (passwords, token secrets) are never echoed,
// except a new token's secret, printed once on stdout.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "core/json.h"

namespace ctihub::cli {
namespace {

using store::Store;

int Fail(const Status& s) {
  std::fprintf(stderr, "ctihub: %s\n", s.message().c_str());
  return kExitError;
}
int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub: %s\n", msg.c_str());
  return kExitError;
}

// Options every hub command shares.
struct HubFlags {
  std::string data = kDefaultDataDir;
  bool json = false;
};

void AddDataOption(CLI::App* cmd, HubFlags& f) {
  cmd->add_option("--data", f.data, "hub data directory (database: DIR/ctihub.db)")
      ->capture_default_str();
}

// Runs `body` with the opened store and stores its exit code.
template <typename Body>
void SetRun(CLI::App* cmd, int* exit_code, std::shared_ptr<HubFlags> flags, Body body) {
  cmd->callback([exit_code, flags, body]() {
    auto store = OpenHubStore(flags->data);
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    *exit_code = body(**store);
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

void RegisterInit(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<HubFlags>();
  CLI::App* cmd = app.add_subcommand("init", "create the data directory and database (idempotent)");
  AddDataOption(cmd, *flags);
  cmd->callback([exit_code, flags]() {
    HubOpenOptions o;
    o.create = true;
    auto store = OpenHubStore(flags->data, o);
    if (!store.ok()) {
      *exit_code = Fail(store.status());
      return;
    }
    std::printf("hub database ready: %s\n", DatabasePath(flags->data).c_str());
    *exit_code = kExitOk;
  });
}

// ---- org -----------------------------------------------------------------------

void RegisterOrg(CLI::App& app, int* exit_code) {
  CLI::App* org = app.add_subcommand("org", "manage organisations");
  org->require_subcommand(1);

  auto flags = std::make_shared<HubFlags>();
  auto name = std::make_shared<std::string>();
  auto identity = std::make_shared<std::string>();
  CLI::App* add = org->add_subcommand("add", "add an organisation");
  add->add_option("NAME", *name, "organisation name")->required();
  add->add_option("--identity-id", *identity, "STIX identity id used as created_by_ref");
  AddDataOption(add, *flags);
  SetRun(add, exit_code, flags, [name, identity](Store& s) {
    auto r = s.AddOrganisation({0, *name, *identity});
    if (!r.ok()) return Fail(r.status());
    std::printf("%s\n", r->name.c_str());
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
  add->add_option("--role", args->role, "admin, publisher, reader or auditor")->required();
  add->add_flag("--password-stdin", args->password_stdin,
                "read the password (one line) from stdin; without it the user can only use "
                "API tokens");
  AddDataOption(add, *flags);
  SetRun(add, exit_code, flags, [args](Store& s) {
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
      u.password_hash = auth::HashPassword(*pw);
      if (u.password_hash.empty()) return Fail(std::string("password hashing failed"));
    }
    auto r = s.AddUser(u);
    if (!r.ok()) return Fail(r.status());
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
  SetRun(remove, exit_code, rflags, [rname](Store& s) {
    Status st = s.RemoveUser(*rname);
    return st.ok() ? kExitOk : Fail(st);
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
  SetRun(create, exit_code, flags, [user, label](Store& s) {
    auto u = s.GetUser(*user);
    if (!u.ok()) return Fail(u.status());
    auto t = auth::CreateToken(s, u->id, *label);
    if (!t.ok()) return Fail(t.status());
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
  SetRun(revoke, exit_code, rflags, [id](Store& s) {
    Status st = s.RevokeToken(*id);
    return st.ok() ? kExitOk : Fail(st);
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
  SetRun(add, exit_code, flags, [r](Store& s) {
    if (r->max_content_length <= 0) return Fail(std::string("--max-content-length must be > 0"));
    Status st = s.PutApiRoot(*r);
    if (!st.ok()) return Fail(st);
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
  SetRun(add, exit_code, flags, [args](Store& s) {
    store::Collection c = args->c;
    auto readers = ResolveAcl(s, args->readers);
    if (!readers.ok()) return Fail(readers.status());
    auto writers = ResolveAcl(s, args->writers);
    if (!writers.ok()) return Fail(writers.status());
    c.readers = std::move(*readers);
    c.writers = std::move(*writers);
    auto r = s.AddCollection(c);
    if (!r.ok()) return Fail(r.status());
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
  SetRun(remove, exit_code, rflags, [id](Store& s) {
    Status st = s.RemoveCollection(*id);
    return st.ok() ? kExitOk : Fail(st);
  });
}

}  // namespace

void RegisterHubCommands(CLI::App& app, int* exit_code) {
  RegisterInit(app, exit_code);
  RegisterOrg(app, exit_code);
  RegisterUser(app, exit_code);
  RegisterToken(app, exit_code);
  RegisterApiRoot(app, exit_code);
  RegisterCollection(app, exit_code);
}

}  // namespace ctihub::cli
