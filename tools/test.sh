#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, and run the whole test suite (ctest, with the
# MPI tests on 2 ranks), then the reader tests again under AddressSanitizer + UBSan.
# BUILD_DIR: the build folder (default: build/), as for tools/build.sh; ASAN_BUILD_DIR: the sanitizer build's
# (default: the build folder's name with -asan appended, build-asan/ beside build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
asan=${ASAN_BUILD_DIR:-${build%/}-asan}
case $asan in /*) ;; *) asan=$PWD/$asan ;; esac
export BUILD_DIR=$build
# The cores, counted before OMP_NUM_THREADS=1 is exported: coreutils' nproc honours OMP_NUM_THREADS.
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
"$root/tools/setup-debian.sh"
t0=$SECONDS
"$root/tools/build.sh"
echo "== build: $((SECONDS - t0)) s"
t1=$SECONDS
# --no-tests=error: a selection that matches no test fails instead of passing with nothing run.
(cd "$build" && ctest --output-on-failure --no-tests=error -j "$cores" --timeout 600)
echo "== tests: $((SECONDS - t1)) s"
if [ "${RUNG_SKIP_SANITIZERS:-0}" != 1 ]; then
  t2=$SECONDS
  # LibTorch and MPI are off here (Open MPI's own allocations would drown LeakSanitizer). The sanitizers watch the
  # readers, the HDF5 layer and the core: only those layers and their tests are built (RUNG_READERS_ONLY), their
  # cases that run the `rung` command are left out, and the pw.x fixture runs of the first build are reused.
  # Configuring prints only the parts it leaves out, as tools/build.sh does.
  cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DRUNG_SANITIZE=ON -DRUNG_WITH_TORCH=OFF \
        -DRUNG_WITH_MPI=OFF -DRUNG_READERS_ONLY=ON -DRUNG_WITH_PYTHON=OFF -DRUNG_QE_RUNS_DIR="$build/qe_runs" |
    { grep -E '^-- (rung: |.* not (built|run|tested)\b)' || true; }
  cmake --build "$asan" -j "${RUNG_JOBS:-$cores}"
  (cd "$asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --no-tests=error -j "$cores" \
     -L "readers|core" -LE cli --timeout 600)
  echo "== sanitizer tests: $((SECONDS - t2)) s"
fi
