#include "webapi/objects.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "auth/auth.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "policy/markings.h"
#include "store/store.h"
#include "taxii/access.h"
#include "taxii/taxii.h"
#include "webapi/read_view.h"

namespace ctihub::webapi {

using taxii::ErrorResponse;
using taxii::Response;

namespace {

constexpr size_t kMaxReferrers = 200;  // referring objects looked at per object page
constexpr size_t kMaxViewings = 200;   // who_saw rows, newest first

std::string_view TypeOfId(std::string_view id) { return id.substr(0, id.find("--")); }

// A relationship of the object: the other end, seen from the object.
struct Link {
  std::string id, relationship_type, other_ref, other_name;
};

struct Related {
  std::vector<Link> outgoing, incoming;
  std::vector<std::string> sightings;  // the sightings' JSON, as served
};

// The relationships and sightings that point at `id`, as the caller may read
// them. A relationship whose other end the caller may not read is left out:
// its id would name an object the caller may not see (the graph drops it too).
Result<Related> FindRelated(ReadView& view, const std::string& id,
                            std::vector<audit::ObjectRef>& served) {
  CTIHUB_ASSIGN_OR_RETURN(auto referrers, view.Referrers(id, kMaxReferrers));
  std::vector<Summary> summaries;
  summaries.reserve(referrers.size());
  std::vector<std::string> ends;  // the relationships' other ends, looked up at once
  for (const VisibleVersion& v : referrers) {
    Summary s = Summarise(v.row.json);
    if (s.type == "relationship" && (s.source_ref == id || s.target_ref == id)) {
      ends.push_back(s.source_ref == id ? s.target_ref : s.source_ref);
    }
    summaries.push_back(std::move(s));
  }
  CTIHUB_ASSIGN_OR_RETURN(auto readable_ends, view.NewestOf(ends));
  Related out;
  std::set<std::string> ends_served;
  for (size_t i = 0; i < referrers.size(); ++i) {
    VisibleVersion& v = referrers[i];
    const Summary& s = summaries[i];
    if (s.type == "sighting" && s.sighting_of_ref == id) {
      Serve(served, v);
      out.sightings.push_back(std::move(v.row.json));
      continue;
    }
    if (s.type != "relationship" || (s.source_ref != id && s.target_ref != id)) continue;
    const bool from = s.source_ref == id;
    const std::string& other = from ? s.target_ref : s.source_ref;
    auto end = readable_ends.find(other);
    if (end == readable_ends.end()) continue;
    Serve(served, v);
    if (ends_served.insert(other).second) Serve(served, end->second);
    Link link{v.row.id, s.relationship_type, other, Summarise(end->second.row.json).name};
    if (from && s.target_ref == id) out.incoming.push_back(link);  // a loop: both ways
    (from ? out.outgoing : out.incoming).push_back(std::move(link));
  }
  return out;
}

void WriteLinks(json::JsonWriter& w, const std::vector<Link>& links, std::string_view side) {
  w.BeginArray();
  for (const Link& l : links) {
    w.BeginObject();
    w.Key("id").String(l.id);
    w.Key("relationship_type").String(l.relationship_type);
    w.Key(std::string(side) + "_ref").String(l.other_ref);
    w.Key(std::string(side) + "_type").String(TypeOfId(l.other_ref));
    if (!l.other_name.empty()) w.Key(std::string(side) + "_name").String(l.other_name);
    w.EndObject();
  }
  w.EndArray();
}

void WriteRelated(json::JsonWriter& w, const Related& related) {
  w.Key("relationships").BeginObject();
  w.Key("outgoing");
  WriteLinks(w, related.outgoing, "target");
  w.Key("incoming");
  WriteLinks(w, related.incoming, "source");
  w.EndObject();
  w.Key("sightings").BeginArray();
  for (const std::string& s : related.sightings) w.Raw(s);
  w.EndArray();
}

// Auditors see who was served the object: a hub-auditor every record; an
// organisation's auditor its own users' records and, of other
// organisations' users, those naming a version it may read, without the
// grant (it would name the other side's agreements) and the query string (as
// GET /api/v1/audit shows them).
bool SeesWhoSaw(const auth::Principal& p) {
  return p.role == store::Role::kHubAuditor || p.role == store::Role::kAuditor;
}

Result<std::vector<audit::Viewing>> WhoSawAsAuditor(const SearchContext& ctx, std::string_view id,
                                                    const std::vector<VisibleVersion>& visible) {
  auto all = audit::WhoSaw(ctx.access.data_dir, id);
  if (!all.ok() && all.status().code() == ErrorCode::kNotFound) {
    return std::vector<audit::Viewing>();  // no trail written yet
  }
  if (!all.ok()) return all.status();
  const bool hub_wide = ctx.principal.role == store::Role::kHubAuditor;
  std::set<std::string> readable;
  for (const auto& v : visible) readable.insert(v.row.version.ToString());
  std::vector<audit::Viewing> out;
  for (auto it = all->rbegin(); it != all->rend() && out.size() < kMaxViewings; ++it) {
    audit::Viewing v = std::move(*it);
    if (!hub_wide && v.org != ctx.principal.org) {
      if (!v.version.empty() && readable.count(v.version) == 0) continue;
      v.grant.clear();
      v.route = v.route.substr(0, v.route.find('?'));
    }
    out.push_back(std::move(v));
  }
  return out;
}

void WriteWhoSaw(json::JsonWriter& w, const std::vector<audit::Viewing>& viewings) {
  w.Key("who_saw").BeginArray();
  for (const audit::Viewing& v : viewings) {
    w.BeginObject();
    w.Key("time").String(v.time.ToString());
    w.Key("user").String(v.user);
    w.Key("org").String(v.org);
    w.Key("action").String(v.action);
    w.Key("version").String(v.version);
    w.Key("route").String(v.route);
    if (!v.grant.empty()) w.Key("grant").String(v.grant);
    w.Key("redacted").Bool(v.redacted);
    w.EndObject();
  }
  w.EndArray();
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The markings of an object: TLP and PAP by the policy's catalogue, any other
// marking definition as a statement named by its id.
void WriteMarkings(json::JsonWriter& w, std::string_view object_json) {
  json::JsonParser parser;
  auto doc = parser.Parse(object_json);
  w.Key("markings").BeginArray();
  if (doc.ok() && doc->is_object()) {
    auto refs = (*doc)["object_marking_refs"];
    if (!refs.error() && refs.value().is_array()) {
      const json::Array items = refs.value().get_array().value();
      for (json::Element e : items) {
        if (!e.is_string()) continue;
        const std::string_view ref = e.get_string().value();
        const policy::MarkingInfo info = policy::LookupMarking(ref);
        std::string kind = "statement";
        std::string name(ref);
        if (info.kind == policy::MarkingKind::kTlp) {
          kind = "tlp";
          name = "TLP:" + Upper(policy::TlpName(info.tlp));
        } else if (info.kind == policy::MarkingKind::kPap) {
          kind = "pap";
          name = "PAP:" + Upper(policy::PapName(info.pap));
        }
        w.BeginObject();
        w.Key("id").String(ref);
        w.Key("kind").String(kind);
        w.Key("name").String(name);
        w.EndObject();
      }
    }
  }
  w.EndArray();
}

}  // namespace

Response GetObject(const SearchContext& ctx, std::string_view id, std::string_view version,
                   std::vector<audit::ObjectRef>& served) {
  auto missing = [] { return ErrorResponse(404, "not_found", "Not Found", "no such object"); };
  if (!LooksLikeStixId(id)) return missing();
  std::optional<Timestamp> only;
  if (!version.empty()) {
    auto ts = Timestamp::Parse(version);
    if (!ts.ok()) {
      return ErrorResponse(400, "bad_version", "Bad Request",
                           "version: an RFC 3339 timestamp (the object's modified)");
    }
    only = *ts;
  }
  auto view = ReadView::Open(ctx);
  if (!view.ok()) return ErrorResponse(view.status(), "store_error");
  auto visible = (*view)->Versions(id, only);
  if (!visible.ok()) return ErrorResponse(visible.status(), "store_error");
  if (visible->empty()) return missing();
  const VisibleVersion& newest = visible->front();
  Serve(served, newest);
  Related related;
  std::vector<audit::Viewing> viewings;
  const bool who_saw = version.empty() && SeesWhoSaw(ctx.principal) && !ctx.access.data_dir.empty();
  if (version.empty()) {
    auto found = FindRelated(**view, std::string(id), served);
    if (!found.ok()) return ErrorResponse(found.status(), "store_error");
    related = std::move(*found);
  }
  if (who_saw) {
    auto w = WhoSawAsAuditor(ctx, id, *visible);
    if (!w.ok()) return ErrorResponse(w.status(), "audit_unavailable");
    viewings = std::move(*w);
  }

  Response r;
  r.status = 200;
  r.content_type = "application/json";
  json::JsonWriter w(r.body);
  w.BeginObject();
  w.Key("object").Raw(newest.row.json);
  if (version.empty()) {
    w.Key("collection").BeginObject();
    w.Key("id").String(newest.row.collection_id);
    w.Key("title").String(newest.collection_title);
    w.EndObject();
    w.Key("versions").BeginArray();
    for (const auto& v : *visible) {
      w.BeginObject();
      w.Key("version").String(v.row.version.ToString());
      w.Key("date_added").String(Timestamp::FromMicros(v.row.date_added_us).Format(6));
      w.Key("collection").String(v.row.collection_id);
      w.EndObject();
    }
    w.EndArray();
    WriteMarkings(w, newest.row.json);
    WriteRelated(w, related);
    if (who_saw) WriteWhoSaw(w, viewings);
  }
  w.EndObject();
  return r;
}

}  // namespace ctihub::webapi
