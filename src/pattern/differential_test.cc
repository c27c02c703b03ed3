// Differential test: the fast qualifier evaluation (pruned search with window
// push-down) against an obviously correct brute force that enumerates every
// binding as a usage vector (how many instances of each observed-data it uses).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pattern/evaluator.h"
#include "pattern/parser.h"

namespace ctihub::pattern {
namespace {

struct Obs {
  int64_t first, last, count, k;
};
using Usage = std::vector<int64_t>;

class Oracle {
 public:
  explicit Oracle(const std::vector<Obs>& obs) : obs_(obs) {}

  std::set<Usage> Eval(const ObsExpr& e) const {
    std::set<Usage> out;
    switch (e.kind) {
      case ObsExpr::Kind::kLeaf: {
        int64_t v = e.comparison->literal.i;
        for (size_t i = 0; i < obs_.size(); ++i)
          if (obs_[i].k == v) out.insert(Unit(i));
        return out;
      }
      case ObsExpr::Kind::kOr:
        for (const auto& c : e.children) {
          auto b = Eval(*c);
          out.insert(b.begin(), b.end());
        }
        return out;
      case ObsExpr::Kind::kAnd:
      case ObsExpr::Kind::kFollowedBy: {
        // Left-associative: ((c0 op c1) op c2) ...
        out = Eval(*e.children[0]);
        for (size_t i = 1; i < e.children.size(); ++i) {
          auto b = Eval(*e.children[i]);
          std::set<Usage> next;
          for (const auto& x : out)
            for (const auto& y : b) {
              if (e.kind == ObsExpr::Kind::kFollowedBy && MaxFirst(x) > MinLast(y)) continue;
              Usage s;
              if (Add(x, y, &s)) next.insert(s);
            }
          out = std::move(next);
        }
        return out;
      }
      case ObsExpr::Kind::kWithin:
        for (const auto& x : Eval(*e.children[0]))
          if (MaxFirst(x) - MinLast(x) <= e.within_micros) out.insert(x);
        return out;
      case ObsExpr::Kind::kStartStop: {
        int64_t start = e.start.micros(), stop = e.stop.micros();
        for (const auto& x : Eval(*e.children[0])) {
          bool ok = start < stop;
          for (size_t i = 0; i < x.size(); ++i)
            if (x[i] && !(obs_[i].last >= start && obs_[i].first < stop)) ok = false;
          if (ok) out.insert(x);
        }
        return out;
      }
      case ObsExpr::Kind::kRepeats: {
        auto base = Eval(*e.children[0]);
        std::set<Usage> cur = base;
        for (int64_t r = 1; r < e.repeats; ++r) {
          std::set<Usage> next;
          for (const auto& x : cur)
            for (const auto& y : base) {
              Usage s;
              if (Add(x, y, &s)) next.insert(s);
            }
          cur = std::move(next);
        }
        return cur;
      }
    }
    return out;
  }

 private:
  Usage Unit(size_t i) const {
    Usage u(obs_.size(), 0);
    u[i] = 1;
    return u;
  }
  bool Add(const Usage& a, const Usage& b, Usage* s) const {
    s->resize(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      (*s)[i] = a[i] + b[i];
      if ((*s)[i] > obs_[i].count) return false;
    }
    return true;
  }
  int64_t MaxFirst(const Usage& u) const {
    int64_t m = INT64_MIN;
    for (size_t i = 0; i < u.size(); ++i)
      if (u[i]) m = std::max(m, obs_[i].first);
    return m;
  }
  int64_t MinLast(const Usage& u) const {
    int64_t m = INT64_MAX;
    for (size_t i = 0; i < u.size(); ++i)
      if (u[i]) m = std::min(m, obs_[i].last);
    return m;
  }
  const std::vector<Obs>& obs_;
};

std::string Ts(int64_t sec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2021-03-04T05:%02lld:%02lldZ", static_cast<long long>(sec / 60),
                static_cast<long long>(sec % 60));
  return buf;
}

std::string GenPattern(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> pick(0, depth <= 0 ? 0 : 8);
  switch (pick(rng)) {
    case 8: {
      const char* ops[] = {" AND ", " OR ", " FOLLOWEDBY "};
      const char* op = ops[rng() % 3];
      return "(" + GenPattern(rng, depth - 1) + op + "(" + GenPattern(rng, depth - 1) + ")" + op +
             "(" + GenPattern(rng, depth - 1) + "))";
    }
    case 0:
    case 1:
      return "[x-e:k = " + std::to_string(rng() % 3) + "]";
    case 2:
      return "(" + GenPattern(rng, depth - 1) + ") AND (" + GenPattern(rng, depth - 1) + ")";
    case 3:
      return "(" + GenPattern(rng, depth - 1) + ") OR (" + GenPattern(rng, depth - 1) + ")";
    case 4:
      return "(" + GenPattern(rng, depth - 1) + ") FOLLOWEDBY (" + GenPattern(rng, depth - 1) + ")";
    case 5:
      return "(" + GenPattern(rng, depth - 1) + ") WITHIN " + std::to_string(1 + rng() % 8) +
             " SECONDS";
    case 6:
      return "(" + GenPattern(rng, depth - 1) + ") REPEATS " + std::to_string(2 + rng() % 2) +
             " TIMES";
    default: {
      int a = static_cast<int>(rng() % 20), b = a + 1 + static_cast<int>(rng() % 12);
      return "(" + GenPattern(rng, depth - 1) + ") START t'" + Ts(a) + "' STOP t'" + Ts(b) + "'";
    }
  }
}

void RunDifferential(unsigned seed_for_test, int iterations) {
  std::mt19937 rng(seed_for_test);
  int matched = 0, total = 0;
  for (int iter = 0; iter < iterations; ++iter) {
    size_t n = 1 + rng() % 6;
    std::vector<Obs> obs;
    std::string json = "[";
    for (size_t i = 0; i < n; ++i) {
      Obs o;
      o.first = static_cast<int64_t>(rng() % 20);
      o.last = o.first + static_cast<int64_t>(rng() % 5);
      o.count = 1 + static_cast<int64_t>(rng() % 2);
      o.k = static_cast<int64_t>(rng() % 3);
      obs.push_back(o);
      if (i) json += ",";
      json += R"({"type":"observed-data","id":"observed-data--)" + std::to_string(i) +
              R"(","first_observed":")" + Ts(o.first) + R"(","last_observed":")" + Ts(o.last) +
              R"(","number_observed":)" + std::to_string(o.count) +
              R"(,"objects":{"0":{"type":"x-e","k":)" + std::to_string(o.k) + "}}}";
      obs.back().first = Timestamp::Parse(Ts(o.first))->micros();
      obs.back().last = Timestamp::Parse(Ts(o.last))->micros();
    }
    json += "]";
    std::string pat = GenPattern(rng, 3);
    PatternOptions opt;
    opt.version = StixVersion::k20;
    auto parsed = ParsePattern(pat, opt);
    ASSERT_TRUE(parsed.ok()) << pat << ": " << parsed.status().message();
    bool want = !Oracle(obs).Eval(*parsed->root).empty();
    auto cp = CompiledPattern::Compile(pat, opt);
    ASSERT_TRUE(cp.ok());
    ObservationSet set;
    ASSERT_TRUE(set.LoadText(json, StixVersion::k20).ok());
    auto got = (*cp)->Match(set.observations());
    ASSERT_TRUE(got.ok()) << got.status().message();
    ASSERT_EQ(got->matched, want) << "pattern: " << pat << "\nobserved: " << json;
    matched += want;
    ++total;
  }
  // The generator must exercise both outcomes.
  EXPECT_GT(matched, total / 10);
  EXPECT_LT(matched, total - total / 10);
}

}  // namespace
}  // namespace ctihub::pattern

namespace ctihub::pattern {
namespace {

TEST(PatternDifferential, FastSearchAgreesWithBruteForce) { RunDifferential(12345, 3000); }

// The long run: CTIHUB_DIFFERENTIAL_ITERATIONS cases from seed
// CTIHUB_DIFFERENTIAL_SEED (default 987654321). `make check` registers it with
// several seeds (src/pattern/CMakeLists.txt, CTIHUB_LONG_TESTS).
TEST(PatternDifferential, ManySeedsForTest) {
  const char* env = std::getenv("CTIHUB_DIFFERENTIAL_ITERATIONS");
  if (!env) GTEST_SKIP() << "set CTIHUB_DIFFERENTIAL_ITERATIONS for a long run";
  const char* seed = std::getenv("CTIHUB_DIFFERENTIAL_SEED");
  unsigned seed_for_test =
      seed ? static_cast<unsigned>(std::strtoul(seed, nullptr, 10)) : 987654321u;
  RunDifferential(seed_for_test, std::atoi(env));
}

}  // namespace
}  // namespace ctihub::pattern
