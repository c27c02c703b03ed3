#include "webapi/agreements.h"

#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "policy/policy_holder.h"
#include "policy/policy_source.h"
#include "store/store.h"
#include "taxii/query.h"
#include "taxii/taxii.h"

namespace ctihub::webapi {
namespace {

using taxii::ErrorResponse;
using taxii::Request;
using taxii::Response;

// A refusal, and the request member it is about ("" when none).
struct Refusal {
  Status status;
  std::string field;
};

// The TAXII error object of a refusal; a field at fault is named in its
// description and in details.field.
Response RefusalResponse(const Refusal& r) {
  Status st = r.status;
  if (!r.field.empty() && st.code() != ErrorCode::kInternal) {
    st = Status(st.code(), std::string(st.name()), r.field + ": " + st.message());
  }
  Response out = ErrorResponse(st, "invalid_agreement");
  if (!r.field.empty() && !out.body.empty() && out.body.back() == '}') {
    out.body.pop_back();
    out.body += R"(,"details":{"field":)";
    json::AppendQuoted(out.body, r.field);
    out.body += "}}";
  }
  return out;
}

Refusal FromStatus(const Status& st) { return {st, std::string(policy::AgreementErrorField(st))}; }

Response JsonAnswer(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

void StringList(json::JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key).BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

// One agreement with the contract's names (webui/src/api.ts Agreement) and
// its state.
void WriteAgreement(json::JsonWriter& w, const policy::Agreement& a, Timestamp now) {
  auto time_or_null = [&](std::string_view key, const std::optional<Timestamp>& t) {
    w.Key(key).StringOrNull(t ? t->ToString() : "", t.has_value());
  };
  const std::string_view state = policy::AgreementState(a, now);
  w.BeginObject();
  w.Key("id").String(a.id);
  w.Key("producer").String(a.producer.ToString());
  w.Key("recipient").String(a.recipient.ToString());
  w.Key("max_tlp").String(policy::TlpName(a.max_tlp));
  w.Key("pap_ceiling").String(policy::PapName(a.pap_ceiling));
  StringList(w, "types", a.object_types.empty() ? std::vector<std::string>{"*"} : a.object_types);
  StringList(w, "strip", a.strip_properties);
  StringList(w, "withhold_sco", a.withhold_sco_types);
  w.Key("reshare").Bool(a.reshare);
  w.Key("relay").Bool(a.relay);
  time_or_null("valid_from", a.valid_from);
  time_or_null("expires", a.expires);
  w.Key("legal_basis").String(a.legal_basis);
  w.Key("revoked").Bool(state == "revoked");
  time_or_null("revoked_at", a.revoked_at);
  if (!a.revoked_reason.empty()) w.Key("revoked_reason").String(a.revoked_reason);
  w.Key("state").String(state);
  w.EndObject();
}

std::string AgreementBody(const policy::Agreement& a) {
  std::string body;
  json::JsonWriter w(body);
  WriteAgreement(w, a, Timestamp::Now());
  return body;
}

// The request body as a JSON object (an empty body is `{}` when `empty_ok`).
Result<json::Object> BodyObject(json::JsonParser& parser, std::string_view body, bool empty_ok) {
  if (body.size() > kAgreementBodyLimit) {
    return LimitExceeded("body_too_large", "the body is larger than 64 KiB");
  }
  if (body.empty() && empty_ok) body = "{}";
  auto doc = parser.Parse(body);
  if (!doc.ok())
    return InvalidArgument("bad_json", "the body is not JSON: " + doc.status().message());
  if (!doc->is_object()) return InvalidArgument("bad_json", "the body must be a JSON object");
  return doc->get_object().value_unsafe();
}

Status ReadString(json::Element v, std::string& out, bool null_ok) {
  if (null_ok && v.is_null()) return Status::Ok();
  if (!v.is_string()) return InvalidArgument("bad_type", "must be a string");
  out = std::string(std::string_view(v.get_string().value_unsafe()));
  return Status::Ok();
}

Status ReadList(json::Element v, std::vector<std::string>& out) {
  if (!v.is_array()) return InvalidArgument("bad_type", "must be an array of strings");
  out.clear();
  const json::Array items = v.get_array().value_unsafe();
  for (json::Element item : items) {
    if (!item.is_string()) return InvalidArgument("bad_type", "must be an array of strings");
    out.emplace_back(std::string_view(item.get_string().value_unsafe()));
  }
  return Status::Ok();
}

Status ReadBool(json::Element v, bool& out) {
  if (!v.is_bool()) return InvalidArgument("bad_type", "must be true or false");
  out = v.get_bool().value_unsafe();
  return Status::Ok();
}

// One member of a POST body into the draft. The names of `ctihub agreement
// list --json` (object_types, ...) are accepted beside the contract's.
Status ReadMember(std::string_view key, json::Element v, policy::AgreementDraft& d) {
  struct Text {
    std::string_view key;
    std::string* slot;
    bool null_ok;
  };
  for (const Text& t :
       {Text{"id", &d.id, false}, Text{"producer", &d.producer, false},
        Text{"recipient", &d.recipient, false}, Text{"max_tlp", &d.max_tlp, false},
        Text{"pap_ceiling", &d.pap_ceiling, false}, Text{"valid_from", &d.valid_from, true},
        Text{"expires", &d.expires, true}, Text{"legal_basis", &d.legal_basis, false}}) {
    if (key == t.key) return ReadString(v, *t.slot, t.null_ok);
  }
  if (key == "types" || key == "object_types") return ReadList(v, d.types);
  if (key == "strip" || key == "strip_properties") return ReadList(v, d.strip);
  if (key == "withhold_sco" || key == "withhold_sco_types") return ReadList(v, d.withhold_sco);
  if (key == "reshare") return ReadBool(v, d.reshare);
  if (key == "relay") return ReadBool(v, d.relay);
  return InvalidArgument("unknown_field", "not a member of an agreement");
}

Result<policy::Agreement> ParseAgreement(std::string_view body, Refusal& refusal) {
  json::ParseLimits limits;
  limits.max_bytes = kAgreementBodyLimit;
  limits.max_depth = 4;
  json::JsonParser parser(limits);
  auto object = BodyObject(parser, body, /*empty_ok=*/false);
  if (!object.ok()) {
    refusal = {object.status(), ""};
    return object.status();
  }
  policy::AgreementDraft draft;
  for (auto member : *object) {
    Status st = ReadMember(member.key, member.value, draft);
    if (!st.ok()) {
      refusal = {st, std::string(member.key)};
      return st;
    }
  }
  auto agreement = policy::BuildAgreement(draft);
  if (!agreement.ok()) refusal = FromStatus(agreement.status());
  return agreement;
}

// The revocation's reason: ?reason=... or the body's {"reason": ...}.
Result<std::string> RevokeReason(const Request& req, const taxii::Target& target,
                                 Refusal& refusal) {
  std::string reason;
  for (const auto& [k, v] : target.params) {
    if (k == "reason") reason = v;
  }
  json::ParseLimits limits;
  limits.max_bytes = kAgreementBodyLimit;
  limits.max_depth = 2;
  json::JsonParser parser(limits);
  auto object = BodyObject(parser, req.body, /*empty_ok=*/true);
  if (!object.ok()) {
    refusal = {object.status(), ""};
    return object.status();
  }
  for (auto member : *object) {
    Status st = member.key == "reason"
                    ? ReadString(member.value, reason, false)
                    : InvalidArgument("unknown_field", "a revocation takes only a reason");
    if (!st.ok()) {
      refusal = {st, std::string(member.key)};
      return st;
    }
  }
  return reason;
}

class Handler {
 public:
  Handler(const AgreementsContext& ctx, const Request& req, std::string_view path,
          const auth::Principal& caller)
      : ctx_(ctx), req_(req), path_(path), caller_(caller) {
    if (ctx_.source == nullptr) own_source_ = policy::FilePolicySource(ctx_.data_dir);
  }

  Response List() const {
    auto model = policy::LoadPolicyWithOrgs(Source(), ctx_.known_orgs);
    if (!model.ok()) return PolicyUnreadable(model.status());
    const Timestamp now = Timestamp::Now();
    std::string body;
    json::JsonWriter w(body);
    w.BeginObject();
    w.Key("agreements").BeginArray();
    for (const auto& a : model->agreements) WriteAgreement(w, a, now);
    w.EndArray();
    w.EndObject();
    return JsonAnswer(200, std::move(body));
  }

  Response One(const std::string& id) const {
    auto model = policy::LoadPolicyWithOrgs(Source(), ctx_.known_orgs);
    if (!model.ok()) return PolicyUnreadable(model.status());
    const policy::Agreement* a = model->FindAgreement(id);
    if (a == nullptr) return NoSuchAgreement(id);
    return JsonAnswer(200, AgreementBody(*a));
  }

  Response Add() const {
    Refusal refusal;
    auto agreement = ParseAgreement(req_.body, refusal);
    if (!agreement.ok()) return RefusalResponse(refusal);
    Status st = policy::AddAgreement(Source(), ctx_.known_orgs, *agreement, Record(201));
    if (!st.ok()) return RefusalResponse(FromStatus(st));
    Changed();
    return JsonAnswer(201, AgreementBody(*agreement));
  }

  Response Revoke(const taxii::Target& target, const std::string& id) const {
    Refusal refusal;
    auto reason = RevokeReason(req_, target, refusal);
    if (!reason.ok()) return RefusalResponse(refusal);
    Status st = policy::RevokeAgreement(Source(), ctx_.known_orgs, id, Timestamp::Now(), *reason,
                                        Record(200));
    if (!st.ok()) return RefusalResponse(FromStatus(st));
    Changed();
    return One(id);
  }

 private:
  policy::PolicySource& Source() const {
    return ctx_.source != nullptr ? *ctx_.source : *own_source_;
  }

  // The change's audit record, naming the caller; its failure rolls the
  // change back (agreement_edit.cc).
  policy::RecordAgreementChangeFn Record(int status) const {
    return [this, status](const std::string& details) -> Status {
      if (ctx_.audit == nullptr) return Unavailable("no audit trail configured");
      audit::Record rec;
      rec.user = caller_.user;
      rec.org = caller_.org;
      rec.action = std::string(audit::action::kAgreementChanged);
      rec.route = req_.method + " " + std::string(path_.substr(0, 1024));
      rec.status = status;
      rec.remote = req_.remote;
      rec.details = details;
      CTIHUB_RETURN_IF_ERROR(ctx_.audit->Append(std::move(rec)));
      return ctx_.audit->Flush();
    };
  }

  // The next request is decided under the new policy.
  void Changed() const {
    if (ctx_.policy != nullptr) ctx_.policy->Refresh();
  }

  static Response PolicyUnreadable(const Status& st) {
    return ErrorResponse(503, "policy_unreadable", "Service Unavailable",
                         "the sharing policy does not load: " + st.NamedMessage());
  }

  static Response NoSuchAgreement(const std::string& id) {
    return RefusalResponse({NotFound("no_such_agreement", "no agreement '" + id + "'"), "id"});
  }

  const AgreementsContext& ctx_;
  const Request& req_;
  std::string_view path_;
  const auth::Principal& caller_;
  std::unique_ptr<policy::PolicySource> own_source_;  // when ctx_.source is nullptr
};

}  // namespace

Response HandleAgreements(const AgreementsContext& ctx, const Request& req, std::string_view path,
                          const auth::Principal& caller) {
  auto target = taxii::ParseTarget(req.target);
  const bool collection = path == "/api/v1/agreements";
  const bool one = target.ok() && target->segments.size() == 4 && !collection;
  if (!collection && !one) {
    return ErrorResponse(404, "not_found", "Not Found", "no such endpoint");
  }
  if (caller.role != store::Role::kAdmin) {
    return ErrorResponse(403, "forbidden", "Forbidden", "agreements are managed by administrators");
  }
  if (ctx.data_dir.empty()) {
    return ErrorResponse(503, "policy_unreadable", "Service Unavailable",
                         "this hub has no data directory");
  }
  Handler h(ctx, req, path, caller);
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (collection) {
    if (read) return h.List();
    if (req.method == "POST") return h.Add();
    return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET or POST");
  }
  const std::string& id = target->segments[3];
  if (read) return h.One(id);
  if (req.method == "DELETE") return h.Revoke(*target, id);
  return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET or DELETE");
}

}  // namespace ctihub::webapi
