#!/usr/bin/env bash
# Usage: scripts/serve.sh BIN DATA LISTEN
# Starts the TAXII server in the foreground. On the first run (no DATA/ctihub.db)
# it sets up a demo hub first: database, API root "api1", two collections, an
# organisation, an admin and an analyst user with random passwords (printed
# ONCE) and the demo STIX bundle (demo/bundle.json) in the "demo-intel" collection.
# Extra serve flags: CTIHUB_SERVE_FLAGS="--insecure-http --threads 4" scripts/serve.sh ...
set -euo pipefail

BIN=${1:?usage: serve.sh BIN DATA LISTEN}
DATA=${2:?usage: serve.sh BIN DATA LISTEN}
LISTEN=${3:-127.0.0.1:8443}
ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -x "$BIN" ]; then
  echo "serve.sh: $BIN is not built (run make build)" >&2
  exit 2
fi

# shellcheck source=scripts/demo_hub.sh
. "$ROOT_DIR/scripts/demo_hub.sh"

scheme=http
case " ${CTIHUB_SERVE_FLAGS:-} " in *" --tls-cert "*) scheme=https ;; esac
url="$scheme://$LISTEN"

if [ ! -f "$DATA/ctihub.db" ]; then
  echo "== first run: setting up a demo hub in $DATA"
  cleanup() { echo "serve.sh: demo setup failed; removing the half-made database" >&2; rm -f "$DATA"/ctihub.db "$DATA"/ctihub.db-wal "$DATA"/ctihub.db-shm; }
  trap cleanup EXIT # set -e ends the script at a failing step, inside demo_setup too
  demo_setup "$BIN" "$DATA"
  demo_import "$BIN" "$DATA"
  trap - EXIT
  demo_print_users
  curl_user="analyst:$DEMO_ANALYST_PW"
  col_id=$DEMO_COL_ID
else
  curl_user="analyst:PASSWORD"
  col_id=$("$BIN" collection list --root api1 --data "$DATA" 2>/dev/null | awk '/demo-intel/ {print $1; exit}' || true)
fi
[ -n "$col_id" ] || col_id="COLLECTION_ID"

demo_print_try "$url" "$curl_user" "$col_id"
printf '%s\n\n' "== Ctrl-C stops the server gracefully"
# shellcheck disable=SC2086
exec "$BIN" serve --data "$DATA" --listen "$LISTEN" ${CTIHUB_SERVE_FLAGS:-}
