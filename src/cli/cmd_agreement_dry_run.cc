// `ctihub agreement add ... --dry-run`: builds the policy with the agreement
// added (checked as `agreement add` checks it), decides every stored object's
// latest version in each collection for every organisation under the policy
// without and with it -- through policy::Policy::DecideText, the read path's
// decision, from the read gate's facts (taxii::FactsOfRow) -- and reports the
// decisions that change, by organisation, type and TLP, and the re-share
// chains that appear in the compiled policy. Writes nothing: no file, no
// store row, no audit record (reads are not audited on the CLI, as
// `agreement list` and `policy check` are not).
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cli/agreement_dry_run.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "core/json.h"
#include "policy/policy.h"
#include "taxii/access.h"

namespace ctihub::cli {
namespace {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub agreement add --dry-run: %s\n", msg.c_str());
  return kExitError;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// What the new agreement changes for one organisation.
struct Counts {
  int64_t newly_served = 0;           // withheld -> served as is
  int64_t newly_served_redacted = 0;  // withheld -> served redacted
  int64_t now_in_full = 0;            // served redacted -> served as is
  int64_t regranted = 0;              // the same copy, under another grant
  int64_t other = 0;                  // any other change of verdict or redaction
};
struct OrgReport {
  Counts all;
  std::map<std::pair<std::string, policy::Tlp>, Counts> by_type_tlp;
  std::map<std::string, int64_t> by_grant;  // the new decision's grant, for objects newly seen
};

struct Report {
  int64_t rows = 0;
  size_t collections = 0;
  std::map<std::string, OrgReport> orgs;                    // only organisations with changes
  std::vector<policy::Policy::ReshareChain> chains_opened;  // in `after`, not in `before`
};

void Count(Counts& c, const policy::Decision& b, const policy::Decision& a) {
  using policy::Verdict;
  const Verdict before = b.verdict, after = a.verdict;
  if (before == after && b.redacted_json == a.redacted_json) {
    ++c.regranted;
  } else if (before == Verdict::kWithhold && after == Verdict::kServe) {
    ++c.newly_served;
  } else if (before == Verdict::kWithhold && after == Verdict::kServeRedacted) {
    ++c.newly_served_redacted;
  } else if (before == Verdict::kServeRedacted && after == Verdict::kServe) {
    ++c.now_in_full;
  } else {
    ++c.other;
  }
}

// Decides `row` for every organisation under both policies; records changes.
void CompareRow(const policy::Policy& before, const policy::Policy& after,
                const store::Collection& c, const store::ObjectVersion& row,
                const policy::ObjectFacts& facts, Timestamp at, Report& report) {
  thread_local json::JsonParser parser(json::ParseLimits{.reject_duplicate_keys = false});
  const policy::CollectionMarking marking_before = taxii::MarkingOf(before, c);
  const policy::CollectionMarking marking_after = taxii::MarkingOf(after, c);
  for (const policy::Organisation& org : after.model().organisations) {
    const policy::Reader reader{org.name, false};
    const policy::Decision b =
        before.DecideText(reader, facts, row.json, parser, marking_before, at);
    const policy::Decision a = after.DecideText(reader, facts, row.json, parser, marking_after, at);
    if (b.verdict == a.verdict && b.via == a.via && b.redacted_json == a.redacted_json) continue;
    // Withheld either way (only the reason differs): nothing seen changes.
    if (b.verdict == policy::Verdict::kWithhold && a.verdict == policy::Verdict::kWithhold)
      continue;
    // The effective TLP, as the decision saw it.
    const policy::Explanation x = after.Explain(reader, facts, row.json, parser, marking_after, at);
    OrgReport& r = report.orgs[org.name];
    Count(r.all, b, a);
    Count(r.by_type_tlp[{facts.type, x.trace.tlp}], b, a);
    if (b.verdict == policy::Verdict::kWithhold && a.verdict != policy::Verdict::kWithhold)
      ++r.by_grant[std::string(a.via)];
  }
}

Status CompareStore(store::Store& hub, const policy::Policy& before, const policy::Policy& after,
                    Timestamp at, Report& report) {
  CTIHUB_ASSIGN_OR_RETURN(auto collections, hub.ListCollections(""));
  report.collections = collections.size();
  for (const store::Collection& c : collections) {
    store::ObjectQuery q;
    q.collection_id = c.id;
    q.limit = 1000;
    for (;;) {
      CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, hub.QueryObjects(q));
      for (const store::ObjectVersion& row : page.objects) {
        ++report.rows;
        CTIHUB_ASSIGN_OR_RETURN(policy::ObjectFacts facts, taxii::FactsOfRow(row));
        CompareRow(before, after, c, row, facts, at, report);
      }
      if (!page.more || page.next.empty() || page.next == q.next) break;
      q.next = page.next;
    }
  }
  const auto old_chains = before.ReshareChains();
  for (auto& chain : after.ReshareChains()) {
    if (std::find(old_chains.begin(), old_chains.end(), chain) == old_chains.end())
      report.chains_opened.push_back(std::move(chain));
  }
  return Status::Ok();
}

// The party between producer and reader in "reshare:A>B": A's recipient.
std::string Through(const policy::PolicyModel& m, std::string_view via) {
  std::string_view rest = via.substr(via.find(':') + 1);
  const policy::Agreement* first = m.FindAgreement(rest.substr(0, rest.find('>')));
  return first != nullptr ? first->recipient.ToString() : "?";
}

std::string TypesText(const std::vector<std::string>& types) {
  if (types.empty()) return "every type";
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : ", ") + t;
  return out;
}

void WriteCounts(json::JsonWriter& w, const Counts& c) {
  w.Key("newly_served").Int(c.newly_served);
  w.Key("newly_served_redacted").Int(c.newly_served_redacted);
  w.Key("now_served_in_full").Int(c.now_in_full);
  w.Key("same_copy_other_grant").Int(c.regranted);
  w.Key("other_changes").Int(c.other);
}

void PrintJson(const std::string& agreement_json, Timestamp at, const policy::PolicyModel& m,
               const Report& r) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("dry_run").Bool(true).Key("agreement").Raw(agreement_json);
  w.Key("at").String(at.ToString());
  w.Key("counted").String("latest version of each object in each collection");
  w.Key("objects").Int(r.rows).Key("collections").Int(static_cast<int64_t>(r.collections));
  w.Key("organisations").BeginArray();
  for (const auto& [org, rep] : r.orgs) {
    w.BeginObject().Key("org").String(org);
    WriteCounts(w, rep.all);
    w.Key("by_type_tlp").BeginArray();
    for (const auto& [key, counts] : rep.by_type_tlp) {
      w.BeginObject().Key("type").String(key.first).Key("tlp").String(policy::TlpName(key.second));
      WriteCounts(w, counts);
      w.EndObject();
    }
    w.EndArray().Key("by_grant").BeginArray();
    for (const auto& [via, n] : rep.by_grant)
      w.BeginObject().Key("grant").String(via).Key("objects").Int(n).EndObject();
    w.EndArray().EndObject();
  }
  w.EndArray().Key("reshare_chains_opened").BeginArray();
  for (const auto& c : r.chains_opened) {
    w.BeginObject().Key("grant").String(c.via).Key("producer_org").String(c.producer_org);
    w.Key("through").String(Through(m, c.via)).Key("reader_org").String(c.reader_org);
    w.Key("max_tlp").String(policy::TlpName(c.max)).Key("object_types").BeginArray();
    for (const auto& t : c.object_types) w.String(t);
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  std::printf("%s\n", out.c_str());
}

void PrintText(const policy::Agreement& ag, Timestamp at, const policy::PolicyModel& m,
               const Report& r) {
  std::printf("dry run: agreement %s (%s -> %s, up to TLP:%s) at %s; nothing was changed\n",
              ag.id.c_str(), ag.producer.ToString().c_str(), ag.recipient.ToString().c_str(),
              Upper(policy::TlpName(ag.max_tlp)).c_str(), at.ToString().c_str());
  std::printf(
      "decided: the latest version of each object in each collection (%lld in %zu "
      "collections), for every organisation\n",
      static_cast<long long>(r.rows), r.collections);
  if (r.orgs.empty()) std::printf("\nno organisation would see anything new\n");
  for (const auto& [org, rep] : r.orgs) {
    std::printf("\norg:%s would newly see %lld objects (%lld as is, %lld redacted)", org.c_str(),
                static_cast<long long>(rep.all.newly_served) +
                    static_cast<long long>(rep.all.newly_served_redacted),
                static_cast<long long>(rep.all.newly_served),
                static_cast<long long>(rep.all.newly_served_redacted));
    if (rep.all.now_in_full > 0)
      std::printf("; %lld it sees redacted now in full",
                  static_cast<long long>(rep.all.now_in_full));
    if (rep.all.regranted > 0)
      std::printf("; %lld it sees already would come under another grant",
                  static_cast<long long>(rep.all.regranted));
    if (rep.all.other > 0)
      std::printf("; %lld other changes", static_cast<long long>(rep.all.other));
    std::printf("\n  %-20s %-17s %6s %9s %8s %12s %6s\n", "TYPE", "TLP", "AS IS", "REDACTED",
                "IN FULL", "OTHER GRANT", "OTHER");
    for (const auto& [key, c] : rep.by_type_tlp) {
      std::printf("  %-20s %-17s %6lld %9lld %8lld %12lld %6lld\n", key.first.c_str(),
                  ("TLP:" + Upper(policy::TlpName(key.second))).c_str(),
                  static_cast<long long>(c.newly_served),
                  static_cast<long long>(c.newly_served_redacted),
                  static_cast<long long>(c.now_in_full), static_cast<long long>(c.regranted),
                  static_cast<long long>(c.other));
    }
    for (const auto& [via, n] : rep.by_grant)
      std::printf("  through %s: %lld\n", via.c_str(), static_cast<long long>(n));
  }
  std::printf("\nre-share chains it opens:%s\n", r.chains_opened.empty() ? " none" : "");
  for (const auto& c : r.chains_opened) {
    std::printf("  %s: org:%s's objects reach org:%s through %s, up to TLP:%s, %s\n", c.via.c_str(),
                c.producer_org.c_str(), c.reader_org.c_str(), Through(m, c.via).c_str(),
                Upper(policy::TlpName(c.max)).c_str(), TypesText(c.object_types).c_str());
  }
}

}  // namespace

int RunAgreementDryRun(const DryRunOptions& options, const policy::Agreement& agreement,
                       const std::string& agreement_json) {
  Timestamp at = Timestamp::Now();
  if (!options.at.empty()) {
    auto t = Timestamp::Parse(options.at);
    if (!t.ok()) return Fail("--at: " + t.status().NamedMessage());
    at = *t;
  }
  // Every field through the agreements file's parser, as `agreement add` keeps it.
  auto parsed = policy::ParseAgreementChangesToml(policy::AgreementToToml(agreement), "--dry-run");
  if (!parsed.ok()) return Fail("refused: " + parsed.status().NamedMessage());
  auto hub = OpenHubStore(options.data, HubDb(options.db));
  if (!hub.ok()) return Fail(hub.status().NamedMessage());
  auto known = KnownOrganisations(**hub);
  if (!known.ok()) return Fail("reading the hub's organisations: " + known.status().NamedMessage());
  auto model = policy::LoadPolicyFrom(*HubPolicySource(options.data, hub->get()), &*known);
  if (!model.ok()) return Fail("the policy does not load: " + model.status().NamedMessage());
  policy::PolicyModel with = *model;
  if (with.FindAgreement(agreement.id) != nullptr)
    return Fail("refused: agreement '" + agreement.id + "' already defined");
  with.agreements.push_back(parsed->added.at(0));
  if (Status st = with.Validate(); !st.ok()) return Fail("refused: " + st.NamedMessage());
  const policy::Policy before(std::move(*model));
  const policy::Policy after(std::move(with));
  Report report;
  if (Status st = CompareStore(**hub, before, after, at, report); !st.ok())
    return Fail(st.NamedMessage());
  if (options.json) {
    PrintJson(agreement_json, at, after.model(), report);
  } else {
    PrintText(agreement, at, after.model(), report);
  }
  return kExitOk;
}

}  // namespace ctihub::cli
