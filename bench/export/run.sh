#!/usr/bin/env bash
# `ctihub export` throughput (issue 13 target: 1,000,000 indicators in any
# format in under 10 s). Imports N indicators (default 1,000,000; gen.py) into
# a fresh hub once, then times `ctihub export --format F -o FILE` (the local
# administrator: every object, one `export` audit record per 10,000) for each
# format, RUNS times (default 3), and prints each run's wall/user/sys seconds
# and max RSS, and the median wall time per format.
# Usage: [N=n] [RUNS=n] [FORMATS="stix csv ..."] bench/export/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
n=${N:-1000000}
runs=${RUNS:-3}
formats=${FORMATS:-"stix misp csv suricata zeek blocklist rpz"}
here=$(cd "$(dirname "$0")" && pwd)
bin=${CTIHUB_BIN:-$build/src/cli/ctihub}
data="$build/bench-data/export"
hub="$data/hub-$n"
mkdir -p "$data"
bundle="$data/indicators-$n.json.gz"
[ -s "$bundle" ] || python3 "$here/gen.py" "$n" "$bundle"
if [ ! -s "$hub/ctihub.db" ]; then
  rm -rf "$hub"
  "$bin" init --data "$hub" > /dev/null
  echo "== import of $n indicators ($(du -m "$bundle" | cut -f1) MB gzip)"
  /usr/bin/time -f "import: wall %es user %Us sys %Ss max RSS %M KB" \
    "$bin" import --data "$hub" --format stix "$bundle"
fi
out="$data/out"
mkdir -p "$out"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for f in $formats; do
  walls=()
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$out/time.$f" -f "%e %U %S %M" "$bin" export --data "$hub" --format "$f" \
      -o "$out/export.$f" 2> "$out/summary.$f"
    read -r wall user sys rss < "$out/time.$f"
    echo "$f: wall ${wall}s user ${user}s sys ${sys}s max RSS ${rss} KB," \
         "$(head -1 "$out/summary.$f" | sed 's/ to .*//'), $(du -m "$out/export.$f" | cut -f1) MB"
    walls+=("$wall")
  done
  echo "median $f: $(median "${walls[@]}") s wall ($n indicators, $runs runs, load average $(cut -d' ' -f1 /proc/loadavg))"
done
