#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time, starting from its committed seed corpus.
set -euo pipefail
dir=$1; seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$dir"/*_fuzz)
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz-smoke: no targets built in $dir" >&2; exit 1; fi
for t in "${targets[@]}"; do
  name=$(basename "$t" _fuzz)
  seeds="$root/fuzz/corpus/$name"
  work="$root/build/fuzz-corpus/$name"
  mkdir -p "$work"
  echo "fuzz-smoke: $name for ${seconds}s"
  "$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
       -print_final_stats=0 "$work" ${seeds:+$( [ -d "$seeds" ] && echo "$seeds")} >"$work.log" 2>&1 \
    || { tail -60 "$work.log"; echo "fuzz-smoke: $name FAILED" >&2; exit 1; }
  grep -E '^#[0-9]+.*DONE|Done [0-9]+ runs' "$work.log" | tail -1 || true
done
echo "fuzz-smoke: ${#targets[@]} targets clean"
