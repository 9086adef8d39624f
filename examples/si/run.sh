#!/usr/bin/env bash
# rung's default example: bulk Si with Debian's Si.pz-vbc.UPF.
#   run.sh [RUNG_BINARY] [WORK_DIR]
# 1. pw.x scf (6x6x6) + nscf (Γ-centred 8x8x8, 16 bands) into WORK_DIR (default examples/si/work)
# 2. rung info on the save, 3. native IPA and RPA spectra, 4. the ML prediction and the selection decision,
# 5. a figure of the IPA against the RPA (Im and Re eps, the loss function): si_ipa_rpa.png.
# Each rung step runs when the installed rung has that command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rung=${1:-rung}
work=${2:-$here/work}
mkdir -p "$work"
cp "$here/scf.in" "$here/nscf.in" "$work/"
cd "$work"
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
np=$(nproc); [ "$np" -gt 2 ] && np=2
pw() { if [ "$np" -gt 1 ]; then mpirun --oversubscribe -np "$np" pw.x -nk "$np" -in "$1"; else pw.x -in "$1"; fi; }
has() { "$rung" "$1" --help >/dev/null 2>&1; }
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
  step "rung spectrum: IPA and RPA (local fields, 27 G), trace of Im eps"
  "$rung" spectrum "$save" --theory ipa --direction trace -o si_ipa.h5 --yambo-text si_ipa.txt
  "$rung" spectrum "$save" --theory rpa --gblock 27 --direction x -o si_rpa.h5 --yambo-text si_rpa.txt
  has compare && { step "rung compare (IPA vs RPA)"; "$rung" compare si_ipa.h5 si_rpa.h5; }
fi
share=${RUNG_SHARE_DIR:-$here/../../share}
models_present() { ls "$share"/models/*.h5 >/dev/null 2>&1; }
if (has predict || has select) && ! models_present; then
  step "rung predict / rung select"
  echo "skipped: no trained OPTIMATE weights in $share/models yet (they come from the data-set factory, doc/dataset.md)"
fi
if has predict && models_present; then
  step "rung predict (OPTIMATE GAT) from the save's structure"
  "$rung" predict "$save" --json > si_predict.json && head -c 600 si_predict.json && echo
fi
if has select && models_present; then
  step "rung select (is the RPA worth running? decided on rung's own 59-G RPA probe of this save)"
  "$rung" select "$save" --log si_select.jsonl --plot si_select.png
fi
if has plot && [ -f si_ipa.h5 ] && [ -f si_rpa.h5 ]; then
  step "rung plot: IPA against RPA (Im eps, Re eps, loss function) -> $work/si_ipa_rpa.png"
  "$rung" plot si_ipa.h5 si_rpa.h5 --label "IPA" --label "RPA (local fields, 27 G)" -q im -q re -q loss -o si_ipa_rpa.png
fi
echo
echo "example finished; outputs in $work"
