// Implementation of generate.h.
#include "formats/generate.h"

#include <map>

#include "core/json.h"
#include "core/uuid.h"
#include "stix/sco_id.h"

namespace ctihub::formats {
namespace {

// Namespace of the ids of importer-made SDOs (UUIDv5 names below).
const Uuid& ImportNamespace() {
  static const Uuid ns = *Uuid::Parse("6d2f7c0e-5a1b-5c3e-9f4d-2b8e1a7c9d30");
  return ns;
}

std::string GeneratedId(std::string_view type, const GenerateOptions& o, std::string_view key) {
  std::string name = std::string(type) + "|" + o.producer + "|" + std::string(key);
  return std::string(type) + "--" + Uuid::V5(ImportNamespace(), name).ToString();
}

// "hashes.'SHA-256'" -> {"hashes", "SHA-256"}; empty on a malformed path.
std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> steps;
  size_t i = 0;
  while (i < path.size()) {
    std::string step;
    if (path[i] == '\'') {
      size_t close = path.find('\'', i + 1);
      if (close == std::string_view::npos) return {};
      step = std::string(path.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      size_t dot = path.find('.', i);
      if (dot == std::string_view::npos) dot = path.size();
      step = std::string(path.substr(i, dot - i));
      i = dot;
    }
    if (step.empty()) return {};
    steps.push_back(std::move(step));
    if (i < path.size()) {
      if (path[i] != '.') return {};
      ++i;
      if (i == path.size()) return {};
    }
  }
  return steps;
}

std::string PatternString(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool IsAddressType(std::string_view type) { return type == "ipv4-addr" || type == "ipv6-addr"; }

// A tree of string properties, written as nested JSON objects.
struct Node {
  std::string value;
  bool leaf = false;
  std::map<std::string, Node> children;
};

void WriteNode(json::JsonWriter& w, const Node& n) {
  if (n.leaf) {
    w.String(n.value);
    return;
  }
  w.BeginObject();
  for (const auto& [k, child] : n.children) {
    w.Key(k);
    WriteNode(w, child);
  }
  w.EndObject();
}

}  // namespace

std::string ComparisonPattern(std::string_view type, const std::vector<ScoProperty>& props) {
  std::string out = "[";
  for (size_t i = 0; i < props.size(); ++i) {
    if (i > 0) out += " AND ";
    bool cidr = IsAddressType(type) && props[i].path == "value" &&
                props[i].value.find('/') != std::string::npos;
    out += std::string(type) + ":" + props[i].path + (cidr ? " ISSUBSET " : " = ");
    out += PatternString(props[i].value);
  }
  return out + "]";
}

Result<std::string> MakeSco(std::string_view type, const std::vector<ScoProperty>& props) {
  Node root;
  for (const ScoProperty& p : props) {
    std::vector<std::string> steps = SplitPath(p.path);
    if (steps.empty()) return InvalidArgument("bad_object_path", "malformed: '" + p.path + "'");
    Node* n = &root;
    for (const std::string& s : steps) {
      if (n->leaf)
        return InvalidArgument("bad_object_path", "'" + p.path + "' conflicts with another");
      n = &n->children[s];
    }
    if (n->leaf || !n->children.empty()) {
      return InvalidArgument("bad_object_path", "'" + p.path + "' given twice");
    }
    n->leaf = true;
    n->value = p.value;
  }
  for (const char* reserved : {"type", "id", "spec_version"}) {
    if (root.children.count(reserved) != 0) {
      return InvalidArgument("bad_object_path",
                             std::string("'") + reserved + "' is set by the importer");
    }
  }
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject().Key("type").String(type).Key("spec_version").String("2.1");
  for (const auto& [k, child] : root.children) {
    w.Key(k);
    WriteNode(w, child);
  }
  w.EndObject();
  json::JsonParser parser;
  CTIHUB_ASSIGN_OR_RETURN(json::Element el, parser.Parse(body));
  CTIHUB_ASSIGN_OR_RETURN(std::string id, stix::DeterministicScoId(el));
  std::string id_member;
  json::JsonWriter(id_member).String(id);
  return "{\"id\":" + id_member + "," + body.substr(1);
}

std::string MakeIndicator(std::string_view pattern, std::string_view name,
                          const GenerateOptions& options) {
  std::string now = options.now.ToString();
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("type").String("indicator").Key("spec_version").String("2.1");
  w.Key("id").String(GeneratedId("indicator", options, pattern));
  w.Key("created").String(now).Key("modified").String(now);
  w.Key("name").String(name).Key("pattern").String(pattern);
  w.Key("pattern_type").String("stix").Key("valid_from").String(now);
  w.EndObject();
  return out;
}

namespace {

std::string MakeVulnerability(std::string_view cve, const GenerateOptions& options) {
  std::string now = options.now.ToString();
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("type").String("vulnerability").Key("spec_version").String("2.1");
  w.Key("id").String(GeneratedId("vulnerability", options, cve));
  w.Key("created").String(now).Key("modified").String(now).Key("name").String(cve);
  w.Key("external_references").BeginArray().BeginObject();
  w.Key("source_name").String("cve").Key("external_id").String(cve);
  w.EndObject().EndArray().EndObject();
  return out;
}

// The SCO type and property an extracted value fills.
std::pair<std::string_view, std::string_view> ScoSlot(IocType type) {
  switch (type) {
    case IocType::kIpv4:
      return {"ipv4-addr", "value"};
    case IocType::kIpv6:
      return {"ipv6-addr", "value"};
    case IocType::kDomain:
      return {"domain-name", "value"};
    case IocType::kUrl:
      return {"url", "value"};
    case IocType::kEmail:
      return {"email-addr", "value"};
    case IocType::kMd5:
      return {"file", "hashes.MD5"};
    case IocType::kSha1:
      return {"file", "hashes.'SHA-1'"};
    case IocType::kSha256:
      return {"file", "hashes.'SHA-256'"};
    case IocType::kSha512:
      return {"file", "hashes.'SHA-512'"};
    case IocType::kCve:
      break;
  }
  return {"", ""};
}

}  // namespace

Result<std::vector<std::string>> IocObjects(const Ioc& ioc, const GenerateOptions& options) {
  if (ioc.type == IocType::kCve)
    return std::vector<std::string>{MakeVulnerability(ioc.value, options)};
  auto [type, path] = ScoSlot(ioc.type);
  std::vector<ScoProperty> props{{std::string(path), ioc.value}};
  CTIHUB_ASSIGN_OR_RETURN(std::string sco, MakeSco(type, props));
  return std::vector<std::string>{
      std::move(sco), MakeIndicator(ComparisonPattern(type, props), ioc.value, options)};
}

}  // namespace ctihub::formats
