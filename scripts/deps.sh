#!/usr/bin/env bash
# Installs exactly the Debian 12 packages ctihub needs to build, test, benchmark and fuzz,
# and only those that are missing, then the web console's npm packages (npm ci) when they are
# missing or older than webui/package-lock.json. Safe to rerun.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-14 libclang-rt-14-dev            # asan preset and libFuzzer
  clang-format clang-tidy                # make lint: format gate in CI, clang-tidy on changed files
  libboost1.81-dev libboost-json1.81-dev # Beast/Asio HTTP server
  libsimdjson-dev                        # JSON parsing on hot paths
  libsqlite3-dev sqlite3                 # embedded store
  libpq-dev postgresql-15                # PostgreSQL store; its tests run a throwaway cluster
  libssl-dev                             # hashing, TLS, CSPRNG
  libsodium-dev                          # Argon2id password hashing, Ed25519
  libpcre2-dev                           # MATCHES in STIX patterns
  libhyperscan-dev                       # ctihub match: LIKE/MATCHES indicators (multi-pattern prefilter)
  libicu-dev                             # NFC normalisation for LIKE/MATCHES
  libpsl-dev publicsuffix                # domain names in free-text import (Public Suffix List)
  zlib1g-dev                             # .gz input of ctihub import
  bind9-utils                            # named-checkzone: tests check the RPZ export is a valid zone
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  curl wrk python3                       # make serve example, bench/taxii load, e2e tests
  valgrind                               # bench/match/instructions.sh: instruction counts, steady on a shared machine
  chromium fonts-liberation fonts-dejavu-core  # e2e.ui: the console in a real (headless) browser
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web console (webui/) is built with Node 20 and npm, which are not taken from Debian
# (Debian 12's nodejs is 18, too old for the pinned Vite). Its packages come from the committed
# package-lock.json through `npm ci`, rerun only when the lock is newer than the installed tree.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "deps: node and npm are required to build the web console (webui/): install Node.js 20" \
       "or newer with npm, or configure with -DCTIHUB_UI=OFF to build without the console" >&2
  exit 1
fi
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" -lt 20 ]; then
  echo "deps: node $(node --version) is too old for webui/ (it needs Node 20 or newer)" >&2
  exit 1
fi
STAMP="$ROOT/webui/node_modules/.package-lock.json"
if [ ! -f "$STAMP" ] || [ "$ROOT/webui/package-lock.json" -nt "$STAMP" ]; then
  echo "deps: npm ci in webui/"
  (cd "$ROOT/webui" && npm ci --no-audit --no-fund --loglevel=error)
else
  echo "deps: webui/node_modules is up to date"
fi
