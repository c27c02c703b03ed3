# ctihub front door. `make serve` and `make test` work on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
DATA ?= ./var
LISTEN ?= 127.0.0.1:8443
PREFIX ?= /usr/local
# CI (.ci/run sets CTIHUB_CI=1) compiles with warnings as errors; local builds warn only, so
# a warning never stops work in progress (`cmake --preset release -DCTIHUB_WERROR=ON` to check
# like CI).
WERROR ?= $(if $(CTIHUB_CI),ON,OFF)

.PHONY: all deps configure build install test serve bench fuzz-smoke check asan asan-build clean format lint lint-all

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
