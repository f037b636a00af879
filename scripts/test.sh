#!/usr/bin/env bash
# Runs the tests of an existing build (scripts/setup.sh builds it).
#   scripts/test.sh          the unit tests (about a minute)
#   scripts/test.sh slow     only the slow checks (a tiny model overfitting ten tasks, ~2 minutes)
#   scripts/test.sh all      both
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
  *) echo "usage: scripts/test.sh [unit|slow|all]" >&2; exit 2 ;;
esac
ctest --test-dir "$BUILD_DIR" -L "$labels" --output-on-failure -j 2
