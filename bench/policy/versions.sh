#!/usr/bin/env bash
# bench/policy/versions.sh: what picking match[version]=last among the versions a
# reader may see costs on a versioned collection. A hub holds OBJECTS indicators
# of VERSIONS versions each (all TLP:GREEN, producer "vendor"); a reader of
# another organisation in the vendor's community pages the whole collection
# (limit 1000, the TAXII default version selection) over HTTP on 127.0.0.1.
# With BASE_BUILD, the same pages are read by that build's binary in turn (same
# data, servers alternating, REPS rounds) and the medians are compared.
# Usage: bench/policy/versions.sh BUILD [BASE_BUILD]
#   OBJECTS (default 20000), VERSIONS (default 3), REPS (default 5) from the environment.
# Every loop is bounded; servers are stopped after each round.
set -euo pipefail
build=${1:?usage: versions.sh BUILD [BASE_BUILD]}
base=${2:-}
objects=${OBJECTS:-20000}
versions=${VERSIONS:-3}
reps=${REPS:-5}
bin=$(cd "$build" && pwd)/src/cli/ctihub
base_bin=${base:+$(cd "$base" && pwd)/src/cli/ctihub}
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$tmp"' EXIT

"$bin" init --data "$tmp" >/dev/null
cat >"$tmp/policy.toml" <<'TOML'
[[community]]
name = "circle"

[[organisation]]
name = "vendor"
communities = ["circle"]

[[organisation]]
name = "peer"
communities = ["circle"]
TOML
"$bin" org add vendor --data "$tmp" >/dev/null 2>&1
"$bin" org add peer --data "$tmp" >/dev/null
printf 'peer-password-1\n' | "$bin" user add peer --org peer --role reader --password-stdin --data "$tmp" >/dev/null
"$bin" api-root add api1 --title "versions bench" --data "$tmp" >/dev/null
coll=$("$bin" collection add --root api1 --title feed --readers '*' --writers '*' --data "$tmp")
python3 - "$objects" "$versions" >"$tmp/bundle.json" <<'PY'
import json, sys, uuid
n, v = int(sys.argv[1]), int(sys.argv[2])
objs = []
for i in range(n):
    oid = "indicator--" + str(uuid.UUID(int=i + 1, version=4))
    for k in range(v):
        objs.append({"type": "indicator", "spec_version": "2.1", "id": oid,
                     "created": "2024-01-01T00:00:00.000Z",
                     "modified": "2024-01-%02dT00:00:00.000Z" % (k + 1),
                     "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % (i >> 16 & 255, i >> 8 & 255, i & 255),
                     "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
                     "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]})
json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs}, sys.stdout)
PY
"$bin" load-bundle --collection "$coll" --org vendor --data "$tmp" "$tmp/bundle.json" >/dev/null
rm -f "$tmp/bundle.json"

# Pages the whole collection as peer with binary $1; prints "SERVED WALL_SECONDS
# SERVER_CPU_SECONDS" (the server's user+system time over the pages alone: less
# moved than wall time by the other tenants of a shared machine).
page_all() {
  "$1" serve --data "$tmp" --listen 127.0.0.1:0 >"$tmp/server.log" 2>&1 &
  server=$!
  local port=
  for _ in $(seq 100); do
    port=$(grep -Eo 'listening on https?://127\.0\.0\.1:[0-9]+' "$tmp/server.log" | grep -Eo '[0-9]+$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$tmp/server.log" >&2; echo "server did not start" >&2; exit 1; }
  python3 - "$port" "$coll" "$server" <<'PY'
import base64, json, os, sys, time, urllib.request
port, coll, pid = sys.argv[1], sys.argv[2], sys.argv[3]
def cpu():  # utime + stime of the server, in seconds
    fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
auth = "Basic " + base64.b64encode(b"peer:peer-password-1").decode()
def get(url):
    req = urllib.request.Request(url, headers={"Accept": "application/taxii+json;version=2.1",
                                               "Authorization": auth})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)
start, cpu0, served, nxt = time.perf_counter(), cpu(), 0, None
for _ in range(100000):
    d = get("http://127.0.0.1:%s/api1/collections/%s/objects/?limit=1000%s"
            % (port, coll, "&next=" + nxt if nxt else ""))
    served += len(d.get("objects", []))
    if not d.get("more"):
        break
    nxt = d["next"]
print(served, "%.4f" % (time.perf_counter() - start), "%.2f" % (cpu() - cpu0))
PY
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
}

echo "versions bench: $objects objects x $versions versions, reader sees every version, $reps rounds"
: >"$tmp/results"
for r in $(seq "$reps"); do
  if [ -n "$base_bin" ]; then echo "base $(page_all "$base_bin")" | tee -a "$tmp/results"; fi
  echo "build $(page_all "$bin")" | tee -a "$tmp/results"
done
python3 - "$tmp/results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    who, served, wall, cpu = line.split()
    runs.setdefault(who, []).append((int(served), float(wall), float(cpu)))
wall = {who: statistics.median(r[1] for r in v) for who, v in runs.items()}
cpu = {who: statistics.median(r[2] for r in v) for who, v in runs.items()}
for who, v in runs.items():
    print("%s: %d objects served per pass, median wall %.3f s (%.0f objects/s), server CPU %.2f s"
          % (who, v[0][0], wall[who], v[0][0] / wall[who], cpu[who]))
if "base" in wall:
    print("build / base: wall %.2fx, server CPU %.2fx (medians)"
          % (wall["build"] / wall["base"], cpu["build"] / cpu["base"]))
PY
