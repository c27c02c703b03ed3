// The rules on a bundle itself (STIX 2.1 section 8), checked while its objects
// stream by: the bundle's id, its members (type, id and objects only), and
// objects repeated with the same id and modified. Memory: 8-16 bytes per
// object with a modified timestamp. Not thread-safe (one per bundle).
#pragma once

#include <cstdint>
#include <string>
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
  // Open-addressing set of 64-bit hashes of (id, modified), at most half
  // full: 8-16 bytes per object version. A false "duplicate" needs a
  // collision (about n^2 / 2^65 for n versions).
  bool InsertVersion(uint64_t hash);  // false when already present
  std::vector<uint64_t> slots_;       // 0 = empty
  size_t used_ = 0;
  std::vector<std::string> duplicates_;  // ids seen twice with one modified
};

}  // namespace ctihub::stix
