#!/usr/bin/env bash
# Runs the test suite of an existing build (scripts/setup.sh builds it).
#   scripts/test.sh          unit tests (fast, every commit)
#   scripts/test.sh slow     the slow tests too (model training checks)
# Tests on real data and golden values read $DECA_SHARED (default: ../shared if it exists).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${DECA_SHARED:-}" && -d ../shared ]]; then export DECA_SHARED="$(cd ../shared && pwd)"; fi
BUILD_DIR="${DECA_BUILD_DIR:-build}"
labels="unit"
if [[ "${1:-}" == "slow" ]]; then labels="unit|slow"; fi
ctest --test-dir "$BUILD_DIR" -L "$labels" --output-on-failure -j 2
