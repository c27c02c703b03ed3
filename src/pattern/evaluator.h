// STIX pattern evaluation: a pattern is compiled once into a CompiledPattern
// (immutable, shareable across threads) and run against sets of observations.
//
// Observations come from STIX 2.1 observed-data (object_refs resolved among the
// objects given alongside) or STIX 2.0 observed-data (an "objects" dictionary).
// An ObservationSet owns the parsed JSON; the Observations it holds point into
// it and stay valid while it lives. ObservationSet is not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "pattern/ast.h"
#include "pattern/pattern.h"

namespace ctihub::pattern {

// One observed-data object: number_observed observations at [first, last].
struct Observation {
  size_t position = 0;   // index of the observed-data (or its container) in the input array
  int64_t first_us = 0;  // first_observed, microseconds since the epoch
  int64_t last_us = 0;   // last_observed
  int64_t count = 1;     // number_observed
  json::Element sdo;     // the observed-data object itself
  // The objects this observation sees: (id for 2.1 / dictionary key for 2.0, object).
  std::vector<std::pair<std::string_view, json::Element>> objects;
};

// Limits on observed data.
struct ObservationLimits {
  size_t max_observations = 1000000;
  size_t max_objects_per_observation = 100000;
};

struct StixFields;  // evaluator.cc: the members of an object that loading reads

class ObservationSet {
 public:
  ObservationSet();
  ~ObservationSet();
  ObservationSet(ObservationSet&&) noexcept;
  ObservationSet& operator=(ObservationSet&&) noexcept;

  // Parses JSON text: an array of STIX objects, a bundle, or an array holding
  // bundles. InvalidArgument (with the reason) for malformed data. A set may be
  // loaded again and again: it reuses its storage.
  Status LoadText(std::string_view json_text, StixVersion version);
  // Uses an already parsed array/bundle; `root` must outlive this set.
  Status LoadElement(json::Element root, StixVersion version);

  const std::vector<Observation>& observations() const { return obs_; }

 private:
  // Reads the observations of `root` into obs_[0..*used), reusing the
  // storage earlier loads left there.
  Status LoadObservations(json::Element root, StixVersion version, size_t* used);
  // The index in flat_ of the (first) object with STIX id `id`, or SIZE_MAX.
  size_t FindById(std::string_view id) const;

  std::unique_ptr<json::JsonParser> parser_;
  std::vector<Observation> obs_;
  // Scratch kept between loads (no allocation per load once warm).
  std::vector<std::pair<size_t, json::Element>> flat_;      // (input position, object)
  std::vector<std::pair<std::string_view, uint32_t>> ids_;  // (id, index in flat_), sorted
  std::vector<size_t> taken_by_;    // flat_ index -> the observation number that last took it
  std::vector<StixFields> fields_;  // read from flat_[i]
};

struct MatchResult {
  bool matched = false;
  // Input positions of the observed-data of the first match, ascending, unique.
  std::vector<size_t> bindings;
  // Indices into the observation vector, same order.
  std::vector<size_t> observation_indices;
};

// Limits on evaluation work (hostile combinations of patterns and data).
constexpr uint64_t kMaxEvalSteps = 50000000;  // "pattern_eval_budget"
constexpr int kMaxSearchDepth = 2500;         // nested search frames (native stack)
constexpr size_t kMaxBindingSize = 1u << 22;  // observation instances in one binding
constexpr size_t kRegexMatchLimit = 1000000;  // PCRE2 match limit per subject
constexpr uint32_t kRegexDepthLimit = 5000;   // PCRE2 backtracking depth limit
constexpr size_t kRegexHeapLimitKiB = size_t{20} * 1024;

class CompiledPattern {
 public:
  ~CompiledPattern();
  // Parses, validates and compiles.
  static Result<std::shared_ptr<const CompiledPattern>> Compile(std::string_view text,
                                                                const PatternOptions& options = {});

  // Runs the whole pattern. LimitExceeded if the evaluation budget runs out;
  // InvalidArgument for a type error in the data (a timestamp literal
  // compared with a string that is not a timestamp).
  Result<MatchResult> Match(const std::vector<Observation>& observations) const;
  // Same, into `*out` (its vectors are reused: no allocation when warm).
  Status MatchInto(const std::vector<Observation>& observations, MatchResult* out) const;

  // Does observation `o` satisfy the comparison expression of leaf `leaf`
  // (the leaf-th bracketed expression, in pattern order)? Hot path: no allocation.
  bool MatchLeaf(size_t leaf, const Observation& o) const;
  size_t leaf_count() const;

  const std::vector<std::string>& warnings() const { return warnings_; }

  struct Impl;

 private:
  CompiledPattern() = default;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> warnings_;
};

}  // namespace ctihub::pattern
