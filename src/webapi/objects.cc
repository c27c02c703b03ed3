#include "webapi/objects.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/json.h"
#include "core/timestamp.h"
#include "policy/markings.h"
#include "store/store.h"
#include "taxii/access.h"
#include "taxii/taxii.h"

namespace ctihub::webapi {

using taxii::ErrorResponse;
using taxii::Response;

namespace {

constexpr size_t kMaxVersions = 1000;

// One version the caller may read, with what let it have it.
struct Visible {
  store::ObjectVersion row;
  std::string collection_title;
  std::string grant;
  bool redacted = false;
};

bool LooksLikeStixId(std::string_view id) {
  const size_t sep = id.find("--");
  return id.size() <= 256 && sep != std::string_view::npos && sep > 0 && sep + 2 < id.size() &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
         });
}

// Every version of `id` the caller may read, in every collection it may read.
Result<std::vector<Visible>> VisibleVersions(const SearchContext& ctx, std::string_view id,
                                             std::optional<Timestamp> only) {
  std::shared_ptr<const policy::Policy> policy =
      ctx.access.policy != nullptr ? ctx.access.policy->Current() : nullptr;
  if (policy == nullptr && !ctx.access.without_policy_for_test) {
    return Unavailable("policy_unavailable", "no sharing policy is loaded");
  }
  CTIHUB_ASSIGN_OR_RETURN(auto collections, ctx.store.ListCollections(""));
  std::vector<Visible> out;
  const Timestamp now = Timestamp::Now();
  for (const auto& c : collections) {
    if (!auth::CanRead(ctx.principal, c)) continue;
    auto gate = policy != nullptr ? std::make_unique<taxii::ReadGate>(policy, ctx.principal, c, now)
                                  : std::make_unique<taxii::ReadGate>(
                                        taxii::ReadGate::WithoutPolicyForTest(ctx.principal, c));
    store::ObjectQuery q;
    q.collection_id = c.id;
    q.ids = {std::string(id)};
    q.version_last = false;
    q.version_all = !only;  // match[version]=all, or the one version asked for
    if (only) q.versions = {*only};
    q.limit = kMaxVersions;
    gate->Apply(q);
    CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, ctx.store.QueryObjects(q));
    for (auto& row : page.objects) {
      const taxii::ServedGrant* grant = gate->GrantOf(row);
      Visible v;
      v.grant = grant != nullptr ? std::string(grant->via) : std::string();
      v.redacted = grant != nullptr && grant->redacted;
      v.collection_title = c.title;
      v.row = std::move(row);
      out.push_back(std::move(v));
    }
  }
  std::sort(out.begin(), out.end(), [](const Visible& a, const Visible& b) {
    return b.row.version < a.row.version ||
           (!(a.row.version < b.row.version) && b.row.date_added_us < a.row.date_added_us);
  });
  return out;
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
  const Response missing = ErrorResponse(404, "not_found", "Not Found", "no such object");
  if (!LooksLikeStixId(id)) return missing;
  std::optional<Timestamp> only;
  if (!version.empty()) {
    auto ts = Timestamp::Parse(version);
    if (!ts.ok()) {
      return ErrorResponse(400, "bad_version", "Bad Request",
                           "version: an RFC 3339 timestamp (the object's modified)");
    }
    only = *ts;
  }
  auto visible = VisibleVersions(ctx, id, only);
  if (!visible.ok()) return ErrorResponse(visible.status(), "store_error");
  if (visible->empty()) return missing;
  const Visible& newest = visible->front();
  served.emplace_back(newest.row.id, newest.row.version.ToString(), newest.grant, newest.redacted);

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
  }
  w.EndObject();
  return r;
}

}  // namespace ctihub::webapi
