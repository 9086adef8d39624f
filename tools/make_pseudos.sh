#!/usr/bin/env bash
# Regenerates rung's norm-conserving pseudopotential table with QE's ld1.x:
#   share/pseudo/<El>.ld1.in     -> <El>.pbe-rung-tm.UPF (+ Bessel-basis ghost/cutoff test)
#   share/pseudo/<El>.ld1test.in -> transferability test (configurations, Delta E vs all-electron)
# then tools/pseudo_table.py turns the ld1.x outputs into share/pseudo/table.json.
# Usage: [RUNG_PSEUDO_DIR=DIR] tools/make_pseudos.sh [LOGDIR] [El ...]   (LOGDIR keeps the ld1.x outputs; default build-pseudo-logs)
# The fully relativistic set for spin-orbit runs (no table.json, the factory does not use it):
#   RUNG_PSEUDO_DIR=share/pseudo/fully_relativistic tools/make_pseudos.sh LOGDIR
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pseudo=$(realpath "${RUNG_PSEUDO_DIR:-$here/share/pseudo}")
logs=$(realpath -m "${1:-$here/build-pseudo-logs}"); shift || true
command -v ld1.x >/dev/null || { echo "make_pseudos.sh: ld1.x not found (apt install quantum-espresso)" >&2; exit 2; }
mkdir -p "$logs"
export OMP_NUM_THREADS=1
if [ $# -gt 0 ]; then elements=("$@"); else
  elements=(); for f in "$pseudo"/*.ld1.in; do b=$(basename "$f"); elements+=("${b%.ld1.in}"); done
fi
for el in "${elements[@]}"; do
  work="$logs/$el"; rm -rf "$work"; mkdir -p "$work"
  ( cd "$work"
    # ld1.x writes its scratch files and the UPF into the current directory
    ld1.x < "$pseudo/$el.ld1.in" > "$logs/$el.ld1.out" 2>&1 || { echo "ld1.x failed for $el: $logs/$el.ld1.out" >&2; exit 1; }
    upf=$(sed -n "s/.*file_pseudopw='\([^']*\)'.*/\1/p" "$pseudo/$el.ld1.in")
    [ -s "$upf" ] || { echo "no $upf written for $el: $logs/$el.ld1.out" >&2; exit 1; }
    ld1.x < "$pseudo/$el.ld1test.in" > "$logs/$el.ld1test.out" 2>&1 || { echo "ld1.x test failed for $el: $logs/$el.ld1test.out" >&2; exit 1; }
    # through a temporary name beside it: a kill during the copy never leaves a cut pseudopotential in the table
    cp "$upf" "$pseudo/.$upf.tmp" && mv "$pseudo/.$upf.tmp" "$pseudo/$upf" )
  echo "$el done"
done
if [ -f "$pseudo/generation.json" ]; then python3 "$here/tools/pseudo_table.py" "$pseudo" "$logs"; fi
