#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run the main job on the embedded
# default example (examples/si: pw.x scf+nscf on bulk Si, then rung on the result).
# BUILD_DIR: the build folder (default: build/), as for tools/build.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export BUILD_DIR=$build
"$root/tools/setup-debian.sh"
# Only what the example runs: the rung command with librung, and librung_torch, which librung loads at run time
# for `rung predict` and `rung select` (not linked, so named here); tools/test.sh builds the rest.
"$root/tools/build.sh" --target rung_cli rung_torch
exec "$root/examples/si/run.sh" "$build/src/cli/rung"
