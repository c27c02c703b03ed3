// policy_read_bench: what the sharing policy costs on the TAXII read path
// (issue 5: the policy may cost at most 15% of paging throughput).
//
// Pages a whole collection through the real read path -- taxii::Service::Handle
// with GET /api1/collections/{id}/objects/?limit=1000, following `next` until
// more is false, Bearer-token authentication, over the SQLite store of
// store::OpenSqliteStore -- and compares:
//   (a) no policy   Service with WithoutPolicyForTest() (no policy, no audit), an admin
//                   reader: every object is served (the baseline);
//   (b) policy      Service with AccessControl{holder, nullptr, ""}, a reader
//                   organisation receiving 9 of the 200 agreements (typical);
//   (c) policy+audit  as (b) with audit::AuditLog (every request and every
//                   served version recorded; the timed region ends with Flush);
//   (d) policy, broad reader: an organisation with agreements from 45 of the
//                   49 other producers, so the served volume is close to (a);
//
// Data (generated once, or reused with --data DIR): N objects (92% indicators,
// median ~680 bytes canonical JSON; 5% malware, 3% reports) from 50 producer
// organisations; TLP 30% CLEAR, 30% GREEN, 30% AMBER, 5% AMBER+STRICT, 5% RED
// (recipient_orgs in the ctihub extension); 30% carry a PAP marking; ~2%
// granular markings (TLP:RED / AMBER+STRICT on description, a few on
// pattern); 3% an x_personal_data property some agreements strip. Objects
// go through taxii::ParseEnvelope + taxii::PrepareWrite (validation,
// canonical JSON, access facts) and store::Store::WriteObjects, as a POST
// does. DATA/policy.toml: 50 organisations in 4 communities, 200 agreements
// (GREEN/AMBER/AMBER+STRICT, some restricted to types, PAP ceilings, some
// strip x_personal_data, some re-share, a few expired), loaded by
// policy::PolicyHolder with the store's organisations, as `ctihub serve` does.
//
// Reported per scenario (medians of --reps, scenarios interleaved): objects
// served per second (wall, and per CPU second of the whole process: the
// machine is shared, CPU rates are the steadier figure), pages per second,
// objects served, rows decided (admit calls: rows that passed the SQL
// pre-filter and the decision memo's screen). The policy cost is 1 - (throughput with
// policy / throughput without): per served object for (d) (the verdict), per
// collection row for (b) (the store walks every row of the collection).
// The verdict is measured with (a) and the policy reader interleaved page by
// page (p and q below, see Pager): on this shared VM runs timed seconds
// apart differ by more than the policy costs; the back-to-back medians are
// printed beside it.
// The analysis then pages with store::Store::QueryObjects directly for the
// typical and the broad reader (no scope / SQL scope / + decisions / real
// withholding / decisions alone over rows in memory) and counts decisions by
// verdict and grant.
//
// Usage: policy_read_bench [--objects N] [--data DIR] [--reps N] [--keep]
//                          [--no-analysis] [--only abcdpq]
//   --data DIR      reuse DIR (generated there on first use; regenerated when
//                   the object count or generator version differ). Without it
//                   a temp dir is used and removed at the end unless --keep.
//   --reps N        timed runs of each scenario (default 3); medians printed
//   --only LETTERS  run only these scenarios and print no table (for perf);
//                   x: the broad reader's decisions alone, over rows in memory;
//                   p: (a) and (d) interleaved page by page (see Pager);
//                   q: (a) and (b) the same way
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "policy/markings.h"
#include "policy/policy.h"
#include "policy/policy_holder.h"
#include "store/cursor.h"
#include "store/store.h"
#include "taxii/access.h"
#include "taxii/query.h"
#include "taxii/taxii.h"

namespace {

using namespace ctihub;  // NOLINT
using Clock = std::chrono::steady_clock;

// 2: the granular column keeps the highest granular levels (rows of 1 lack them).
constexpr int kGeneratorVersion = 2;
constexpr int kOrgs = 50;
constexpr int kAgreements = 200;
constexpr int kTypicalOrg = 7;  // receives 9 direct agreements
constexpr int kBroadOrg = 49;   // receives agreements from 45 producers
constexpr int kTypicalAgreements = 9;
constexpr int kBroadAgreements = 45;
constexpr size_t kEnvelope = 1000;
constexpr const char* kRoot = "api1";
constexpr const char* kCollectionTitle = "policy-bench";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "policy_read_bench: %s\n", what.c_str());
  std::exit(2);
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double CpuSeconds() {  // the whole process: request thread, store, audit appender
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

std::string OrgName(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "org%02d", i);
  return buf;
}

std::string Identity(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "identity--%08d-5b1e-4c7a-9d2f-%012d", i, i);
  return buf;
}

std::string RandomUuid(std::mt19937_64& rng) {
  uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%x%03x-%012" PRIx64,
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xfff), static_cast<unsigned>(8 | ((b >> 62) & 3)),
                static_cast<unsigned>((b >> 48) & 0xfff),
                static_cast<uint64_t>(b & 0xffffffffffffULL));
  return buf;
}

std::string Hex(std::mt19937_64& rng, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) s += d[rng() & 15];
  return s;
}

// ---- the sharing model -------------------------------------------------------------

const char* kCommunities[] = {"cert-network", "law-enforcement", "finance-isac", "vendors"};

std::vector<std::string> CommunitiesOf(int org) {
  std::vector<std::string> c;
  if (org < 15 || org == kBroadOrg) c.push_back("cert-network");
  if ((org >= 15 && org < 30) || org == kBroadOrg) c.push_back("law-enforcement");
  if (org >= 30 && org < 40) c.push_back("finance-isac");
  if (org >= 40 && org < 49) c.push_back("vendors");
  return c;
}

std::string Quoted(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s + "]";
}

struct AgreementSpec {
  int producer = 0;
  std::string recipient;  // "org:NAME" or "community:NAME"
  const char* max_tlp = "green";
  std::vector<std::string> types;  // empty: "*"
  const char* pap = "amber";
  bool strip = false;
  bool reshare = false;
  bool expired = false;
};

std::string PolicyToml() {
  std::mt19937_64 rng(7);
  std::string t =
      "# Generated by bench/policy_read_bench.cc: 50 organisations, 200 agreements.\n"
      "[defaults]\nunmarked_tlp = \"amber\"\n\n";
  for (const char* c : kCommunities) t += "[[community]]\nname = \"" + std::string(c) + "\"\n\n";
  for (int i = 0; i < kOrgs; ++i) {
    t += "[[organisation]]\nname = \"" + OrgName(i) + "\"\nidentity = \"" + Identity(i) + "\"\n";
    auto c = CommunitiesOf(i);
    if (!c.empty()) t += "communities = " + Quoted(c) + "\n";
    t += "\n";
  }
  std::vector<AgreementSpec> specs;
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  // The typical reader: 9 direct agreements from distinct producers.
  std::set<int> used;
  while (static_cast<int>(used.size()) < kTypicalAgreements) {
    int p = pick(kOrgs);
    if (p == kTypicalOrg || p == kBroadOrg || !used.insert(p).second) continue;
    AgreementSpec a;
    a.producer = p;
    a.recipient = "org:" + OrgName(kTypicalOrg);
    int k = static_cast<int>(used.size());
    a.max_tlp = k <= 2 ? "green" : k <= 7 ? "amber" : "amber+strict";
    if (k % 3 == 0) a.types = {"indicator", "malware"};
    a.pap = k % 2 ? "amber" : "red";
    a.strip = k == 4;
    a.reshare = k == 5;
    specs.push_back(a);
  }
  // The broad reader: 45 producers, mostly AMBER+STRICT, every type.
  used.clear();
  while (static_cast<int>(used.size()) < kBroadAgreements) {
    int p = pick(kOrgs);
    if (p == kBroadOrg || !used.insert(p).second) continue;
    AgreementSpec a;
    a.producer = p;
    a.recipient = "org:" + OrgName(kBroadOrg);
    int k = static_cast<int>(used.size());
    a.max_tlp = k % 5 == 0 ? "amber" : "amber+strict";
    a.pap = "red";
    a.strip = k % 5 == 1;
    a.reshare = k % 10 == 0;  // only on AMBER ones
    specs.push_back(a);
  }
  // The rest: random pairs among the other organisations and two communities.
  while (static_cast<int>(specs.size()) < kAgreements) {
    AgreementSpec a;
    a.producer = pick(kOrgs);
    int r = pick(kOrgs + 5);
    if (r >= kOrgs) {
      a.recipient = std::string("community:") + (r % 2 ? "finance-isac" : "vendors");
    } else {
      if (r == a.producer || r == kTypicalOrg || r == kBroadOrg) continue;
      a.recipient = "org:" + OrgName(r);
    }
    bool community = a.recipient.rfind("community:", 0) == 0;
    int lvl = pick(10);
    a.max_tlp = lvl < 3 ? "green" : (lvl < 8 || community) ? "amber" : "amber+strict";
    if (pick(3) == 0)
      a.types = pick(2) ? std::vector<std::string>{"indicator"}
                        : std::vector<std::string>{"indicator", "malware", "report"};
    const char* paps[] = {"green", "amber", "red"};
    a.pap = paps[pick(3)];
    a.strip = pick(8) == 0;
    a.reshare = std::strcmp(a.max_tlp, "amber+strict") != 0 && pick(5) == 0;
    a.expired = pick(50) == 0;
    specs.push_back(a);
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const AgreementSpec& a = specs[i];
    char id[32];
    std::snprintf(id, sizeof id, "ag-%03zu", i);
    t += "[[agreement]]\nid = \"" + std::string(id) +
         "\"\nproducer = \"org:" + OrgName(a.producer) + "\"\nrecipient = \"" + a.recipient +
         "\"\nmax_tlp = \"" + a.max_tlp +
         "\"\nobject_types = " + (a.types.empty() ? std::string("[\"*\"]") : Quoted(a.types)) +
         "\npap_ceiling = \"" + a.pap + "\"\n";
    if (a.strip)
      t += "strip_properties = [\"x_personal_data\", \"indicator:external_references\"]\n";
    t += std::string("reshare = ") + (a.reshare ? "true" : "false") + "\n";
    t += "valid_from = \"2026-01-01T00:00:00Z\"\n";
    if (a.expired) {
      t += "expires = \"2026-06-30T00:00:00Z\"\n";
    } else if (i % 2) {
      t += "expires = \"2030-01-01T00:00:00Z\"\n";
    }
    t += "legal_basis = \"bench agreement " + std::string(id) + "\"\n\n";
  }
  return t;
}

// ---- the objects -------------------------------------------------------------------

const char* kWords[] = {"loader",     "beacon",     "phishing",  "campaign",       "credential",
                        "harvesting", "botnet",     "command",   "control",        "server",
                        "observed",   "targeting",  "banking",   "sector",         "exploit",
                        "dropper",    "ransomware", "affiliate", "infrastructure", "rotating",
                        "domains",    "payload",    "staging",   "exfiltration"};
const char* kFamilies[] = {"qakbot",  "emotet",       "icedid",   "lockbit", "blackcat",
                           "redline", "cobaltstrike", "asyncrat", "raccoon", "bumblebee"};
const char* kPhases[] = {"initial-access", "execution", "command-and-control", "exfiltration",
                         "credential-access"};

std::string Words(std::mt19937_64& rng, size_t min_len, size_t max_len) {
  size_t target = min_len + rng() % (max_len - min_len + 1);
  std::string s;
  while (s.size() < target) {
    if (!s.empty()) s += ' ';
    s += kWords[rng() % std::size(kWords)];
  }
  return s;
}

std::string Time(int64_t secs) { return Timestamp(secs, 0, 3).ToString(); }

struct Generator {
  std::mt19937_64 rng{42};
  std::vector<std::string> recent;  // ids reports refer to
  int64_t n = 0;

  std::string Next() {
    const int64_t i = n++;
    const int producer = static_cast<int>(rng() % kOrgs);
    const int kind = static_cast<int>(rng() % 100);
    const char* type = kind < 92 ? "indicator" : kind < 97 ? "malware" : "report";
    const std::string id = std::string(type) + "--" + RandomUuid(rng);
    const int64_t t0 = 1767225600 + i * 13;  // 2026-01-01 onwards
    const char* family = kFamilies[rng() % std::size(kFamilies)];
    // Markings.
    const int tr = static_cast<int>(rng() % 100);
    policy::Tlp tlp = tr < 30   ? policy::Tlp::kClear
                      : tr < 60 ? policy::Tlp::kGreen
                      : tr < 90 ? policy::Tlp::kAmber
                      : tr < 95 ? policy::Tlp::kAmberStrict
                                : policy::Tlp::kRed;
    std::vector<std::string> marks = {std::string(policy::Tlp2MarkingId(tlp))};
    const int pr = static_cast<int>(rng() % 100);
    if (pr >= 70) {  // 30% carry a PAP marking
      policy::Pap pap = pr < 76   ? policy::Pap::kClear
                        : pr < 85 ? policy::Pap::kGreen
                        : pr < 97 ? policy::Pap::kAmber
                                  : policy::Pap::kRed;
      marks.emplace_back(policy::PapMarkingId(pap));
    }

    std::string o = "{\"type\":\"" + std::string(type) + "\",\"spec_version\":\"2.1\",\"id\":\"" +
                    id + "\",\"created\":\"" + Time(t0) + "\",\"modified\":\"" + Time(t0 + 3600) +
                    "\",\"created_by_ref\":\"" + Identity(producer) + "\"";
    if (kind < 92) {
      std::string pattern;
      switch (rng() % 4) {
        case 0:
          pattern = "[ipv4-addr:value = '" + std::to_string(rng() % 223 + 1) + "." +
                    std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
                    std::to_string(rng() % 256) + "']";
          break;
        case 1:
          pattern = "[domain-name:value = '" + Hex(rng, 10) + "." + family + "-cdn.example']";
          break;
        case 2:
          pattern = "[file:hashes.'SHA-256' = '" + Hex(rng, 64) + "']";
          break;
        default:
          pattern =
              "[url:value = 'https://" + Hex(rng, 8) + ".example/" + Hex(rng, 12) + "/gate.php']";
      }
      o += ",\"name\":\"" + std::string(family) + " " + kWords[rng() % std::size(kWords)] + " " +
           std::to_string(i) + "\",\"description\":\"" + Words(rng, 10, 50) +
           "\",\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"" + pattern +
           "\",\"pattern_type\":\"stix\",\"valid_from\":\"" + Time(t0) +
           "\",\"confidence\":" + std::to_string(rng() % 101);
      if (rng() % 2) o += ",\"labels\":[\"" + std::string(family) + "\"]";
      if (rng() % 2) o += ",\"valid_until\":\"" + Time(t0 + 90 * 86400) + "\"";
      if (rng() % 10 < 3) {
        o += ",\"kill_chain_phases\":[{\"kill_chain_name\":\"mitre-attack\",\"phase_name\":\"" +
             std::string(kPhases[rng() % std::size(kPhases)]) + "\"}]";
      }
      if (rng() % 10 == 0) {
        o += ",\"external_references\":[{\"source_name\":\"" + OrgName(producer) +
             "-report\",\"url\":\"https://intel.example/reports/" + Hex(rng, 16) + "\"}]";
      }
    } else if (kind < 97) {
      o += ",\"name\":\"" + std::string(family) +
           "\",\"is_family\":true,\"malware_types\":"
           "[\"ransomware\",\"trojan\"],\"description\":\"" +
           Words(rng, 100, 300) + "\"";
    } else {
      o += ",\"name\":\"" + std::string(family) + " activity report " + std::to_string(i) +
           "\",\"report_types\":[\"threat-report\"],\"published\":\"" + Time(t0 + 7200) +
           "\",\"description\":\"" + Words(rng, 100, 300) + "\",\"object_refs\":[";
      size_t refs = 3 + rng() % 8;
      for (size_t k = 0; k < refs && k < recent.size(); ++k) {
        if (k) o += ',';
        o += "\"" + recent[rng() % recent.size()] + "\"";
      }
      if (recent.empty()) o += "\"" + id + "\"";
      o += "]";
    }
    if (rng() % 100 < 3) {
      o += ",\"x_personal_data\":{\"reporter\":\"analyst-" + std::to_string(rng() % 1000) + "@" +
           OrgName(producer) + ".example\"}";
    }
    o += ",\"object_marking_refs\":[";
    for (size_t k = 0; k < marks.size(); ++k) o += (k ? ",\"" : "\"") + marks[k] + "\"";
    o += "]";
    const int gr = static_cast<int>(rng() % 1000);
    if (gr < 20) {  // ~2%: a granular TLP marking above the object's level
      const policy::Tlp g = gr % 2 ? policy::Tlp::kRed : policy::Tlp::kAmberStrict;
      const char* sel = (gr < 2 && kind < 92) ? "pattern" : "description";
      o += ",\"granular_markings\":[{\"marking_ref\":\"" + std::string(policy::Tlp2MarkingId(g)) +
           "\",\"selectors\":[\"" + sel + "\"]}]";
    }
    if (tlp == policy::Tlp::kRed || (gr < 20 && gr % 2)) {
      std::set<int> named;
      size_t count = 1 + rng() % 3;
      while (named.size() < count) {
        int r = static_cast<int>(rng() % kOrgs);
        if (r != producer) named.insert(r);
      }
      if (rng() % 2) named.insert(kBroadOrg);
      o += ",\"extensions\":{\"" + std::string(policy::kRecipientsExtensionId) +
           "\":{\"extension_type\":\"property-extension\",\"" +
           std::string(policy::kRecipientsProperty) + "\":[";
      bool first = true;
      for (int r : named) {
        o += (first ? "\"" : ",\"") + Identity(r) + "\"";
        first = false;
      }
      o += "]}}";
    }
    o += "}";
    if (kind < 92) {
      if (recent.size() < 256) {
        recent.push_back(id);
      } else {
        recent[rng() % recent.size()] = id;
      }
    }
    return o;
  }
};

// ---- setup -----------------------------------------------------------------------

struct Reader {
  std::string label;
  store::User user;
  auth::Principal principal;
  std::string token;  // Bearer secret
};

struct Hub {
  std::string dir;
  std::unique_ptr<store::Store> store;
  store::Collection collection;
  Reader admin, typical, broad;
  int64_t objects = 0;
  double avg_bytes = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) Die("cannot write " + path);
}

std::string Meta(int64_t objects) {
  return "generator=" + std::to_string(kGeneratorVersion) + " objects=" + std::to_string(objects) +
         "\n";
}

void Ingest(Hub& hub, int64_t objects) {
  store::Store& s = *hub.store;
  auth::Principal writer;
  writer.user = "bench-loader";
  writer.role = store::Role::kAdmin;
  taxii::EnvelopeOptions eo;
  eo.max_objects = kEnvelope;
  eo.validate_patterns = true;
  const Timestamp now = Timestamp::Now();
  eo.prepare = [&](json::Element object, store::NewObject& out) {
    // No policy: the producer is created_by_ref, exactly what the hub stores.
    return taxii::PrepareWrite(nullptr, writer, "", object, out, now);
  };
  Generator gen;
  std::deque<std::future<Result<std::vector<store::WriteOutcome>>>> inflight;
  auto wait_one = [&] {
    auto r = inflight.front().get();
    inflight.pop_front();
    if (!r.ok()) Die("write: " + r.status().ToString());
  };
  double bytes = 0;
  std::map<std::string, std::pair<int64_t, double>> by_type;
  auto t0 = Clock::now();
  for (int64_t done = 0; done < objects;) {
    std::string body = "{\"objects\":[";
    size_t n = static_cast<size_t>(std::min<int64_t>(kEnvelope, objects - done));
    for (size_t k = 0; k < n; ++k) {
      if (k) body += ',';
      body += gen.Next();
    }
    body += "]}";
    auto items = Must(taxii::ParseEnvelope(body, eo), "envelope");
    std::vector<store::NewObject> batch;
    batch.reserve(items.size());
    for (auto& it : items) {
      if (!it.ok) Die("generated object refused: " + it.id + ": " + it.message);
      bytes += static_cast<double>(it.object.json.size());
      auto& [count, sum] = by_type[it.object.type];
      ++count;
      sum += static_cast<double>(it.object.json.size());
      batch.push_back(std::move(it.object));
    }
    inflight.push_back(s.WriteObjects(hub.collection.id, std::move(batch), ""));
    if (inflight.size() >= 8) wait_one();
    done += static_cast<int64_t>(n);
    if (done % 100000 == 0) {
      std::fprintf(stderr, "  ingested %" PRId64 " (%.0f objects/s)\n", done,
                   static_cast<double>(done) / Seconds(Clock::now() - t0));
    }
  }
  while (!inflight.empty()) wait_one();
  double secs = Seconds(Clock::now() - t0);
  std::printf("generated and ingested %" PRId64
              " objects in %.1f s (%.0f objects/s), "
              "canonical JSON %.0f bytes per object on average\n",
              objects, secs, static_cast<double>(objects) / secs,
              bytes / static_cast<double>(objects));
  for (const auto& [type, cs] : by_type) {
    std::printf("  %-10s %8" PRId64 " objects, %4.0f bytes on average\n", type.c_str(), cs.first,
                cs.second / static_cast<double>(cs.first));
  }
}

Reader MakeReader(store::Store& s, const std::string& label, const std::string& user_name,
                  const std::string& org, store::Role role) {
  Reader r;
  r.label = label;
  auto existing = s.GetUser(user_name);
  if (existing.ok()) {
    r.user = *existing;
  } else {
    store::User u;
    u.name = user_name;
    u.org_id = Must(s.GetOrganisation(org), "org").id;
    u.role = role;
    r.user = Must(s.AddUser(u), "add user");
  }
  r.token = Must(auth::CreateToken(s, r.user.id, "policy bench"), "token").secret;
  r.principal.user_id = r.user.id;
  r.principal.user = r.user.name;
  r.principal.org_id = r.user.org_id;
  r.principal.org = org;
  r.principal.role = r.user.role;
  return r;
}

Hub OpenHub(const std::string& dir, int64_t objects) {
  Hub hub;
  hub.dir = dir;
  std::filesystem::create_directories(dir);
  const std::string meta_path = dir + "/bench.meta";
  const bool reuse =
      std::filesystem::exists(dir + "/ctihub.db") && ReadFile(meta_path) == Meta(objects);
  if (!reuse) {
    for (const char* f : {"/ctihub.db", "/ctihub.db-wal", "/ctihub.db-shm", "/bench.meta"}) {
      std::filesystem::remove(dir + f);
    }
  }
  WriteFile(dir + "/policy.toml", PolicyToml());
  std::filesystem::remove(dir + "/agreements.toml");
  store::SqliteOptions opts;
  opts.path = dir + "/ctihub.db";
  hub.store = Must(store::OpenSqliteStore(opts), "open store");
  store::Store& s = *hub.store;
  if (!reuse) {
    Status st = s.PutApiRoot({kRoot, "policy bench", "", 1 << 30});
    if (!st.ok()) Die("api root: " + st.ToString());
    for (int i = 0; i < kOrgs; ++i)
      Must(s.AddOrganisation({0, OrgName(i), Identity(i)}), "add org");
    Must(s.AddOrganisation({0, "hub", ""}), "add org");
    store::Collection c;
    c.api_root = kRoot;
    c.title = kCollectionTitle;
    c.readers = {"org:*"};
    c.writers = {"org:*"};
    hub.collection = Must(s.AddCollection(c), "add collection");
    Ingest(hub, objects);
    WriteFile(meta_path, Meta(objects));
  } else {
    for (const auto& c : Must(s.ListCollections(kRoot), "collections")) {
      if (c.title == kCollectionTitle) hub.collection = c;
    }
    if (hub.collection.id.empty()) Die("no collection in " + dir + "; remove bench.meta");
    std::printf("reusing %s (%" PRId64 " objects)\n", dir.c_str(), objects);
  }
  hub.objects = objects;
  hub.admin = MakeReader(s, "admin", "bench-admin", "hub", store::Role::kAdmin);
  hub.typical = MakeReader(s, "org07", "bench-typical", OrgName(kTypicalOrg), store::Role::kReader);
  hub.broad = MakeReader(s, "org49", "bench-broad", OrgName(kBroadOrg), store::Role::kReader);
  return hub;
}

// ---- measuring ---------------------------------------------------------------------

// Forwards to the real store; counts the rows the read path decides (those
// that passed the SQL filters and pre-filter) and the objects it serves.
class CountingStore : public store::Store {
 public:
  explicit CountingStore(store::Store& s) : s_(s) {}
  int64_t decided = 0;
  int64_t served = 0;

  Result<store::ObjectPage> QueryObjects(const store::ObjectQuery& q) override {
    if (!q.admit) {
      auto page = s_.QueryObjects(q);
      if (page.ok()) served += static_cast<int64_t>(page->objects.size());
      return page;
    }
    store::ObjectQuery copy = q;
    copy.admit = [this, inner = q.admit](store::ObjectVersion& v) {
      ++decided;
      return inner(v);
    };
    auto page = s_.QueryObjects(copy);
    if (page.ok()) served += static_cast<int64_t>(page->objects.size());
    return page;
  }

  Result<store::Organisation> AddOrganisation(const store::Organisation& o) override {
    return s_.AddOrganisation(o);
  }
  Result<std::vector<store::Organisation>> ListOrganisations() override {
    return s_.ListOrganisations();
  }
  Result<store::Organisation> GetOrganisation(std::string_view n) override {
    return s_.GetOrganisation(n);
  }
  Result<store::User> AddUser(const store::User& u) override { return s_.AddUser(u); }
  Result<std::vector<store::User>> ListUsers() override { return s_.ListUsers(); }
  Result<store::User> GetUser(std::string_view n) override { return s_.GetUser(n); }
  Result<store::User> GetUserById(int64_t id) override { return s_.GetUserById(id); }
  Status RemoveUser(std::string_view n) override { return s_.RemoveUser(n); }
  Status SetPassword(std::string_view u, std::string_view h) override {
    return s_.SetPassword(u, h);
  }
  Result<store::ApiToken> AddToken(const store::ApiToken& t) override { return s_.AddToken(t); }
  Result<store::ApiToken> FindTokenByHash(std::string_view h) override {
    return s_.FindTokenByHash(h);
  }
  Result<std::vector<store::ApiToken>> ListTokens(int64_t u) override { return s_.ListTokens(u); }
  Status RevokeToken(int64_t id) override { return s_.RevokeToken(id); }
  Status PutApiRoot(const store::ApiRoot& r) override { return s_.PutApiRoot(r); }
  Result<std::vector<store::ApiRoot>> ListApiRoots() override { return s_.ListApiRoots(); }
  Result<store::Collection> AddCollection(const store::Collection& c) override {
    return s_.AddCollection(c);
  }
  Result<std::vector<store::Collection>> ListCollections(std::string_view r) override {
    return s_.ListCollections(r);
  }
  Result<store::Collection> GetCollection(std::string_view r, std::string_view id) override {
    return s_.GetCollection(r, id);
  }
  Status RemoveCollection(std::string_view id) override { return s_.RemoveCollection(id); }
  std::future<Result<std::vector<store::WriteOutcome>>> WriteObjects(
      std::string c, std::vector<store::NewObject> o, std::string st) override {
    return s_.WriteObjects(std::move(c), std::move(o), std::move(st));
  }
  Result<int64_t> DeleteObject(const store::ObjectQuery& q) override { return s_.DeleteObject(q); }
  Status CreateStatus(const store::StatusResource& s) override { return s_.CreateStatus(s); }
  Result<store::StatusResource> GetStatus(std::string_view r, std::string_view id) override {
    return s_.GetStatus(r, id);
  }
  Result<int64_t> CountObjects() override { return s_.CountObjects(); }

 private:
  store::Store& s_;
};

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

struct Run {
  double wall = 0, cpu = 0;
  int64_t pages = 0, served = 0, decided = 0, bytes = 0;
};

// Pages the whole collection as `reader`; the client only reads `more`/`next`
// from the front of each body (the JSON writer puts them first).
Run PageAll(taxii::Service& svc, CountingStore& counting, const Hub& hub, const Reader& reader,
            audit::AuditLog* audit) {
  counting.decided = counting.served = 0;
  taxii::Request req;
  req.method = "GET";
  req.host = "localhost";
  req.accept = "application/taxii+json;version=2.1";
  req.authorization = "Bearer " + reader.token;
  req.remote = "127.0.0.1";
  const std::string base =
      std::string("/") + kRoot + "/collections/" + hub.collection.id + "/objects/?limit=1000";
  Run r;
  std::string next;
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  for (;;) {
    req.target = next.empty() ? base : base + "&next=" + UrlEncode(next);
    taxii::Response resp = svc.Handle(req);
    if (resp.status != 200)
      Die("GET " + req.target + ": " + std::to_string(resp.status) + " " + resp.body);
    ++r.pages;
    r.bytes += static_cast<int64_t>(resp.body.size());
    static constexpr std::string_view kMore = "{\"more\":true,\"next\":\"";
    if (std::string_view(resp.body).substr(0, kMore.size()) != kMore) break;
    size_t end = resp.body.find('"', kMore.size());
    if (end == std::string::npos) Die("bad body");
    next = resp.body.substr(kMore.size(), end - kMore.size());
  }
  if (audit != nullptr) {
    Status st = audit->Flush();
    if (!st.ok()) Die("audit flush: " + st.ToString());
  }
  r.wall = Seconds(Clock::now() - t0);
  r.cpu = CpuSeconds() - cpu0;
  r.served = counting.served;
  r.decided = counting.decided;
  return r;
}

// ---- interleaved pages: (a) and (d) a page each in turn ----------------------------
//
// This VM's speed varies by up to 1.6x from one second to the next, so two
// scenarios timed a few seconds apart differ by more than the policy costs.
// Here (a) and (d) page the collection at the same time, one page each in
// turn (the one behind first), each page timed on the thread's CPU clock: a
// slow second slows both alike, and the ratio of the sums is the policy's
// cost. (d) starts at the middle of the collection and wraps round, so the
// two never read the same rows from SQLite's page cache one after the other.

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string HeaderOf(const taxii::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

bool Before(const std::string& a, const std::string& b) {  // X-TAXII-Date-Added-* values
  auto ta = Timestamp::Parse(a), tb = Timestamp::Parse(b);
  if (!ta.ok() || !tb.ok()) Die("bad X-TAXII-Date-Added value: " + a + " / " + b);
  return *ta < *tb;
}

double AddedSeconds(const std::string& header) {
  auto t = Timestamp::Parse(header);
  if (!t.ok()) Die("bad X-TAXII-Date-Added value: " + header);
  return static_cast<double>(t->seconds()) + t->nanos() / 1e9;
}

// The collection's date_added range, and the date_added of its middle page.
struct Span {
  double first = 0, last = 1;
  std::string middle;
};

struct Pager {
  Pager(taxii::Service* s, CountingStore* c, const Reader* r, std::string after = {},
        const Span* sp = nullptr)
      : svc(s), counting(c), reader(r), start_after(std::move(after)), span(sp) {}

  taxii::Service* svc;
  CountingStore* counting;
  const Reader* reader;
  std::string start_after;  // X-TAXII-Date-Added-Last to start after; "" from the beginning
  const Span* span;         // for Progress()
  std::string next;
  bool wrapped = false, done = false;
  std::string last_added;  // of the last page
  double cpu = 0, wall = 0;
  int64_t served = 0, pages = 0;

  // The share of the collection walked so far, 0..1, by date_added.
  double Progress() const {
    if (done) return 1;
    if (last_added.empty() || span == nullptr) return wrapped ? Share(start_after) : 0;
    const double at = Share(last_added);
    if (start_after.empty()) return at;
    return wrapped ? 1 - Share(start_after) + at : at - Share(start_after);
  }
  double Share(const std::string& header) const {
    if (header.empty() || span == nullptr) return 0;
    return (AddedSeconds(header) - span->first) / std::max(1e-9, span->last - span->first);
  }

  // One page; false when this reader has been all the way round.
  bool Step(const Hub& hub) {
    if (done) return false;
    taxii::Request req;
    req.method = "GET";
    req.host = "localhost";
    req.accept = "application/taxii+json;version=2.1";
    req.authorization = "Bearer " + reader->token;
    req.remote = "127.0.0.1";
    req.target =
        std::string("/") + kRoot + "/collections/" + hub.collection.id + "/objects/?limit=1000";
    if (!next.empty()) {
      req.target += "&next=" + UrlEncode(next);
    } else if (!wrapped && !start_after.empty()) {
      req.target += "&added_after=" + UrlEncode(start_after);
    }
    counting->served = 0;
    const double c0 = ThreadCpuSeconds();
    const auto t0 = Clock::now();
    taxii::Response resp = svc->Handle(req);
    wall += Seconds(Clock::now() - t0);
    cpu += ThreadCpuSeconds() - c0;
    if (resp.status != 200) Die("GET " + req.target + ": " + std::to_string(resp.status));
    ++pages;
    served += counting->served;
    last_added = HeaderOf(resp, "X-TAXII-Date-Added-Last");
    if (wrapped && !start_after.empty() && !last_added.empty() &&
        !Before(last_added, start_after)) {
      done = true;  // back where it started (the last page may overlap it a little)
      return false;
    }
    static constexpr std::string_view kMore = "{\"more\":true,\"next\":\"";
    if (std::string_view(resp.body).substr(0, kMore.size()) == kMore) {
      next = resp.body.substr(kMore.size(), resp.body.find('"', kMore.size()) - kMore.size());
      return true;
    }
    next.clear();
    if (start_after.empty() || wrapped) {
      done = true;
      return false;
    }
    wrapped = true;  // from the beginning up to start_after
    last_added.clear();
    return true;
  }
};

// The collection's span, paged as `reader` (who sees every object).
Span SpanOf(taxii::Service& svc, CountingStore& counting, const Hub& hub, const Reader& reader) {
  Pager p{&svc, &counting, &reader};
  std::vector<std::string> lasts;
  bool more = true;
  while (more) {
    more = p.Step(hub);
    lasts.push_back(p.last_added);
  }
  Span span;
  span.middle = lasts[lasts.size() / 2];
  span.last = AddedSeconds(lasts.back());
  span.first = std::min(span.last, AddedSeconds(lasts.front()) - 1e-6);  // ~ the first page's start
  return span;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Scenario {
  std::string name;
  const Reader* reader = nullptr;
  taxii::Service* service = nullptr;
  CountingStore* counting = nullptr;
  audit::AuditLog* audit = nullptr;
  std::vector<Run> runs;

  double Med(double (*f)(const Run&)) const {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(f(r));
    return Median(v);
  }
  double WallRate() const {
    return Med([](const Run& r) { return r.served / r.wall; });
  }
  double CpuRate() const {
    return Med([](const Run& r) { return r.served / r.cpu; });
  }
  double PageRate() const {
    return Med([](const Run& r) { return r.pages / r.wall; });
  }
  double Wall() const {
    return Med([](const Run& r) { return r.wall; });
  }
  double Cpu() const {
    return Med([](const Run& r) { return r.cpu; });
  }
};

// ---- analysis: where the policy's time goes (not part of the table) ---------------

policy::ObjectFacts FactsOf(const store::ObjectVersion& v) {  // as taxii::ReadGate builds them
  policy::ObjectFacts f;
  f.id = v.id;
  f.type = v.type;
  f.producer = v.access.producer;
  if (v.access.tlp >= 0) f.tlp = static_cast<policy::Tlp>(v.access.tlp);
  if (v.access.pap >= 0) f.pap = static_cast<policy::Pap>(v.access.pap);
  f.recipient_orgs = v.access.recipient_orgs;
  f.has_granular_levels = v.access.granular_levels;
  f.granular_max_known = v.access.granular_max_known;
  if (v.access.granular_max_tlp >= 0)
    f.granular_max_tlp = static_cast<policy::Tlp>(v.access.granular_max_tlp);
  if (v.access.granular_max_pap >= 0)
    f.granular_max_pap = static_cast<policy::Pap>(v.access.granular_max_pap);
  return f;
}

// Store paging passes for one reader, store::Store::QueryObjects directly (no
// authentication, no TAXII envelope), then the decisions alone over the rows
// kept in memory:
//   1 no scope, admit every row          the store's own paging cost
//   2 SQL scope, admit every row         + the pre-filter
//   3 SQL scope, decide, admit every row + DecideText inside the page loop
//   4 SQL scope, decide as ReadGate does  withheld rows make the store read
//                                         further chunks (the real read path)
//   5 DecideText over the kept rows      the decisions alone
void Analyse(const Hub& hub, policy::PolicyHolder& holder, const Reader& reader) {
  store::Store& s = *hub.store;
  std::shared_ptr<const policy::Policy> pol = holder.Current();
  const policy::CollectionMarking marking = taxii::MarkingOf(*pol, hub.collection);
  const policy::Policy::ResolvedReader rr =
      pol->Resolve(policy::Reader{reader.principal.org, false});
  const Timestamp now = Timestamp::Now();
  json::JsonParser parser;
  struct Kept {
    policy::ObjectFacts facts;
    std::string json;
  };
  std::vector<Kept> kept;
  struct Pass {
    double wall = 0, cpu = 0;
    int64_t rows = 0, served = 0, pages = 0;
  };
  auto walk = [&](bool scoped, bool decide, bool honour, bool keep) {
    Pass p;
    store::ObjectQuery q;
    q.collection_id = hub.collection.id;
    q.limit = 1000;
    taxii::ReadGate gate(pol, reader.principal, hub.collection);
    gate.Apply(q);  // the scope the Service would use
    if (!scoped) q.scope.reset();
    q.admit = [&](store::ObjectVersion& v) {
      ++p.rows;
      if (keep) kept.push_back({FactsOf(v), v.json});
      if (!decide) return true;
      policy::Decision d = pol->DecideText(rr, FactsOf(v), v.json, parser, marking, now);
      if (d.verdict == policy::Verdict::kServeRedacted) v.json = std::move(d.redacted_json);
      return !honour || d.verdict != policy::Verdict::kWithhold;
    };
    const double cpu0 = CpuSeconds();
    const auto t0 = Clock::now();
    for (;;) {
      auto page = Must(s.QueryObjects(q), "query");
      ++p.pages;
      p.served += static_cast<int64_t>(page.objects.size());
      if (!page.more) break;
      q.next = page.next;
    }
    p.wall = Seconds(Clock::now() - t0);
    p.cpu = CpuSeconds() - cpu0;
    return p;
  };
  kept.reserve(static_cast<size_t>(hub.objects));
  (void)walk(true, false, false, true);  // keeps the rows that pass the scope, for pass 5
  const Pass p1 = walk(false, false, false, false);
  const Pass p2 = walk(true, false, false, false);
  const Pass p3 = walk(true, true, false, false);
  const Pass p4 = walk(true, true, true, false);
  // 5: the decisions alone over the rows that passed the scope.
  std::map<std::string, int64_t> via;
  int64_t redacted = 0, withheld = 0, granular = 0;
  Pass p5;
  {
    const double cpu0 = CpuSeconds();
    const auto t0 = Clock::now();
    for (const Kept& k : kept) {
      policy::Decision d = pol->DecideText(rr, k.facts, k.json, parser, marking, now);
      redacted += d.verdict == policy::Verdict::kServeRedacted;
      withheld += d.verdict == policy::Verdict::kWithhold;
    }
    p5.wall = Seconds(Clock::now() - t0);
    p5.cpu = CpuSeconds() - cpu0;
    p5.rows = static_cast<int64_t>(kept.size());
    p5.served = p5.rows - withheld;
    for (const Kept& k : kept) {
      granular += k.facts.has_granular_levels;
      policy::Decision d = pol->DecideText(rr, k.facts, k.json, parser, marking, now);
      std::string key = std::string(policy::VerdictName(d.verdict)) + ":" + std::string(d.via);
      for (const char* prefix : {"agreement:", "reshare:", "community:"}) {
        size_t at = key.find(prefix);
        if (at != std::string::npos) key = key.substr(0, at + std::strlen(prefix)) + "*";
      }
      ++via[key];
    }
  }
  std::printf(
      "\nanalysis, reader %s: store::QueryObjects pages of 1,000 (no auth, no envelope), one pass "
      "each\n",
      reader.label.c_str());
  auto line = [&](const char* what, const Pass& p) {
    std::printf("  %-44s %7.3f s wall %7.3f s CPU  %8" PRId64 " rows decided %8" PRId64
                " served %5" PRId64 " pages  %6.0f ns CPU/row of the collection\n",
                what, p.wall, p.cpu, p.rows, p.served, p.pages,
                1e9 * p.cpu / static_cast<double>(hub.objects));
  };
  line("1 no scope, admit all", p1);
  line("2 SQL scope, admit all", p2);
  line("3 SQL scope, DecideText, admit all", p3);
  line("4 SQL scope, DecideText, withhold (real)", p4);
  line("5 DecideText alone over pass 2's rows", p5);  // per collection row too
  std::printf("  decisions: %.0f ns CPU each; %" PRId64 " redacted, %" PRId64 " withheld, %" PRId64
              " rows with granular TLP/PAP\n",
              1e9 * p5.cpu / static_cast<double>(std::max<int64_t>(1, p5.rows)), redacted, withheld,
              granular);
  std::printf("  by verdict:grant:");
  for (const auto& [k, n] : via) std::printf(" %s=%" PRId64, k.c_str(), n);
  std::printf("\n");
}

// --only x: the decisions alone, for the broad reader: the rows that pass its
// scope are read once into memory, then Policy::DecideText runs over all of
// them `reps` times; prints the median CPU ns per decision. The steadiest
// figure for work on the decision itself (no SQLite, no envelope).
void DecisionsOnly(const Hub& hub, policy::PolicyHolder& holder, const Reader& reader, int reps) {
  std::shared_ptr<const policy::Policy> pol = holder.Current();
  const policy::CollectionMarking marking = taxii::MarkingOf(*pol, hub.collection);
  const policy::Policy::ResolvedReader rr =
      pol->Resolve(policy::Reader{reader.principal.org, false});
  const Timestamp now = Timestamp::Now();
  json::JsonParser parser(json::ParseLimits{.reject_duplicate_keys = false});
  std::vector<std::pair<policy::ObjectFacts, std::string>> kept;
  store::ObjectQuery q;
  q.collection_id = hub.collection.id;
  q.limit = 1000;
  for (;;) {
    auto page = Must(hub.store->QueryObjects(q), "query");
    for (const auto& v : page.objects) kept.emplace_back(FactsOf(v), v.json);
    if (!page.more) break;
    q.next = page.next;
  }
  std::vector<double> ns;
  int64_t served = 0, redacted = 0;
  for (int r = 0; r < reps; ++r) {
    served = redacted = 0;
    const double cpu0 = CpuSeconds();
    for (const auto& [facts, text] : kept) {
      policy::Decision d = pol->DecideText(rr, facts, text, parser, marking, now);
      served += d.verdict != policy::Verdict::kWithhold;
      redacted += d.verdict == policy::Verdict::kServeRedacted;
    }
    ns.push_back(1e9 * (CpuSeconds() - cpu0) / static_cast<double>(kept.size()));
  }
  std::printf("decisions alone, reader %s: %zu rows, %" PRId64 " served, %" PRId64
              " redacted; median %.0f ns CPU per decision (%d runs)\n",
              reader.label.c_str(), kept.size(), served, redacted, Median(ns), reps);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t objects = 1000000;
  std::string dir;
  int reps = 3;
  bool keep = false, analysis = true;
  static const std::string kAll = "abcdpq";
  std::string only = kAll;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) Die(std::string("missing value for ") + argv[i]);
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--objects"))
      objects = std::atoll(next());
    else if (!std::strcmp(argv[i], "--data"))
      dir = next();
    else if (!std::strcmp(argv[i], "--reps"))
      reps = std::max(1, std::atoi(next()));
    else if (!std::strcmp(argv[i], "--keep"))
      keep = true;
    else if (!std::strcmp(argv[i], "--no-analysis"))
      analysis = false;
    else if (!std::strcmp(argv[i], "--only"))
      only = next();
    else {
      std::fprintf(stderr,
                   "usage: policy_read_bench [--objects N] [--data DIR] [--reps N] [--keep] "
                   "[--no-analysis] [--only abcdpq]\n");
      return 2;
    }
  }
  if (objects <= 0) Die("--objects must be positive");
  const bool temp = dir.empty();
  if (temp) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ctihub-policy-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp");
    dir = tmpl;
  }
  {
    Hub hub = OpenHub(dir, objects);
    store::Store* st = hub.store.get();
    auto known_orgs = [st]() -> Result<std::vector<policy::KnownOrg>> {
      std::vector<policy::KnownOrg> known;
      CTIHUB_ASSIGN_OR_RETURN(auto orgs, st->ListOrganisations());
      for (const auto& o : orgs) known.push_back({o.name, o.identity_id});
      return known;
    };
    auto holder =
        Must(policy::PolicyHolder::Open(dir, std::chrono::milliseconds(0), known_orgs), "policy");
    const std::string audit_dir = dir + "/bench-audit";
    std::filesystem::remove_all(audit_dir);
    std::filesystem::create_directories(audit_dir);
    auto audit_log = Must(audit::AuditLog::Open(audit_dir), "audit");

    CountingStore cs_plain(*hub.store), cs_policy(*hub.store), cs_audit(*hub.store);
    auth::Authenticator auth_plain(cs_plain), auth_policy(cs_policy), auth_audit(cs_audit);
    auto authn = [](auth::Authenticator& a) {
      return [&a](std::string_view h) { return a.Authenticate(h); };
    };
    taxii::ServiceOptions so;
    so.max_page_size = 1000;
    taxii::Service plain(cs_plain, authn(auth_plain), so, taxii::WithoutPolicyForTest());
    taxii::Service with_policy(cs_policy, authn(auth_policy), so,
                               taxii::AccessControl{holder.get(), nullptr, ""});
    taxii::Service with_audit(cs_audit, authn(auth_audit), so,
                              taxii::AccessControl{holder.get(), audit_log.get(), audit_dir});

    std::vector<Scenario> sc = {
        {"(a) no policy", &hub.admin, &plain, &cs_plain, nullptr, {}},
        {"(b) policy, typical reader", &hub.typical, &with_policy, &cs_policy, nullptr, {}},
        {"(d) policy, broad reader", &hub.broad, &with_policy, &cs_policy, nullptr, {}},
        // Last in each rep: the audit trail's appender and checkpoints must not
        // run into the next scenario's timing.
        {"(c) policy + audit, typical", &hub.typical, &with_audit, &cs_audit, audit_log.get(), {}},
    };
    // Warm-up: the OS page cache and SQLite's caches, both services.
    (void)PageAll(plain, cs_plain, hub, hub.admin, nullptr);
    (void)PageAll(with_policy, cs_policy, hub, hub.typical, nullptr);
    for (int rep = 0; rep < reps; ++rep) {
      for (auto& s : sc) {
        if (only.find(s.name[1]) == std::string::npos) continue;
        s.runs.push_back(PageAll(*s.service, *s.counting, hub, *s.reader, s.audit));
        const Run& r = s.runs.back();
        std::fprintf(stderr, "  rep %d %-30s %.3f s wall %.3f s CPU %" PRId64 " served\n", rep + 1,
                     s.name.c_str(), r.wall, r.cpu, r.served);
      }
    }

    // Interleaved pages: p = (d) vs (a) per served object (the verdict),
    // q = (b) vs (a) per collection row (both walk every row).
    std::map<char, double> interleaved;  // median cost in throughput, %
    for (const char pair : {'p', 'q'}) {
      if (only.find(pair) == std::string::npos) continue;
      const Reader& reader = pair == 'p' ? hub.broad : hub.typical;
      const char* label = pair == 'p' ? "(d) broad reader, per served object"
                                      : "(b) typical reader, per collection row";
      const Span span = SpanOf(plain, cs_plain, hub, hub.admin);
      std::vector<double> costs;
      for (int rep = 0; rep < reps; ++rep) {
        Pager pa{&plain, &cs_plain, &hub.admin, "", &span};
        Pager pd{&with_policy, &cs_policy, &reader, span.middle, &span};
        // The one behind steps next (by share of the collection walked), so
        // both spend every stretch of the run side by side.
        for (int64_t k = 0; !pa.done || !pd.done; ++k) {
          const double a = pa.Progress(), d = pd.Progress();
          Pager& next = pa.done ? pd : pd.done ? pa : a < d ? pa : d < a ? pd : (k % 2 ? pd : pa);
          next.Step(hub);
        }
        // Time per object over (a)'s; the cost in throughput is 1 - 1/ratio.
        const double per_d =
            pair == 'p' ? static_cast<double>(pd.served) : static_cast<double>(hub.objects);
        const double ratio = (pd.cpu / per_d) / (pa.cpu / static_cast<double>(pa.served));
        costs.push_back(100.0 * (1.0 - 1.0 / ratio));
        std::fprintf(stderr,
                     "  rep %d interleaved pages, %s: (a) %.3f s CPU %" PRId64
                     " served, "
                     "policy %.3f s CPU %" PRId64 " served %" PRId64
                     " pages: time %+.1f%%, throughput %+.1f%%\n",
                     rep + 1, label, pa.cpu, pa.served, pd.cpu, pd.served, pd.pages,
                     100.0 * (ratio - 1.0), -costs.back());
      }
      std::sort(costs.begin(), costs.end());
      interleaved[pair] = Median(costs);
      std::fprintf(stderr,
                   "interleaved pages, %s: policy cost in throughput, median of %d reps: "
                   "%.1f%% (range %.1f%% .. %.1f%%)\n",
                   label, reps, Median(costs), costs.front(), costs.back());
    }
    if (only.find('x') != std::string::npos) DecisionsOnly(hub, *holder, hub.broad, reps);
    if (only != kAll) {  // a partial run (profiling): no table
      std::printf("partial run (--only %s): see the per-run lines on stderr\n", only.c_str());
      if (temp && !keep) std::filesystem::remove_all(dir);
      return 0;
    }
    const Scenario &a = sc[0], &b = sc[1], &d = sc[2], &c = sc[3];
    std::printf("\npaging %" PRId64
                " objects, GET .../objects/?limit=1000 through taxii::Service::Handle, "
                "SQLite store; %d organisations, %d agreements; medians of %d runs\n",
                hub.objects, kOrgs, kAgreements, reps);
    std::printf("%-29s %-6s %6s %9s %9s %8s %8s %11s %9s %12s %6s\n", "scenario", "reader", "pages",
                "served", "decided", "wall s", "CPU s", "served/s", "pages/s", "served/CPU-s",
                "MB");
    for (const auto& s : sc) {
      const Run& r = s.runs.front();
      std::printf("%-29s %-6s %6" PRId64 " %9" PRId64 " %9" PRId64
                  " %8.3f %8.3f %11.0f %9.1f %12.0f %6.0f\n",
                  s.name.c_str(), s.reader->label.c_str(), r.pages, r.served, r.decided, s.Wall(),
                  s.Cpu(), s.WallRate(), s.PageRate(), s.CpuRate(),
                  static_cast<double>(r.bytes) / 1e6);
    }
    const double rows = static_cast<double>(hub.objects);
    auto cost = [](double with, double without) { return 100.0 * (1.0 - with / without); };
    const double d_wall = cost(d.WallRate(), a.WallRate()), d_cpu = cost(d.CpuRate(), a.CpuRate());
    const double b_wall = cost(rows / b.Wall(), rows / a.Wall()),
                 b_cpu = cost(rows / b.Cpu(), rows / a.Cpu());
    const double c_wall = cost(rows / c.Wall(), rows / b.Wall()),
                 c_cpu = cost(rows / c.Cpu(), rows / b.Cpu());
    std::printf(
        "\npolicy cost per served object, (d) vs (a): %+.1f%% wall, %+.1f%% CPU "
        "((d) serves %.1f%% of the objects)\n",
        d_wall, d_cpu, 100.0 * static_cast<double>(d.runs.front().served) / rows);
    std::printf(
        "policy cost per collection row, (b) vs (a): %+.1f%% wall, %+.1f%% CPU "
        "((b) serves %.1f%%, decides %.1f%% of the rows)\n",
        b_wall, b_cpu, 100.0 * static_cast<double>(b.runs.front().served) / rows,
        100.0 * static_cast<double>(b.runs.front().decided) / rows);
    // Each rep runs (a) and (d) back to back: the median of the per-rep
    // ratios is less exposed to the VM's slow minutes than ratios of medians.
    std::vector<double> pairs;
    for (size_t i = 0; i < std::min(a.runs.size(), d.runs.size()); ++i) {
      const Run &ra = a.runs[i], &rd = d.runs[i];
      pairs.push_back(
          cost(static_cast<double>(rd.served) / rd.cpu, static_cast<double>(ra.served) / ra.cpu));
    }
    std::printf(
        "policy cost per served object, median of the %zu per-rep (a, d) pairs: %+.1f%% CPU\n",
        pairs.size(), Median(pairs));
    std::printf(
        "audit cost per collection row, (c) vs (b): %+.1f%% wall, %+.1f%% CPU "
        "(%" PRId64 " audit records)\n",
        c_wall, c_cpu, audit_log->committed_seq());
    std::printf(
        "policy cost, (a) and the policy reader interleaved page by page (thread CPU, "
        "median of %d reps): %+.1f%% per served object (d), %+.1f%% per collection row (b)\n",
        reps, interleaved['p'], interleaved['q']);
    // The verdict is the interleaved figure: timed side by side, (a) and (d)
    // share the VM's slow seconds, which moved the back-to-back runs above by
    // more than the policy costs.
    std::printf(
        "VERDICT: policy costs %.1f%% of paging throughput per served object (broad reader, "
        "interleaved pages, thread CPU; back to back: %.1f%% wall, %.1f%% CPU): %s the 15%% "
        "budget\n",
        interleaved['p'], d_wall, d_cpu, interleaved['p'] <= 15.0 ? "within" : "OVER");

    if (analysis) {
      Analyse(hub, *holder, hub.typical);
      Analyse(hub, *holder, hub.broad);
    }
  }
  if (temp && !keep) {
    std::filesystem::remove_all(dir);
  } else {
    std::printf("data kept in %s\n", dir.c_str());
  }
  return 0;
}
