#!/usr/bin/env bash
# rung's default example: bulk Si with Debian's Si.pz-vbc.UPF.
#   run.sh [RUNG_BINARY] [WORK_DIR]
# 1. pw.x scf (6x6x6) + nscf (Γ-centred 8x8x8, 16 bands) into WORK_DIR (default examples/si/work)
# 2. rung info on the save, 3. native IPA and RPA spectra, 4. the ML prediction and the selection decision,
# 5. a figure of the IPA against the RPA (Im and Re eps, the loss function): si_ipa_rpa.png.
# Without a first argument (the `rung` on PATH, perhaps an older install) each rung step runs when that rung has the
# command, and prints "skipped: ..." when it has not. With a rung given as the first argument (tools/quickstart.sh,
# the ctest example:si) every command is required: one that is missing or whose --help fails ends the example with
# an error, and the spectrum files and the figure are checked at the end. The predict and select steps are skipped (with a note)
# while share/models holds no trained weights.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
required=0
[ $# -ge 1 ] && required=1
rung=${1:-rung}
work=${2:-$here/work}
mkdir -p "$work"
cp "$here/scf.in" "$here/nscf.in" "$work/"
cd "$work"
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# the cores, not OMP_NUM_THREADS (set just above; coreutils' nproc honours it): pw.x on 2 ranks where 2 cores are
np=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc); [ "$np" -gt 2 ] && np=2
pw() { if [ "$np" -gt 1 ] && command -v mpirun >/dev/null; then mpirun --oversubscribe -np "$np" pw.x -nk "$np" -in "$1"; else pw.x -in "$1"; fi; }
has() {
  "$rung" "$1" --help >/dev/null 2>&1 && return 0
  if [ "$required" = 1 ]; then
    echo "error: \`$rung $1 --help\` failed: the rung given as the first argument must have the command \`$1\`" >&2
    "$rung" "$1" --help >/dev/null || true  # its own message, for the log
    exit 1
  fi
  echo "skipped: \`rung $1\` (this rung has no such command or its --help fails)"
  return 1
}
step() { echo; echo "== $*"; }

step "pw.x scf + nscf (Si, 8x8x8, 16 bands)"
t0=$SECONDS
pw scf.in > scf.out
pw nscf.in > nscf.out
echo "pw.x: $((SECONDS - t0)) s"

save=out/si.save
step "rung info $save"
"$rung" info "$save"

if has spectrum; then
  step "rung spectrum: IPA (trace of Im eps) and RPA (local fields, 27 G, along x: Si is cubic, x is the trace)"
  "$rung" spectrum "$save" --theory ipa --direction trace -o si_ipa.h5 --yambo-text si_ipa.txt
  "$rung" spectrum "$save" --theory rpa --gblock 27 --direction x -o si_rpa.h5 --yambo-text si_rpa.txt
  if has compare; then step "rung compare (IPA vs RPA)"; "$rung" compare si_ipa.h5 si_rpa.h5 --direction-as-trace; fi
fi
share=${RUNG_SHARE_DIR:-$here/../../share}
models_present() { ls "$share"/models/*.h5 >/dev/null 2>&1; }
has_predict=0 has_select=0
if has predict; then has_predict=1; fi
if has select; then has_select=1; fi
if [ "$has_predict$has_select" != 00 ] && ! models_present; then
  step "rung predict / rung select"
  echo "skipped: no trained OPTIMATE weights in $share/models yet (they come from the data-set factory, doc/dataset.md)"
fi
if [ "$has_predict" = 1 ] && models_present; then
  step "rung predict (OPTIMATE GAT) from the save's structure"
  # a rung built without LibTorch (-DRUNG_WITH_TORCH=OFF) has the command but refuses it: skipped, said so
  if "$rung" predict "$save" --json > si_predict.json 2> si_predict.err; then
    cat si_predict.err >&2
    head -c 600 si_predict.json
    echo
  else
    cat si_predict.err >&2
    grep -q 'built without LibTorch' si_predict.err || exit 1
    echo "skipped: this rung was built without LibTorch"
  fi
fi
if [ "$has_select" = 1 ] && models_present; then
  step "rung select (is the RPA worth running? decided on rung's own 59-G RPA probe of this save)"
  "$rung" select "$save" --log si_select.jsonl --plot si_select.png
fi
if [ -f si_ipa.h5 ] && [ -f si_rpa.h5 ] && has plot; then
  step "rung plot: IPA against RPA (Im eps, Re eps, loss function) -> $work/si_ipa_rpa.png"
  "$rung" plot si_ipa.h5 si_rpa.h5 --label "IPA" --label "RPA (local fields, 27 G)" -q im -q re -q loss -o si_ipa_rpa.png
fi
if [ "$required" = 1 ]; then
  for f in si_ipa.h5 si_rpa.h5 si_ipa_rpa.png; do
    [ -s "$f" ] || { echo "error: $work/$f was not written" >&2; exit 1; }
  done
fi
echo
echo "example finished; outputs in $work"
