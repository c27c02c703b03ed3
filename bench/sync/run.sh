#!/usr/bin/env bash
# bench/sync: hub-to-hub exchange over TAXII on 127.0.0.1 (issue 15 speed).
# Usage: [N=n] bench/sync/run.sh BUILD_DIR   (default 1,000,000 indicators)
# Hub S gets N indicators (half TLP:GREEN, half TLP:AMBER; bench/sync/gen.py,
# `ctihub import`) and serves them. Hub R pulls the whole collection as S's
# producer organisation (`ctihub sync`: pages of 1,000, each committed
# durably before the cursor moves) -> pull rate. Then S pushes to R as an
# organisation entitled to the GREEN half only (every version read through
# S's policy decision, the GREEN ones POSTed and stored durably at R) -> push
# rate over the versions decided and over the versions sent. Prints wall time
# and rates; everything runs in a temp dir and both servers are stopped.
set -euo pipefail
build=${1:-build/release}
n=${N:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$build" && pwd)/src/cli/ctihub
tmp=$(mktemp -d)
S=$tmp/s R=$tmp/r
servers=()
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

serve() {  # DATA -> prints the port
  "$bin" serve --data "$1" --listen 127.0.0.1:0 --no-sync >"$1.log" 2>&1 &
  servers+=($!)
  local port=""
  for _ in $(seq 300); do
    port=$(grep -Eo 'listening on https?://127\.0\.0\.1:[0-9]+' "$1.log" | grep -Eo '[0-9]+$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$1.log" >&2; echo "server did not start" >&2; exit 1; }
  echo "$port"
}
identity() { "$bin" org list --data "$1" | awk -v o="$2" '$1 == o {for (i = 2; i <= NF; i++) if ($i ~ /^identity--/) print $i}'; }
policy() {  # DATA RELAY(true|false): orgs src and half; src shares GREEN with half
  cat > "$1/policy.toml" <<TOML
[[organisation]]
name = "src"
identity = "$src_id"
[[organisation]]
name = "half"
identity = "$half_id"
[[agreement]]
id = "src-green-to-half"
producer = "org:src"
recipient = "org:half"
max_tlp = "green"
object_types = ["*"]
relay = $2
legal_basis = "bench"
TOML
}

bundle="$tmp/indicators.json.gz"
python3 "$here/gen.py" "$n" "$bundle"

"$bin" init --data "$S" >/dev/null
"$bin" org add src --data "$S" >/dev/null
"$bin" org add half --data "$S" >/dev/null
src_id=$(identity "$S" src) half_id=$(identity "$S" half)
policy "$S" false
"$bin" api-root add api --title "S" --data "$S" >/dev/null
feed=$("$bin" collection add --root api --title feed --alias feed --readers src,half --writers src --data "$S")
printf 'link-full-password-1\n' | "$bin" user add link-full --org src --role reader --password-stdin --data "$S" >/dev/null
/usr/bin/time -f "import into S: wall %es (user %Us, sys %Ss)" \
  "$bin" import --data "$S" --format stix --collection feed --org src "$bundle" >/dev/null
s_port=$(serve "$S")

"$bin" init --data "$R" >/dev/null
"$bin" org add src --identity-id "$src_id" --data "$R" >/dev/null
"$bin" org add half --identity-id "$half_id" --data "$R" >/dev/null
policy "$R" true
"$bin" api-root add api --title "R" --data "$R" >/dev/null
"$bin" collection add --root api --title pulled --alias pulled --readers src --writers src --data "$R" >/dev/null
inbox=$("$bin" collection add --root api --title inbox --alias inbox --readers half --writers half --data "$R")
printf 'feeder-password-12\n' | "$bin" user add feeder --org half --role publisher --password-stdin --data "$R" >/dev/null
printf 'link-full-password-1\n' | "$bin" peer add s --url "http://127.0.0.1:$s_port/taxii2/" \
  --collection "$feed" --local-collection pulled --org src --direction pull \
  --user link-full --password-stdin --data "$R" >/dev/null

t0=$(date +%s.%N)
"$bin" sync s --json --timeout 7200 --data "$R" > "$tmp/pull.json"
t1=$(date +%s.%N)
python3 - "$tmp/pull.json" "$t0" "$t1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["peers"][0]
wall = float(sys.argv[3]) - float(sys.argv[2])
print("pull: %d objects pulled, %d stored durably in %.1f s: %.0f objects/s (ok=%s)"
      % (r["pulled"], r["stored"], wall, r["stored"] / wall, r["ok"]))
PY

r_port=$(serve "$R")
printf 'feeder-password-12\n' | "$bin" peer add r --url "http://127.0.0.1:$r_port/taxii2/" \
  --collection "$inbox" --local-collection feed --org half --direction push \
  --user feeder --password-stdin --data "$S" >/dev/null
t0=$(date +%s.%N)
"$bin" sync r --json --timeout 7200 --data "$S" > "$tmp/push.json"
t1=$(date +%s.%N)
python3 - "$tmp/push.json" "$t0" "$t1" "$n" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["peers"][0]
wall = float(sys.argv[3]) - float(sys.argv[2])
n = int(sys.argv[4])
print("push (reader entitled to half): %d versions decided, %d sent, %d stored at R in %.1f s: "
      "%.0f decided/s, %.0f pushed/s (ok=%s)"
      % (n, r["push_sent"], r["pushed"], wall, n / wall, r["pushed"] / wall, r["ok"]))
PY
