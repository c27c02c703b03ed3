// `ctihub policy explain`: why a reader is served, served a redacted copy,
// or withheld a stored object. The decision is policy::Policy::Explain's,
// made by the same code as every read path's (Policy::Decide), from the
// same facts the read gate uses (taxii::FactsOfRow, taxii::MarkingOf).
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "core/json.h"
#include "policy/policy.h"
#include "taxii/access.h"

namespace ctihub::cli {
namespace {

struct ExplainArgs {
  std::string data = kDefaultDataDir;
  std::string db;  // --db postgresql://... (else DATA/ctihub.db)
  std::string org, user, object, collection, at;
  bool all_versions = false;
  bool json = false;
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub policy explain: %s\n", msg.c_str());
  return kExitError;
}

std::string_view DecisionName(policy::Verdict v) {
  switch (v) {
    case policy::Verdict::kServe:
      return "served";
    case policy::Verdict::kServeRedacted:
      return "served-redacted";
    case policy::Verdict::kWithhold:
      return "withheld";
  }
  return "withheld";
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// The reader: an organisation, or a user (its organisation, and its role for
// the collection's access list).
struct Who {
  policy::Reader reader;
  std::optional<auth::Principal> user;  // set for --user
};

Result<Who> ResolveWho(const ExplainArgs& a, store::Store& hub, const policy::Policy& policy) {
  Who w;
  if (!a.user.empty()) {
    auto u = hub.GetUser(a.user);
    if (!u.ok()) return NotFound("no user '" + a.user + "'");
    auth::Principal p;
    p.user_id = u->id;
    p.user = u->name;
    p.org_id = u->org_id;
    p.org = u->org_name;
    p.role = u->role;
    w.reader.org = u->org_name;
    w.user = p;
  } else {
    w.reader.org = a.org;
  }
  if (policy.model().FindOrganisation(w.reader.org) == nullptr)
    return NotFound("no organisation '" + w.reader.org + "' in the hub or its policy");
  return w;
}

// One explained version of the object in one collection.
struct Explained {
  store::Collection collection;
  store::ObjectVersion row;
  policy::Explanation why;
  bool collection_readable = true;  // the user may read the collection (always for --org)
};

std::string_view FinalDecision(const Explained& e) {
  return e.collection_readable ? DecisionName(e.why.decision.verdict) : "withheld";
}
std::string_view DecidedBy(const Explained& e) {
  return e.collection_readable ? e.why.decision.via : "collection-acl";
}

void WriteJson(const ExplainArgs& a, const Who& who, Timestamp at,
               const std::vector<Explained>& all) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("object").String(a.object);
  w.Key("reader").BeginObject().Key("org").String(who.reader.org);
  w.Key("user").StringOrNull(a.user, who.user.has_value());
  w.EndObject();
  w.Key("at").String(at.ToString());
  w.Key("results").BeginArray();
  for (const Explained& e : all) {
    const policy::Explanation& x = e.why;
    w.BeginObject();
    w.Key("collection").String(e.collection.id);
    w.Key("collection_alias").String(e.collection.alias);
    w.Key("version").String(e.row.version.ToString());
    w.Key("type").String(x.type);
    w.Key("producer").String(x.producer);
    w.Key("producer_org").StringOrNull(x.producer_org, !x.producer_org.empty());
    w.Key("tlp").String(policy::TlpName(x.trace.tlp));
    w.Key("tlp_from").String(x.trace.tlp_marked ? "object" : "default");
    w.Key("pap").String(policy::PapName(x.trace.pap));
    w.Key("collection_readable").Bool(e.collection_readable);
    w.Key("decision").String(FinalDecision(e));
    w.Key("decided_by").String(DecidedBy(e));
    w.Key("policy_decision").String(DecisionName(x.decision.verdict));
    w.Key("policy_decided_by").String(x.decision.via);
    w.Key("redactions").BeginArray();
    for (const auto& s : x.redactions) w.String(s);
    w.EndArray();
    w.Key("grants").BeginArray();
    for (const auto* list : {&x.trace.steps, &x.trace.skipped}) {
      for (const policy::GrantStep& g : *list) {
        w.BeginObject().Key("grant").String(g.via).Key("max_tlp").String(policy::TlpName(g.max));
        w.Key("outcome").String(g.outcome).Key("removals").BeginArray();
        for (const auto& s : g.removals) w.String(s);
        w.EndArray().EndObject();
      }
    }
    w.EndArray();
    w.Key("agreements").BeginArray();
    for (const policy::AgreementNote& n : x.agreements) {
      w.BeginObject().Key("id").String(n.agreement).Key("reason").String(n.reason);
      w.Key("detail").String(n.detail).EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray().EndObject();
  std::printf("%s\n", out.c_str());
}

void WriteText(const ExplainArgs& a, const Who& who, Timestamp at,
               const std::vector<Explained>& all) {
  for (size_t i = 0; i < all.size(); ++i) {
    const Explained& e = all[i];
    const policy::Explanation& x = e.why;
    if (i > 0) std::printf("\n");
    std::printf("object      %s  version %s\n", a.object.c_str(), e.row.version.ToString().c_str());
    std::printf("collection  %s%s%s%s\n", e.collection.id.c_str(),
                e.collection.alias.empty() ? "" : " (alias ", e.collection.alias.c_str(),
                e.collection.alias.empty() ? "" : ")");
    std::printf("facts       %s, producer %s, TLP:%s (%s), PAP:%s\n", x.type.c_str(),
                x.producer_org.empty() ? (x.producer.empty() ? "(none)" : x.producer.c_str())
                                       : ("org:" + x.producer_org).c_str(),
                Upper(policy::TlpName(x.trace.tlp)).c_str(),
                x.trace.tlp_marked ? "marked" : "collection or hub default",
                Upper(policy::PapName(x.trace.pap)).c_str());
    if (who.user) {
      std::printf("reader      user %s (org:%s)%s\n", who.user->user.c_str(),
                  who.reader.org.c_str(),
                  e.collection_readable ? "" : ": the collection's access list refuses it");
    } else {
      std::printf("reader      org:%s\n", who.reader.org.c_str());
    }
    std::printf("at          %s\n", at.ToString().c_str());
    std::printf("decision    %s (%s)\n", std::string(FinalDecision(e)).c_str(),
                std::string(DecidedBy(e)).c_str());
    if (!e.collection_readable) {
      std::printf("policy      %s (%s) if the access list allowed it\n",
                  std::string(DecisionName(x.decision.verdict)).c_str(),
                  std::string(x.decision.via).c_str());
    }
    std::string redactions;
    for (const auto& s : x.redactions) redactions += (redactions.empty() ? "" : ", ") + s;
    std::printf("redactions  %s\n", redactions.empty() ? "none" : redactions.c_str());
    std::printf("grants\n");
    if (x.trace.steps.empty() && x.trace.skipped.empty()) std::printf("  (none)\n");
    for (const auto* list : {&x.trace.steps, &x.trace.skipped}) {
      for (const policy::GrantStep& g : *list) {
        std::printf("  %-44s up to TLP:%-13s %s\n", g.via.c_str(),
                    Upper(policy::TlpName(g.max)).c_str(), g.outcome.c_str());
      }
    }
    std::printf("agreements\n");
    if (x.agreements.empty()) std::printf("  (none)\n");
    for (const policy::AgreementNote& n : x.agreements) {
      std::printf("  %-28s %-22s %s\n", n.agreement.c_str(), n.reason.c_str(), n.detail.c_str());
    }
  }
}

int RunExplain(const ExplainArgs& a) {
  if (a.org.empty() == a.user.empty()) return Fail("give exactly one of --org and --user");
  Timestamp at = Timestamp::Now();
  if (!a.at.empty()) {
    auto t = Timestamp::Parse(a.at);
    if (!t.ok()) return Fail("--at: " + t.status().NamedMessage());
    at = *t;
  }
  auto hub = OpenHubStore(a.data, HubDb(a.db));
  if (!hub.ok()) return Fail(hub.status().NamedMessage());
  auto known = KnownOrganisations(**hub);
  if (!known.ok()) return Fail("reading the hub's organisations: " + known.status().NamedMessage());
  auto model = policy::LoadPolicyFrom(*HubPolicySource(a.data, hub->get()), &*known);
  if (!model.ok()) return Fail("the policy does not load: " + model.status().NamedMessage());
  const policy::Policy policy(std::move(*model));
  auto who = ResolveWho(a, **hub, policy);
  if (!who.ok()) return Fail(who.status().NamedMessage());
  auto collections = (*hub)->ListCollections("");
  if (!collections.ok()) return Fail(collections.status().NamedMessage());
  std::vector<Explained> all;
  bool collection_found = a.collection.empty();
  for (const store::Collection& c : *collections) {
    if (!a.collection.empty() && c.id != a.collection && c.alias != a.collection) continue;
    collection_found = true;
    store::ObjectQuery q;
    q.collection_id = c.id;
    q.ids = {a.object};
    q.version_last = !a.all_versions;
    q.version_all = a.all_versions;
    q.limit = 10000;
    auto page = (*hub)->QueryObjects(q);
    if (!page.ok()) return Fail(page.status().NamedMessage());
    for (store::ObjectVersion& row : page->objects) {
      auto facts = taxii::FactsOfRow(row);
      if (!facts.ok()) return Fail(facts.status().NamedMessage());
      json::JsonParser parser(json::ParseLimits{.reject_duplicate_keys = false});
      Explained e;
      e.why =
          policy.Explain(who->reader, *facts, row.json, parser, taxii::MarkingOf(policy, c), at);
      if (who->user) e.collection_readable = auth::CanRead(*who->user, c);
      e.collection = c;
      e.row = std::move(row);
      all.push_back(std::move(e));
    }
  }
  if (!collection_found) return Fail("no collection '" + a.collection + "'");
  if (all.empty()) {
    return Fail(
        "no object " + a.object + " in " +
        (a.collection.empty() ? std::string("any collection") : "collection " + a.collection));
  }
  if (a.json) {
    WriteJson(a, *who, at, all);
  } else {
    WriteText(a, *who, at, all);
  }
  return kExitOk;
}

}  // namespace

void RegisterPolicyExplain(CLI::App& policy, int* exit_code) {
  auto args = std::make_shared<ExplainArgs>();
  CLI::App* explain = policy.add_subcommand(
      "explain",
      "why a reader is served, served redacted or withheld an object: the grant or agreement "
      "that decided, the redactions, and why each other agreement did not apply");
  explain->add_option("--data", args->data, "hub data directory")->capture_default_str();
  explain
      ->add_option("--db", args->db,
                   "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db")
      ->envname("CTIHUB_DB");
  explain->add_option("--org", args->org, "the reading organisation");
  explain->add_option("--user", args->user, "the reading user (its organisation and access list)");
  explain->add_option("--object", args->object, "the object's STIX id")->required();
  explain->add_option("--collection", args->collection,
                      "only this collection (id or alias); default: every collection holding it");
  explain->add_flag("--all-versions", args->all_versions,
                    "every stored version (default: the latest in each collection)");
  explain->add_option("--at", args->at, "decide at this RFC 3339 time (default now)");
  explain->add_flag("--json", args->json, "one JSON object (format in README)");
  explain->callback([args, exit_code] { *exit_code = RunExplain(*args); });
}

}  // namespace ctihub::cli
