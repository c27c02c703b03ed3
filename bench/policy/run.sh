#!/usr/bin/env bash
# bench/policy: the sharing policy's cost on the TAXII read path (issue 5: at
# most 15% of paging throughput). Pages OBJECTS objects (default 1,000,000; 50
# organisations, 200 agreements) through taxii::Service::Handle over the SQLite
# store with and without the policy: policy_read_bench (its VERDICT line is
# the (a)/(d) pair interleaved page by page; back-to-back figures beside it),
# then, when valgrind is installed, the same cost in instructions at 100,000
# objects (bench/policy_instructions.sh). Data is generated once into DATA_DIR.
# Usage: bench/policy/run.sh BUILD_DIR [OBJECTS] [DATA_DIR]
set -euo pipefail
build=${1:-build/release}
objects=${2:-${CTIHUB_POLICY_BENCH_OBJECTS:-1000000}}
data=${3:-${TMPDIR:-/tmp}/ctihub-policy-bench-$objects}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/bench/policy_read_bench
[ -x "$bin" ] || { echo "no $bin: build the benches first (make bench builds them)" >&2; exit 2; }
"$bin" --objects "$objects" --data "$data" --reps "${CTIHUB_POLICY_BENCH_REPS:-5}" --no-analysis
if command -v valgrind >/dev/null; then
  "$here/../policy_instructions.sh" "$build" 100000
else
  echo "valgrind not installed: instruction counts skipped"
fi
