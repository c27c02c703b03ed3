// Fixture for scripts/lint_selftest.sh: clang-tidy with the repo's .clang-tidy must pass it.
#include <string>
#include <vector>

int CountLong(const std::vector<std::string>& names) {
  int n = 0;
  for (const std::string& s : names) n += s.size() > 3 ? 1 : 0;
  return n;
}
