// Implementation of export.h.
#include "taxii/export.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>

#include "core/hash.h"
#include "core/json.h"
#include "core/uuid.h"
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

  Status Finish(bool aborted = false) {
    if (audit_.sink == nullptr) return {};
    aborted_ = aborted;
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
    if (what == "part" && last && aborted_) w.Key("aborted").Bool(true);
    w.EndObject();
    return d;
  }

  const ExportAudit& audit_;
  const formats::ExportOptions& options_;
  std::vector<audit::ObjectRef> exported_;
  std::vector<audit::ObjectRef> overridden_;
  int64_t parts_ = 0;
  bool aborted_ = false;
};

}  // namespace

class ExportRun::Impl {
 public:
  Impl(store::Store& store, const ExportReader& reader, const ExportScope& scope,
       const formats::ExportOptions& options, formats::Exporter& exporter, const ExportAudit& audit,
       std::vector<store::Collection> collections)
      : store_(store),
        policy_(reader.policy),
        principal_(reader.principal != nullptr ? std::optional<auth::Principal>(*reader.principal)
                                               : std::nullopt),
        scope_(scope),
        options_(options),
        exporter_(exporter),
        audit_(audit),
        collections_(std::move(collections)),
        groups_(exporter.TypeGroups()),
        recorder_(audit_, options_),
        dedupe_(collections_.size() > 1) {
    for (const store::Collection& c : collections_) summary_.collections.push_back(c.id);
  }

  Result<bool> Step(const std::function<bool()>& enough) {
    if (state_ == State::kDone) return false;
    if (state_ == State::kFailed) return Internal("export_failed", "the export failed before");
    auto failed = [&](Status st) -> Result<bool> {
      state_ = State::kFailed;
      return st;
    };
    if (state_ == State::kNew) {
      if (Status st = exporter_.Begin(); !st.ok()) return failed(st);
      state_ = State::kReading;
    }
    for (;;) {
      if (!page_open_) {
        if (!NextQuery()) break;  // every group and collection read
        auto page = store_.QueryObjects(query_);
        if (!page.ok()) return failed(page.status());
        page_ = std::move(*page);
        row_ = 0;
        page_open_ = true;
      }
      while (row_ < page_.objects.size()) {
        const store::ObjectVersion& row = page_.objects[row_++];
        summary_.newest_date_added_us = std::max(summary_.newest_date_added_us, row.date_added_us);
        if (dedupe_ && !seen_.insert(row.id).second) continue;
        auto outcome = exporter_.Add({row.json, row.access.producer});
        if (!outcome.ok()) return failed(outcome.status());
        const bool by_override = *outcome == formats::ExportOutcome::kExportedByOverride;
        if (*outcome != formats::ExportOutcome::kExported && !by_override) {
          ++summary_.left_out[std::string(formats::ExportOutcomeName(*outcome))];
          continue;
        }
        ++summary_.exported;
        summary_.by_override += by_override ? 1 : 0;
        const ServedGrant* grant = gate_ ? gate_->GrantOf(row) : nullptr;
        pending_.push_back(
            {audit::ObjectRef(row.id, row.version.ToString(),
                              grant != nullptr ? std::string(grant->via) : std::string("admin"),
                              grant != nullptr && grant->redacted),
             by_override});
        if (pending_.size() >= kExportRefsPerRecord || enough()) return true;
      }
      // The page is done: the next one of this collection, or the next query.
      page_open_ = false;
      if (page_.more) {
        query_.next = page_.next;
        continue_page_ = true;
      }
    }
    if (Status st = exporter_.Finish(); !st.ok()) return failed(st);
    state_ = State::kDone;
    return false;
  }

  Status Commit() {
    for (Pending& p : pending_) {
      Status st = recorder_.Add(std::move(p.ref), p.by_override);
      if (!st.ok()) {
        pending_.clear();
        state_ = State::kFailed;
        return st;
      }
    }
    pending_.clear();
    return {};
  }

  Status Close(bool aborted) {
    if (closed_) return {};
    closed_ = true;
    pending_.clear();  // never sent: not recorded
    return recorder_.Finish(aborted);
  }

  const ExportSummary& summary() const { return summary_; }
  size_t uncommitted() const { return pending_.size(); }
  bool closed() const { return closed_; }

 private:
  enum class State { kNew, kReading, kDone, kFailed };
  struct Pending {
    audit::ObjectRef ref;
    bool by_override = false;
  };

  // Sets up query_ for the next page to read; false when everything is read.
  bool NextQuery() {
    if (continue_page_) {
      continue_page_ = false;
      return true;  // query_ (with its gate) resumes at page_.next
    }
    for (;;) {
      if (started_) {
        ++collection_;
        if (collection_ >= collections_.size()) {
          collection_ = 0;
          ++group_;
        }
      }
      started_ = true;
      if (group_ >= groups_.size() || collections_.empty()) return false;
      std::optional<std::vector<std::string>> types = TypesOf(groups_[group_], scope_.types);
      if (!types) {
        collection_ = collections_.size() - 1;  // skip the group
        continue;
      }
      const store::Collection& c = collections_[collection_];
      query_ = store::ObjectQuery();
      query_.collection_id = c.id;
      query_.types = *types;
      query_.added_after_us = scope_.added_after_us;
      query_.limit = 1000;
      gate_.reset();
      if (principal_) {
        gate_.emplace(policy_, *principal_, c, options_.now, /*own_memo=*/true);
        gate_->Apply(query_);
      }
      return true;
    }
  }

  store::Store& store_;
  const std::shared_ptr<const policy::Policy> policy_;  // the reader's
  const std::optional<auth::Principal> principal_;      // the reader's principal, copied
  const ExportScope scope_;
  const formats::ExportOptions options_;
  formats::Exporter& exporter_;
  const ExportAudit audit_;
  const std::vector<store::Collection> collections_;
  const std::vector<std::vector<std::string>> groups_;
  ExportRecorder recorder_;  // refers to audit_ and options_
  const bool dedupe_;        // an object in two collections is exported once
  std::unordered_set<std::string> seen_;

  State state_ = State::kNew;
  size_t group_ = 0;
  size_t collection_ = 0;
  bool started_ = false;
  bool continue_page_ = false;
  store::ObjectQuery query_;
  std::optional<ReadGate> gate_;  // query_'s; its callbacks point at it
  store::ObjectPage page_;
  size_t row_ = 0;
  bool page_open_ = false;
  std::vector<Pending> pending_;
  ExportSummary summary_;
  bool closed_ = false;
};

ExportRun::ExportRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExportRun::~ExportRun() = default;

Result<std::unique_ptr<ExportRun>> ExportRun::Open(store::Store& store, const ExportReader& reader,
                                                   const ExportScope& scope,
                                                   const formats::ExportOptions& options,
                                                   formats::Exporter& exporter,
                                                   const ExportAudit& audit) {
  if (reader.principal != nullptr && reader.policy == nullptr) {
    return Unavailable("policy_unavailable", "no sharing policy is loaded");
  }
  CTIHUB_ASSIGN_OR_RETURN(std::vector<store::Collection> collections,
                          CollectionsFor(store, reader, scope));
  return std::unique_ptr<ExportRun>(new ExportRun(std::make_unique<Impl>(
      store, reader, scope, options, exporter, audit, std::move(collections))));
}

Result<bool> ExportRun::Step(const std::function<bool()>& enough) { return impl_->Step(enough); }
Status ExportRun::Commit() { return impl_->Commit(); }
Status ExportRun::Finish() {
  CTIHUB_RETURN_IF_ERROR(impl_->Commit());
  return impl_->Close(false);
}
Status ExportRun::Abort() { return impl_->Close(true); }
const ExportSummary& ExportRun::summary() const { return impl_->summary(); }
size_t ExportRun::uncommitted() const { return impl_->uncommitted(); }

Result<std::string> ExportFingerprint(store::Store& store, const ExportReader& reader,
                                      const ExportScope& scope,
                                      const formats::ExportOptions& options) {
  if (reader.principal != nullptr && reader.policy == nullptr) {
    return Unavailable("policy_unavailable", "no sharing policy is loaded");
  }
  CTIHUB_ASSIGN_OR_RETURN(std::vector<store::Collection> collections,
                          CollectionsFor(store, reader, scope));
  std::string text;
  json::JsonWriter w(text);
  w.BeginObject().Key("etag").Int(1);
  w.Key("format").String(formats::ExportFormatName(options.format));
  w.Key("list").String(options.list);
  w.Key("include_pap_restricted").Bool(options.include_pap_restricted);
  w.Key("source").String(options.source);
  w.Key("collection").String(scope.collection).Key("root").String(scope.api_root);
  w.Key("types").BeginArray();
  for (const std::string& t : scope.types) w.String(t);
  w.EndArray();
  w.Key("since").Int(scope.added_after_us.value_or(-1));
  const int64_t hour = options.now.micros() / (int64_t{3600} * 1000000);
  w.Key("hour").Int(hour);
  if (reader.principal == nullptr) {
    w.Key("reader").String("local administrator");
  } else {
    const auth::Principal& p = *reader.principal;
    w.Key("user").String(p.user).Key("org").String(p.org);
    w.Key("role").String(store::RoleName(p.role)).Key("anonymous").Bool(p.anonymous);
    // The policy's content, not its generation in this process: every node
    // that loaded the same policy gives the same ETag.
    w.Key("policy").String(reader.policy->digest());
    auto resolved = reader.policy->Resolve(policy::Reader{p.anonymous ? "" : p.org, p.anonymous});
    std::optional<Timestamp> change = reader.policy->NextChange(resolved, options.now);
    w.Key("next_change").Int(change ? change->micros() : -1);
  }
  w.Key("collections").BeginArray();
  for (const store::Collection& c : collections) {
    CTIHUB_ASSIGN_OR_RETURN(store::CollectionState state, store.CollectionStateOf(c.id));
    w.BeginArray().String(c.id).Int(state.versions).Int(state.newest_date_added_us).EndArray();
  }
  w.EndArray().EndObject();
  return "W/\"" + Sha256Hex(text) + "\"";
}

namespace {

class ExportStream : public BodyProducer {
 public:
  explicit ExportStream(const formats::ExportOptions& options) : options_(options) {}
  ~ExportStream() override {
    // Dropped mid-way without Abort (the server stopped): the same records.
    if (started_ && !closed_) Abort();
  }

  // First half of the set-up: the exporter, then the run (which refers to it).
  Status Open(store::Store& store, const ExportReader& reader, const ExportScope& scope,
              const ExportAudit& audit) {
    CTIHUB_ASSIGN_OR_RETURN(exporter_, formats::MakeExporter(options_, piece_));
    CTIHUB_ASSIGN_OR_RETURN(run_,
                            ExportRun::Open(store, reader, scope, options_, *exporter_, audit));
    CTIHUB_ASSIGN_OR_RETURN(bool more, Read());
    reading_done_ = !more;
    return {};
  }

  Result<bool> Next(std::string* out) override {
    out->clear();
    if (closed_) return false;
    started_ = true;
    if (sent_) {
      // Next again: the piece returned last was written.
      sent_ = false;
      CTIHUB_RETURN_IF_ERROR(run_->Commit());
    }
    if (!ready_.empty()) {
      out->swap(ready_);
      ready_.clear();
      sent_ = true;
      return true;
    }
    if (reading_done_) {
      closed_ = true;
      CTIHUB_RETURN_IF_ERROR(run_->Finish());
      return false;
    }
    CTIHUB_ASSIGN_OR_RETURN(bool more, Read());
    reading_done_ = !more;
    out->swap(ready_);
    ready_.clear();
    sent_ = true;
    return true;
  }

  void Abort() override {
    if (closed_) return;
    closed_ = true;
    if (Status st = run_->Abort(); !st.ok()) {
      // Nothing else can carry it: the stream is already cut.
      std::fprintf(stderr, "ctihub: export audit on abort: %s\n", st.NamedMessage().c_str());
    }
  }

 private:
  // Reads about one piece into ready_.
  Result<bool> Read() {
    piece_.text.clear();
    auto more = run_->Step([this] { return piece_.text.size() >= kBodyChunkBytes; });
    ready_.swap(piece_.text);
    return more;
  }

  const formats::ExportOptions options_;
  formats::StringOutput piece_;  // the exporter writes here
  std::unique_ptr<formats::Exporter> exporter_;
  std::unique_ptr<ExportRun> run_;  // refers to exporter_
  std::string ready_;               // read, not handed out yet
  bool sent_ = false;               // a piece was handed out and not committed yet
  bool reading_done_ = false;
  bool started_ = false;  // Next was called: something may have been sent
  bool closed_ = false;
};

}  // namespace

Result<std::shared_ptr<BodyProducer>> OpenExportStream(store::Store& store,
                                                       const ExportReader& reader,
                                                       const ExportScope& scope,
                                                       const formats::ExportOptions& options,
                                                       const ExportAudit& audit) {
  auto stream = std::make_shared<ExportStream>(options);
  CTIHUB_RETURN_IF_ERROR(stream->Open(store, reader, scope, audit));
  return std::shared_ptr<BodyProducer>(std::move(stream));
}

Result<ExportSummary> RunExport(store::Store& store, const ExportReader& reader,
                                const ExportScope& scope, const formats::ExportOptions& options,
                                formats::Exporter& exporter, const ExportAudit& audit) {
  CTIHUB_ASSIGN_OR_RETURN(std::unique_ptr<ExportRun> run,
                          ExportRun::Open(store, reader, scope, options, exporter, audit));
  for (bool more = true; more;) {
    CTIHUB_ASSIGN_OR_RETURN(more, run->Step([] { return false; }));
    CTIHUB_RETURN_IF_ERROR(run->Commit());
  }
  CTIHUB_RETURN_IF_ERROR(run->Finish());
  return run->summary();
}

}  // namespace ctihub::taxii
