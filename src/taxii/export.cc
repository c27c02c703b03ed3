// Implementation of export.h.
#include "taxii/export.h"

#include <algorithm>
#include <unordered_set>

#include "core/json.h"
#include "taxii/access.h"

namespace ctihub::taxii {
namespace {

// The collections an export reads, in the store's order.
Result<std::vector<store::Collection>> CollectionsFor(store::Store& store,
                                                      const ExportReader& reader,
                                                      const ExportScope& scope) {
  CTIHUB_ASSIGN_OR_RETURN(std::vector<store::Collection> all,
                          store.ListCollections(scope.api_root));
  std::vector<store::Collection> out;
  for (store::Collection& c : all) {
    if (!scope.collection.empty() && c.id != scope.collection && c.alias != scope.collection) {
      continue;
    }
    if (reader.principal != nullptr && !auth::CanRead(*reader.principal, c)) {
      if (!scope.collection.empty()) {
        return Forbidden("read_forbidden", "you may not read collection " + scope.collection);
      }
      continue;
    }
    out.push_back(std::move(c));
  }
  if (!scope.collection.empty() && out.empty()) {
    return NotFound("unknown_collection", "no collection " + scope.collection);
  }
  return out;
}

// The types of one exporter group the scope lets through; nullopt when none.
std::optional<std::vector<std::string>> TypesOf(const std::vector<std::string>& group,
                                                const std::vector<std::string>& wanted) {
  if (group.empty()) return wanted;
  if (wanted.empty()) return group;
  std::vector<std::string> both;
  for (const std::string& t : group) {
    if (std::find(wanted.begin(), wanted.end(), t) != wanted.end()) both.push_back(t);
  }
  if (both.empty()) return std::nullopt;
  return both;
}

// Collects the exported versions and appends them to the trail in records of
// kExportRefsPerRecord.
class ExportRecorder {
 public:
  ExportRecorder(const ExportAudit& audit, const formats::ExportOptions& options)
      : audit_(audit), options_(options) {}

  Status Add(audit::ObjectRef ref, bool by_override) {
    if (audit_.sink == nullptr) return {};
    if (by_override) overridden_.emplace_back(ref.id, ref.version);
    exported_.push_back(std::move(ref));
    if (exported_.size() >= kExportRefsPerRecord) return Flush(false);
    return {};
  }

  Status Finish() {
    if (audit_.sink == nullptr) return {};
    CTIHUB_RETURN_IF_ERROR(Flush(true));
    if (overridden_.empty()) return {};
    audit::Record rec = audit_.base;
    rec.action = std::string(audit::action::kPolicyOverride);
    rec.objects = std::move(overridden_);
    rec.details = Details("include_pap_restricted", true);
    return audit_.sink->Append(std::move(rec));
  }

 private:
  // An export with nothing in it is recorded too (one record, no objects).
  Status Flush(bool last) {
    if (exported_.empty() && (!last || parts_ > 0)) return {};
    audit::Record rec = audit_.base;
    rec.action = std::string(audit::action::kExport);
    rec.objects = std::move(exported_);
    exported_.clear();
    rec.details = Details("part", last);
    ++parts_;
    return audit_.sink->Append(std::move(rec));
  }

  std::string Details(std::string_view what, bool last) const {
    std::string d;
    json::JsonWriter w(d);
    w.BeginObject().Key("export_id").String(audit_.export_id);
    w.Key("format").String(formats::ExportFormatName(options_.format));
    if (!options_.list.empty()) w.Key("list").String(options_.list);
    w.Key("include_pap_restricted").Bool(options_.include_pap_restricted);
    if (what == "part") w.Key("part").Int(parts_ + 1).Key("last").Bool(last);
    w.EndObject();
    return d;
  }

  const ExportAudit& audit_;
  const formats::ExportOptions& options_;
  std::vector<audit::ObjectRef> exported_;
  std::vector<audit::ObjectRef> overridden_;
  int64_t parts_ = 0;
};

}  // namespace

Result<ExportSummary> RunExport(store::Store& store, const ExportReader& reader,
                                const ExportScope& scope, const formats::ExportOptions& options,
                                formats::Exporter& exporter, const ExportAudit& audit) {
  if (reader.principal != nullptr && reader.policy == nullptr) {
    return Unavailable("policy_unavailable", "no sharing policy is loaded");
  }
  CTIHUB_ASSIGN_OR_RETURN(std::vector<store::Collection> collections,
                          CollectionsFor(store, reader, scope));
  ExportSummary summary;
  ExportRecorder recorder(audit, options);
  // An object in two collections is exported once.
  std::unordered_set<std::string> seen;
  const bool dedupe = collections.size() > 1;
  CTIHUB_RETURN_IF_ERROR(exporter.Begin());
  for (const auto& group : exporter.TypeGroups()) {
    std::optional<std::vector<std::string>> types = TypesOf(group, scope.types);
    if (!types) continue;
    for (const store::Collection& c : collections) {
      if (summary.collections.size() < collections.size()) summary.collections.push_back(c.id);
      store::ObjectQuery q;
      q.collection_id = c.id;
      q.types = *types;
      q.added_after_us = scope.added_after_us;
      q.limit = 1000;
      std::optional<ReadGate> gate;
      if (reader.principal != nullptr) {
        gate.emplace(reader.policy, *reader.principal, c, options.now);
        gate->Apply(q);
      }
      for (;;) {
        CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(q));
        for (const store::ObjectVersion& row : page.objects) {
          summary.newest_date_added_us = std::max(summary.newest_date_added_us, row.date_added_us);
          if (dedupe && !seen.insert(row.id).second) continue;
          CTIHUB_ASSIGN_OR_RETURN(formats::ExportOutcome outcome,
                                  exporter.Add({row.json, row.access.producer}));
          const bool by_override = outcome == formats::ExportOutcome::kExportedByOverride;
          if (outcome != formats::ExportOutcome::kExported && !by_override) {
            ++summary.left_out[std::string(formats::ExportOutcomeName(outcome))];
            continue;
          }
          ++summary.exported;
          summary.by_override += by_override ? 1 : 0;
          const ServedGrant* grant = gate ? gate->GrantOf(row) : nullptr;
          audit::ObjectRef ref(row.id, row.version.ToString(),
                               grant != nullptr ? std::string(grant->via) : std::string("admin"),
                               grant != nullptr && grant->redacted);
          CTIHUB_RETURN_IF_ERROR(recorder.Add(std::move(ref), by_override));
        }
        if (!page.more) break;
        q.next = page.next;
      }
    }
  }
  CTIHUB_RETURN_IF_ERROR(exporter.Finish());
  CTIHUB_RETURN_IF_ERROR(recorder.Finish());
  return summary;
}

}  // namespace ctihub::taxii
