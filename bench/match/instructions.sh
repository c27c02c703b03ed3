#!/usr/bin/env bash
# Instructions executed by the match phase of `ctihub match` (callgrind's Ir count of
# MatchRun::ReadLines and all it calls), for each binary given, on the same indicators and
# log. Unlike seconds, the count does not move with the load of a shared machine, so small
# changes to the hot path can be compared; it says nothing of cache misses (the big exact
# table's probes), so report it beside the timed runs of compare.sh, never instead of them.
# The floor (match_floor) is counted whole. Under valgrind simdjson takes its haswell
# kernels, not the icelake ones it picks natively: compare counts with counts only.
# usage: bench/match/instructions.sh LOG INDICATORS CTIHUB... [--floor MATCH_FLOOR]
#   e.g. bench/match/instructions.sh /tmp/ctihub-match-bench/zeek-once.json \
#          /tmp/ctihub-match-bench/indicators.json OLD/ctihub build/release/src/cli/ctihub \
#          --floor build/release/bench/match_floor
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,12p "$0" >&2; exit 2; }
log=$1
ind=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# count LABEL [valgrind options] -- command...
count() {
  local label=$1
  shift
  local opts=()
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  local ir
  ir=$(valgrind --tool=callgrind --callgrind-out-file="$out/cg" "${opts[@]}" "$@" 2>&1 >/dev/null |
    sed -nE 's/.*Collected : ([0-9]+).*/\1/p' || true)  # match exits 1 when nothing matched
  printf "%-50s %15s instructions\n" "$label" "$ir"
}
echo "log: $log ($(wc -l < "$log") lines); indicators: $ind"
while [ $# -gt 0 ]; do
  if [ "$1" = --floor ]; then
    count "$2 (whole run)" -- "$2" "$log"
    shift 2
    continue
  fi
  count "$1 (match phase)" \
    "--toggle-collect=ctihub::cli::(anonymous namespace)::MatchRun::ReadLines*" -- \
    "$1" match --indicators "$ind" --input "$log" --format zeek-json --output /dev/null
  shift
done
