#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the PostgreSQL store.
#
#   scripts/pg_test_cluster.sh start STATE_DIR   initdb + start; writes STATE_DIR/url
#   scripts/pg_test_cluster.sh stop STATE_DIR    stop it and delete its files (idempotent)
#   scripts/pg_test_cluster.sh server-stop|server-start STATE_DIR
#                                                 stop / start the server, keeping its data
#                                                 (fault tests: the database goes away)
#
# The cluster lives in a fresh directory under ${TMPDIR:-/tmp} (its path is kept in
# STATE_DIR/datadir) and listens only on a unix socket in that directory: no TCP port,
# nothing to collide with. PostgreSQL refuses to run as root, so under root initdb and
# pg_ctl run as the `postgres` user (runuser). Authentication is `trust` (only the owner
# of the socket's directory, and root, can reach it). fsync is off: the cluster is
# deleted after the tests (commits are still synchronous_commit=on);
# PG_TEST_CLUSTER_DURABLE=1 keeps fsync on (benchmarks: bench/taxii with CTIHUB_BENCH_DB).
# CTest runs `start` as the FIXTURES_SETUP of the PostgreSQL tests and `stop` as their
# FIXTURES_CLEANUP, so the cluster is stopped even when tests fail.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|server-stop|server-start STATE_DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
state=$2

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ]; then
      echo "$dir"
      return 0
    fi
  done
  echo "pg_test_cluster: initdb not found (install postgresql-15: make deps)" >&2
  return 1
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_cluster() {
  [ -f "$state/datadir" ] || return 0
  local base
  base=$(cat "$state/datadir")
  if [ -d "$base/data" ]; then
    local bin
    bin=$(pg_bin)
    as_owner "$bin/pg_ctl" -D "$base/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  case "$base" in
    */ctihub-pg.*) rm -rf "$base" ;;
  esac
  rm -f "$state/datadir" "$state/url"
}

server_options() {
  local base=$1 durability="-c fsync=off -c full_page_writes=off"
  # Benchmarks measure durable commits: PG_TEST_CLUSTER_DURABLE=1 keeps PostgreSQL's defaults.
  if [ "${PG_TEST_CLUSTER_DURABLE:-0}" = 1 ]; then durability=""; fi
  # PG_TEST_CLUSTER_OPTIONS: more server options (benchmarks: docs/SCALING.md), after ours.
  echo "-c listen_addresses='' -c unix_socket_directories='$base' $durability \
        -c max_connections=200 -c shared_buffers=128MB ${PG_TEST_CLUSTER_OPTIONS:-}"
}

server_ctl() {
  local action=$1 base bin
  base=$(cat "$state/datadir")
  bin=$(pg_bin)
  if [ "$action" = stop ]; then
    as_owner "$bin/pg_ctl" -D "$base/data" -m fast -w -t 30 stop >/dev/null
  else
    as_owner "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
      -o "$(server_options "$base")" start >/dev/null
  fi
}

start_cluster() {
  mkdir -p "$state"
  stop_cluster # a cluster left by an interrupted run
  local bin base
  bin=$(pg_bin)
  base=$(mktemp -d "${TMPDIR:-/tmp}/ctihub-pg.XXXXXX")
  echo "$base" >"$state/datadir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$base"; fi
  chmod 700 "$base"
  if ! as_owner "$bin/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 --locale=C \
    --no-sync >"$base/initdb.log" 2>&1; then
    cat "$base/initdb.log" >&2
    echo "pg_test_cluster: initdb failed" >&2
    return 1
  fi
  if ! as_owner "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 \
    -o "$(server_options "$base")" start >/dev/null; then
    cat "$base/server.log" >&2 || true
    echo "pg_test_cluster: the server did not start" >&2
    return 1
  fi
  echo "postgresql:///postgres?host=$base&user=postgres" >"$state/url"
  echo "pg_test_cluster: running, url in $state/url"
}

case "$cmd" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  server-stop) server_ctl stop ;;
  server-start) server_ctl start ;;
  *) usage ;;
esac
