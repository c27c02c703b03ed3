#!/usr/bin/env bash
# Proves the clang-tidy gate can fail: the repo's .clang-tidy, run the way scripts/lint.sh
# runs it (--warnings-as-errors='*'), must reject tests/lint/tidy_bad.cc and accept
# tests/lint/tidy_clean.cc. Both fixtures include only the standard library (no compile
# database needed). Exit 0 when both hold, 1 otherwise, 77 (skip) without clang-tidy.
set -uo pipefail
cd "$(dirname "$0")/.."
tidy="$(command -v clang-tidy-14 || command -v clang-tidy || true)"
[[ -n "$tidy" ]] || { echo "lint_selftest: clang-tidy not found" >&2; exit 77; }
run() { "$tidy" --quiet --warnings-as-errors='*' "$1" -- -std=c++20 2>&1; }
out="$(run tests/lint/tidy_bad.cc)"; rc=$?
if (( rc == 0 )) || ! grep -q 'modernize-use-nullptr' <<<"$out"; then
  echo "lint_selftest: tidy_bad.cc passed clang-tidy (rc=$rc); the gate cannot fail" >&2
  echo "$out" >&2
  exit 1
fi
out="$(run tests/lint/tidy_clean.cc)"; rc=$?
if (( rc != 0 )); then
  echo "lint_selftest: tidy_clean.cc failed clang-tidy (rc=$rc)" >&2
  echo "$out" >&2
  exit 1
fi
echo "lint_selftest: ok (bad fixture rejected, clean fixture accepted)"
