#include "stix/sco_id.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/uuid.h"

namespace ctihub::stix {
namespace {

using json::Element;
using json::Type;

struct Contrib {
  std::string_view type;
  std::initializer_list<std::string_view> props;
};

// STIX 2.1 section 6: "ID Contributing Properties" of each SCO.
const Contrib kContrib[] = {
    {"artifact", {"hashes", "payload_bin"}},
    {"autonomous-system", {"number"}},
    {"directory", {"path"}},
    {"domain-name", {"value"}},
    {"email-addr", {"value"}},
    {"email-message", {"from_ref", "subject", "body"}},
    {"file", {"hashes", "name", "extensions", "parent_directory_ref"}},
    {"ipv4-addr", {"value"}},
    {"ipv6-addr", {"value"}},
    {"mac-addr", {"value"}},
    {"mutex", {"name"}},
    {"network-traffic",
     {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"}},
    {"software", {"name", "cpe", "swid", "vendor", "version"}},
    {"url", {"value"}},
    {"user-account", {"account_type", "user_id", "account_login"}},
    {"windows-registry-key", {"key", "values"}},
    {"x509-certificate", {"hashes", "serial_number"}},
};

const Uuid& ScoNamespace() {
  static const Uuid ns = *Uuid::Parse("00abedb4-aa42-466c-9c01-fed23315a9b7");
  return ns;
}

// Appends {"ALG":"value"} for the one hash that contributes: MD5, SHA-1,
// SHA-256, SHA-512 in that order, else the first algorithm in JCS key order.
bool AppendOneHash(std::string& out, Element hashes) {
  if (hashes.type() != Type::OBJECT) return false;
  json::Object obj = hashes.get_object().value_unsafe();
  std::string_view best_key;
  Element best;
  int best_rank = 100;
  for (auto [k, v] : obj) {
    int rank = k == "MD5" ? 0 : k == "SHA-1" ? 1 : k == "SHA-256" ? 2 : k == "SHA-512" ? 3 : 4;
    if (rank < best_rank || (rank == 4 && best_rank == 4 && json::Utf16Less(k, best_key))) {
      best_rank = rank;
      best_key = k;
      best = v;
    }
  }
  if (best_rank == 100) return false;
  out += '{';
  json::AppendQuoted(out, best_key);
  out += ':';
  json::AppendCanonical(out, best);
  out += '}';
  return true;
}

}  // namespace

std::initializer_list<std::string_view> IdContributingProperties(std::string_view type) {
  for (const Contrib& c : kContrib) {
    if (c.type == type) return c.props;
  }
  return {};
}

bool DeterministicScoIdIfAny(json::Object sco, std::string_view type, std::string* id) {
  auto props = IdContributingProperties(type);
  if (props.size() == 0) return false;
  std::array<std::pair<std::string_view, Element>, 8> present;
  size_t n = 0;
  for (std::string_view p : props) {
    Element v;
    if (!sco[p].get(v) && n < present.size()) present[n++] = {p, v};
  }
  if (n == 0) return false;
  for (size_t i = 1; i < n; ++i) {  // insertion sort: at most 8 names
    for (size_t j = i; j > 0 && json::Utf16Less(present[j].first, present[j - 1].first); --j) {
      std::swap(present[j], present[j - 1]);
    }
  }
  std::string canon = "{";
  bool first = true;
  for (size_t i = 0; i < n; ++i) {
    std::string part;
    if (present[i].first == "hashes") {
      if (!AppendOneHash(part, present[i].second)) continue;
    } else {
      json::AppendCanonical(part, present[i].second);
    }
    if (!first) canon += ',';
    first = false;
    json::AppendQuoted(canon, present[i].first);
    canon += ':';
    canon += part;
  }
  if (first) return false;  // only an empty hashes dictionary
  canon += '}';
  *id = std::string(type) + "--" + Uuid::V5(ScoNamespace(), canon).ToString();
  return true;
}

Result<std::string> DeterministicScoId(json::Element sco) {
  if (sco.type() != Type::OBJECT) return InvalidArgument("an SCO must be a JSON object");
  json::Object obj = sco.get_object().value_unsafe();
  Element t;
  if (obj["type"].get(t) || t.type() != Type::STRING)
    return InvalidArgument("an SCO needs a string \"type\"");
  std::string_view type = t.get_string().value_unsafe();
  std::string id;
  if (DeterministicScoIdIfAny(obj, type, &id)) return id;
  return std::string(type) + "--" + Uuid::V4().ToString();
}

}  // namespace ctihub::stix
