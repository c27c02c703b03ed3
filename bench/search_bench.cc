// search_bench: the console's search (webapi::Search, GET /api/v1/search) at
// scale, through the real policy, over the SQLite store.
//
// Data (generated once into --data DIR, reused while the object count
// matches): N objects from 20 producer organisations in one collection: 88%
// indicators, 10% relationships between them (about 100 to each of 1,000 hub
// indicators), 2% sightings (MakeReferring).
// Names and descriptions are drawn from a 5,000-word vocabulary with a skewed
// (cubic) distribution, so the first words are in most objects and the last
// in few; each pattern holds a unique domain (w-<n>.example) and IP; TLP 40%
// CLEAR, 30% GREEN, 20% AMBER, 10% RED. DATA/policy.toml puts the first 10
// organisations in one community, so the reader (org-0, a member who produced
// 1/20 of the objects) may read CLEAR, its community's GREEN and its own:
// about half the rows. Objects go to the store with WriteObjects in batches,
// as a POST does (facts in columns, the FTS index in the writer's
// transaction).
// --count-cap N / --scan-cap N: webapi::SearchLimits (default: the server's).
// --db URL: the same over PostgreSQL (schema search_bench, regenerated with
// the data directory's marker; --data still keeps the marker and the policy).
//
// Each query runs --reps times (after one warm-up); the median and the
// slowest wall time are printed with what the answer held (total, capped,
// results). The budget is 100 ms at 1,000,000 objects.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/auth.h"
#include "policy/policy_holder.h"
#include "store/postgres/pg.h"
#include "store/postgres/postgres_store.h"
#include "store/store.h"
#include "taxii/access.h"
#include "taxii/taxii.h"
#include "webapi/graph.h"
#include "webapi/objects.h"
#include "webapi/search.h"

namespace fs = std::filesystem;
using namespace ctihub;

namespace {

constexpr int kOrgs = 20;
constexpr int kVocabulary = 5000;
constexpr const char* kCollection = "5ea4c4a0-0000-4000-8000-000000000001";

std::string Identity(int org) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "identity--00000000-0000-4000-8000-%012d", org + 1);
  return buf;
}

// Pronounceable, distinct words: w -> consonant-vowel syllables.
std::string Word(int w) {
  static constexpr const char* kSyl[] = {"ka", "lo", "mi", "ne", "ru", "ta", "vo",
                                         "zi", "pe", "sa", "do", "fu", "gi", "ha",
                                         "jo", "be", "cu", "xa", "yo", "wi"};
  std::string s;
  int v = w + 20;
  while (v > 0) {
    s += kSyl[v % 20];
    v /= 20;
  }
  return s;
}

int SkewedWord(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  const double x = u(rng);
  return static_cast<int>(x * x * x * kVocabulary);
}

std::string Marking(int tlp) {
  static constexpr const char* kIds[] = {
      "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
      "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
      "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "",
      "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};
  return kIds[tlp];
}

std::string ObjectId(std::string_view type, int64_t n) {
  char uuid[64];
  std::snprintf(uuid, sizeof uuid, "%08" PRIx64 "-0000-4000-8000-%012" PRId64, n >> 20, n);
  return std::string(type) + "--" + uuid;
}

// Every 10th object (n % 10 == 9) is a relationship "indicates" from the
// indicator before it to one of 1,000 hub indicators (HubOf: about 100
// relationships point at each); every 50th (n % 50 == 25) a sighting of the
// indicator before it. The rest are indicators.
int64_t HubOf(int64_t n) { return (n / 10 % 1000) * 10; }

// A relationship or sighting object n (see above), canonical JSON.
store::NewObject MakeReferring(int64_t n, int org, int tlp) {
  store::NewObject o;
  const bool rel = n % 10 == 9;
  o.type = rel ? "relationship" : "sighting";
  o.id = ObjectId(o.type, n);
  o.spec_version = "2.1";
  o.version = *Timestamp::Parse("2026-01-01T00:00:00.000Z");
  o.has_version = true;
  const std::string from = ObjectId("indicator", n - 1);
  if (rel) {
    o.json = R"({"created":"2026-01-01T00:00:00.000Z","created_by_ref":")" + Identity(org) +
             R"(","id":")" + o.id + R"(","modified":"2026-01-01T00:00:00.000Z",)" +
             R"("object_marking_refs":[")" + Marking(tlp) +
             R"("],"relationship_type":"indicates","source_ref":")" + from +
             R"(","spec_version":"2.1","target_ref":")" + ObjectId("indicator", HubOf(n)) +
             R"(","type":"relationship"})";
  } else {
    o.json = R"({"count":2,"created":"2026-01-01T00:00:00.000Z","created_by_ref":")" +
             Identity(org) + R"(","id":")" + o.id + R"(","modified":"2026-01-01T00:00:00.000Z",)" +
             R"("object_marking_refs":[")" + Marking(tlp) + R"("],"sighting_of_ref":")" + from +
             R"(","spec_version":"2.1","type":"sighting"})";
  }
  o.access.producer = Identity(org);
  o.access.tlp = tlp;
  return o;
}

store::NewObject MakeObject(int64_t n, std::mt19937_64& rng) {
  const int org = static_cast<int>(rng() % kOrgs);
  const int r = static_cast<int>(rng() % 10);
  const int tlp = r < 4 ? 0 : r < 7 ? 1 : r < 9 ? 2 : 4;
  if (n % 10 == 9 || n % 50 == 25) return MakeReferring(n, org, tlp);
  std::string name = Word(SkewedWord(rng)) + " " + Word(SkewedWord(rng));
  std::string description;
  for (int i = 0; i < 8; ++i) description += (i ? " " : "") + Word(SkewedWord(rng));
  const std::string domain = "w-" + std::to_string(n) + ".example";
  const std::string ip = "10." + std::to_string((n >> 16) & 255) + "." +
                         std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
  store::NewObject o;
  o.id = ObjectId("indicator", n);
  o.type = "indicator";
  o.spec_version = "2.1";
  o.version = *Timestamp::Parse("2026-01-01T00:00:00.000Z");
  o.has_version = true;
  // Keys in RFC 8785 order, as canonical JSON.
  o.json =
      R"({"created":"2026-01-01T00:00:00.000Z","created_by_ref":")" + Identity(org) +
      R"(","description":")" + description + R"(","id":")" + o.id +
      R"(","indicator_types":["malicious-activity"],"modified":"2026-01-01T00:00:00.000Z","name":")" +
      name + R"(","object_marking_refs":[")" + Marking(tlp) +
      R"("],"pattern":"[domain-name:value = ')" + domain + "' OR ipv4-addr:value = '" + ip +
      R"(']","pattern_type":"stix","spec_version":"2.1","type":"indicator","valid_from":"2026-01-01T00:00:00Z"})";
  o.access.producer = Identity(org);
  o.access.tlp = tlp;
  return o;
}

Status Generate(store::Store& s, int64_t objects) {
  CTIHUB_RETURN_IF_ERROR(s.PutApiRoot({"api1", "API 1", "", 10 << 20}));
  store::Collection c;
  c.id = kCollection;
  c.api_root = "api1";
  c.title = "Main";
  c.readers = {"org:*"};
  CTIHUB_ASSIGN_OR_RETURN(auto added, s.AddCollection(c));
  (void)added;
  std::mt19937_64 rng(17);
  constexpr int64_t kBatch = 10000;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t done = 0; done < objects;) {
    std::vector<store::NewObject> batch;
    batch.reserve(kBatch);
    for (int64_t i = 0; i < kBatch && done < objects; ++i, ++done) {
      batch.push_back(MakeObject(done, rng));
    }
    CTIHUB_ASSIGN_OR_RETURN(auto out, s.WriteObjects(kCollection, std::move(batch), "").get());
    (void)out;
    if (done % 100000 == 0) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "  %" PRId64 " objects written (%.0f/s)\n", done,
                   static_cast<double>(done) / secs);
    }
  }
  return Status::Ok();
}

void WritePolicy(const fs::path& dir) {
  std::ofstream f(dir / "policy.toml");
  f << "[defaults]\nunmarked_tlp = \"amber\"\n\n[[community]]\nname = \"c1\"\n";
  for (int i = 0; i < kOrgs; ++i) {
    f << "\n[[organisation]]\nname = \"org-" << i << "\"\nidentity = \"" << Identity(i) << "\"\n";
    if (i < 10) f << "communities = [\"c1\"]\n";
  }
}

double Median(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// The object page (GET /api/v1/objects/{id}: versions, relationships both
// ways, sightings) and the graph (GET /api/v1/graph/{id}) of a hub indicator
// (about 100 relationships point at it) and of an indicator related to a hub
// (its graph reaches the hub's neighbours at depth 2).
void TimeObjectPages(store::Store& st, const taxii::AccessControl& access,
                     const auth::Principal& reader, webapi::SearchLimits limits, int reps,
                     int64_t objects) {
  struct Page {
    const char* what;
    std::string id;
    std::vector<std::pair<std::string, std::string>> graph;  // empty: the object page
  };
  // The first of each kind the reader may read with a relationship it may
  // read (`has` in its object page; "" when there is none).
  auto readable = [&](int64_t from, int64_t step, const char* has) {
    for (int64_t n = from; n < objects; n += step) {
      if (n % 10 == 9 || n % 50 == 25) continue;
      std::vector<audit::ObjectRef> served;
      std::string id = ObjectId("indicator", n);
      const taxii::Response r = webapi::GetObject({st, access, reader, limits}, id, "", served);
      if (r.status == 200 && r.body.find(has) != std::string::npos) return id;
    }
    return std::string();
  };
  const std::string hub = readable(0, 10, R"("incoming":[{)");
  // An indicator with a relationship to a hub (n % 10 == 8), mid-store.
  const std::string plain = readable(objects / 2 / 10 * 10 + 8, 10, R"("outgoing":[{)");
  const std::vector<Page> pages = {
      {"object page, hub indicator", hub, {}},
      {"object page, indicator -> hub", plain, {}},
      {"graph depth 1, hub", hub, {{"depth", "1"}}},
      {"graph depth 2, indicator -> hub", plain, {{"depth", "2"}}},
      {"graph depth 3, indicator -> hub", plain, {{"depth", "3"}}},
  };
  std::printf("\n%-34s %10s %10s %8s %10s\n", "page", "median ms", "max ms", "status", "served");
  for (const Page& p : pages) {
    if (p.id.empty()) continue;
    std::vector<double> ms;
    taxii::Response last;
    size_t served_count = 0;
    for (int rep = 0; rep <= reps; ++rep) {
      std::vector<audit::ObjectRef> served;
      const webapi::SearchContext ctx{st, access, reader, limits};
      const auto t0 = std::chrono::steady_clock::now();
      last = p.graph.empty() ? webapi::GetObject(ctx, p.id, "", served)
                             : webapi::GetGraph(ctx, p.id, p.graph, served);
      const double elapsed =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (rep > 0) ms.push_back(elapsed);  // rep 0 warms the caches
      served_count = served.size();
    }
    std::printf("%-34s %10.1f %10.1f %8d %10zu\n", p.what, Median(ms),
                *std::max_element(ms.begin(), ms.end()), last.status, served_count);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int64_t objects = 1000000;
  std::string data;
  int reps = 5;
  std::string db;  // --db URL: PostgreSQL (schema "search_bench"), else SQLite in --data
  webapi::SearchLimits limits;  // the server's defaults unless given
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--count-cap"))
      limits.count_cap = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--scan-cap"))
      limits.scan_cap = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--objects")) objects = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--data")) data = argv[i + 1];
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--db")) db = argv[i + 1];
  }
  const bool temp = data.empty();
  if (temp) data = (fs::temp_directory_path() / "ctihub_search_bench").string();
  fs::path dir(data);
  fs::create_directories(dir);
  // The data's shape changed when relationships and sightings joined it: an
  // older directory is regenerated.
  const fs::path marker = dir / "objects-v2";
  int64_t have = -1;
  if (std::ifstream in(marker); in) in >> have;
  if (have != objects) {
    fs::remove(dir / "ctihub.db");
    fs::remove(dir / "ctihub.db-wal");
    fs::remove(dir / "ctihub.db-shm");
  }
  store::SqliteOptions so;
  so.path = (dir / "ctihub.db").string();
  store::PostgresOptions po;
  po.url = db;
  po.schema = "search_bench";
  po.drop_schema_for_test = have != objects;  // regenerated as the SQLite file is
  auto s = db.empty() ? store::OpenSqliteStore(so) : store::OpenPostgresStore(po);
  if (!s.ok()) {
    std::fprintf(stderr, "store: %s\n", s.status().ToString().c_str());
    return 1;
  }
  store::Store& st = **s;
  if (have != objects) {
    std::fprintf(stderr, "generating %" PRId64 " objects in %s\n", objects, data.c_str());
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kOrgs; ++i) {
      auto o = st.AddOrganisation({0, "org-" + std::to_string(i), Identity(i)});
      if (!o.ok()) return 1;
    }
    if (Status g = Generate(st, objects); !g.ok()) {
      std::fprintf(stderr, "generate: %s\n", g.ToString().c_str());
      return 1;
    }
    if (!db.empty()) {
      // Planner statistics after the bulk load (autovacuum would gather them
      // later): without them PostgreSQL takes every word for a rare one.
      auto conn = store::pg::Connection::Open(db, po.schema);
      if (!conn.ok() || !(*conn)->Exec("ANALYZE objects").ok()) {
        std::fprintf(stderr, "ANALYZE failed\n");
        return 1;
      }
    }
    std::ofstream(marker) << objects;
    std::fprintf(stderr, "generated in %.1f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  WritePolicy(dir);
  auto holder = policy::PolicyHolder::Open(data, std::chrono::milliseconds(0), [&st] {
    std::vector<policy::KnownOrg> known;
    auto orgs = st.ListOrganisations();
    if (!orgs.ok()) return Result<std::vector<policy::KnownOrg>>(orgs.status());
    for (const auto& o : *orgs) known.push_back({o.name, o.identity_id});
    return Result<std::vector<policy::KnownOrg>>(known);
  });
  if (!holder.ok()) {
    std::fprintf(stderr, "policy: %s\n", holder.status().ToString().c_str());
    return 1;
  }
  taxii::AccessControl access;
  access.policy = holder->get();
  auth::Principal reader;
  reader.user = "reader";
  reader.user_id = 1;
  reader.org = "org-0";
  reader.org_id = 1;
  reader.role = store::Role::kReader;

  const std::string rare = Word(kVocabulary - 7);
  const std::string medium = Word(kVocabulary / 4);
  const std::string common = Word(0);
  struct Query {
    const char* what;
    std::string target;
  };
  const std::vector<Query> queries = {
      {"rare word", "/api/v1/search?q=" + rare},
      {"medium word", "/api/v1/search?q=" + medium},
      {"common word (most objects)", "/api/v1/search?q=" + common},
      {"two common words", "/api/v1/search?q=" + common + "%20" + Word(1)},
      {"2-letter prefix", "/api/v1/search?q=" + common.substr(0, 2)},
      {"exact domain value", "/api/v1/search?q=w-" + std::to_string(objects / 2) + ".example"},
      {"exact IP value", "/api/v1/search?q=10.0.1.1"},
      {"no q, tlp=green", "/api/v1/search?tlp=green"},
      {"no q, page 5 (next)", ""},
      {"medium word, producer filter", "/api/v1/search?q=" + medium + "&producer=org-3"},
  };
  std::printf("count cap %zu, scan cap %zu\n", limits.count_cap, limits.scan_cap);
  std::printf("%-30s %10s %10s %8s %7s %7s\n", "query", "median ms", "max ms", "total", "capped",
              "results");
  std::string next_cursor;
  for (const auto& q : queries) {
    std::string target = q.target;
    if (target.empty()) {
      // Page 5 of an empty-q search: follow `next` four times.
      target = "/api/v1/search?limit=20";
      for (int p = 0; p < 4; ++p) {
        std::vector<audit::ObjectRef> served;
        taxii::Response r = webapi::Search({st, access, reader, limits}, target, served);
        const size_t at = r.body.find("\"next\":\"");
        if (at == std::string::npos) break;
        const size_t end = r.body.find('"', at + 8);
        target = "/api/v1/search?limit=20&next=" + r.body.substr(at + 8, end - at - 8);
      }
    }
    std::vector<double> ms;
    taxii::Response last;
    for (int rep = 0; rep <= reps; ++rep) {
      std::vector<audit::ObjectRef> served;
      const auto t0 = std::chrono::steady_clock::now();
      last = webapi::Search({st, access, reader, limits}, target, served);
      const double elapsed =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (rep > 0) ms.push_back(elapsed);  // rep 0 warms the caches
    }
    std::sort(ms.begin(), ms.end());
    auto field = [&](const char* key) -> std::string {
      const std::string k = std::string("\"") + key + "\":";
      const size_t at = last.body.find(k);
      if (at == std::string::npos) return "?";
      const size_t from = at + k.size();
      return last.body.substr(from, last.body.find_first_of(",}", from) - from);
    };
    size_t results = 0;
    for (size_t at = last.body.find("\"snippet\""); at != std::string::npos;
         at = last.body.find("\"snippet\"", at + 1)) {
      ++results;
    }
    std::printf("%-30s %10.1f %10.1f %8s %7s %7zu%s\n", q.what, ms[ms.size() / 2], ms.back(),
                field("total").c_str(), field("total_capped").c_str(), results,
                last.status == 200 ? "" : "  (error)");
  }
  TimeObjectPages(st, access, reader, limits, reps, objects);
  if (temp) std::printf("(data kept in %s; pass --data DIR to choose)\n", data.c_str());
  return 0;
}
