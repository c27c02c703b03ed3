#!/usr/bin/env bash
# The bulk matcher benchmark (issue 14): indicators made from the real IOC lists
# (bench/match/make_indicators.py), real Zeek JSON logs (dns + ssl of WRCCDC 2018)
# repeated to a bounded size, and, in the same run over the same file:
#   1. the floor: match_floor, a simdjson On-Demand pass pulling the fields the Zeek map reads;
#   2. ctihub match (its stderr summary: index build time, exact-table bytes, lines/s);
#   3. grep -F -f values.txt (a naive peer: fixed strings anywhere in the line).
# floor and match run REPEAT times (default 3; grep once); medians of wall and CPU seconds.
# Old vs new binaries and --threads 1 vs 2 in one run: bench/match/compare.sh.
# usage: bench/match/run.sh [BUILD_DIR]   env: MATCH_BENCH_MB (default 200), REPEAT,
#        MATCH_BENCH_DIR (work files, default /tmp/ctihub-match-bench)
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${CTIHUB_DATA:-$root/../shared/data}
[ -d "$data/iocs" ] || data=/work/shared/data
mb=${MATCH_BENCH_MB:-200}
repeat=${REPEAT:-3}
work=${MATCH_BENCH_DIR:-/tmp/ctihub-match-bench}
mkdir -p "$work"
ctihub="$build/src/cli/ctihub"
floor="$build/bench/match_floor"

if [ ! -s "$work/indicators.json" ]; then
  python3 "$root/bench/match/make_indicators.py" "$data/iocs" "$work/indicators.json" \
    "$work/values.txt" 1000000
fi
log="$work/zeek-${mb}MB.json"
if [ ! -s "$log" ]; then
  zcat "$data/telemetry/zeek-json-wrccdc2018/dns.json.gz" \
       "$data/telemetry/zeek-json-wrccdc2018/ssl.json.gz" > "$work/zeek-once.json"
  : > "$log"
  while [ "$(stat -c %s "$log")" -lt $((mb * 1000000)) ]; do cat "$work/zeek-once.json" >> "$log"; done
fi
echo "indicators: $(grep -c '"type":"indicator"' "$work/indicators.json"), values: $(wc -l < "$work/values.txt")"
echo "log: $log, $(stat -c %s "$log") bytes, $(wc -l < "$log") lines"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Appends "wall cpu" (cpu = user + sys) of one run to FILE; the command's stderr to last.err.
timed() {
  local file=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time.out" "$@" > /dev/null 2> "$work/last.err" || true
  awk '{print $1, $2 + $3}' "$work/time.out" >> "$file"
}

: > "$work/floor.t"; : > "$work/match.t"; : > "$work/grep.t"
for i in $(seq "$repeat"); do
  timed "$work/floor.t" "$floor" "$log"
  timed "$work/match.t" "$ctihub" match --indicators "$work/indicators.json" --input "$log" \
    --format zeek-json --output /dev/null
  cp "$work/last.err" "$work/match.err"
done
# grep -F with ~880,000 strings takes a minute or more here: once.
timed "$work/grep.t" grep -F -c -f "$work/values.txt" "$log"
lines=$(wc -l < "$log")
bytes=$(stat -c %s "$log")
row() {  # name file
  local w c
  w=$(cut -d' ' -f1 "$2" | median); c=$(cut -d' ' -f2 "$2" | median)
  printf "%-26s wall %7.2f s  cpu %7.2f s  %9.0f lines/CPU-s  %7.1f MB/CPU-s\n" "$1" "$w" "$c" \
    "$(echo "$lines / $c" | bc -l)" "$(echo "$bytes / $c / 1000000" | bc -l)"
}
echo "medians of $repeat runs (grep: 1 run); the machine is shared, so CPU seconds compare"
row "floor (simdjson On-Demand)" "$work/floor.t"
row "ctihub match (whole run)" "$work/match.t"
row "grep -F -f values.txt" "$work/grep.t"
echo "ctihub match summary (last run; its match phase alone):"
sed 's/^/  /' "$work/match.err"
