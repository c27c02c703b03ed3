// The import write path (import_sink.h).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/import_sink.h"
#include "core/timestamp.h"
#include "policy/markings.h"
#include "stix/parse.h"
#include "taxii/access.h"

namespace ctihub::cli {

std::string Describe(const Origin& o) {
  std::string out = o.file;
  if (o.line >= 0) out += ":" + std::to_string(o.line);
  if (!o.object.empty()) out += ": " + o.object;
  if (!o.position.empty()) out += (o.object.empty() ? ": " : " ") + o.position;
  return out;
}

bool ImportSink::Normalise(Pending& p, std::string* name, std::string* reason) {
  auto el = stix::ParseObject(parser_, p.json);
  if (!el.ok()) {
    *name = "invalid JSON";
    *reason = "invalid JSON: " + el.status().NamedMessage();
    return false;
  }
  json::Object obj;
  if (el->get_object().get(obj) != simdjson::SUCCESS) {
    *name = "not a JSON object";
    *reason = "not a JSON object";
    return false;
  }
  std::string_view type;
  if (obj["type"].get_string().get(type) != simdjson::SUCCESS) type = {};
  json::Element refs;
  bool marked = obj["object_marking_refs"].get(refs) == simdjson::SUCCESS;
  if (default_markings_.empty() || marked || type == "marking-definition" || obj.size() == 0) {
    return true;
  }
  std::string member = ",\"object_marking_refs\":";
  json::JsonWriter w(member);
  w.BeginArray();
  for (const auto& m : default_markings_) w.String(m);
  w.EndArray();
  size_t close = p.json.find_last_of('}');
  p.json.insert(close, member);
  return true;
}

// Marks every group with a failed member as rejected (and reports it).
std::vector<bool> ImportSink::RejectedGroups(const std::vector<taxii::EnvelopeItem>& items) {
  std::vector<bool> keep(items.size(), true);
  for (const Group& g : groups_) {
    const taxii::EnvelopeItem* failed = nullptr;
    for (size_t i = g.first; i < g.first + g.count; ++i) {
      if (!items[i].ok) {
        failed = &items[i];
        break;
      }
    }
    if (failed == nullptr) continue;
    for (size_t i = g.first; i < g.first + g.count; ++i) {
      keep[i] = false;
      Origin o = batch_[i].origin;
      if (o.object.empty() && !items[i].id.empty()) o.object = items[i].id;
      if (items[i].ok) {
        Reject(o, "stored with a rejected object",
               "stored with a rejected object: " + failed->message);
      } else {
        Reject(o, items[i].reason, items[i].message);
      }
    }
  }
  return keep;
}

// Ids of the objects (that need it) already in the collection, asked in
// chunks of the per-query limit on ids (a MISP event is one group, so one
// batch, however many objects it makes).
Result<std::set<std::string>> ImportSink::ExistingIds(const std::vector<taxii::EnvelopeItem>& items,
                                                      const std::vector<bool>& keep) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < items.size(); ++i) {
    if (keep[i] && NeedsExistenceCheck(i, items[i])) ids.push_back(items[i].id);
  }
  std::set<std::string> found;
  for (size_t first = 0; first < ids.size(); first += taxii::kMaxFilterValues) {
    store::ObjectQuery q;
    q.collection_id = collection_.id;
    q.include_json = false;
    const size_t end = std::min(ids.size(), first + taxii::kMaxFilterValues);
    q.ids.assign(ids.begin() + static_cast<std::ptrdiff_t>(first),
                 ids.begin() + static_cast<std::ptrdiff_t>(end));
    q.limit = q.ids.size();
    CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, hub_.QueryObjects(q));
    for (const auto& v : page.objects) found.insert(v.id);
  }
  return found;
}

Status ImportSink::Audit(const std::vector<audit::ObjectRef>& refs) {
  if (refs.empty()) return Status::Ok();
  audit::Record rec;
  rec.user = writer_.actor.empty() ? audit::LocalActor() : writer_.actor;
  rec.org = writer_.principal.org;
  rec.action = std::string(audit::action::kObjectWritten);
  rec.route = writer_.route + " " + collection_.id;
  rec.objects = refs;
  return trail_.Append(std::move(rec));
}

// The batch's envelope was refused as a whole although each object parsed
// alone (an object just under the depth or size limit is over it inside the
// envelope): each group is tried on its own, and a group refused alone is
// rejected, so one such object never stops the import.
Status ImportSink::FlushGroupsAlone(const Status& refused) {
  std::vector<Pending> batch = std::move(batch_);
  std::vector<Group> groups = std::move(groups_);
  batch_.clear();
  groups_.clear();
  batch_bytes_ = 0;
  if (groups.size() == 1) {
    for (const Pending& p : batch)
      Reject(p.origin, "envelope_refused", "envelope_refused: " + refused.NamedMessage());
    return Status::Ok();
  }
  for (const Group& g : groups) {
    for (size_t i = g.first; i < g.first + g.count; ++i) batch_.push_back(std::move(batch[i]));
    groups_.push_back({0, g.count});
    CTIHUB_RETURN_IF_ERROR(Submit());
  }
  return Status::Ok();
}

Status ImportSink::Flush() {
  Status submitted = Submit();
  Status drained = Drain();
  return submitted.ok() ? drained : submitted;
}

Status ImportSink::Submit() {
  if (batch_.empty()) return Status::Ok();
  std::string envelope = "{\"objects\":[";
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (i > 0) envelope += ',';
    envelope += batch_[i].json;
  }
  envelope += "]}";
  taxii::EnvelopeOptions eo;
  eo.max_objects = batch_.size();
  const Timestamp now = Timestamp::Now();
  eo.prepare = [&](json::Element object, store::NewObject& out) {
    return taxii::PrepareWrite(writer_.policy, writer_.principal, writer_.identity, object, out,
                               now, writer_.unknown_producer);
  };
  auto items = taxii::ParseEnvelope(envelope, eo);
  if (!items.ok()) return FlushGroupsAlone(items.status());
  std::vector<bool> keep = RejectedGroups(*items);
  CTIHUB_ASSIGN_OR_RETURN(std::set<std::string> existing, ExistingIds(*items, keep));
  std::vector<store::NewObject> objects;
  InFlight batch;
  std::set<std::string> in_batch;  // versionless objects seen in this batch
  for (size_t i = 0; i < items->size(); ++i) {
    taxii::EnvelopeItem& it = (*items)[i];
    if (!keep[i]) continue;
    const bool checked = NeedsExistenceCheck(i, it);
    bool seen_versionless = checked && !in_batch.insert(it.id).second;
    if (it.duplicate || existing.count(it.id) != 0 || seen_versionless ||
        (checked && in_flight_ids_.count(it.id) != 0)) {
      ++summary_.already_present;
      continue;
    }
    if (checked) batch.checked_ids.push_back(it.id);
    batch.refs.emplace_back(it.id,
                            it.object.has_version ? it.object.version.ToString() : std::string());
    batch.facts_tlp.push_back(it.object.access.tlp);
    batch.producers.push_back(it.object.access.producer);
    it.object.source_peer = writer_.source_peer;
    batch.bytes += it.object.json.size();
    objects.push_back(std::move(it.object));
  }
  batch_.clear();
  groups_.clear();
  batch_bytes_ = 0;
  if (objects.empty()) return Status::Ok();
  while (!in_flight_.empty() && (in_flight_.size() >= kImportBatchesInFlight ||
                                 in_flight_bytes_ + batch.bytes > kImportBytesInFlight)) {
    CTIHUB_RETURN_IF_ERROR(Complete());
  }
  for (const std::string& id : batch.checked_ids) in_flight_ids_.insert(id);
  in_flight_bytes_ += batch.bytes;
  batch.done = hub_.WriteObjects(collection_.id, std::move(objects), "");
  in_flight_.push_back(std::move(batch));
  return Status::Ok();
}

Status ImportSink::Complete() {
  InFlight batch = std::move(in_flight_.front());
  in_flight_.pop_front();
  in_flight_bytes_ -= batch.bytes;
  for (const std::string& id : batch.checked_ids) in_flight_ids_.erase(in_flight_ids_.find(id));
  CTIHUB_ASSIGN_OR_RETURN(std::vector<store::WriteOutcome> outcomes, batch.done.get());
  std::vector<audit::ObjectRef> written;
  for (size_t i = 0; i < outcomes.size() && i < batch.refs.size(); ++i) {
    if (!outcomes[i].stored) {
      ++summary_.already_present;
      continue;
    }
    ++summary_.stored;
    const bool clear = batch.facts_tlp[i] == static_cast<int>(policy::Tlp::kClear);
    if (!clear && writer_.org_identities.count(batch.producers[i]) == 0) {
      ++summary_.unreadable_by_users;
    }
    written.push_back(std::move(batch.refs[i]));
  }
  return Audit(written);
}

Status ImportSink::Drain() {
  Status first;
  while (!in_flight_.empty()) {
    Status st = Complete();
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

Result<Summary> ReportObjects(store::Store& hub, audit::AuditLog& trail,
                              const std::string& collection, const std::string& root,
                              const policy::Policy* policy, const auth::Principal& principal,
                              const std::vector<std::string>& objects, const std::string& route) {
  CTIHUB_ASSIGN_OR_RETURN(store::Collection c, hub.GetCollection(root, collection));
  if (!auth::CanWrite(principal, c)) {
    return Forbidden("collection " + collection + ": " + principal.user + " may not write it");
  }
  ImportSink::Writer writer;
  writer.policy = policy;
  writer.principal = principal;
  writer.identity = taxii::WriterIdentity(policy, principal);
  writer.route = route;
  Summary summary;
  ImportSink sink(hub, std::move(c), std::move(writer), {}, trail, summary, /*quiet=*/false);
  for (const std::string& json : objects) {
    if (!sink.error().ok()) break;
    sink.AddGroup({Pending{json, Origin{route, -1, "", ""}, false}});
  }
  Status flushed = sink.error().ok() ? sink.Flush() : sink.error();
  if (flushed.ok()) flushed = trail.Flush();
  if (!flushed.ok()) return flushed;
  return summary;
}

}  // namespace ctihub::cli
