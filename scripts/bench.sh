#!/usr/bin/env bash
# Runs every Google Benchmark target (medians of 5 repetitions) and, when present,
# the whole-server load scripts under bench/. Results go to build/bench-results/.
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/build/bench-results"
mkdir -p "$out"
shopt -s nullglob
for b in "$build"/bench/*_bench; do
  name=$(basename "$b")
  echo "== $name"
  if [ "$name" = store_bench ]; then  # a plain driver, not Google Benchmark
    "$b" --objects "${CTIHUB_STORE_BENCH_OBJECTS:-200000}" | tee "$out/$name.txt"
    continue
  fi
  if [ "$name" = policy_read_bench ]; then  # run by bench/policy/run.sh below
    continue
  fi
  "$b" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
       --benchmark_out="$out/$name.json" --benchmark_out_format=json | grep -E 'median|^-|Benchmark' || true
done
for s in "$root"/bench/*/run.sh; do
  echo "== $s"
  bash "$s" "$build" | tee "$out/$(basename "$(dirname "$s")").txt"
done
echo "== $root/bench/policy/versions.sh"
bash "$root/bench/policy/versions.sh" "$build" | tee "$out/policy-versions.txt"
echo "results in $out"
