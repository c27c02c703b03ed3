# ctihub front door. `make serve` and `make test` work on a fresh Debian 12 machine.
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
DATA ?= ./var
LISTEN ?= 127.0.0.1:8443

.PHONY: all deps configure build test serve bench fuzz-smoke check asan clean format

all: build

deps:
	@scripts/deps.sh

build/release/build.ninja: | deps
	cmake --preset release >/dev/null

configure: build/release/build.ninja

build: deps configure
	cmake --build --preset release -j $(JOBS)

test: build
	ctest --preset release

serve: build
	@scripts/serve.sh build/release/src/cli/ctihub $(DATA) $(LISTEN)

bench: build
	@scripts/bench.sh build/release

asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

fuzz-smoke: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	@scripts/fuzz_smoke.sh build/fuzz/fuzz $(FUZZ_SECONDS)

check: asan fuzz-smoke

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
