#!/bin/sh
# (a) rung in an existing QE workflow, without touching QE: prefix the pw.x line with `rung hook --`.
# rung runs the command unchanged, then reads outdir/prefix from the input, finds prefix.save and runs
# `rung select --launch native` on it (the native RPA with G-block convergence runs only when the
# predicted SC(IPA,RPA) says it matters). Every decision is appended to rung-select.jsonl.
#
#   ./run_nscf_with_rung.sh scf.in nscf.in [MODEL]
# NP=N sets the MPI ranks of pw.x (default: the cores, at most 2); with 1 rank, or without mpirun, pw.x runs alone.
set -e
scf=${1:?usage: run_nscf_with_rung.sh scf.in nscf.in [MODEL]}
nscf=${2:?usage: run_nscf_with_rung.sh scf.in nscf.in [MODEL]}
model=${3:-}
# the cores, read before OMP_NUM_THREADS is set below (coreutils' nproc honours it)
np=${NP:-$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)}
[ -n "${NP:-}" ] || [ "$np" -le 2 ] || np=2
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# pw.x on "$np" ranks (k-point pools), as examples/si/run.sh runs it; --oversubscribe: NP may exceed the cores
pw() { if [ "$np" -gt 1 ] && command -v mpirun >/dev/null; then mpirun --oversubscribe -np "$np" pw.x -nk "$np" -in "$1"; else pw.x -in "$1"; fi; }

pw "$scf" > "${scf%.in}.out"
# The only change to the workflow: `rung hook [--model MODEL] --launch native --` before the same pw.x line.
if [ "$np" -gt 1 ] && command -v mpirun >/dev/null; then
  set -- mpirun --oversubscribe -np "$np" pw.x -nk "$np" -in "$nscf"
else
  set -- pw.x -in "$nscf"
fi
if [ -n "$model" ]; then
  rung hook --model "$model" --launch native -- "$@" > "${nscf%.in}.out"
else
  rung hook --launch native -- "$@" > "${nscf%.in}.out"
fi
tail -n 5 "${nscf%.in}.out"
