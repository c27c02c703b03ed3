#!/usr/bin/env bash
# Imports every file (or directory) of the shared real threat data into one
# fresh hub, each with `ctihub import --json`, and prints one line per input:
# read / stored / already present / rejected, exit code, wall and user time,
# max RSS. Issue 13: "the real files under ../shared/data must import cleanly".
# Usage: bench/import/real_data.sh BUILD_DIR [DATA_DIR]   (DATA_DIR: ../shared/data)
set -euo pipefail
build=${1:-build/release}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${2:-$root/../shared/data}
bin=${CTIHUB_BIN:-$build/src/cli/ctihub}
hub=$(mktemp -d)
trap 'rm -rf "$hub"' EXIT
"$bin" init --data "$hub/hub" > /dev/null
inputs=()
for f in "$data"/iocs/*; do inputs+=("$f"); done
for d in "$data"/misp/*; do inputs+=("$d"); done
for f in "$data"/stix/*; do
  case $f in *.tar.gz) continue ;; esac  # an archive of a git tree, not an input
  inputs+=("$f")
done
printf '%-62s %9s %9s %9s %8s %3s %8s %8s %8s\n' input read stored present rejected rc wall_s user_s rss_MB
for input in "${inputs[@]}"; do
  set +e
  /usr/bin/time -o "$hub/time" -f "%e %U %M" "$bin" import --data "$hub/hub" --json "$input" \
    > "$hub/summary.json" 2> "$hub/stderr"
  rc=$?
  set -e
  read -r wall user rss < <(tail -1 "$hub/time")  # after "Command exited with ..." when rc != 0
  python3 - "$hub/summary.json" "${input#"$data"/}" "$rc" "$wall" "$user" "$rss" <<'PY'
import json, sys
path, name, rc, wall, user, rss = sys.argv[1:]
try:
    s = json.load(open(path))
except ValueError:
    s = {}
print("%-62s %9s %9s %9s %8s %3s %8s %8s %8d" % (
    name[-62:], s.get("read", "-"), s.get("stored", "-"), s.get("already_present", "-"),
    s.get("rejected", "-"), rc, wall, user, int(rss) // 1024))
PY
done
