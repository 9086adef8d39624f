#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run the main job on the embedded
# default example (examples/si: pw.x scf+nscf on bulk Si, then rung on the result).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/setup-debian.sh"
"$root/tools/build.sh"
exec "$root/examples/si/run.sh" "$root/build/src/cli/rung"
