// The rules on a bundle itself (STIX 2.1 section 8), checked while its objects
// stream by: the bundle's id, its members (type, id and objects only), and
// objects repeated with the same id and modified. Memory: 8 bytes per object
// with a modified timestamp. Not thread-safe (one per bundle).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/json.h"
#include "stix/bundle_reader.h"
#include "stix/validate.h"

namespace ctihub::stix {

class BundleCheck {
 public:
  // Notes one object of the bundle (after it was parsed; any JSON value).
  void AddObject(json::Element object);

  // The bundle's own report, once `reader` has returned the end of its input.
  // Empty (no id, no type, no issue) when the input was not a bundle.
  Report Finish(const BundleReader& reader, const ValidateOptions& options) const;

 private:
  // 64-bit hashes of (id, modified): a false "duplicate" needs a collision
  // (about n^2 / 2^65 for n objects), a price for constant memory per object.
  std::unordered_set<uint64_t> versions_;
  std::vector<std::string> duplicates_;  // ids seen twice with one modified
};

}  // namespace ctihub::stix
