#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (needs clang; Debian: clang, libclang-rt-dev):
# builds build-fuzz/ with AddressSanitizer and UBSan and runs every target for
# SECONDS (default 30), starting from the seeds deca_fuzz writes. Prints one line
# per target; crashing inputs are kept in fuzz-out/<target>/.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDECA_WITH_TORCH=OFF \
  -DDECA_SANITIZE=address,undefined -DDECA_LIBFUZZER=ON >/dev/null
cmake --build build-fuzz --target deca_fuzz deca_libfuzzer
out="fuzz-out"
rm -rf "$out"
build-fuzz/bin/deca_fuzz --write-seeds "$out/seeds"
printf '%-60s %10s %8s %6s %8s\n' target runs exec/s cov crashes
failed=0
for dir in "$out"/seeds/*/; do
  target=$(basename "$dir")
  mkdir -p "$out/$target/corpus"
  cp "$dir"/* "$out/$target/corpus/"
  set +e
  DECA_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=0 build-fuzz/bin/deca_libfuzzer "$out/$target/corpus" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=20000 -print_final_stats=1 \
    -artifact_prefix="$out/$target/" >"$out/$target/log.txt" 2>&1
  rc=$?
  set -e
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$out/$target/log.txt")
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$out/$target/log.txt")
  cov=$(grep -oE 'cov: [0-9]+' "$out/$target/log.txt" | tail -1 | awk '{print $2}')
  crashes=$(find "$out/$target" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' | wc -l)
  printf '%-60s %10s %8s %6s %8s\n' "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$crashes"
  if [[ $rc -ne 0 || $crashes -ne 0 ]]; then failed=1; fi
done
exit $failed
