#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run the whole test suite (ctest, with the
# MPI tests on 2 ranks), then the reader tests again under AddressSanitizer + UBSan.
# BUILD_DIR: the build folder (default: build/), as for tools/build.sh; the sanitizer build goes to build-asan/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export BUILD_DIR=$build
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
"$root/tools/setup-debian.sh"
t0=$SECONDS
"$root/tools/build.sh"
echo "== build: $((SECONDS - t0)) s"
t1=$SECONDS
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 1500)
echo "== tests: $((SECONDS - t1)) s"
if [ "${RUNG_SKIP_SANITIZERS:-0}" != 1 ]; then
  t2=$SECONDS
  # LibTorch and MPI are off here (Open MPI's own allocations would drown LeakSanitizer). The sanitizers watch the
  # readers, the HDF5 layer and the core: only those layers and their tests are built (RUNG_READERS_ONLY), their
  # cases that run the `rung` command are left out, and the pw.x fixture runs of the first build are reused.
  cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DRUNG_SANITIZE=ON -DRUNG_WITH_TORCH=OFF \
        -DRUNG_WITH_MPI=OFF -DRUNG_READERS_ONLY=ON -DRUNG_WITH_PYTHON=OFF -DRUNG_QE_RUNS_DIR="$build/qe_runs" >/dev/null
  cmake --build "$root/build-asan" -j "${RUNG_JOBS:-$(nproc)}"
  (cd "$root/build-asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$(nproc)" -L "readers|core" -LE cli --timeout 1500)
  echo "== sanitizer tests: $((SECONDS - t2)) s"
fi
