// The indicator index of the bulk matcher and the per-thread Matcher that runs
// events against it.
//
// Every indicator's pattern is parsed by the pattern engine and split:
//  - exact: one bracketed expression whose comparisons are `=` / `IN` on string
//    values, joined by OR, go into one open-addressing table keyed by (path,
//    normalised value); `ISSUBSET 'cidr'` on address paths into the same table
//    keyed by (path, prefix length, masked address), probed for every prefix
//    length present;
//  - regex: `LIKE` / `MATCHES` (ASCII operands) compile into one Hyperscan
//    database per path in prefilter mode; a Hyperscan candidate is confirmed
//    by the pattern engine, so Hyperscan's dialect never decides a result.
//    `LIKE '%literal'` (no other wildcard: the common subdomain pattern) skips
//    Hyperscan: the literal goes into the exact table as a suffix key, probed
//    with the value's suffixes that start with a byte some literal starts
//    with; a non-ASCII value makes every suffix pattern of the path a
//    candidate. The engine confirms these too;
//  - residual: everything else is evaluated by the pattern engine's evaluator
//    on the STIX form of the events that carry a type the pattern names.
//    Patterns over several observations (AND/OR/FOLLOWEDBY between brackets,
//    WITHIN, REPEATS, START/STOP) keep the past events that satisfy one of
//    their brackets, pruned to the window of a root WITHIN / START-STOP, and
//    consume the events a match binds (greedy, non-overlapping matches).
//
// Literals of `=`, `!=`, `IN` and `LIKE` on normalised paths (domains, IPs,
// hashes, URLs, e-mail) are normalised the way events are, in the pattern
// text itself (`NormalizedPattern`), so the exact tables and the engine agree.
//
// IndicatorIndex is immutable after Build and may be shared by threads; each
// thread uses its own Matcher.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "matcher/event.h"

namespace ctihub::matcher {

struct IndicatorInput {
  std::string id;  // "indicator--<uuid>"
  std::string pattern;
  int64_t valid_from_us = std::numeric_limits<int64_t>::min();
  int64_t valid_until_us = std::numeric_limits<int64_t>::max();  // exclusive
};

// Limits.
constexpr size_t kMaxStatefulEvents = 4096;  // past events kept per multi-observation pattern
constexpr size_t kMaxExactValueBytes = 65535;

struct IndexStats {
  size_t indicators = 0;
  size_t exact = 0;              // indicators answered by the exact / prefix tables only
  size_t cidr = 0;               // of which with an ISSUBSET prefix
  size_t regex = 0;              // Hyperscan- or suffix-prefiltered, the engine confirms
  size_t suffix = 0;             // of which with a `LIKE '%literal'` (suffix table, no Hyperscan)
  size_t residual = 0;           // pattern engine per candidate event (one observation)
  size_t stateful = 0;           // pattern engine over a window of events
  size_t hyperscan_refused = 0;  // LIKE/MATCHES Hyperscan could not compile: residual
  size_t exact_entries = 0;
  size_t exact_bytes = 0;  // memory of the exact side: tables, values, indicator records
};

// The pattern text with normalisable literals rewritten (see above); the text
// itself when nothing changes or it does not parse.
std::string NormalizedPattern(std::string_view pattern, const PathRegistry& paths);

class IndicatorIndex;

class IndexBuilder {
 public:
  explicit IndexBuilder(PathRegistry* paths);
  ~IndexBuilder();
  // InvalidArgument (with the engine's message) for a pattern that does not
  // compile; the indicator is not added.
  Status Add(const IndicatorInput& indicator);
  // Room for `indicators` more indicators (saves regrowing the tables).
  void Reserve(size_t indicators);
  // Off: every pattern goes through the parser (the fast path's oracle in tests).
  void SetFastPathForTest(bool on);
  Result<std::unique_ptr<IndicatorIndex>> Finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

class IndicatorIndex {
 public:
  ~IndicatorIndex();
  size_t size() const;
  std::string id(uint32_t indicator) const;
  std::string pattern(uint32_t indicator) const;  // as given
  const IndexStats& stats() const;
  const PathRegistry& paths() const;
  // Every table's content as text: two builds of the same input compare equal.
  std::string DumpForTest() const;

  struct Impl;
  explicit IndicatorIndex(std::unique_ptr<Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct Hit {
  uint32_t indicator = 0;
  int32_t field = -1;  // the event field that matched (-1: none names the pattern's paths)
  uint32_t path = 0;   // the path it matched under (a traffic ref's address also
                       // matches as ipv4-addr:value / ipv6-addr:value)
};

struct MatchOptions {
  bool ignore_validity = false;  // match outside valid_from..valid_until
};

// Runs events against an index. Not thread-safe: one per thread. Keeps the
// state of multi-observation patterns between events (one stream).
class Matcher {
 public:
  Matcher(const IndicatorIndex* index, MatchOptions options = {});
  ~Matcher();
  // Appends the (event, indicator) hits of `event` to `*hits` (cleared first),
  // one per indicator. Hot path: no allocation once warm for events that
  // touch only the exact and prefix tables.
  void Match(const Event& event, std::vector<Hit>* hits);

  // Errors the engine reported while confirming (budget, type errors): counted.
  uint64_t engine_errors() const;
  uint64_t state_evictions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctihub::matcher
