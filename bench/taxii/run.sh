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
set -euo pipefail
build=${1:-build/release}
objects=${2:-${CTIHUB_BENCH_OBJECTS:-1000000}}
bin=$(cd "$build" && pwd)/src/cli/ctihub
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$tmp"' EXIT

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

"$bin" serve --data "$tmp" "${db[@]}" --listen 127.0.0.1:0 >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  port=$(grep -Eo 'listening on https?://127\.0\.0\.1:[0-9]+' "$tmp/server.log" | grep -Eo '[0-9]+$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/server.log"; echo "server did not start" >&2; exit 1; }

python3 "$here/load.py" --port "$port" --token "$token" --root api --collection "$coll" \
  --objects "$objects" --server-pid "$server" --post-connections "${CTIHUB_BENCH_POST_CONNECTIONS:-1}" \
  ${CTIHUB_BENCH_INGEST_ONLY:+--ingest-only}
