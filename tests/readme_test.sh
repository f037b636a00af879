#!/usr/bin/env bash
# README.md's commands, run as written: every ```sh block in order (variables
# carry from one block to the next), then scripts/quickstart.sh, the first of
# "the two commands". A block right after a line
# "<!-- readme-test: skip (why) -->" is not run; every other sh block is.
#   tests/readme_test.sh [BUILD_DIR]     (default: build)
# They run in a scratch folder that links the checkout's build/, configs/,
# data/ and scripts/, so that what they write stays out of the checkout, with
# /usr/bin first on PATH: the README is for a fresh Debian 12 machine, whose
# python3 is Debian's; and with one thread per process (OMP_NUM_THREADS=1),
# as ctest runs two tests at once on CI's two cores. The first command that fails stops the test, naming its
# README line.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
build=$(cd "${1:-build}" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for d in configs data scripts; do ln -s "$src/$d" "$scratch/$d"; done
ln -s "$build" "$scratch/build"

# The script keeps each command on its README line, so that bash's LINENO is
# the README's line number; every other line is left empty.
python3 - "$src/README.md" "$scratch/readme.sh" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
out = [''] * len(lines)
inside = skip = False
blocks = 0
for i, line in enumerate(lines):
    if not inside and line.startswith('```'):
        inside, skip = True, line.strip() != '```sh' or (i > 0 and lines[i - 1].startswith('<!-- readme-test: skip'))
        blocks += 0 if skip else 1
    elif inside and line.startswith('```'):
        inside = False
    elif inside and not skip:
        out[i] = line
if inside:
    sys.exit('README.md: a code block is not closed')
if blocks == 0:
    sys.exit('README.md: no sh block to run')
out[0] = ('set -eEuo pipefail; trap \'echo "readme_test: README.md:$LINENO failed (exit $?)" >&2\' ERR; '
          'export PATH="/usr/bin:$PATH"')
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(out) + '\n')
print(f'readme_test: {blocks} blocks of README.md')
PY
cd "$scratch"
export OMP_NUM_THREADS=1
bash readme.sh
echo "readme_test: every command ran; now scripts/quickstart.sh"
PATH="/usr/bin:$PATH" scripts/quickstart.sh >quickstart.log 2>&1 || { tail -n 30 quickstart.log; echo "readme_test: scripts/quickstart.sh failed" >&2; exit 1; }
echo "readme_test: done"
