#!/usr/bin/env bash
# bench/policy_instructions.sh: the sharing policy's cost on the read path in
# instructions (valgrind --tool=callgrind), a figure the shared VM's noise does
# not move. Counts the instructions policy_read_bench spends inside PageAll for
#   z  the warm-up alone (scenarios (a) and (b) once each),
#   a  the warm-up plus one (a) run: no policy, admin reader,
#   d  the warm-up plus one (d) run: policy, broad reader,
# so a - z and d - z are one run of each, and prints the policy's cost per
# served object in instructions. Instructions are not time (cache misses are
# not counted): quote it beside the wall/CPU medians of policy_read_bench.
# Usage: bench/policy_instructions.sh BUILD_DIR [OBJECTS] [DATA_DIR]
#   OBJECTS defaults to 100,000 (callgrind runs ~50x slower than native);
#   DATA_DIR is reused between runs (generated on first use).
set -euo pipefail
build=${1:-build/release}
objects=${2:-100000}
data=${3:-/tmp/ctihub-policy-bench-$objects}
bin=$(cd "$build" && pwd)/bench/policy_read_bench
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt install valgrind)" >&2; exit 2; }
[ -x "$bin" ] || { echo "no $bin: build the benches first (make bench builds them)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" --objects "$objects" --data "$data" --reps 1 --no-analysis --only z >/dev/null  # data, once
count() {  # runs one after another: the bench's audit directory is shared
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" --toggle-collect='*PageAll*' \
    "$bin" --objects "$objects" --data "$data" --reps 1 --no-analysis --only "$1" \
    >"$tmp/out.$1" 2>"$tmp/log.$1"
  grep -Eo 'Collected : [0-9]+' "$tmp/log.$1" | grep -Eo '[0-9]+$'
}
z=$(count z)
a=$(count a)
d=$(count d)
served_d=$(grep -Eo '\(d\) policy, broad reader .* ([0-9]+) served' "$tmp/log.d" | grep -Eo '[0-9]+ served' | grep -Eo '[0-9]+')
python3 - "$objects" "$z" "$a" "$d" "$served_d" <<'EOF'
import sys
objects, z, a, d, served = (int(x) for x in sys.argv[1:])
ra, rd = a - z, d - z
per_a, per_d = ra / objects, rd / served
print(f"{objects} objects: (a) {ra/1e6:.1f} M instructions ({per_a:.0f} per served object), "
      f"(d) {rd/1e6:.1f} M ({per_d:.0f} per served object, {served} served)")
print(f"policy cost per served object in instructions: {100*(per_d/per_a-1):+.1f}%")
EOF
