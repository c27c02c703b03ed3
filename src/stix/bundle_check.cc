#include "stix/bundle_check.h"

#include <functional>
#include <string>
#include <string_view>

#include "core/uuid.h"

namespace ctihub::stix {
namespace {

constexpr size_t kMaxDuplicatesReported = 100;

void Add(Report& r, bool strict, bool error, std::string path, std::string message) {
  if (error) {
    r.errors.push_back({std::move(path), std::move(message)});
  } else if (strict) {
    r.errors.push_back({std::move(path), "(strict) " + std::move(message)});
  } else {
    r.warnings.push_back({std::move(path), std::move(message)});
  }
}

bool IsBundleId(std::string_view id) {
  constexpr std::string_view kPrefix = "bundle--";
  if (id.substr(0, kPrefix.size()) != kPrefix) return false;
  auto uuid = Uuid::Parse(id.substr(kPrefix.size()));
  return uuid.ok() && uuid->is_rfc4122_variant();
}

}  // namespace

bool BundleCheck::InsertVersion(uint64_t hash) {
  if (hash == 0) hash = 1;  // 0 marks an empty slot
  if (2 * (used_ + 1) > slots_.size()) {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : 2 * old.size(), 0);
    used_ = 0;
    for (uint64_t h : old) {
      if (h != 0) InsertVersion(h);
    }
  }
  size_t mask = slots_.size() - 1;
  for (size_t i = static_cast<size_t>(hash) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == hash) return false;
    if (slots_[i] == 0) {
      slots_[i] = hash;
      ++used_;
      return true;
    }
  }
}

void BundleCheck::AddObject(json::Element object) {
  std::string_view id, modified;
  if (object["id"].get_string().get(id) != simdjson::SUCCESS ||
      object["modified"].get_string().get(modified) != simdjson::SUCCESS) {
    return;
  }
  std::string key(id);
  key += '\0';
  key += modified;
  if (!InsertVersion(std::hash<std::string>{}(key)) &&
      duplicates_.size() < kMaxDuplicatesReported) {
    duplicates_.emplace_back(id);
  }
}

Report BundleCheck::Finish(const BundleReader& reader, const ValidateOptions& options) const {
  Report r;
  if (reader.container() != "bundle") return r;
  r.type = "bundle";
  r.has_type = true;
  bool has_id = false;
  for (const std::string& key : reader.bundle_keys()) {
    if (key == "id") {
      has_id = true;
    } else if (key != "type" && key != "objects") {
      // Section 8: a bundle has type, id and objects; anything else (created,
      // STIX 2.0's spec_version, custom properties) SHOULD NOT be there.
      Add(r, options.strict, false, "$." + key,
          "a bundle SHOULD only have type, id and objects, not '" + key + "'");
    }
  }
  if (!has_id) {
    Add(r, options.strict, true, "$.id",
        "required property 'id' is missing (a bundle must have an id)");
  } else if (!IsBundleId(reader.bundle_id())) {
    Add(r, options.strict, true, "$.id",
        "invalid bundle id '" + reader.bundle_id() + "': must be 'bundle--UUID'");
  } else {
    r.id = reader.bundle_id();
    r.has_id = true;
    // Section 2.9: bundles, like SDOs, SROs and meta objects, SHOULD use UUIDv4.
    if (Uuid::Parse(std::string_view(r.id).substr(8))->version() != 4) {
      Add(r, options.strict, false, "$.id", "the UUID of a bundle id SHOULD be version 4");
    }
  }
  for (const std::string& id : duplicates_) {
    Add(r, options.strict, false, "$.objects",
        "two objects have id " + id +
            " and the same modified: versions of an object SHOULD differ in modified");
  }
  return r;
}

}  // namespace ctihub::stix
