#!/usr/bin/env bash
# bench/taxii: whole-server load on 127.0.0.1 (issue 4 speed targets).
# Usage: bench/taxii/run.sh BUILD_DIR [OBJECTS]   (default 1,000,000 indicators)
# Starts a fresh hub in a temp dir, ingests OBJECTS indicators in envelopes of 1,000,
# pages through everything, measures filtered GETs, runs wrk with 64 connections,
# and reports server RSS. Every loop is bounded; the server is stopped at the end.
# CTIHUB_BENCH_POST_CONNECTIONS=N POSTs over N connections at once (default 1).
# CTIHUB_BENCH_INGEST_ONLY=1 stops after the ingest figure.
# CTIHUB_BENCH_DB=postgresql://... runs the hub on that PostgreSQL database (--db; its
# public schema is emptied first) instead of the SQLite file in the temp dir.
# CTIHUB_BENCH_NODES=N (with CTIHUB_BENCH_DB) starts N nodes over that database, each with
# its own --data: POSTs go to the nodes in turn (one connection per node at least), status
# polls, pages and GETs ask the nodes in turn, wrk loads all of them at once.
# CTIHUB_BENCH_POSTMASTER_PID=PID reports PostgreSQL's CPU per object too.
set -euo pipefail
build=${1:-build/release}
objects=${2:-${CTIHUB_BENCH_OBJECTS:-1000000}}
bin=$(cd "$build" && pwd)/src/cli/ctihub
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
servers=()
trap 'for s in ${servers[@]+"${servers[@]}"}; do kill $s 2>/dev/null || true; wait $s 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
nodes=${CTIHUB_BENCH_NODES:-1}
if [ "$nodes" -gt 1 ] && [ -z "${CTIHUB_BENCH_DB:-}" ]; then
  echo "CTIHUB_BENCH_NODES=$nodes needs CTIHUB_BENCH_DB (nodes share one PostgreSQL database)" >&2
  exit 2
fi

db=()
if [ -n "${CTIHUB_BENCH_DB:-}" ]; then
  psql "$CTIHUB_BENCH_DB" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null
  db=(--db "$CTIHUB_BENCH_DB")
fi
"$bin" init --data "$tmp" "${db[@]}" >/dev/null
"$bin" org add bench --data "$tmp" "${db[@]}" >/dev/null
printf 'bench-password-123' | "$bin" user add bench --org bench --role admin --password-stdin --data "$tmp" "${db[@]}" >/dev/null
"$bin" api-root add api --title "Bench root" --data "$tmp" "${db[@]}" >/dev/null
coll=$("$bin" collection add --root api --title bench --readers bench --writers bench --data "$tmp" "${db[@]}" | grep -Eo '[0-9a-f]{8}-[0-9a-f-]{27}' | head -1)
token=$("$bin" token create --user bench --data "$tmp" "${db[@]}" | grep -Eo 'cth_[A-Za-z0-9_-]+' | head -1)

start_node() { # DATA_DIR: starts a node, appends its pid and port to servers/ports
  local data=$1 port=""
  "$bin" serve --data "$data" "${db[@]}" --listen 127.0.0.1:0 >"$data/server.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 100); do
    port=$(grep -Eo 'listening on https?://127\.0\.0\.1:[0-9]+' "$data/server.log" | grep -Eo '[0-9]+$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$data/server.log"; echo "server did not start" >&2; exit 1; }
  ports+=("$port")
}
ports=()
start_node "$tmp"
for i in $(seq 2 "$nodes"); do
  mkdir -p "$tmp/node$i"
  "$bin" init --data "$tmp/node$i" "${db[@]}" >/dev/null
  start_node "$tmp/node$i"
done

args=()
for i in "${!servers[@]}"; do args+=(--port "${ports[$i]}" --server-pid "${servers[$i]}"); done
conns=${CTIHUB_BENCH_POST_CONNECTIONS:-1}
[ "$conns" -ge "$nodes" ] || conns=$nodes
python3 "$here/load.py" "${args[@]}" --token "$token" --root api --collection "$coll" \
  --objects "$objects" --post-connections "$conns" \
  ${CTIHUB_BENCH_POSTMASTER_PID:+--postmaster-pid "$CTIHUB_BENCH_POSTMASTER_PID"} \
  ${CTIHUB_BENCH_INGEST_ONLY:+--ingest-only}
