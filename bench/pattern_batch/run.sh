#!/usr/bin/env bash
# `ctihub pattern match --batch` and `validate --batch` throughput (issue 11):
# LINES lines (default 500,000) of one single-comparison pattern against one
# STIX 2.1 observed-data with its SCO (16 distinct patterns, half the lines
# match). Prints each run's wall and CPU seconds, and the medians over RUNS runs
# (default 5) of lines per wall second and lines per CPU second (user + sys:
# what the machine's other load does not change much on a shared VM).
# Usage: [LINES=n] [RUNS=n] [CTIHUB_BIN=path] bench/pattern_batch/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
lines=${LINES:-500000}
runs=${RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)
bin=${CTIHUB_BIN:-$build/src/cli/ctihub}  # CTIHUB_BIN: another binary (a baseline)
data="$build/bench-data/pattern_batch"
mkdir -p "$data"
for kind in match validate; do
  f="$data/$kind-$lines.jsonl"
  [ -s "$f" ] || python3 "$here/gen.py" "$kind" "$lines" "$f"
  echo "== pattern $kind --batch: $lines lines, $(du -m "$f" | cut -f1) MB ($f)"
  "$bin" pattern "$kind" --batch "$f" > /dev/null  # warm the page cache
  rates=() cpu_rates=()
  for _ in $(seq "$runs"); do
    t=$( { /usr/bin/time -f "%e %U %S" "$bin" pattern "$kind" --batch "$f" > /dev/null; } 2>&1 )
    read -r wall user sys <<< "$t"
    rate=$(python3 -c "print(int($lines / max($wall, 0.001)))")
    cpu_rate=$(python3 -c "print(int($lines / max($user + $sys, 0.001)))")
    echo "run: wall ${wall}s user ${user}s sys ${sys}s -> $rate lines/s wall, $cpu_rate lines/CPU-s"
    rates+=("$rate")
    cpu_rates+=("$cpu_rate")
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  echo "median: $(median "${rates[@]}") lines/s wall, $(median "${cpu_rates[@]}") lines/CPU-s" \
       "($kind, $runs runs, load average $(cut -d' ' -f1 /proc/loadavg))"
done
