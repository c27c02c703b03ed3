// ReferencedIdsOf (store.h): the one definition of what the reference index
// keeps for an object version, shared by every backend.
#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/json.h"
#include "store/store.h"

namespace ctihub::store {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Nearly every object names its producer's identity and its markings: indexed,
// they would list a whole producer's data under one id (and say nothing an
// analyst asks "what points at this?" about).
bool IsIndexedRefKey(std::string_view key) {
  if (key == "created_by_ref" || key == "object_marking_refs") return false;
  return EndsWith(key, "_ref") || EndsWith(key, "_refs");
}

// A STIX id ("type--..."): what a *_ref holds; anything else is not indexed.
bool LooksLikeId(std::string_view v) {
  const size_t sep = v.find("--");
  return sep != std::string_view::npos && sep > 0 && sep + 2 < v.size() && v.size() <= 256;
}

size_t Count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// Whether `json` may have a key the index keeps: every key ending in _ref or
// _refs ends in `_ref"` or `_refs"` in the text, and most objects' only ones
// are created_by_ref and object_marking_refs. Deciding that from the text
// spares the writer a parse per object (an indicator has no other). A value
// ending so only costs the parse.
bool MayHaveIndexedRefs(std::string_view json) {
  const size_t keys = Count(json, "_ref\"") + Count(json, "_refs\"");
  const size_t skipped = Count(json, "\"created_by_ref\"") + Count(json, "\"object_marking_refs\"");
  return keys > skipped;
}

void Add(std::vector<Reference>& out, std::string_view property, std::string_view id) {
  if (!LooksLikeId(id)) return;
  out.push_back(Reference{std::string(property), std::string(id)});
}

}  // namespace

std::vector<Reference> ReferencesOf(std::string_view json) {
  thread_local json::JsonParser parser;
  std::vector<Reference> out;
  if (!MayHaveIndexedRefs(json)) return out;
  auto doc = parser.Parse(json);
  if (!doc.ok() || !doc->is_object()) return out;
  const json::Object fields = doc->get_object().value();
  for (auto field : fields) {
    if (!IsIndexedRefKey(field.key)) continue;
    if (field.value.is_string()) {
      Add(out, field.key, std::string_view(field.value.get_string().value()));
    } else if (field.value.is_array()) {
      const json::Array items = field.value.get_array().value();
      for (json::Element e : items) {
        if (e.is_string()) Add(out, field.key, std::string_view(e.get_string().value()));
      }
    }
  }
  return out;
}

std::vector<std::string> ReferencedIdsOf(std::string_view json) {
  std::vector<Reference> refs = ReferencesOf(json);
  std::vector<std::string> out;
  out.reserve(refs.size());
  // A set, not a search of `out`: a MISP event's report names 150,000
  // objects. Its views are of `out`'s strings, which never move (reserved).
  std::unordered_set<std::string_view> seen;
  seen.reserve(refs.size());
  for (Reference& r : refs) {
    if (seen.count(r.id) != 0) continue;
    out.push_back(std::move(r.id));
    seen.insert(out.back());
  }
  return out;
}

}  // namespace ctihub::store
