#!/usr/bin/env bash
# Installs deca's build dependencies from Debian's packages (idempotent; as root
# or through sudo), selects the OpenMP OpenBLAS for LibTorch, and builds.
#   scripts/setup.sh              install + build into build/ (and TensorBoard for a test into build/py)
#   DECA_NO_INSTALL=1 scripts/setup.sh   build only
#   DECA_BUILD_DIR=dir DECA_CMAKE_ARGS="-DDECA_WITH_TORCH=OFF" scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config ccache
          libtorch-dev libgloo-dev libsentencepiece-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libgtest-dev
          libopenblas0-openmp libtcmalloc-minimal4 python3 python3-matplotlib python3-venv clang-format)

if [[ "${DECA_NO_INSTALL:-0}" != 1 ]]; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian's libtorch calls libblas.so.3; without OpenBLAS that is the reference
  # BLAS (~30x slower). The OpenMP build, because the pthread one oversubscribes
  # the cores together with torch's own threads (ENVIRONMENT.md §2).
  arch_dir=/usr/lib/x86_64-linux-gnu
  for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    target="$arch_dir/openblas-openmp/$lib"
    if [[ -e "$target" ]] && update-alternatives --list "$lib-x86_64-linux-gnu" >/dev/null 2>&1; then
      $SUDO update-alternatives --set "$lib-x86_64-linux-gnu" "$target" >/dev/null
    fi
  done
fi

BUILD_DIR="${DECA_BUILD_DIR:-build}"
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${DECA_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
echo "setup: built into $BUILD_DIR/bin"
# The tests' Python, with TensorBoard's own reader for the test that reads deca's
# event files back (tests/tensorboard_reader_test.py; from PyPI, not in Debian).
if [[ "${DECA_NO_INSTALL:-0}" != 1 && ! -x "$BUILD_DIR/py/bin/tensorboard" ]]; then
  if /usr/bin/python3 -m venv "$BUILD_DIR/py" && "$BUILD_DIR/py/bin/pip" install -q tensorboard; then
    echo "setup: TensorBoard for the tests in $BUILD_DIR/py"
  else
    echo "setup: could not install TensorBoard from PyPI; the test that reads event files with it will be skipped"
  fi
fi
