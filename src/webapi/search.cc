#include "webapi/search.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/json.h"
#include "core/timestamp.h"
#include "core/utf8.h"
#include "policy/markings.h"
#include "store/store.h"
#include "taxii/access.h"
#include "taxii/query.h"
#include "taxii/taxii.h"

namespace ctihub::webapi {

using taxii::ErrorResponse;
using taxii::Response;

namespace {

constexpr size_t kSnippetBytes = 160;
constexpr size_t kDescriptionBytes = 500;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool HasTokenChar(std::string_view w) {
  return std::any_of(w.begin(), w.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || u >= 0x80;
  });
}

std::vector<std::string> SplitList(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty()) {
    const size_t comma = std::min(v.find(','), v.size());
    if (comma > 0) out.emplace_back(v.substr(0, comma));
    v.remove_prefix(std::min(comma + 1, v.size()));
  }
  return out;
}

// The filters of one search, parsed from the URL.
struct Filters {
  std::string q;
  std::vector<std::string> words;
  std::vector<std::string> types;
  std::vector<std::string> tlps;       // names, "none" for unmarked
  std::vector<std::string> producers;  // organisation names or identity ids
  std::vector<std::string> collections;
  std::optional<int64_t> added_after_us;
  std::optional<int64_t> added_before_us;
  std::optional<bool> revoked;
  size_t limit = kDefaultSearchLimit;
  std::optional<int64_t> below_us;  // the cursor
};

Status BadFilter(std::string_view name, std::string_view why) {
  return InvalidArgument("bad_filter", std::string(name) + ": " + std::string(why));
}

Result<int64_t> ParseTime(std::string_view name, std::string_view v) {
  auto ts = Timestamp::Parse(v);
  if (!ts.ok()) return BadFilter(name, "an RFC 3339 timestamp, e.g. 2026-12-01T00:00:00Z");
  return ts->micros();
}

Result<Filters> ParseFilters(const std::vector<std::pair<std::string, std::string>>& params) {
  Filters f;
  for (const auto& [k, v] : params) {
    if (k == "q") {
      f.q = v;
    } else if (k == "type") {
      f.types = SplitList(v);
    } else if (k == "tlp") {
      for (const auto& t : SplitList(v)) {
        if (t != "none" && !policy::ParseTlp(t)) {
          return BadFilter("tlp", "clear, green, amber, amber+strict, red or none");
        }
        f.tlps.push_back(t == "none" ? t : std::string(policy::TlpName(*policy::ParseTlp(t))));
      }
    } else if (k == "producer") {
      f.producers = SplitList(v);
    } else if (k == "collection") {
      f.collections = SplitList(v);
    } else if (k == "added_after") {
      CTIHUB_ASSIGN_OR_RETURN(f.added_after_us, ParseTime(k, v));
    } else if (k == "added_before") {
      CTIHUB_ASSIGN_OR_RETURN(f.added_before_us, ParseTime(k, v));
    } else if (k == "revoked") {
      if (v != "true" && v != "false") return BadFilter("revoked", "true or false");
      f.revoked = v == "true";
    } else if (k == "limit") {
      size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size() || n == 0) {
        return BadFilter("limit", "a number from 1 to 100");
      }
      f.limit = std::min(n, kMaxSearchLimit);
    } else if (k == "next") {
      int64_t us = 0;
      auto [p, ec] =
          std::from_chars(v.data() + std::min<size_t>(1, v.size()), v.data() + v.size(), us);
      if (v.size() < 2 || v[0] != 'd' || ec != std::errc() || p != v.data() + v.size()) {
        return BadFilter("next", "not a cursor this server gave");
      }
      f.below_us = us;
    }
  }
  if (f.types.size() > 100 || f.tlps.size() > 10 || f.producers.size() > 100 ||
      f.collections.size() > 1000) {
    return BadFilter("filters", "too many values");
  }
  CTIHUB_ASSIGN_OR_RETURN(f.words, SearchWords(f.q));
  return f;
}

// One collection the caller may read, with its read gate's callbacks.
struct Reader {
  const store::Collection* collection = nullptr;
  std::unique_ptr<taxii::ReadGate> gate;
  store::ObjectQuery hooks;  // scope, screen and admit as the gate installed them
};

// What the page shows of an admitted object, from its (possibly redacted) JSON.
struct Shown {
  std::string name;
  std::string description;
  std::string created;
  std::string modified;
  bool revoked = false;
};

Shown ShownOf(std::string_view text) {
  thread_local json::JsonParser parser;
  Shown s;
  auto doc = parser.Parse(text);
  if (!doc.ok() || !doc->is_object()) return s;
  auto str = [&](const char* key) -> std::string {
    auto v = (*doc)[key];
    if (v.error() || !v.value().is_string()) return {};
    return std::string(std::string_view(v.value().get_string().value()));
  };
  s.name = str("name");
  if (s.name.empty()) s.name = str("value");
  s.description = str("description");
  s.created = str("created");
  s.modified = str("modified");
  auto r = (*doc)["revoked"];
  s.revoked = !r.error() && r.value().is_bool() && r.value().get_bool().value();
  return s;
}

// Cuts at most `n` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string TlpOf(int code) {
  if (code < 0 || code > 4) return {};
  return std::string(policy::TlpName(static_cast<policy::Tlp>(code)));
}

void Count(std::map<std::string, int64_t>& facet, const std::string& key) { ++facet[key]; }

void WriteFacet(json::JsonWriter& w, const char* name, const std::map<std::string, int64_t>& f) {
  w.Key(name).BeginObject();
  for (const auto& [k, n] : f) w.Key(k).Int(n);
  w.EndObject();
}

}  // namespace

Result<std::vector<std::string>> SearchWords(std::string_view q) {
  if (q.size() > kMaxQueryBytes) {
    return InvalidArgument("bad_query", "q: at most " + std::to_string(kMaxQueryBytes) + " bytes");
  }
  if (q.find('\0') != std::string_view::npos || !IsValidUtf8(q)) {
    return InvalidArgument("bad_query", "q: must be UTF-8 text without NUL");
  }
  std::vector<std::string> words;
  bool dropped = false;
  while (!q.empty()) {
    while (!q.empty() && IsSpace(q.front())) q.remove_prefix(1);
    size_t end = 0;
    while (end < q.size() && !IsSpace(q[end])) ++end;
    if (end == 0) break;
    std::string_view w = q.substr(0, end);
    q.remove_prefix(end);
    if (!HasTokenChar(w)) {
      dropped = true;
      continue;
    }
    if (words.size() == kMaxQueryWords) {
      return InvalidArgument("bad_query",
                             "q: at most " + std::to_string(kMaxQueryWords) + " words");
    }
    words.emplace_back(w);
  }
  // Only punctuation: a search for nothing findable, not for everything.
  if (words.empty() && dropped) words.emplace_back("\"");
  return words;
}

std::string Snippet(std::string_view text, const std::vector<std::string>& words) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  size_t at = std::string::npos, len = 0;
  for (const auto& w : words) {
    // The word's first run of letters and digits, as the index saw it.
    size_t b = 0;
    while (b < w.size() && !HasTokenChar(w.substr(b, 1))) ++b;
    size_t e = b;
    while (e < w.size() && HasTokenChar(w.substr(e, 1))) ++e;
    std::string token = w.substr(b, e - b);
    std::transform(token.begin(), token.end(), token.begin(), [](char c) {
      return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    if (token.empty()) continue;
    const size_t found = lower.find(token);
    if (found != std::string::npos && found < at) {
      at = found;
      len = token.size();
    }
  }
  std::string out;
  if (at == std::string::npos) {
    out = std::string(CutUtf8(text, kSnippetBytes));
  } else {
    size_t start = at > kSnippetBytes / 2 ? at - kSnippetBytes / 2 : 0;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    std::string_view before = text.substr(start, at - start);
    std::string_view after = CutUtf8(text.substr(at + len), kSnippetBytes / 2);
    out = (start > 0 ? "…" : "") + std::string(before) + "[" + std::string(text.substr(at, len)) +
          "]" + std::string(after) + (at + len + after.size() < text.size() ? "…" : "");
  }
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

Response Search(const SearchContext& ctx, std::string_view target,
                std::vector<audit::ObjectRef>& served) {
  auto parsed = taxii::ParseTarget(target);
  if (!parsed.ok()) {
    return ErrorResponse(400, "bad_query", "Bad Request",
                         "the request target: " + parsed.status().message());
  }
  auto filters = ParseFilters(parsed->params);
  if (!filters.ok()) return ErrorResponse(filters.status(), "bad_filter");
  const Filters& f = *filters;

  std::shared_ptr<const policy::Policy> policy =
      ctx.access.policy != nullptr ? ctx.access.policy->Current() : nullptr;
  if (policy == nullptr && !ctx.access.without_policy_for_test) {
    return ErrorResponse(503, "policy_unavailable", "Service Unavailable",
                         "no sharing policy is loaded");
  }
  auto collections = ctx.store.ListCollections("");
  if (!collections.ok()) return ErrorResponse(collections.status(), "store_error");
  auto orgs = ctx.store.ListOrganisations();
  if (!orgs.ok()) return ErrorResponse(orgs.status(), "store_error");
  std::unordered_map<std::string, std::string> org_of_identity;
  for (const auto& o : *orgs) {
    if (!o.identity_id.empty()) org_of_identity[o.identity_id] = o.name;
  }

  // The collections to look in: readable, and named by `collection` if given.
  const Timestamp now = Timestamp::Now();
  std::unordered_map<std::string, Reader> readers;
  store::SearchQuery sq;
  for (const auto& c : *collections) {
    if (!auth::CanRead(ctx.principal, c)) continue;
    if (!f.collections.empty() &&
        std::find(f.collections.begin(), f.collections.end(), c.id) == f.collections.end()) {
      continue;
    }
    Reader r;
    r.collection = &c;
    r.gate = policy != nullptr ? std::make_unique<taxii::ReadGate>(policy, ctx.principal, c, now)
                               : std::make_unique<taxii::ReadGate>(
                                     taxii::ReadGate::WithoutPolicyForTest(ctx.principal, c));
    r.gate->Apply(r.hooks);
    sq.collection_ids.push_back(c.id);
    readers.emplace(c.id, std::move(r));
  }
  sq.words = f.words;
  sq.types = f.types;
  // TLP and producer filters go to the store's columns (policy::Tlp codes;
  // an organisation name means its identity).
  for (const auto& t : f.tlps) {
    sq.tlps.push_back(t == "none" ? -1 : static_cast<int>(*policy::ParseTlp(t)));
  }
  for (const auto& p : f.producers) {
    auto org = std::find_if(orgs->begin(), orgs->end(), [&](const auto& o) { return o.name == p; });
    sq.producers.push_back(org != orgs->end() && !org->identity_id.empty() ? org->identity_id : p);
  }
  sq.added_after_us = f.added_after_us;
  sq.added_before_us = f.added_before_us;

  int64_t total = 0;
  size_t examined = 0;
  bool capped = false;
  bool more = false;
  std::map<std::string, int64_t> by_type, by_tlp, by_producer;
  std::string results;
  json::JsonWriter rw(results);
  rw.BeginArray();
  size_t shown = 0;
  int64_t last_shown_us = 0;
  auto visit = [&](store::SearchHit& hit) {
    if (examined++ == ctx.limits.scan_cap) {
      capped = true;
      return false;
    }
    auto it = readers.find(hit.object.collection_id);
    if (it == readers.end()) return true;
    Reader& reader = it->second;
    store::ObjectVersion& row = hit.object;
    if (reader.hooks.screen && !reader.hooks.screen(row)) return true;
    if (reader.hooks.admit && !reader.hooks.admit(row)) return true;
    const taxii::ServedGrant* grant = reader.gate->GrantOf(row);
    const bool redacted = grant != nullptr && grant->redacted;
    // A redacted copy must match on what it shows, or the search would tell
    // what the redaction hides.
    if (redacted && !f.words.empty() &&
        !store::SearchTextMatches(store::SearchTextOf(row.json), f.words)) {
      return true;
    }
    const std::string tlp = TlpOf(row.access.tlp);
    auto org = org_of_identity.find(row.access.producer);
    const std::string producer = org != org_of_identity.end() ? org->second : row.access.producer;
    const bool on_page = !f.below_us || row.date_added_us < *f.below_us;
    // Parsed only when needed: most counted rows are never shown.
    const bool show = on_page && shown < f.limit;
    Shown s;
    if (show || f.revoked) s = ShownOf(row.json);
    if (f.revoked && s.revoked != *f.revoked) return true;
    const bool counting = static_cast<size_t>(total) < ctx.limits.count_cap;
    if (counting) {
      ++total;
      if (ctx.on_counted) ctx.on_counted(row);
      Count(by_type, row.type);
      Count(by_tlp, tlp.empty() ? "null" : tlp);
      Count(by_producer, producer);
    } else {
      capped = true;
    }
    if (on_page && shown == f.limit) more = true;
    if (show) {
      ++shown;
      last_shown_us = row.date_added_us;
      served.emplace_back(row.id, row.version.ToString(),
                          grant != nullptr ? std::string(grant->via) : std::string(), redacted);
      rw.BeginObject();
      rw.Key("id").String(row.id);
      rw.Key("type").String(row.type);
      rw.Key("name").String(s.name);
      rw.Key("description").String(CutUtf8(s.description, kDescriptionBytes));
      rw.Key("snippet").String(
          f.words.empty() ? std::string()
                          : Snippet(store::SearchTextOf(row.json, /*parts=*/false), f.words));
      rw.Key("collection").String(row.collection_id);
      rw.Key("collection_title").String(reader.collection->title);
      rw.Key("tlp").StringOrNull(tlp, !tlp.empty());
      rw.Key("created").String(s.created);
      rw.Key("modified").String(s.modified);
      rw.Key("revoked").Bool(s.revoked);
      rw.Key("producer").String(producer);
      rw.EndObject();
    }
    // Done once nothing more is counted and the page knows whether more follow.
    return counting || !more;
  };
  if (!sq.collection_ids.empty()) {
    Status st = ctx.store.SearchObjects(sq, visit);
    if (!st.ok()) return ErrorResponse(st, "store_error");
  }
  rw.EndArray();

  Response r;
  r.status = 200;
  r.content_type = "application/json";
  json::JsonWriter w(r.body);
  w.BeginObject();
  w.Key("total").Int(total);
  w.Key("total_capped").Bool(capped);
  w.Key("facets").BeginObject();
  WriteFacet(w, "type", by_type);
  WriteFacet(w, "tlp", by_tlp);
  WriteFacet(w, "producer", by_producer);
  w.EndObject();
  w.Key("results").Raw(results);
  w.Key("next");
  if (more) {
    w.String("d" + std::to_string(last_shown_us));
  } else {
    w.Null();
  }
  w.EndObject();
  return r;
}

namespace {

// The search body's members `stats` needs, as raw JSON text.
struct SearchParts {
  int64_t total = 0;
  bool capped = false;
  std::string by_type = "{}", by_tlp = "{}", by_producer = "{}", results = "[]";
};

Result<SearchParts> PartsOf(const Response& r) {
  if (r.status != 200) return Internal("search failed: " + r.body);
  json::JsonParser parser;
  CTIHUB_ASSIGN_OR_RETURN(json::Element doc, parser.Parse(r.body));
  SearchParts p;
  p.total = doc["total"].get_int64().value();
  p.capped = doc["total_capped"].get_bool().value();
  p.by_type = json::CanonicalJson(doc["facets"]["type"].value());
  p.by_tlp = json::CanonicalJson(doc["facets"]["tlp"].value());
  p.by_producer = json::CanonicalJson(doc["facets"]["producer"].value());
  p.results = json::CanonicalJson(doc["results"].value());
  return p;
}

}  // namespace

Response Stats(const SearchContext& ctx, std::vector<audit::ObjectRef>& served) {
  // Histograms of what the search counts: days (30, by date_added) and the
  // last hour's minutes.
  const int64_t now_us = Timestamp::Now().micros();
  constexpr int64_t kMinute = int64_t{60} * 1000000;
  constexpr int64_t kDay = 1440 * kMinute;
  std::map<int64_t, int64_t> days, minutes;
  SearchContext counting = ctx;
  counting.on_counted = [&](const store::ObjectVersion& v) {
    if (v.date_added_us > now_us - 30 * kDay) ++days[v.date_added_us / kDay];
    if (v.date_added_us > now_us - 60 * kMinute) ++minutes[v.date_added_us / kMinute];
  };
  auto all = PartsOf(Search(counting, "/api/v1/search?limit=10", served));
  if (!all.ok()) return ErrorResponse(all.status(), "store_error");
  auto sightings = PartsOf(Search(ctx, "/api/v1/search?type=sighting&limit=10", served));
  if (!sightings.ok()) return ErrorResponse(sightings.status(), "store_error");
  Response r;
  r.status = 200;
  r.content_type = "application/json";
  json::JsonWriter w(r.body);
  w.BeginObject();
  w.Key("objects").Int(all->total);
  w.Key("objects_capped").Bool(all->capped);
  w.Key("by_type").Raw(all->by_type);
  w.Key("by_tlp").Raw(all->by_tlp);
  w.Key("by_producer").Raw(all->by_producer);
  w.Key("by_day").BeginArray();
  for (const auto& [day, n] : days) {
    w.BeginObject();
    w.Key("day").String(Timestamp::FromMicros(day * kDay).Format(0).substr(0, 10));
    w.Key("count").Int(n);
    w.EndObject();
  }
  w.EndArray();
  w.Key("ingest_per_min").BeginArray();
  for (const auto& [minute, n] : minutes) {
    w.BeginObject();
    w.Key("minute").String(Timestamp::FromMicros(minute * kMinute).Format(0));
    w.Key("count").Int(n);
    w.EndObject();
  }
  w.EndArray();
  w.Key("latest_objects").Raw(all->results);
  w.Key("latest_sightings").Raw(sightings->results);
  w.EndObject();
  return r;
}

}  // namespace ctihub::webapi
