#!/usr/bin/env bash
# Configures and builds rung into BUILD_DIR (default: build/) with the default options; arguments go to cmake.
# The options that decide what is built are given explicitly at their defaults (everything: MPI, LibTorch, the
# Python module when pybind11 is found, the tests and examples), so that a build folder once configured with one
# of them OFF does not keep it from its cache; arguments come after them and override them (-DRUNG_WITH_TORCH=OFF).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${RUNG_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRUNG_WITH_MPI=ON -DRUNG_WITH_TORCH=ON \
      -DRUNG_WITH_PYTHON=ON -DRUNG_BUILD_TESTS=ON -DRUNG_READERS_ONLY=OFF "$@" >/dev/null
cmake --build "$build" -j "$jobs"
