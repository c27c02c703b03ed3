#include "webapi/graph.h"

#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "core/json.h"
#include "store/store.h"
#include "taxii/taxii.h"
#include "webapi/read_view.h"

namespace ctihub::webapi {

using taxii::ErrorResponse;
using taxii::Response;

namespace {

struct GraphParams {
  int depth = 1;
  size_t max_nodes = kDefaultGraphNodes;
};

Result<int64_t> ParseCount(std::string_view name, std::string_view v, int64_t lo, int64_t hi) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < lo || n > hi) {
    return InvalidArgument("bad_filter", std::string(name) + ": a whole number from " +
                                             std::to_string(lo) + " to " + std::to_string(hi));
  }
  return n;
}

Result<GraphParams> ParseGraphParams(
    const std::vector<std::pair<std::string, std::string>>& params) {
  GraphParams out;
  for (const auto& [key, value] : params) {
    if (key == "depth") {
      CTIHUB_ASSIGN_OR_RETURN(int64_t d, ParseCount(key, value, 1, kMaxGraphDepth));
      out.depth = static_cast<int>(d);
    } else if (key == "max_nodes") {
      CTIHUB_ASSIGN_OR_RETURN(int64_t n,
                              ParseCount(key, value, 1, static_cast<int64_t>(kMaxGraphNodes)));
      out.max_nodes = static_cast<size_t>(n);
    } else {
      return InvalidArgument("bad_filter", "unknown parameter " + key.substr(0, 64) +
                                               " (depth and max_nodes are known)");
    }
  }
  return out;
}

struct Node {
  std::string type;
  std::string label;
};

struct Edge {
  std::string source, target, relationship_type;
};

// Walks outwards from the centre, breadth first. Relationship objects met as
// referrers become edges (when both ends are readable); every other object
// that references a node, or that a node references, becomes a node joined
// by an edge named after the property ("sighting_of_ref", "object_refs").
class GraphBuilder {
 public:
  GraphBuilder(ReadView& view, const GraphParams& params, std::vector<audit::ObjectRef>& served)
      : view_(view), params_(params), served_(served) {}

  Status Build(const VisibleVersion& centre) {
    AddNode(centre);
    std::vector<VisibleVersion> frontier = {centre};
    for (int level = 0; level < params_.depth && !frontier.empty(); ++level) {
      std::vector<VisibleVersion> next;
      for (const VisibleVersion& node : frontier) {
        CTIHUB_RETURN_IF_ERROR(ExpandOutgoing(node, next));
        CTIHUB_RETURN_IF_ERROR(ExpandIncoming(node, next));
      }
      frontier = std::move(next);
    }
    return Status::Ok();
  }

  void Write(json::JsonWriter& w) const {
    w.Key("nodes").BeginArray();
    for (const std::string& id : order_) {
      const Node& n = nodes_.at(id);
      w.BeginObject();
      w.Key("id").String(id);
      w.Key("type").String(n.type);
      w.Key("label").String(n.label);
      w.EndObject();
    }
    w.EndArray();
    w.Key("edges").BeginArray();
    for (const auto& [id, e] : edges_) {
      w.BeginObject();
      w.Key("id").String(id);
      w.Key("source").String(e.source);
      w.Key("target").String(e.target);
      w.Key("relationship_type").String(e.relationship_type);
      w.EndObject();
    }
    w.EndArray();
    w.Key("truncated").Bool(truncated_);
  }

 private:
  // Whether `v` is a node now (false: the node budget is spent).
  bool AddNode(const VisibleVersion& v) {
    if (nodes_.count(v.row.id) > 0) return true;
    if (nodes_.size() == params_.max_nodes) {
      truncated_ = true;
      return false;
    }
    const Summary s = Summarise(v.row.json);
    nodes_[v.row.id] = Node{s.type.empty() ? v.row.type : s.type,
                            s.name.empty() ? (s.type.empty() ? v.row.type : s.type) : s.name};
    order_.push_back(v.row.id);
    Serve(served_, v);
    return true;
  }

  // A node reached from the walk: added (and queued to walk further) when new.
  bool Reach(const VisibleVersion& v, std::vector<VisibleVersion>& next) {
    const bool known = nodes_.count(v.row.id) > 0;
    if (!AddNode(v)) return false;
    if (!known) next.push_back(v);
    return true;
  }

  // Looks up, in one go, the ids not looked up yet (a node's references or
  // its relationships' other ends): a query per collection, not per id.
  Status Prefetch(const std::vector<std::string>& ids) {
    std::vector<std::string> wanted;
    for (const std::string& id : ids) {
      if (newest_.count(id) == 0) wanted.push_back(id);
    }
    CTIHUB_ASSIGN_OR_RETURN(auto found, view_.NewestOf(wanted));
    for (const std::string& id : wanted) {
      auto it = found.find(id);
      newest_[id] = it == found.end() ? std::nullopt : std::optional<VisibleVersion>(it->second);
    }
    return Status::Ok();
  }

  Result<std::optional<VisibleVersion>> Readable(const std::string& id) {
    if (auto it = newest_.find(id); it != newest_.end()) return it->second;
    CTIHUB_ASSIGN_OR_RETURN(auto v, view_.Newest(id));
    newest_[id] = v;
    return v;
  }

  Status ExpandOutgoing(const VisibleVersion& node, std::vector<VisibleVersion>& next) {
    const std::vector<store::Reference> refs = store::ReferencesOf(node.row.json);
    std::vector<std::string> ids;
    ids.reserve(refs.size());
    for (const store::Reference& ref : refs) ids.push_back(ref.id);
    CTIHUB_RETURN_IF_ERROR(Prefetch(ids));
    for (const store::Reference& ref : refs) {
      CTIHUB_ASSIGN_OR_RETURN(auto target, Readable(ref.id));
      if (!target || !Reach(*target, next)) continue;
      edges_[node.row.id + ">" + ref.property + ">" + ref.id] =
          Edge{node.row.id, ref.id, ref.property};
    }
    return Status::Ok();
  }

  Status ExpandIncoming(const VisibleVersion& node, std::vector<VisibleVersion>& next) {
    const std::string& id = node.row.id;
    CTIHUB_ASSIGN_OR_RETURN(auto referrers, view_.Referrers(id, params_.max_nodes));
    std::vector<Summary> summaries;
    summaries.reserve(referrers.size());
    std::vector<std::string> ends;  // the relationships' other ends, looked up at once
    for (const VisibleVersion& v : referrers) {
      summaries.push_back(Summarise(v.row.json));
      const Summary& s = summaries.back();
      if (s.type == "relationship")
        ends.push_back(s.source_ref == id ? s.target_ref : s.source_ref);
    }
    CTIHUB_RETURN_IF_ERROR(Prefetch(ends));
    for (size_t i = 0; i < referrers.size(); ++i) {
      const VisibleVersion& v = referrers[i];
      const Summary& s = summaries[i];
      if (s.type == "relationship" && (s.source_ref == id || s.target_ref == id)) {
        CTIHUB_RETURN_IF_ERROR(AddRelationship(v, s, id, next));
        continue;
      }
      if (!Reach(v, next)) continue;
      for (const store::Reference& ref : store::ReferencesOf(v.row.json)) {
        if (ref.id == id)
          edges_[v.row.id + ">" + ref.property + ">" + id] = Edge{v.row.id, id, ref.property};
      }
    }
    return Status::Ok();
  }

  // A relationship touching `id`: an edge when its other end is readable.
  Status AddRelationship(const VisibleVersion& rel, const Summary& s, const std::string& id,
                         std::vector<VisibleVersion>& next) {
    if (edges_.count(rel.row.id) > 0) return Status::Ok();
    const std::string& other = s.source_ref == id ? s.target_ref : s.source_ref;
    if (other != id) {
      CTIHUB_ASSIGN_OR_RETURN(auto end, Readable(other));
      if (!end || !Reach(*end, next)) return Status::Ok();
    }
    edges_[rel.row.id] = Edge{s.source_ref, s.target_ref, s.relationship_type};
    Serve(served_, rel);
    return Status::Ok();
  }

  ReadView& view_;
  const GraphParams& params_;
  std::vector<audit::ObjectRef>& served_;
  std::map<std::string, Node> nodes_;
  std::vector<std::string> order_;  // nodes in the order reached (the centre first)
  std::map<std::string, Edge> edges_;
  std::map<std::string, std::optional<VisibleVersion>> newest_;
  bool truncated_ = false;
};

}  // namespace

Response GetGraph(const SearchContext& ctx, std::string_view id,
                  const std::vector<std::pair<std::string, std::string>>& params,
                  std::vector<audit::ObjectRef>& served) {
  auto missing = [] { return ErrorResponse(404, "not_found", "Not Found", "no such object"); };
  auto parsed = ParseGraphParams(params);
  if (!parsed.ok())
    return ErrorResponse(400, "bad_filter", "Bad Request", parsed.status().message());
  if (!LooksLikeStixId(id)) return missing();
  auto view = ReadView::Open(ctx);
  if (!view.ok()) return ErrorResponse(view.status(), "store_error");
  auto centre = (*view)->Newest(id);
  if (!centre.ok()) return ErrorResponse(centre.status(), "store_error");
  if (!*centre) return missing();
  GraphBuilder builder(**view, *parsed, served);
  Status st = builder.Build(**centre);
  if (!st.ok()) return ErrorResponse(st, "store_error");
  Response r;
  r.status = 200;
  r.content_type = "application/json";
  json::JsonWriter w(r.body);
  w.BeginObject();
  w.Key("centre").String(id);
  w.Key("depth").Int(parsed->depth);
  builder.Write(w);
  w.EndObject();
  return r;
}

}  // namespace ctihub::webapi
