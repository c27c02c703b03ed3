#include "policy/model.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/hash.h"
#include "policy/policy_source.h"

namespace ctihub::policy {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Status Err(const toml::source_region& where, std::string_view reason) const {
    return InvalidArgument(source_ + ":" + std::to_string(where.begin.line) + ":" +
                           std::to_string(where.begin.column) + ": " + std::string(reason));
  }
  Status Err(const toml::node& n, std::string_view reason) const { return Err(n.source(), reason); }

  // Checks that every key of `t` is in `allowed`.
  Status OnlyKeys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                  std::string_view what) const {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (auto a : allowed) ok = ok || k.str() == a;
      if (!ok)
        return Err(k.source(),
                   "unknown key '" + std::string(k.str()) + "' in " + std::string(what));
    }
    return Status::Ok();
  }

  Result<std::string> Str(const toml::table& t, std::string_view key, bool required,
                          std::string_view what) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) return Err(t, std::string(what) + " needs '" + std::string(key) + "'");
      return std::string();
    }
    if (!n->is_string()) return Err(*n, "'" + std::string(key) + "' must be a string");
    return std::string(n->as_string()->get());
  }

  Result<std::vector<std::string>> StrList(const toml::table& t, std::string_view key) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (n == nullptr) return out;
    if (!n->is_array()) return Err(*n, "'" + std::string(key) + "' must be an array of strings");
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) return Err(e, "'" + std::string(key) + "' must hold strings only");
      out.emplace_back(e.as_string()->get());
    }
    return out;
  }

  Result<std::optional<Timestamp>> Time(const toml::table& t, std::string_view key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::optional<Timestamp>();
    if (!n->is_string()) return Err(*n, "'" + std::string(key) + "' must be an RFC 3339 string");
    auto ts = Timestamp::Parse(n->as_string()->get());
    if (!ts.ok()) return Err(*n, "'" + std::string(key) + "': " + ts.status().message());
    return std::optional<Timestamp>(*ts);
  }

  Result<bool> Bool(const toml::table& t, std::string_view key, bool dflt) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return dflt;
    if (!n->is_boolean()) return Err(*n, "'" + std::string(key) + "' must be true or false");
    return n->as_boolean()->get();
  }

  template <typename T, typename F>
  Result<std::optional<T>> Level(const toml::table& t, std::string_view key, F parse,
                                 std::string_view kind) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return std::optional<T>();
    if (!n->is_string()) return Err(*n, "'" + std::string(key) + "' must be a string");
    auto v = parse(n->as_string()->get());
    if (!v)
      return Err(*n, "'" + std::string(key) + "': unknown " + std::string(kind) + " level '" +
                         std::string(n->as_string()->get()) + "'");
    return std::optional<T>(*v);
  }

  // Array of tables under `key` (absent = empty).
  Result<std::vector<const toml::table*>> Tables(const toml::table& root,
                                                 std::string_view key) const {
    std::vector<const toml::table*> out;
    const toml::node* n = root.get(key);
    if (n == nullptr) return out;
    if (!n->is_array_of_tables())
      return Err(
          *n, "'" + std::string(key) + "' must be written as [[" + std::string(key) + "]] tables");
    for (const toml::node& e : *n->as_array()) out.push_back(e.as_table());
    return out;
  }

  Result<Agreement> ParseAgreement(const toml::table& t) const {
    CTIHUB_RETURN_IF_ERROR(
        OnlyKeys(t,
                 {"id", "producer", "recipient", "max_tlp", "object_types", "pap_ceiling",
                  "strip_properties", "withhold_sco_types", "reshare", "relay", "valid_from",
                  "expires", "legal_basis", "revoked_at", "revoked_reason"},
                 "[[agreement]]"));
    Agreement a;
    CTIHUB_ASSIGN_OR_RETURN(a.id, Str(t, "id", true, "[[agreement]]"));
    if (a.id.empty()) return Err(*t.get("id"), "agreement id must not be empty");
    for (auto [key, party] : {std::pair<std::string_view, Party*>{"producer", &a.producer},
                              std::pair<std::string_view, Party*>{"recipient", &a.recipient}}) {
      CTIHUB_ASSIGN_OR_RETURN(std::string s, Str(t, key, true, "[[agreement]] " + a.id));
      auto p = ParseParty(s);
      if (!p.ok()) return Err(*t.get(key), p.status().message());
      *party = *p;
    }
    CTIHUB_ASSIGN_OR_RETURN(auto tlp, Level<Tlp>(t, "max_tlp", ParseTlp, "TLP"));
    if (!tlp) return Err(t, "[[agreement]] " + a.id + " needs 'max_tlp'");
    a.max_tlp = *tlp;
    CTIHUB_ASSIGN_OR_RETURN(a.object_types, StrList(t, "object_types"));
    if (t.get("object_types") == nullptr)
      return Err(t, "[[agreement]] " + a.id + " needs 'object_types' (use [\"*\"] for every type)");
    for (const auto& ty : a.object_types) {
      if (ty == "*") {
        if (a.object_types.size() != 1)
          return Err(*t.get("object_types"), "'*' must be alone in object_types");
        a.object_types.clear();
        break;
      }
      if (ty.empty()) return Err(*t.get("object_types"), "empty object type");
    }
    if (t.get("object_types")->as_array()->empty())
      return Err(*t.get("object_types"),
                 "object_types is empty: the agreement would share nothing");
    CTIHUB_ASSIGN_OR_RETURN(auto pap, Level<Pap>(t, "pap_ceiling", ParsePap, "PAP"));
    if (pap) a.pap_ceiling = *pap;
    CTIHUB_ASSIGN_OR_RETURN(a.strip_properties, StrList(t, "strip_properties"));
    for (const auto& s : a.strip_properties) {
      if (s.empty() || s.back() == '.' || s.front() == '.' || s.find("..") != std::string::npos)
        return Err(*t.get("strip_properties"), "bad property selector '" + s + "'");
    }
    CTIHUB_ASSIGN_OR_RETURN(a.withhold_sco_types, StrList(t, "withhold_sco_types"));
    CTIHUB_ASSIGN_OR_RETURN(a.reshare, Bool(t, "reshare", false));
    CTIHUB_ASSIGN_OR_RETURN(a.relay, Bool(t, "relay", false));
    CTIHUB_ASSIGN_OR_RETURN(a.valid_from, Time(t, "valid_from"));
    CTIHUB_ASSIGN_OR_RETURN(a.expires, Time(t, "expires"));
    CTIHUB_ASSIGN_OR_RETURN(a.revoked_at, Time(t, "revoked_at"));
    CTIHUB_ASSIGN_OR_RETURN(a.revoked_reason, Str(t, "revoked_reason", false, ""));
    CTIHUB_ASSIGN_OR_RETURN(a.legal_basis, Str(t, "legal_basis", true, "[[agreement]] " + a.id));
    if (a.legal_basis.empty()) return Err(*t.get("legal_basis"), "legal_basis must not be empty");
    if (a.valid_from && a.expires && !(*a.valid_from < *a.expires))
      return Err(*t.get("expires"), "expires must be after valid_from");
    if (a.max_tlp == Tlp::kAmberStrict && a.reshare)
      return Err(*t.get("reshare"), "an AMBER+STRICT agreement cannot allow re-sharing");
    if (a.max_tlp == Tlp::kAmberStrict && a.recipient.kind == Party::Kind::kCommunity)
      return Err(*t.get("recipient"),
                 "AMBER+STRICT needs a recipient organisation, not a community");
    return a;
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

Result<toml::table> ParseToml(std::string_view text, std::string_view source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.source().begin.line) + ":" +
                           std::to_string(e.source().begin.column) + ": " +
                           std::string(e.description()));
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(source) + ": " + e.what());
  }
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable(path + ": read error");
  return ss.str();
}

Status ParseInto(const toml::table& root, const Reader& r, PolicyModel& m,
                 std::vector<std::pair<std::string, toml::source_region>>* agreement_pos,
                 std::vector<toml::source_region>* org_pos = nullptr) {
  CTIHUB_RETURN_IF_ERROR(
      r.OnlyKeys(root, {"defaults", "organisation", "community", "collection", "agreement"},
                 "the policy file"));
  if (const toml::node* d = root.get("defaults")) {
    if (!d->is_table()) return r.Err(*d, "[defaults] must be a table");
    const toml::table& t = *d->as_table();
    CTIHUB_RETURN_IF_ERROR(r.OnlyKeys(t, {"unmarked_tlp"}, "[defaults]"));
    CTIHUB_ASSIGN_OR_RETURN(auto u, r.Level<Tlp>(t, "unmarked_tlp", ParseTlp, "TLP"));
    if (u) m.unmarked_tlp = *u;
  }
  CTIHUB_ASSIGN_OR_RETURN(auto orgs, r.Tables(root, "organisation"));
  for (const toml::table* t : orgs) {
    CTIHUB_RETURN_IF_ERROR(r.OnlyKeys(*t, {"name", "identity", "sector", "country", "communities"},
                                      "[[organisation]]"));
    Organisation o;
    CTIHUB_ASSIGN_OR_RETURN(o.name, r.Str(*t, "name", true, "[[organisation]]"));
    if (o.name.empty()) return r.Err(*t, "organisation name must not be empty");
    if (m.FindOrganisation(o.name))
      return r.Err(*t->get("name"), "organisation '" + o.name + "' defined twice");
    // Optional: the hub's store supplies it (LoadPolicyDir with known organisations).
    CTIHUB_ASSIGN_OR_RETURN(o.identity_id,
                            r.Str(*t, "identity", false, "[[organisation]] " + o.name));
    if (t->get("identity") != nullptr && !IsIdentityId(o.identity_id))
      return r.Err(*t->get("identity"), "identity must be a STIX identity id (identity--UUID)");
    if (!o.identity_id.empty() && m.FindOrganisationByIdentity(o.identity_id))
      return r.Err(*t->get("identity"), "identity " + o.identity_id + " used by two organisations");
    CTIHUB_ASSIGN_OR_RETURN(o.sector, r.Str(*t, "sector", false, ""));
    CTIHUB_ASSIGN_OR_RETURN(o.country, r.Str(*t, "country", false, ""));
    if (!o.country.empty() &&
        (o.country.size() != 2 || !std::isupper(static_cast<unsigned char>(o.country[0])) ||
         !std::isupper(static_cast<unsigned char>(o.country[1]))))
      return r.Err(*t->get("country"), "country must be an ISO 3166-1 alpha-2 code such as \"FR\"");
    CTIHUB_ASSIGN_OR_RETURN(o.communities, r.StrList(*t, "communities"));
    if (org_pos) org_pos->push_back(t->source());
    m.organisations.push_back(std::move(o));
  }
  CTIHUB_ASSIGN_OR_RETURN(auto comms, r.Tables(root, "community"));
  for (const toml::table* t : comms) {
    CTIHUB_RETURN_IF_ERROR(r.OnlyKeys(*t, {"name", "description"}, "[[community]]"));
    Community c;
    CTIHUB_ASSIGN_OR_RETURN(c.name, r.Str(*t, "name", true, "[[community]]"));
    if (c.name.empty()) return r.Err(*t, "community name must not be empty");
    for (const auto& e : m.communities)
      if (e.name == c.name)
        return r.Err(*t->get("name"), "community '" + c.name + "' defined twice");
    CTIHUB_ASSIGN_OR_RETURN(c.description, r.Str(*t, "description", false, ""));
    m.communities.push_back(std::move(c));
  }
  // Organisations may only join declared communities.
  for (size_t i = 0; i < orgs.size(); ++i) {
    for (const auto& c : m.organisations[i].communities) {
      if (!m.HasCommunity(c))
        return r.Err(*orgs[i]->get("communities"),
                     "unknown community '" + c + "' (declare it in a [[community]] table)");
    }
  }
  CTIHUB_ASSIGN_OR_RETURN(auto cols, r.Tables(root, "collection"));
  for (const toml::table* t : cols) {
    CTIHUB_RETURN_IF_ERROR(
        r.OnlyKeys(*t, {"name", "default_tlp", "default_pap", "public"}, "[[collection]]"));
    CollectionSettings c;
    CTIHUB_ASSIGN_OR_RETURN(c.name, r.Str(*t, "name", true, "[[collection]]"));
    if (m.FindCollection(c.name))
      return r.Err(*t->get("name"), "collection '" + c.name + "' configured twice");
    CTIHUB_ASSIGN_OR_RETURN(c.default_tlp, r.Level<Tlp>(*t, "default_tlp", ParseTlp, "TLP"));
    CTIHUB_ASSIGN_OR_RETURN(c.default_pap, r.Level<Pap>(*t, "default_pap", ParsePap, "PAP"));
    CTIHUB_ASSIGN_OR_RETURN(c.public_read, r.Bool(*t, "public", false));
    m.collections.push_back(std::move(c));
  }
  CTIHUB_ASSIGN_OR_RETURN(auto ags, r.Tables(root, "agreement"));
  // A set, not FindAgreement: a lookup per agreement made loading quadratic
  // (50,000 agreements took 25 s; bench/policy/scale.py).
  std::unordered_set<std::string> ids;
  for (const Agreement& a : m.agreements) ids.insert(a.id);
  for (const toml::table* t : ags) {
    CTIHUB_ASSIGN_OR_RETURN(Agreement a, r.ParseAgreement(*t));
    if (!ids.insert(a.id).second)
      return r.Err(*t->get("id"), "agreement '" + a.id + "' defined twice");
    if (agreement_pos) agreement_pos->emplace_back(a.id, t->source());
    m.agreements.push_back(std::move(a));
  }
  return Status::Ok();
}

// Checks the parties of agreements; reports at the agreement's position.
Status CheckParties(const PolicyModel& m, const std::string& source,
                    const std::vector<std::pair<std::string, toml::source_region>>& pos) {
  // Indexed once: the model's Find* functions are linear scans.
  std::unordered_map<std::string_view, const Agreement*> by_id;
  for (const Agreement& a : m.agreements) by_id.emplace(a.id, &a);
  std::unordered_set<std::string_view> orgs, communities;
  for (const Organisation& o : m.organisations) orgs.insert(o.name);
  for (const Community& c : m.communities) communities.insert(c.name);
  for (const auto& [id, where] : pos) {
    const Agreement* a = by_id.at(id);
    for (const Party* p : {&a->producer, &a->recipient}) {
      bool known = p->kind == Party::Kind::kOrganisation ? orgs.count(p->name) != 0
                                                         : communities.count(p->name) != 0;
      if (!known)
        return Reader(source).Err(where, "agreement '" + id + "': unknown " + p->ToString());
    }
    if (a->producer.kind == a->recipient.kind && a->producer.name == a->recipient.name)
      return Reader(source).Err(where,
                                "agreement '" + id + "': producer and recipient are the same");
  }
  return Status::Ok();
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x",
                        static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string QuoteList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + Quote(v[i]);
  return out + "]";
}

}  // namespace

std::string Party::ToString() const {
  return (kind == Kind::kOrganisation ? "org:" : "community:") + name;
}

Result<Party> ParseParty(std::string_view s) {
  Party p;
  if (s.rfind("org:", 0) == 0) {
    p.kind = Party::Kind::kOrganisation;
    p.name = s.substr(4);
  } else if (s.rfind("community:", 0) == 0) {
    p.kind = Party::Kind::kCommunity;
    p.name = s.substr(10);
  } else {
    return InvalidArgument("party must be \"org:NAME\" or \"community:NAME\", got '" +
                           std::string(s) + "'");
  }
  if (p.name.empty()) return InvalidArgument("party name must not be empty");
  return p;
}

bool PartyIncludes(const Party& p, const Organisation& o) {
  if (p.kind == Party::Kind::kOrganisation) return p.name == o.name;
  return std::find(o.communities.begin(), o.communities.end(), p.name) != o.communities.end();
}

bool Agreement::ActiveAt(Timestamp now) const {
  if (valid_from && now < *valid_from) return false;
  if (expires && !(now < *expires)) return false;
  if (revoked_at && !(now < *revoked_at)) return false;
  return true;
}

const Organisation* PolicyModel::FindOrganisation(std::string_view name) const {
  for (const auto& o : organisations)
    if (o.name == name) return &o;
  return nullptr;
}
const Organisation* PolicyModel::FindOrganisationByIdentity(std::string_view id) const {
  if (id.empty()) return nullptr;  // organisations without an identity own nothing
  for (const auto& o : organisations)
    if (o.identity_id == id) return &o;
  return nullptr;
}
const Agreement* PolicyModel::FindAgreement(std::string_view id) const {
  for (const auto& a : agreements)
    if (a.id == id) return &a;
  return nullptr;
}
Agreement* PolicyModel::FindAgreement(std::string_view id) {
  for (auto& a : agreements)
    if (a.id == id) return &a;
  return nullptr;
}
const CollectionSettings* PolicyModel::FindCollection(std::string_view name) const {
  for (const auto& c : collections)
    if (c.name == name) return &c;
  return nullptr;
}
bool PolicyModel::HasCommunity(std::string_view name) const {
  for (const auto& c : communities)
    if (c.name == name) return true;
  return false;
}

Status PolicyModel::Validate() const {
  std::unordered_set<std::string_view> ids, org_names, community_names;
  for (const Organisation& o : organisations) org_names.insert(o.name);
  for (const Community& c : communities) community_names.insert(c.name);
  for (const auto& a : agreements) {
    if (!ids.insert(a.id).second) return InvalidArgument("agreement '" + a.id + "' defined twice");
    for (const Party* p : {&a.producer, &a.recipient}) {
      bool known = p->kind == Party::Kind::kOrganisation ? org_names.count(p->name) != 0
                                                         : community_names.count(p->name) != 0;
      if (!known) return InvalidArgument("agreement '" + a.id + "': unknown " + p->ToString());
    }
  }
  return Status::Ok();
}

Result<PolicyModel> ParsePolicyToml(std::string_view text, std::string_view source) {
  CTIHUB_ASSIGN_OR_RETURN(toml::table root, ParseToml(text, source));
  Reader r(source);
  PolicyModel m;
  std::vector<std::pair<std::string, toml::source_region>> pos;
  CTIHUB_RETURN_IF_ERROR(ParseInto(root, r, m, &pos));
  CTIHUB_RETURN_IF_ERROR(CheckParties(m, std::string(source), pos));
  return m;
}

static Result<AgreementChanges> ParseAgreementChanges(
    std::string_view text, std::string_view source,
    std::vector<std::pair<std::string, toml::source_region>>* pos,
    std::vector<toml::source_region>* rev_pos) {
  CTIHUB_ASSIGN_OR_RETURN(toml::table root, ParseToml(text, source));
  Reader r(source);
  CTIHUB_RETURN_IF_ERROR(r.OnlyKeys(root, {"agreement", "revocation"}, "the agreements file"));
  AgreementChanges c;
  CTIHUB_ASSIGN_OR_RETURN(auto ags, r.Tables(root, "agreement"));
  for (const toml::table* t : ags) {
    CTIHUB_ASSIGN_OR_RETURN(Agreement a, r.ParseAgreement(*t));
    if (pos) pos->emplace_back(a.id, t->source());
    c.added.push_back(std::move(a));
  }
  CTIHUB_ASSIGN_OR_RETURN(auto revs, r.Tables(root, "revocation"));
  for (const toml::table* t : revs) {
    CTIHUB_RETURN_IF_ERROR(r.OnlyKeys(*t, {"agreement", "at", "reason"}, "[[revocation]]"));
    AgreementChanges::Revocation rv;
    CTIHUB_ASSIGN_OR_RETURN(rv.agreement, r.Str(*t, "agreement", true, "[[revocation]]"));
    CTIHUB_ASSIGN_OR_RETURN(auto at, r.Time(*t, "at"));
    if (!at) return r.Err(*t, "[[revocation]] needs 'at'");
    rv.at = *at;
    CTIHUB_ASSIGN_OR_RETURN(rv.reason, r.Str(*t, "reason", false, ""));
    if (rev_pos) rev_pos->push_back(t->source());
    c.revocations.push_back(std::move(rv));
  }
  return c;
}

Result<AgreementChanges> ParseAgreementChangesToml(std::string_view text, std::string_view source) {
  return ParseAgreementChanges(text, source, nullptr, nullptr);
}

Result<AgreementChanges> LoadAgreementChanges(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return AgreementChanges{};
  CTIHUB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseAgreementChanges(text, path, nullptr, nullptr);
}

namespace {

// Merges the store's organisations into a model parsed from `source`
// (`org_pos`: the position of each of its organisations, in order).
Status MergeKnownOrgs(PolicyModel& m, const std::vector<KnownOrg>& known, const std::string& source,
                      const std::vector<toml::source_region>& org_pos) {
  Reader r(source);
  const size_t from_file = m.organisations.size();
  auto where = [&](const Organisation& o) -> const toml::source_region* {
    size_t i = static_cast<size_t>(&o - m.organisations.data());
    return i < from_file && i < org_pos.size() ? &org_pos[i] : nullptr;
  };
  auto err = [&](const Organisation& o, const std::string& reason) {
    const toml::source_region* at = where(o);
    return at ? r.Err(*at, reason) : InvalidArgument("hub database: " + reason);
  };
  std::set<std::string> in_store;
  for (const KnownOrg& k : known) {
    if (k.name.empty() || !in_store.insert(k.name).second) continue;
    if (!k.identity_id.empty()) {
      const Organisation* other = m.FindOrganisationByIdentity(k.identity_id);
      if (other != nullptr && other->name != k.name) {
        if (where(*other) == nullptr)
          return err(*other, "organisations '" + other->name + "' and '" + k.name +
                                 "' have the same identity " + k.identity_id);
        return err(*other, "identity " + k.identity_id + " is organisation '" + other->name +
                               "' here but '" + k.name + "' in the hub database (ctihub org list)");
      }
    }
    Organisation* o = nullptr;
    for (auto& e : m.organisations)
      if (e.name == k.name) o = &e;
    if (o == nullptr) {
      Organisation added;
      added.name = k.name;
      added.identity_id = k.identity_id;
      m.organisations.push_back(std::move(added));
      continue;
    }
    if (o->identity_id.empty()) {
      o->identity_id = k.identity_id;
    } else if (!k.identity_id.empty() && o->identity_id != k.identity_id) {
      return err(*o, "organisation '" + o->name + "' has identity " + o->identity_id +
                         " here but " + k.identity_id +
                         " in the hub database (ctihub org list): make them agree");
    }
  }
  for (size_t i = 0; i < from_file; ++i) {
    const Organisation& o = m.organisations[i];
    if (o.identity_id.empty() && !in_store.count(o.name))
      return err(o, "organisation '" + o.name +
                        "' has no identity and the hub does not know it: set `identity` or "
                        "create it with `ctihub org add " +
                        o.name + "`");
  }
  return Status::Ok();
}

// The model of the two documents' texts (nullopt: that document is absent),
// named `main_path` and `changes_path` in messages.
Result<PolicyModel> LoadTexts(const std::optional<std::string>& main_text,
                              const std::string& main_path,
                              const std::optional<std::string>& changes_text,
                              const std::string& changes_path, bool allow_missing,
                              const std::vector<KnownOrg>* known) {
  PolicyModel m;
  if (main_text) {
    CTIHUB_ASSIGN_OR_RETURN(toml::table root, ParseToml(*main_text, main_path));
    Reader r(main_path);
    std::vector<std::pair<std::string, toml::source_region>> pos;
    std::vector<toml::source_region> org_pos;
    CTIHUB_RETURN_IF_ERROR(ParseInto(root, r, m, &pos, &org_pos));
    // The store's organisations first, so policy.toml's agreements may name them.
    if (known) CTIHUB_RETURN_IF_ERROR(MergeKnownOrgs(m, *known, main_path, org_pos));
    CTIHUB_RETURN_IF_ERROR(CheckParties(m, main_path, pos));
  } else if (!allow_missing) {
    return NotFound(main_path + ": no policy file");
  } else if (known) {
    CTIHUB_RETURN_IF_ERROR(MergeKnownOrgs(m, *known, main_path, {}));
  }
  if (!changes_text) return m;
  std::vector<std::pair<std::string, toml::source_region>> pos;
  std::vector<toml::source_region> rev_pos;
  CTIHUB_ASSIGN_OR_RETURN(AgreementChanges c,
                          ParseAgreementChanges(*changes_text, changes_path, &pos, &rev_pos));
  Reader r(changes_path);
  std::unordered_set<std::string> ids;
  for (const Agreement& a : m.agreements) ids.insert(a.id);
  for (size_t i = 0; i < c.added.size(); ++i) {
    if (ids.count(c.added[i].id))
      return r.Err(pos[i].second,
                   "agreement '" + c.added[i].id + "' already defined in " + main_path);
    m.agreements.push_back(std::move(c.added[i]));
  }
  CTIHUB_RETURN_IF_ERROR(CheckParties(m, changes_path, pos));
  std::unordered_map<std::string_view, Agreement*> by_id;  // after the last push_back
  for (Agreement& a : m.agreements) by_id.emplace(a.id, &a);
  for (size_t i = 0; i < c.revocations.size(); ++i) {
    auto found = by_id.find(c.revocations[i].agreement);
    Agreement* a = found == by_id.end() ? nullptr : found->second;
    if (a == nullptr)
      return r.Err(rev_pos[i],
                   "revocation of unknown agreement '" + c.revocations[i].agreement + "'");
    if (!a->revoked_at || c.revocations[i].at < *a->revoked_at) {
      a->revoked_at = c.revocations[i].at;
      a->revoked_reason = c.revocations[i].reason;
    }
  }
  return m;
}

Result<PolicyModel> LoadDir(const std::string& dir, bool allow_missing,
                            const std::vector<KnownOrg>* known) {
  CTIHUB_ASSIGN_OR_RETURN(PolicyTexts t, FilePolicySource(dir)->Read());
  return LoadTexts(t.policy, t.policy_name, t.agreements, t.agreements_name, allow_missing, known);
}

}  // namespace

Result<PolicyModel> LoadPolicyDir(const std::string& dir, bool allow_missing) {
  return LoadDir(dir, allow_missing, nullptr);
}

Result<PolicyModel> LoadPolicyDir(const std::string& dir, bool allow_missing,
                                  const std::vector<KnownOrg>& known_orgs) {
  return LoadDir(dir, allow_missing, &known_orgs);
}

Result<PolicyModel> LoadPolicyTexts(const PolicyTexts& texts,
                                    const std::vector<KnownOrg>* known_orgs) {
  return LoadTexts(texts.policy, texts.policy_name, texts.agreements, texts.agreements_name,
                   /*allow_missing=*/true, known_orgs);
}

bool IsIdentityId(std::string_view s) {
  constexpr std::string_view kPrefix = "identity--";
  if (s.size() != kPrefix.size() + 36 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view u = s.substr(kPrefix.size());
  for (size_t i = 0; i < u.size(); ++i) {
    const char c = u[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  const char variant = static_cast<char>(u[19] | 0x20);
  return variant == '8' || variant == '9' || variant == 'a' || variant == 'b';
}

std::string AgreementToToml(const Agreement& a) {
  std::string s = "[[agreement]]\n";
  s += "id = " + Quote(a.id) + "\n";
  s += "producer = " + Quote(a.producer.ToString()) + "\n";
  s += "recipient = " + Quote(a.recipient.ToString()) + "\n";
  s += "max_tlp = " + Quote(TlpName(a.max_tlp)) + "\n";
  s += "object_types = " +
       (a.object_types.empty() ? std::string("[\"*\"]") : QuoteList(a.object_types)) + "\n";
  s += "pap_ceiling = " + Quote(PapName(a.pap_ceiling)) + "\n";
  if (!a.strip_properties.empty())
    s += "strip_properties = " + QuoteList(a.strip_properties) + "\n";
  if (!a.withhold_sco_types.empty())
    s += "withhold_sco_types = " + QuoteList(a.withhold_sco_types) + "\n";
  s += std::string("reshare = ") + (a.reshare ? "true" : "false") + "\n";
  if (a.relay) s += "relay = true\n";
  if (a.valid_from) s += "valid_from = " + Quote(a.valid_from->ToString()) + "\n";
  if (a.expires) s += "expires = " + Quote(a.expires->ToString()) + "\n";
  s += "legal_basis = " + Quote(a.legal_basis) + "\n";
  if (a.revoked_at) s += "revoked_at = " + Quote(a.revoked_at->ToString()) + "\n";
  if (!a.revoked_reason.empty()) s += "revoked_reason = " + Quote(a.revoked_reason) + "\n";
  return s;
}

std::string ModelDigest(const PolicyModel& m) {
  std::string text = "unmarked_tlp = " + Quote(TlpName(m.unmarked_tlp)) + "\n";
  for (const Organisation& o : m.organisations) {
    text += "[[organisation]]\nname = " + Quote(o.name) + "\nidentity = " + Quote(o.identity_id) +
            "\nsector = " + Quote(o.sector) + "\ncountry = " + Quote(o.country) +
            "\ncommunities = " + QuoteList(o.communities) + "\n";
  }
  for (const Community& c : m.communities) text += "[[community]]\nname = " + Quote(c.name) + "\n";
  for (const CollectionSettings& c : m.collections) {
    text += "[[collection]]\nname = " + Quote(c.name) +
            "\ndefault_tlp = " + Quote(c.default_tlp ? TlpName(*c.default_tlp) : "") +
            "\ndefault_pap = " + Quote(c.default_pap ? PapName(*c.default_pap) : "") +
            "\npublic = " + (c.public_read ? "true" : "false") + "\n";
  }
  for (const Agreement& a : m.agreements) text += AgreementToToml(a);
  return Sha256Hex(text);
}

std::string AgreementChangesToml(const AgreementChanges& c) {
  std::string text =
      "# Managed by `ctihub agreement add|revoke`; every change is in the audit trail.\n"
      "# Hand edits are possible but bypass the audit trail.\n\n";
  for (const auto& a : c.added) text += AgreementToToml(a) + "\n";
  for (const auto& r : c.revocations) {
    text += "[[revocation]]\nagreement = " + Quote(r.agreement) +
            "\nat = " + Quote(r.at.ToString()) + "\nreason = " + Quote(r.reason) + "\n\n";
  }
  return text;
}

Status SaveAgreementChanges(const std::string& path, const AgreementChanges& c) {
  const std::string text = AgreementChangesToml(c);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Unavailable(tmp + ": cannot write");
    out << text;
    out.flush();
    if (!out) return Unavailable(tmp + ": write error");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unavailable(path + ": rename failed: " + ec.message());
  return Status::Ok();
}

}  // namespace ctihub::policy
