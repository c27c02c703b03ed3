#!/usr/bin/env bash
# `ctihub import` throughput into the embedded store, durable (issue 13
# targets: STIX 2.1 >= 50,000 objects/s, MISP >= 20,000 attributes/s; free-text
# extraction >= 100 MB/s is import_bench's BM_Extract*, the store left out).
# Each run imports into a fresh hub (`ctihub init`) and is timed by
# /usr/bin/time; the median of RUNS (default 3) wall times is printed.
#   STIX 2.1: N indicators (default 200,000; bench/export/gen.py), one bundle
#   MISP:     MISP_N attributes (default 100,000) in events of 1,000 (gen.py misp)
#   text:     TEXT_MB megabytes of report prose (default 20; gen.py text)
# Usage: [N=n] [MISP_N=n] [TEXT_MB=n] [RUNS=n] [KINDS="stix misp text"] bench/import/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build/release}
n=${N:-200000}
misp_n=${MISP_N:-100000}
text_mb=${TEXT_MB:-20}
runs=${RUNS:-3}
kinds=${KINDS:-"stix misp text"}
here=$(cd "$(dirname "$0")" && pwd)
bin=${CTIHUB_BIN:-$build/src/cli/ctihub}
data="$build/bench-data/import"
mkdir -p "$data"
stix="$data/indicators-$n.json.gz"
misp="$data/misp-$misp_n.json"
text="$data/report-${text_mb}MB.txt"
[ -s "$stix" ] || python3 "$here/../export/gen.py" "$n" "$stix"
[ -s "$misp" ] || python3 "$here/gen.py" misp "$misp_n" "$misp"
[ -s "$text" ] || python3 "$here/gen.py" text "$text_mb" "$text"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# one_run KIND FORMAT INPUT: imports INPUT into a fresh hub, prints a line
# for people and leaves "wall stored" in $data/result.
one_run() {
  local kind=$1 format=$2 input=$3 hub="$data/hub"
  rm -rf "$hub"
  "$bin" init --data "$hub" > /dev/null
  /usr/bin/time -o "$data/time" -f "%e %U %S %M" \
    "$bin" import --data "$hub" --format "$format" --json "$input" > "$data/summary.json" 2> /dev/null
  local wall user sys rss stored
  read -r wall user sys rss < "$data/time"
  stored=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stored"])' "$data/summary.json")
  echo "$kind: wall ${wall}s user ${user}s sys ${sys}s max RSS ${rss} KB, stored $stored"
  echo "$wall $stored" > "$data/result"
}

for kind in $kinds; do
  case $kind in
    stix) format=stix input=$stix units=$n unit="objects" ;;
    misp) format=misp input=$misp units=$misp_n unit="attributes" ;;
    text) format=text input=$text units=$text_mb unit="MB" ;;
    *) echo "unknown kind $kind" >&2; exit 2 ;;
  esac
  walls=()
  for _ in $(seq "$runs"); do
    one_run "$kind" "$format" "$input"
    read -r wall stored < "$data/result"
    walls+=("$wall")
  done
  m=$(median "${walls[@]}")
  echo "median $kind: $m s wall, $(python3 -c "print(f'{$units / $m:,.1f}')") $unit/s" \
       "($units $unit, last run stored $stored objects, $runs runs, load average $(cut -d' ' -f1 /proc/loadavg))"
done
rm -rf "$data/hub"
