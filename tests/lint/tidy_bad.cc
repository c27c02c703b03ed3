// Fixture for scripts/lint_selftest.sh: clang-tidy with the repo's .clang-tidy must flag it.
#include <string>
#include <vector>

int CountLong(std::vector<std::string> names) {  // performance-unnecessary-value-param
  int* unused = 0;                               // modernize-use-nullptr
  (void)unused;
  int n = 0;
  for (std::string s : names) n += s.size() > 3 ? 1 : 0;  // performance-for-range-copy
  return n;
}
