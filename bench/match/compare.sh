#!/usr/bin/env bash
# Old vs new `ctihub match` on the bench workload of run.sh, in one run: the floor
# (match_floor), OLD and NEW alternate REPEAT times (default 3), then NEW with --threads 1
# and 2 alternate REPEAT times. Prints every run (match phase wall and CPU seconds from the
# binary's own summary, the load average before it) and the medians. The hit files of OLD
# and NEW must be byte-identical (checked with cmp).
# usage: bench/match/compare.sh OLD_CTIHUB NEW_CTIHUB [MATCH_FLOOR] [LOG]
#   env: REPEAT, MATCH_BENCH_DIR (indicators.json made by run.sh; default /tmp/ctihub-match-bench)
set -euo pipefail
old=$1
new=$2
floor=${3:-build/release/bench/match_floor}
work=${MATCH_BENCH_DIR:-/tmp/ctihub-match-bench}
log=${4:-$work/zeek-200MB.json}
repeat=${REPEAT:-3}
ind="$work/indicators.json"
[ -s "$ind" ] || { echo "no $ind: run bench/match/run.sh first" >&2; exit 2; }
echo "log: $log, $(stat -c %s "$log") bytes, $(wc -l < "$log") lines; indicators: $ind"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# One match run: appends "wall cpu" of its match phase to FILE; hits to HITS.
match() {  # file binary hits [args...]
  local file=$1 bin=$2 hits=$3
  shift 3
  local line
  line=$("$bin" match --indicators "$ind" --input "$log" --format zeek-json --output "$hits" \
    "$@" 2>&1 | grep -E '^ctihub match: [0-9]+ lines')
  echo "$line" | sed -E 's/.*; ([0-9.]+) s \(([0-9.]+) s CPU\).*/\1 \2/' >> "$file"
  echo "  $(basename "$bin") $* [load $(load)]: ${line#ctihub match: }"
}
: > "$work/cmp.floor"; : > "$work/cmp.old"; : > "$work/cmp.new"; : > "$work/cmp.t1"; : > "$work/cmp.t2"
for _ in $(seq "$repeat"); do
  /usr/bin/time -f "%e %U %S" -o "$work/cmp.time" "$floor" "$log" > /dev/null
  awk '{print $1, $2 + $3}' "$work/cmp.time" >> "$work/cmp.floor"
  echo "  floor [load $(load)]: $(tail -1 "$work/cmp.floor") (wall, CPU s)"
  match "$work/cmp.old" "$old" "$work/hits.old"
  match "$work/cmp.new" "$new" "$work/hits.new"
done
cmp "$work/hits.old" "$work/hits.new" && echo "hit files identical: $(wc -l < "$work/hits.new") hits"
for _ in $(seq "$repeat"); do
  match "$work/cmp.t1" "$new" /dev/null --threads 1
  match "$work/cmp.t2" "$new" /dev/null --threads 2
done
lines=$(wc -l < "$log")
echo "medians of $repeat (match phase for ctihub, whole process for the floor):"
for x in floor old new t1 t2; do
  w=$(cut -d' ' -f1 "$work/cmp.$x" | median)
  c=$(cut -d' ' -f2 "$work/cmp.$x" | median)
  printf "  %-6s wall %6.3f s  cpu %6.3f s  %9.0f lines/CPU-s  %9.0f lines/wall-s\n" "$x" "$w" "$c" \
    "$(echo "$lines / $c" | bc -l)" "$(echo "$lines / $w" | bc -l)"
done
echo "load average at the end: $(load)"
