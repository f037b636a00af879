#!/usr/bin/env bash
# Installs a deca build into a temporary prefix, then builds and runs a small
# project against it with find_package(deca).   check.sh BUILD_DIR [PREFIX_PATH]
set -euo pipefail
build="$1"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/deca/eval/report.h"
cmake -S "$here" -B "$work/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix;${2:-}" >/dev/null
cmake --build "$work/consumer" >/dev/null
out="$("$work/consumer/deca_consumer")"
echo "$out"
test "$out" = "em 50"
