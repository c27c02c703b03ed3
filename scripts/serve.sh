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
BUNDLE="$ROOT_DIR/demo/bundle.json"

if [ ! -x "$BIN" ]; then
  echo "serve.sh: $BIN is not built (run make build)" >&2
  exit 2
fi

gen_password() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }

scheme=http
case " ${CTIHUB_SERVE_FLAGS:-} " in *" --tls-cert "*) scheme=https ;; esac
url="$scheme://$LISTEN"
col_id=""

if [ ! -f "$DATA/ctihub.db" ]; then
  echo "== first run: setting up a demo hub in $DATA"
  cleanup() { echo "serve.sh: demo setup failed; removing the half-made database" >&2; rm -f "$DATA"/ctihub.db "$DATA"/ctihub.db-wal "$DATA"/ctihub.db-shm; }
  trap cleanup ERR
  identity=$(python3 -c 'import json,sys; print(next(o["id"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"]=="identity"))' "$BUNDLE" 2>/dev/null || true)
  "$BIN" init --data "$DATA" >/dev/null
  "$BIN" api-root add api1 --title "ctihub demo API root" --description "Demo data for make serve" --data "$DATA" >/dev/null
  if [ -n "$identity" ]; then
    "$BIN" org add demo-cert --identity-id "$identity" --data "$DATA" >/dev/null
  else
    "$BIN" org add demo-cert --data "$DATA" >/dev/null
  fi
  admin_pw=$(gen_password)
  analyst_pw=$(gen_password)
  printf '%s\n' "$admin_pw" | "$BIN" user add admin --org demo-cert --role admin --password-stdin --data "$DATA" >/dev/null
  printf '%s\n' "$analyst_pw" | "$BIN" user add analyst --org demo-cert --role publisher --password-stdin --data "$DATA" >/dev/null
  col_id=$("$BIN" collection add --root api1 --title "Demo intelligence" --alias demo-intel \
      --description "FIN-EXAMPLE / ExampleLoader demo bundle" --readers demo-cert --writers demo-cert --data "$DATA")
  inbox_id=$("$BIN" collection add --root api1 --title "Partner inbox" --alias partner-inbox \
      --description "Write-only drop box for partners" --readers demo-cert --writers '*' --data "$DATA")
  "$BIN" import --data "$DATA" --root api1 --collection "$col_id" --org demo-cert "$BUNDLE"
  trap - ERR
  cat <<MSG

== demo users (passwords are shown only this once; they are not stored in clear anywhere)
   admin    $admin_pw
   analyst  $analyst_pw
== collections in API root api1
   demo-intel     $col_id
   partner-inbox  $inbox_id

MSG
  curl_user="analyst:$analyst_pw"
else
  curl_user="analyst:PASSWORD"
  col_id=$("$BIN" collection list --root api1 --data "$DATA" 2>/dev/null | awk '/demo-intel/ {print $1; exit}' || true)
fi
[ -n "$col_id" ] || col_id="COLLECTION_ID"

cat <<MSG
== TAXII discovery: $url/taxii2/
== try:
   curl -sg -u '$curl_user' -H 'Accept: application/taxii+json;version=2.1' $url/taxii2/
   curl -sg -u '$curl_user' -H 'Accept: application/taxii+json;version=2.1' '$url/api1/collections/$col_id/objects/?match[type]=indicator&limit=10'
== health: $url/healthz   metrics (admin or auditor): curl -s -u 'admin:PASSWORD' $url/metrics
== Ctrl-C stops the server gracefully

MSG
# shellcheck disable=SC2086
exec "$BIN" serve --data "$DATA" --listen "$LISTEN" ${CTIHUB_SERVE_FLAGS:-}
