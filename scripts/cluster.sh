#!/usr/bin/env bash
# Usage: scripts/cluster.sh [--check] BIN [PORT_A [PORT_B]]
# A throwaway two-node hub (`make cluster`, issue 16): a PostgreSQL cluster
# (scripts/pg_test_cluster.sh: unix socket only, in a fresh directory) and two
# `ctihub serve` nodes over it on 127.0.0.1:PORT_A and 127.0.0.1:PORT_B (default 8444
# and 8445, beside `make serve`'s 8443; 0 = any free port), with the demo data of
# `make serve` (scripts/demo_hub.sh) set up through node A. Prints how to reach each
# node and the demo users' passwords, then runs in the foreground until Ctrl-C or
# SIGTERM, or until a node exits; then stops both nodes and PostgreSQL and deletes the
# temporary directory. KEEP=1 keeps it (node data directories, logs, and the stopped
# PostgreSQL's files: `scripts/pg_test_cluster.sh server-start|stop RUN_DIR/pg`).
#
# Each node has its own data directory (node key, audit trail, serve lock; its TLS files
# with CLUSTER_TLS=1). Users, tokens, organisations, collections and objects are in the
# database, and so is the sharing policy (policy.toml, agreements.toml: `ctihub agreement
# add ... --db URL` or `ctihub policy import --db URL --data DIR`); a change made through
# either node or the CLI takes effect on both within a second.
#
# CLUSTER_TLS=1 (`make cluster TLS=1`): HTTPS, each node with its own self-signed
# certificate for 127.0.0.1 in its data directory (tls.crt, tls.key; openssl).
#
# --check: a bounded self-test instead of waiting: POST an indicator through node A over
# TAXII and read it back through node B, /healthz on both, then stop everything and check
# that both nodes and PostgreSQL are gone and the directories deleted. Exit 0 when all
# holds. Extra serve flags for both nodes: CTIHUB_SERVE_FLAGS="--threads 2".
set -euo pipefail

usage() {
  echo "usage: scripts/cluster.sh [--check] BIN [PORT_A [PORT_B]]" >&2
  exit 2
}
CHECK=0
if [ "${1:-}" = --check ]; then
  CHECK=1
  shift
fi
if [ $# -lt 1 ] || [ $# -gt 3 ]; then usage; fi
BIN=$1
PORT_A=${2:-8444}
PORT_B=${3:-8445}
KEEP=${KEEP:-0}
TLS=${CLUSTER_TLS:-0}
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
PG_CLUSTER="$ROOT_DIR/scripts/pg_test_cluster.sh"
STOP_SECONDS=30  # a node's graceful shutdown, then SIGKILL
START_SECONDS=30 # until a node says "listening on"

if [ ! -x "$BIN" ]; then
  echo "cluster.sh: $BIN is not built (run make build)" >&2
  exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
for port in "$PORT_A" "$PORT_B"; do
  case "$port" in '' | *[!0-9]*) usage ;; esac
  [ "$port" -le 65535 ] || usage
done
if [ "$PORT_A" != 0 ] && [ "$PORT_A" = "$PORT_B" ]; then
  echo "cluster.sh: the two nodes need different ports" >&2
  exit 2
fi

# shellcheck source=scripts/demo_hub.sh
. "$ROOT_DIR/scripts/demo_hub.sh"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/ctihub-cluster.XXXXXX")
PG_STATE="$RUN/pg"
NODE_PIDS=()
PG_PID=""
STOPPED=0

alive() { # PID: the process exists and is not a zombie
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

stop_node() { # PID: SIGTERM, up to STOP_SECONDS for a graceful stop, then SIGKILL
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_SECONDS * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    echo "cluster.sh: node $pid did not stop in ${STOP_SECONDS}s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops the nodes, then PostgreSQL, then deletes RUN (KEEP=1: keeps RUN and the database's
# files). Idempotent; runs on every exit.
stop_all() {
  # A node's background subshell, signalled between its fork and its exec, runs the
  # traps too: only the script itself stops anything.
  [ "$BASHPID" = "$$" ] || exit 0
  set +e
  [ "$STOPPED" = 1 ] && return 0
  STOPPED=1
  trap '' INT TERM # a second Ctrl-C does not cut the clean-up short
  local pid
  for pid in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"}; do stop_node "$pid"; done
  if [ "$KEEP" = 1 ]; then
    if [ -f "$PG_STATE/datadir" ]; then timeout -s KILL 60 "$PG_CLUSTER" server-stop "$PG_STATE" >/dev/null 2>&1; fi
    echo "== KEEP=1: kept $RUN (PostgreSQL stopped; its files: $(cat "$PG_STATE/datadir" 2>/dev/null)/data;" \
      "delete them with: $PG_CLUSTER stop $PG_STATE)"
  else
    timeout -s KILL 60 "$PG_CLUSTER" stop "$PG_STATE" >/dev/null 2>&1
    rm -rf "$RUN"
  fi
  echo "== cluster stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "cluster.sh: $*" >&2
  exit 1
}

# A self-signed certificate for 127.0.0.1 in the data directory DIR: DIR/tls.crt, DIR/tls.key.
make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$1/tls.key" -out "$1/tls.crt" >/dev/null 2>&1 || fail "openssl could not make a certificate"
  chmod 600 "$1/tls.key"
}

# curl's options to trust node NAME's certificate (none without TLS).
ca_of() {
  if [ "$TLS" = 1 ]; then echo "--cacert $RUN/$1/tls.crt"; fi
}

# Starts node NAME on 127.0.0.1:PORT over the database; sets NODE_URL and NODE_PID. Fails
# when the node exits or says nothing within START_SECONDS (its log's tail is shown).
start_node() {
  local name=$1 port=$2 log="$RUN/$1.log" pid i
  local -a tls=()
  if [ "$TLS" = 1 ]; then
    make_cert "$RUN/$name"
    tls=(--tls-cert "$RUN/$name/tls.crt" --tls-key "$RUN/$name/tls.key")
  fi
  : >"$log" # before the background start: awk reads it at once
  # shellcheck disable=SC2086
  "$BIN" serve --data "$RUN/$name" --db "$DB_URL" --listen "127.0.0.1:$port" \
    ${tls[@]+"${tls[@]}"} ${CTIHUB_SERVE_FLAGS:-} >"$log" 2>&1 &
  pid=$!
  NODE_PIDS+=("$pid")
  NODE_URL=""
  for ((i = 0; i < START_SECONDS * 10; i++)); do
    NODE_URL=$(awk '/^listening on / {print $3; exit}' "$log")
    [ -n "$NODE_URL" ] && break
    alive "$pid" || break
    sleep 0.1
  done
  if [ -z "$NODE_URL" ]; then
    tail -n 20 "$log" >&2
    fail "$name did not start (log: $log)"
  fi
  NODE_PID=$pid
}

echo "== starting PostgreSQL (throwaway, unix socket only) in $RUN"
timeout 120 "$PG_CLUSTER" start "$PG_STATE" >/dev/null || fail "PostgreSQL did not start"
DB_URL=$(cat "$PG_STATE/url")
PG_PID=$(head -n 1 "$(cat "$PG_STATE/datadir")/data/postmaster.pid")

echo "== setting up the demo hub through node A"
demo_setup "$BIN" "$RUN/node-a" "$DB_URL"
"$BIN" init --data "$RUN/node-b" --db "$DB_URL" >/dev/null

# Start-up recovery is per node (docs/ARCHITECTURE.md "PostgreSQL store"): the demo bundle
# imported through node A's data directory is node A's write, in node A's trail, and no
# node's start touches another's writes, so the nodes start in any order.
demo_import "$BIN" "$RUN/node-a" "$DB_URL"
start_node node-a "$PORT_A"
URL_A=$NODE_URL PID_A=$NODE_PID
start_node node-b "$PORT_B"
URL_B=$NODE_URL PID_B=$NODE_PID

demo_print_users
echo "== PostgreSQL: $DB_URL (pid $PG_PID)"
for node in A B; do
  if [ $node = A ]; then url=$URL_A pid=$PID_A name=node-a; else url=$URL_B pid=$PID_B name=node-b; fi
  echo
  echo "== node $node: $url (pid $pid, data $RUN/$name, log $RUN/$name.log)"
  demo_print_try "$url" "analyst:$DEMO_ANALYST_PW" "$DEMO_COL_ID" "$(ca_of $name)"
done
cat <<MSG

== both nodes serve the same users, tokens, collections and objects (one database);
   admin commands take --db '$DB_URL', e.g.
   $BIN token create --user analyst --label demo --data $RUN/node-a --db '$DB_URL'
MSG

TAXII="application/taxii+json;version=2.1"

# http NAME CURL_ARGS...: curl to node NAME (trusting its certificate under TLS) with a
# time limit; prints the body, then the HTTP status on a line of its own.
http() {
  local -a ca=()
  if [ "$TLS" = 1 ]; then ca=(--cacert "$RUN/$1/tls.crt"); fi
  curl -sg --max-time 10 ${ca[@]+"${ca[@]}"} -w '\n%{http_code}\n' "${@:2}"
}

self_check() {
  local id body status i
  id="indicator--$(cat /proc/sys/kernel/random/uuid)"
  body=$(printf '{"objects":[{"type":"indicator","spec_version":"2.1","id":"%s",%s}]}' "$id" \
    '"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"cluster check","pattern":"[ipv4-addr:value = '"'"'198.51.100.7'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"')
  status=$(http node-a -u "analyst:$DEMO_ANALYST_PW" -H "Accept: $TAXII" -H "Content-Type: $TAXII" \
    --data-binary "$body" "$URL_A/api1/collections/$DEMO_COL_ID/objects/" | tail -n 1)
  [ "$status" = 202 ] || fail "check: POST through node A answered $status, not 202"
  echo "check: POST $id through node A: 202"
  local out=""
  for ((i = 0; i < 100; i++)); do # the write commits asynchronously: up to 10 s
    out=$(http node-b -u "analyst:$DEMO_ANALYST_PW" -H "Accept: $TAXII" \
      "$URL_B/api1/collections/$DEMO_COL_ID/objects/$id/" || true)
    [ "$(tail -n 1 <<<"$out")" = 200 ] && grep -q "\"$id\"" <<<"$out" && break
    out=""
    sleep 0.1
  done
  [ -n "$out" ] || fail "check: node B does not serve $id"
  echo "check: GET $id through node B: 200"
  out=$(http node-b -u "analyst:$DEMO_ANALYST_PW" -H "Accept: $TAXII" \
    "$URL_B/api1/collections/$DEMO_COL_ID/objects/?match%5Btype%5D=malware")
  if [ "$(tail -n 1 <<<"$out")" != 200 ] || ! grep -q '"type": *"malware"' <<<"$out"; then
    fail "check: node B does not serve the demo bundle's malware: $(head -c 300 <<<"$out")"
  fi
  echo "check: the demo data through node B: 200"
  local name url
  for name in node-a node-b; do
    if [ $name = node-a ]; then url=$URL_A; else url=$URL_B; fi
    out=$(http $name "$url/healthz")
    if [ "$(tail -n 1 <<<"$out")" != 200 ] || [ "$(head -c 2 <<<"$out")" != ok ]; then
      fail "check: $url/healthz: $out"
    fi
    echo "check: $url/healthz: 200 ok"
  done
}

# After stop_all: no node, no PostgreSQL, no directory left.
check_stopped() {
  local pid datadir
  datadir=$(cat "$PG_STATE/datadir" 2>/dev/null || true)
  stop_all
  for pid in "$PID_A" "$PID_B" "$PG_PID"; do
    if alive "$pid"; then fail "check: process $pid still runs after the stop"; fi
  done
  [ ! -e "$RUN" ] || fail "check: $RUN still exists"
  [ -z "$datadir" ] || [ ! -e "$datadir" ] || fail "check: PostgreSQL's $datadir still exists"
  echo "check: both nodes and PostgreSQL (pid $PG_PID) stopped, directories deleted"
}

if [ "$CHECK" = 1 ]; then
  self_check
  if [ "$KEEP" = 1 ]; then
    stop_all
  else
    check_stopped
  fi
  echo "cluster check: ok"
  exit 0
fi

echo "== Ctrl-C stops both nodes and PostgreSQL"
echo
# Until a signal (the traps exit, stop_all runs) or until a node exits by itself.
set +e
wait -n "$PID_A" "$PID_B"
rc=$?
set -e
fail "a node exited (status $rc; logs: $RUN/node-a.log, $RUN/node-b.log); stopping the cluster"
