#!/usr/bin/env bash
# Quality gates that need no build of their own:
#   1. clang-format --dry-run --Werror over every tracked .cc/.h file;
#   2. clang-tidy (the repo's .clang-tidy) over the .cc files changed since the last
#      tag, or since BASE when there is no tag (default HEAD~20), within a time budget;
#      with --all over every tracked .cc file under src/.
# Usage: scripts/lint.sh [--format-only|--tidy-only] [--all] [BASE]
#   BUILD_DIR   where compile_commands.json is (default build/release; configured if missing)
#   TIDY_JOBS   clang-tidy processes at a time (default 2)
#   TIDY_BUDGET seconds clang-tidy may run in all (default 600); a file not started or not
#               finished by then is listed and makes the run fail, so a gate never passes
#               on a partial check.
#   TIDY_KEEP   set: keep the per-file logs and seconds (the directory is printed)
# Exit 0 clean, 1 findings, 2 usage or setup error.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=both
scope=changed
while (( $# > 0 )); do
  case "$1" in
    --format-only) mode=format; shift ;;
    --tidy-only) mode=tidy; shift ;;
    --all) scope=all; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
base_arg="${1:-}"
build_dir="${BUILD_DIR:-build/release}"
budget="${TIDY_BUDGET:-600}"
jobs="${TIDY_JOBS:-2}"
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

# One file, run by xargs -P: records <key>.finding, <key>.skipped (the budget was spent
# before or while it ran) or nothing (clean), the output in <key>.log and the seconds taken
# in <key>.secs. Needs clang_tidy, build_dir, deadline and outdir in the environment.
tidy_one() {
  local f="$1" key left t0 rc
  key="$outdir/${f//\//_}"
  left=$((deadline - $(date +%s)))
  if (( left <= 0 )); then echo "$f" >"$key.skipped"; return 0; fi
  t0=$(date +%s)
  # Headers under src/ are checked through the files that include them (HeaderFilterRegex).
  timeout "$left" "$clang_tidy" -p "$build_dir" --quiet --warnings-as-errors='*' "$f" \
    >"$key.log" 2>&1
  rc=$?
  echo "$(( $(date +%s) - t0 )) $f" >"$key.secs"
  if (( rc == 124 )); then echo "$f" >"$key.skipped"; elif (( rc != 0 )); then echo "$f" >"$key.finding"; fi
  return 0
}

check_tidy() {
  [[ -n "$clang_tidy" ]] || { echo "lint: clang-tidy not found (make deps)" >&2; return 2; }
  if [[ ! -f "$build_dir/compile_commands.json" ]]; then
    cmake --preset release >/dev/null || return 2
  fi
  local base files=() f what
  if [[ "$scope" == all ]]; then
    mapfile -t files < <(git ls-files 'src/*.cc')
    what="all ${#files[@]} tracked .cc file(s) under src/"
  else
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
    what="${#files[@]} .cc file(s) changed since $base"
  fi
  echo "lint: clang-tidy over $what, $jobs at a time (budget ${budget}s)"
  (( ${#files[@]} > 0 )) || return 0
  outdir="$(mktemp -d)"
  deadline=$(( $(date +%s) + budget ))
  export clang_tidy build_dir deadline outdir
  export -f tidy_one
  local start=$SECONDS
  printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$jobs" bash -c 'tidy_one "$1"' _
  local findings=() skipped=()
  for f in "$outdir"/*.finding; do [[ -e "$f" ]] && findings+=("$(cat "$f")"); done
  for f in "$outdir"/*.skipped; do [[ -e "$f" ]] && skipped+=("$(cat "$f")"); done
  for f in "${findings[@]}"; do
    grep -v -e '^[0-9]* warnings\? generated\.$' -e '^Error while processing' \
      "$outdir/${f//\//_}.log"
  done
  echo "lint: clang-tidy took $((SECONDS - start))s; slowest files:"
  cat "$outdir"/*.secs 2>/dev/null | sort -rn | head -n 5 | sed 's/^/  /'
  [[ -n "${TIDY_KEEP:-}" ]] && echo "lint: per-file logs and seconds kept in $outdir" || rm -rf "$outdir"
  local rc=0
  if (( ${#findings[@]} > 0 )); then
    echo "lint: clang-tidy findings in ${#findings[@]} file(s): ${findings[*]}" >&2
    rc=1
  fi
  if (( ${#skipped[@]} > 0 )); then
    # A partial check never passes.
    echo "lint: clang-tidy budget spent; not checked: ${skipped[*]}" >&2
    rc=1
  fi
  return $rc
}

if [[ "$mode" != tidy ]]; then check_format || status=$?; fi
if [[ "$mode" != format ]]; then
  check_tidy
  rc=$?
  (( rc > status )) && status=$rc
fi
exit $status
