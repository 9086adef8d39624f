#!/usr/bin/env bash
# Configures and builds rung into BUILD_DIR (default: build/) with the default options.
#   build.sh [CMAKE_ARGUMENT...] [--target TARGET...]
# The options that decide what is built are given explicitly at their defaults (everything: MPI, LibTorch, the
# Python module when pybind11 is found, the tests and examples), so that a build folder once configured with one
# of them OFF does not keep it from its cache; arguments come after them and override them (-DRUNG_WITH_TORCH=OFF).
# The names after --target are built alone (e.g. --target rung_cli rung_torch), instead of everything.
# Configuring prints only the parts it leaves out ("-- rung: ... not built") besides warnings and errors.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
# cores, not OMP_NUM_THREADS (tools/test.sh sets it to 1, and coreutils' nproc honours it)
jobs=${RUNG_JOBS:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}
cmake_args=() targets=()
while [ $# -gt 0 ]; do
  if [ "$1" = --target ]; then
    shift
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || { echo "build.sh: --target needs at least one target name" >&2; exit 2; }
    break
  fi
  cmake_args+=("$1")
  shift
done
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRUNG_WITH_MPI=ON -DRUNG_WITH_TORCH=ON \
      -DRUNG_WITH_PYTHON=ON -DRUNG_BUILD_TESTS=ON -DRUNG_READERS_ONLY=OFF "${cmake_args[@]}" |
  { grep -E '^-- (rung: |.* not (built|run|tested)\b)' || true; }
if [ ${#targets[@]} -gt 0 ]; then
  cmake --build "$build" -j "$jobs" --target "${targets[@]}"
else
  cmake --build "$build" -j "$jobs"
fi
