#!/usr/bin/env bash
# deca's C++ sources in .clang-format's style (Debian's clang-format, installed
# by scripts/setup.sh).
#   scripts/format.sh           reformat every tracked .cpp and .h in place
#   scripts/format.sh --check   list the files that differ from the style; exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."
FORMAT=${CLANG_FORMAT:-clang-format}
command -v "$FORMAT" >/dev/null || { echo "format: no $FORMAT (Debian: apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [[ "${1:-}" == --check ]]; then
  bad=()
  for f in "${files[@]}"; do
    "$FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    printf 'format: not in the style of .clang-format (run scripts/format.sh):\n' >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files in style ($("$FORMAT" --version | head -1))"
else
  "$FORMAT" -i "${files[@]}"
fi
