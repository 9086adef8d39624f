#!/bin/sh
# Cost per material before and after the factory's cost cut (doc/dataset.md, "Cost per material"): the same
# structures with the earlier protocol (scf 1000 k-points per reciprocal atom, nscf conv_thr 1e-7, band headroom
# 1.2, the solver on every output frequency with 30 bins per broadening) and with today's defaults;
# tools/cost_study.py tabulates both.
#   tools/cost_study.sh STRUCTURES.jsonl WORKROOT [extra `rung dataset run` options, e.g. mpirun's ranks via RUNG]
# RUNG names the rung command (default: rung); with a farm, e.g. RUNG="mpirun -np 2 rung".
set -eu
structures=$1 root=$2
shift 2
rung=${RUNG:-rung}
mkdir -p "$root"
$rung dataset run --tier full --structures "$structures" --work-dir "$root/old" --out "$root/old.h5" \
  --k-density 1000 --nscf-conv-thr 1e-7 --nscf-band-headroom 1.2 --solver-options '{"solver_step_eV": 0, "points_per_eta": 30}' "$@"
$rung dataset run --tier full --structures "$structures" --work-dir "$root/new" --out "$root/new.h5" "$@"
