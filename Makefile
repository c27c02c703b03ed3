# ctihub front door. `make serve` and `make test` work on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
DATA ?= ./var
LISTEN ?= 127.0.0.1:8443
# `make cluster`: the two nodes' ports on 127.0.0.1 (beside `make serve`'s 8443); KEEP=1
# keeps the temporary directory (data, logs, the stopped PostgreSQL's files); TLS=1 serves
# HTTPS, each node with its own self-signed certificate.
CLUSTER_PORTS ?= 8444 8445
KEEP ?= 0
TLS ?= 0
PREFIX ?= /usr/local
# CI (.ci/run sets CTIHUB_CI=1) compiles with warnings as errors; local builds warn only, so
# a warning never stops work in progress (`cmake --preset release -DCTIHUB_WERROR=ON` to check
# like CI).
WERROR ?= $(if $(CTIHUB_CI),ON,OFF)

.PHONY: all deps configure build install test serve cluster bench fuzz-smoke check asan asan-build clean format lint lint-all

all: build

deps:
	@scripts/deps.sh

build/release/build.ninja: | deps
	cmake --preset release -DCTIHUB_WERROR=$(WERROR) >/dev/null

configure: build/release/build.ninja

build: deps configure
	cmake --build --preset release -j $(JOBS)

# Installs the ctihub binary into $(PREFIX)/bin (cmake --install; DESTDIR is honoured).
install: build
	cmake --install build/release --prefix $(PREFIX)

test: build
	ctest --preset release

serve: build
	@scripts/serve.sh build/release/src/cli/ctihub $(DATA) $(LISTEN)

# A throwaway PostgreSQL and two nodes over it with the demo data; Ctrl-C stops it all
# (exec: a SIGTERM make forwards reaches the script, not a shell in between).
cluster: build
	@KEEP=$(KEEP) CLUSTER_TLS=$(TLS) exec scripts/cluster.sh build/release/src/cli/ctihub $(CLUSTER_PORTS)

bench: build
	@scripts/bench.sh build/release

asan: asan-build
	ctest --preset asan

asan-build: deps
	cmake --preset asan -DCTIHUB_WERROR=$(WERROR) >/dev/null
	cmake --build --preset asan -j $(JOBS)

# The asan preset also links the libFuzzer targets: one sanitizer build serves both.
fuzz-smoke: asan-build
	@scripts/fuzz_smoke.sh build/asan/fuzz $(FUZZ_SECONDS)

check: asan fuzz-smoke

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

# clang-format --dry-run --Werror over the sources, clang-tidy over the files changed since
# the last tag (else BASE, default HEAD~20). `make lint BASE=main~5`.
lint: configure
	@scripts/lint.sh $(BASE)

# clang-tidy over every .cc file under src/ (2 at a time, TIDY_JOBS; within TIDY_BUDGET seconds).
lint-all: configure
	@scripts/lint.sh --all

clean:
	rm -rf build
