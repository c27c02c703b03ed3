#!/usr/bin/env bash
# Quality gates that need no build of their own:
#   1. clang-format --dry-run --Werror over every tracked .cc/.h file;
#   2. clang-tidy (the repo's .clang-tidy) over the .cc files changed since the last
#      tag, or since BASE when there is no tag (default HEAD~20), within a time budget.
# Usage: scripts/lint.sh [--format-only|--tidy-only] [BASE]
#   BUILD_DIR   where compile_commands.json is (default build/release; configured if missing)
#   TIDY_BUDGET seconds clang-tidy may run in all (default 600); files left over are listed
#               and make the run fail, so a gate never passes on a partial check.
# Exit 0 clean, 1 findings, 2 usage or setup error.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=all
case "${1:-}" in
  --format-only) mode=format; shift ;;
  --tidy-only) mode=tidy; shift ;;
  -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
esac
base_arg="${1:-}"
build_dir="${BUILD_DIR:-build/release}"
budget="${TIDY_BUDGET:-600}"
clang_format="$(command -v clang-format-14 || command -v clang-format || true)"
clang_tidy="$(command -v clang-tidy-14 || command -v clang-tidy || true)"
status=0

check_format() {
  [[ -n "$clang_format" ]] || { echo "lint: clang-format not found (make deps)" >&2; return 2; }
  echo "lint: clang-format --dry-run --Werror over $(git ls-files '*.cc' '*.h' | wc -l) files"
  if ! git ls-files -z '*.cc' '*.h' | xargs -0 "$clang_format" --dry-run --Werror; then
    echo "lint: formatting differs; run clang-format -i on the files named above" >&2
    return 1
  fi
}

# The commit to compare against: the last tag, else the argument, else HEAD~20.
changed_since() {
  local tag
  tag="$(git describe --tags --abbrev=0 2>/dev/null || true)"
  if [[ -n "$tag" ]]; then echo "$tag"; else echo "${base_arg:-HEAD~20}"; fi
}

check_tidy() {
  [[ -n "$clang_tidy" ]] || { echo "lint: clang-tidy not found (make deps)" >&2; return 2; }
  if [[ ! -f "$build_dir/compile_commands.json" ]]; then
    cmake --preset release >/dev/null || return 2
  fi
  local base files=() f start left=()
  base="$(changed_since)"
  # A shallow or tagless clone may lack the base: compare with the oldest commit it has
  # instead (the shallow boundary), so the gate never fails for a setup reason.
  if ! git rev-parse --verify -q "$base^{commit}" >/dev/null; then
    local oldest
    oldest="$(git rev-list --max-parents=0 HEAD 2>/dev/null | tail -n 1)"
    [[ -n "$oldest" ]] || { echo "lint: unknown base '$base' and no history" >&2; return 2; }
    echo "lint: base '$base' not in this clone; using the oldest commit here, $oldest" >&2
    base="$oldest"
  fi
  while IFS= read -r f; do
    [[ -f "$f" ]] && files+=("$f")
  done < <(git diff --name-only --diff-filter=d "$base" -- 'src/*.cc' 'bench/*.cc' 'fuzz/*.cc')
  echo "lint: clang-tidy over ${#files[@]} .cc file(s) changed since $base (budget ${budget}s)"
  local found=0
  start=$SECONDS
  for f in "${files[@]}"; do
    if (( SECONDS - start >= budget )); then
      left+=("$f")
      continue
    fi
    # Headers under src/ are checked through the files that include them (HeaderFilterRegex).
    if ! timeout $((budget - (SECONDS - start) + 1)) "$clang_tidy" -p "$build_dir" --quiet \
         --warnings-as-errors='*' "$f" 2>/dev/null; then
      found=1
    fi
  done
  if (( ${#left[@]} > 0 )); then
    echo "lint: clang-tidy budget spent; not checked: ${left[*]}" >&2
    return 1
  fi
  return $found
}

if [[ "$mode" != tidy ]]; then check_format || status=$?; fi
if [[ "$mode" != format ]]; then
  check_tidy
  rc=$?
  (( rc > status )) && status=$rc
fi
exit $status
