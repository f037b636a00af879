#!/usr/bin/env bash
# Runs the tests of an existing build (scripts/setup.sh builds it).
#   scripts/test.sh          the unit tests (3-5 minutes on 2 cores)
#   scripts/test.sh slow     only the slow checks (a tiny model overfitting ten tasks, README.md's
#                            commands as written and the quick start; ~4 minutes)
#   scripts/test.sh all      both
#   scripts/test.sh sanitize builds the LibTorch-free parts with AddressSanitizer and
#                            UBSan into build-asan/, runs their unit tests, then fuzzes the
#                            parsers for $DECA_FUZZ_SECONDS (default 120) seconds
# Tests on the real data and golden values read $DECA_SHARED (default: ../shared
# when it exists) and skip, saying why, without it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${DECA_SHARED:-}" && -d ../shared ]]; then export DECA_SHARED="$(cd ../shared && pwd)"; fi
BUILD_DIR="${DECA_BUILD_DIR:-build}"
case "${1:-unit}" in
  unit) labels="unit" ;;
  slow) labels="slow" ;;
  all) labels="unit|slow" ;;
  sanitize)
    ASAN_DIR="${DECA_ASAN_BUILD_DIR:-build-asan}"
    cmake -S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDECA_WITH_TORCH=OFF \
      -DDECA_SANITIZE=address,undefined >/dev/null
    cmake --build "$ASAN_DIR" -j "$(nproc)"
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    ctest --test-dir "$ASAN_DIR" -L unit --output-on-failure -j 2
    echo "== fuzzing (${DECA_FUZZ_SECONDS:-120} s, AddressSanitizer + UBSan)"
    "$ASAN_DIR/bin/deca_fuzz" --seconds "${DECA_FUZZ_SECONDS:-120}" --seed "${DECA_FUZZ_SEED:-1}"
    exit 0 ;;
  *) echo "usage: scripts/test.sh [unit|slow|all|sanitize]" >&2; exit 2 ;;
esac
ctest --test-dir "$BUILD_DIR" -L "$labels" --output-on-failure -j 2
