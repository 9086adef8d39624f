#!/bin/sh
# (a) rung in an existing QE workflow, without touching QE: prefix the pw.x line with `rung hook --`.
# rung runs the command unchanged, then reads outdir/prefix from the input, finds prefix.save and runs
# `rung select --launch native` on it (the native RPA with G-block convergence runs only when the
# predicted SC(IPA,RPA) says it matters). Every decision is appended to rung-select.jsonl.
#
#   ./run_nscf_with_rung.sh scf.in nscf.in [MODEL]
set -e
scf=${1:?usage: run_nscf_with_rung.sh scf.in nscf.in [MODEL]}
nscf=${2:?usage: run_nscf_with_rung.sh scf.in nscf.in [MODEL]}
model=${3:+--model $3}
np=${NP:-2}

mpirun -np "$np" pw.x -in "$scf" > "${scf%.in}.out"
# The only change to the workflow:
rung hook $model --launch native -- mpirun -np "$np" pw.x -in "$nscf" > "${nscf%.in}.out"
tail -n 5 "${nscf%.in}.out"
