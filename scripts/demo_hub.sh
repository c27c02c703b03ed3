# shellcheck shell=bash
# The demo hub of `make serve` and `make cluster`: sourced by scripts/serve.sh and
# scripts/cluster.sh (not run on its own).
#
#   demo_setup BIN DATA [DB_URL]
#       Sets up a demo hub in the data directory DATA (and in the PostgreSQL database DB_URL
#       when given, else DATA/ctihub.db): API root "api1", the organisation demo-cert (the
#       identity of demo/bundle.json), an admin and an analyst (publisher) user with random
#       passwords, the collections demo-intel (readers and writers demo-cert) and
#       partner-inbox (write-only for everyone). Sets DEMO_ADMIN_PW, DEMO_ANALYST_PW,
#       DEMO_COL_ID and DEMO_INBOX_ID. A failing step fails the caller (set -e); the caller
#       removes what was half made.
#   demo_import BIN DATA [DB_URL]
#       Imports the demo STIX bundle (demo/bundle.json) into demo-intel (after demo_setup).
#   demo_print_users
#       Prints the users' passwords (shown only this once) and the collections.
#   demo_print_try URL USER:PASSWORD COLLECTION_ID [CURL_OPTIONS]
#       Prints the discovery URL, curl examples, /healthz and /metrics of the node at URL;
#       CURL_OPTIONS (e.g. "--cacert FILE") go into each curl command.

DEMO_BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/demo/bundle.json"

demo_password() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }

demo_setup() {
  local bin=$1 data=$2 db=${3:-}
  local -a at=(--data "$data")
  if [ -n "$db" ]; then at+=(--db "$db"); fi
  local identity
  identity=$(python3 -c 'import json,sys; print(next(o["id"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"]=="identity"))' "$DEMO_BUNDLE" 2>/dev/null || true)
  "$bin" init "${at[@]}" >/dev/null
  "$bin" api-root add api1 --title "ctihub demo API root" --description "Demo data for make serve" "${at[@]}" >/dev/null
  if [ -n "$identity" ]; then
    "$bin" org add demo-cert --identity-id "$identity" "${at[@]}" >/dev/null
  else
    "$bin" org add demo-cert "${at[@]}" >/dev/null
  fi
  DEMO_ADMIN_PW=$(demo_password)
  DEMO_ANALYST_PW=$(demo_password)
  printf '%s\n' "$DEMO_ADMIN_PW" | "$bin" user add admin --org demo-cert --role admin --password-stdin "${at[@]}" >/dev/null
  printf '%s\n' "$DEMO_ANALYST_PW" | "$bin" user add analyst --org demo-cert --role publisher --password-stdin "${at[@]}" >/dev/null
  DEMO_COL_ID=$("$bin" collection add --root api1 --title "Demo intelligence" --alias demo-intel \
      --description "FIN-EXAMPLE / ExampleLoader demo bundle" --readers demo-cert --writers demo-cert "${at[@]}")
  DEMO_INBOX_ID=$("$bin" collection add --root api1 --title "Partner inbox" --alias partner-inbox \
      --description "Write-only drop box for partners" --readers demo-cert --writers '*' "${at[@]}")
}

demo_import() {
  local bin=$1 data=$2 db=${3:-}
  local -a at=(--data "$data")
  if [ -n "$db" ]; then at+=(--db "$db"); fi
  "$bin" import "${at[@]}" --root api1 --collection "$DEMO_COL_ID" --org demo-cert "$DEMO_BUNDLE"
}

demo_print_users() {
  cat <<MSG

== demo users (passwords are shown only this once; they are not stored in clear anywhere)
   admin    $DEMO_ADMIN_PW
   analyst  $DEMO_ANALYST_PW
== collections in API root api1
   demo-intel     $DEMO_COL_ID
   partner-inbox  $DEMO_INBOX_ID

MSG
}

demo_print_try() {
  local url=$1 user=$2 col=$3 curl="curl${4:+ $4}"
  cat <<MSG
== TAXII discovery: $url/taxii2/
== try:
   $curl -sg -u '$user' -H 'Accept: application/taxii+json;version=2.1' $url/taxii2/
   $curl -sg -u '$user' -H 'Accept: application/taxii+json;version=2.1' '$url/api1/collections/$col/objects/?match[type]=indicator&limit=10'
== health: $url/healthz   metrics (admin or auditor): $curl -s -u 'admin:PASSWORD' $url/metrics
MSG
}
