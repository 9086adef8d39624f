#!/bin/sh
# One round of the data ladder, from a factory's work folder to a data set and models that ship together
# (doc/dataset.md, "The data set in share/dataset"; doc/models.md; doc/selection.md):
#   tools/data_round.sh WORK SPLIT_DIR OUT_DIR
# 1. merges WORK's records (without writing into WORK) into a copy of share/dataset/rung-dataset.h5 (with share/dataset/pending.h5, the labels
#    committed since, where it exists) as OUT_DIR/rung-dataset.h5 and prints its `rung dataset stats`;
# 2. retrains the four models on it with the shipped settings (tools/train_models.sh, every rate fixed) into
#    OUT_DIR/models, and (at the same time) the structure-only SC model's cross-validation folds (tools/cv_folds.sh)
#    into OUT_DIR/folds;
# 3. calibrates the probe correction and the intervals with the new models (OUT_DIR/calibration.json), and writes
#    the tables of doc/models.md (OUT_DIR/models_table.md, OUT_DIR/sc_estimators.md);
# 4. scores the new TL model on the validation and test materials by cell size (OUT_DIR/sc_by_cell_size.md: does a
#    model trained mostly on small cells predict larger ones as well?);
# 5. refits the RPA cost model of `rung select` to the data set's RPA runs (OUT_DIR/cost_model.json) and prints
#    `rung cost-model check` of the shipped and the new one.
# Nothing in the repository is changed: OUT_DIR/install.sh copies the data set, the models and the calibration
# into share/ and redraws the figures, once the numbers have been read. A step whose output exists is skipped, so a
# killed round resumes; the outputs derived from the data set are removed when OUT_DIR/rung-dataset.h5 is not the
# file they were made from (a stamp of its checksum), so a re-merged data set never meets older models.
# Environment: RUNG (rung executable; default build/src/cli/rung), JOBS (trainings at a time, default 2),
# STRUCTURES (the structure list for sc_estimators.py), FOLDS (train: the default; finished: train no fold and
# calibrate on the folds of OUT_DIR/folds that finished, for a round whose time ran out while they trained),
# IPA_WARM (the IPA model's starting point; default the shipped share/models/ipa.h5, empty: random weights).
set -eu
. "$(dirname "$0")/processes.sh"
exit_on_signals  # (so the EXIT traps of the scripts it runs stop their trainings)
work=$1 split=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
# the split as the repository root sees it: it is recorded in the committed calibration.json
split=$(python3 -c 'import os, sys; print(os.path.relpath(os.path.abspath(sys.argv[1]), sys.argv[2]))' "$split" "$root")
rung=${RUNG:-$root/build/src/cli/rung}
jobs=${JOBS:-2}
structures=${STRUCTURES:-$root/../shared/structures/alexandria_main_group.jsonl}
[ -d "$work/records" ] || { echo "data_round.sh: $work/records: no such folder (not a factory work folder)" >&2; exit 2; }
work=$(cd "$work" && pwd)
case $structures in /*) ;; *) structures=$PWD/$structures ;; esac
case $rung in */*) rung=$(cd "$(dirname "$rung")" && pwd)/$(basename "$rung") ;; esac
. "$root/tools/model_settings.sh"  # the shipped rates: the round retrains with them, no search
mkdir -p "$out"
out=$(cd "$out" && pwd)  # (absolute: install.sh runs from the repository root)
data=$out/rung-dataset.h5
export RUNG="$rung"
# the repository's share/ (models, pseudopotential table, cost model) also for a copy of the binary kept elsewhere
# while the build folder changes (an installed or copied rung otherwise looks beside its own library)
export RUNG_SHARE_DIR="${RUNG_SHARE_DIR:-$root/share}"
# the steps below run from the repository root, so that a relative split resolves as it is recorded
cd "$root"

if [ ! -f "$data" ]; then
  # the committed data set with the labels computed since it was committed (share/dataset/pending.h5)
  if [ -f "$root/share/dataset/pending.h5" ]; then
    "$rung" dataset combine "$root/share/dataset/rung-dataset.h5" "$root/share/dataset/pending.h5" --out "$data.tmp"
  else
    cp "$root/share/dataset/rung-dataset.h5" "$data.tmp"
  fi
  # WORK's records that the file does not hold as they are, combined into it: a delta and a combine rather than
  # `rung dataset merge`, which would first write the file's materials into WORK as records (the farms may still
  # be running on it, and a record deleted there to compute a material again would come back)
  "$rung" dataset delta "$work" --base "$data.tmp" --out "$out/work-delta.h5"
  "$rung" dataset combine "$data.tmp" "$out/work-delta.h5" --out "$data.tmp2"
  rm -f "$data.tmp"
  mv "$data.tmp2" "$data"
fi
stamp=$(cksum <"$data")
if [ "$(cat "$out/.data-stamp" 2>/dev/null)" != "$stamp" ]; then
  # outputs of another data set (or of none recorded): made again from this one
  rm -rf "$out/models" "$out/models.tmp" "$out/folds" "$out/calibration.json" "$out/probe_rows.json" \
    "$out/model_rows.json" "$out/calibrate.txt" "$out"/tl.*.tsv "$out/cost_model.json" "$out/cost_model.txt"
  echo "$stamp" >"$out/.data-stamp"
fi
"$rung" dataset stats "$data" >"$out/stats.txt"
cat "$out/stats.txt"

# The structure-only SC model's cross-validation folds do not depend on the models trained below, so they train
# beside them (JOBS at a time each): neither job then leaves a core idle while the other finishes (on 2 cores the
# IPA model's single-threaded training outlasts the others by half an hour).
# FOLDS=finished trains no fold: the calibration then uses the folds of OUT_DIR/folds that finished (sc.h5 and
# model_set.json, at least two), for a round whose time ran out while they trained (fewer cross-validation
# residuals, the same method; doc/selection.md).
folds=""
trap '[ -n "$folds" ] && kill_tree "$folds"' EXIT  # a failure below, or a signal, must not leave the folds running
if [ "${FOLDS:-train}" != finished ]; then
  THREADS=1 JOBS=$jobs sh "$root/tools/cv_folds.sh" "$data" "$split" "$out/folds" >"$out/folds.log" 2>&1 &
  folds=$!
fi

# trained into models.tmp and renamed when train_models.sh has finished: a killed round never leaves a partial set
# The IPA model starts from the shipped one (a warm start, tools/model_settings.sh), copied into OUT_DIR first so
# that a resumed round starts from the same file; IPA_WARM= (set, empty) trains it from random weights.
if [ -z "${IPA_WARM+set}" ]; then
  [ -f "$out/ipa_warm.h5" ] || { cp "$root/share/models/ipa.h5" "$out/ipa_warm.h5.tmp" && mv "$out/ipa_warm.h5.tmp" "$out/ipa_warm.h5"; }
  IPA_WARM=$out/ipa_warm.h5
fi
if [ ! -f "$out/models/model_set.json" ]; then
  rm -rf "$out/models" "$out/models.tmp"
  IPA_WARM=$IPA_WARM IPA_LRS=$IPA_LR RPA_LRS=$TL_LR DL_LRS=$DL_LR SC_CANDIDATES=$SC_LR:$SC_WD THREADS=1 JOBS=$jobs \
    sh "$root/tools/train_models.sh" "$data" "$split" "$out/models.tmp" >"$out/train.log" 2>&1
  mv "$out/models.tmp" "$out/models"
fi
cv=$out/folds
if [ -n "$folds" ]; then
  wait "$folds" || { folds=""; echo "data_round.sh: the cross-validation folds failed (see $out/folds.log)" >&2; exit 1; }
  folds=""
  tail -n 5 "$out/folds.log"
else
  cv=$out/folds.finished
  rm -rf "$cv" && mkdir -p "$cv"
  for d in "$out"/folds/fold_*; do
    [ -f "$d/sc.h5" ] && [ -f "$d/model_set.json" ] && cp -r "$d" "$cv/"
  done
  echo "FOLDS=finished: the calibration uses $(ls "$cv" | wc -l) finished folds: $(ls "$cv" | tr '\n' ' ')"
fi

if [ ! -f "$out/calibration.json" ] || [ ! -f "$out/model_rows.json" ] || [ ! -f "$out/probe_rows.json" ]; then
  "$rung" calibrate --data "$data" --split "$split" --model "$out/models" --cv-folds "$cv" \
    --rows "$out/probe_rows.json" --model-rows "$out/model_rows.json" -o "$out/calibration.json" >"$out/calibrate.txt"
fi
cat "$out/calibrate.txt"
python3 "$root/tools/models_table.py" "$out/models" >"$out/models_table.md"
python3 "$root/tools/sc_estimators.py" "$out/models" "$data" "$split" "$structures" >"$out/sc_estimators.md"
cat "$out/models_table.md" "$out/sc_estimators.md"

for subset in validation test; do
  [ -f "$out/tl.$subset.tsv" ] || "$rung" evaluate --model "$out/models/rpa.h5" --data "$data" --split "$split" \
    --subset "$subset" --per-material "$out/tl.$subset.tsv" >/dev/null
done
python3 "$root/tools/sc_by_cell_size.py" "$structures" "$out/tl.validation.tsv" "$out/tl.test.tsv" \
  >"$out/sc_by_cell_size.md"
cat "$out/sc_by_cell_size.md"

# (from inside OUT_DIR: the shipped file's provenance then names the data set, not a folder of this machine)
[ -f "$out/cost_model.json" ] ||
  (cd "$out" && "$rung" cost-model fit rung-dataset.h5 -o cost_model.json >cost_model.txt)
# (to files, then tail: dash has no pipefail, and a failing check must stop the round)
"$rung" cost-model check "$data" --model "$root/share/cost_model.json" >"$out/cost_model_check.shipped.txt"
"$rung" cost-model check "$data" --model "$out/cost_model.json" >"$out/cost_model_check.refitted.txt"
echo "cost model, shipped:"
tail -n 3 "$out/cost_model_check.shipped.txt"
echo "cost model, refitted:"
tail -n 3 "$out/cost_model_check.refitted.txt"

cat >"$out/install.sh" <<EOF
#!/bin/sh
# Installs round $(basename "$out")'s data set, models, cost model and calibration into the repository (run from its
# root). Each file is first copied (the calibration and its figures: written) under a temporary name beside its
# target; only when all are complete, and the calibration made from the new data set and models has succeeded, are
# they renamed into place, the calibration last: a failure or a kill before that leaves the repository as it was
# (never a cut file); one during the renames, the old calibration with some new files, which rung detects.
set -eu
view=\$(mktemp -d)
staged=""
trap 'for t in \$staged; do rm -f "\$t"; done; rm -rf "\$view"' EXIT
trap 'exit 1' HUP INT TERM
tmp_of() { echo "\$(dirname "\$1")/.\$(basename "\$1").install-tmp"; }
stage() {  # file, target
  t=\$(tmp_of "\$2")
  staged="\$staged \$t"
  cp "\$1" "\$t"
}
models="ipa.h5 rpa.h5 rpa_dl.h5 sc.h5 model_set.json"
stage "$data" share/dataset/rung-dataset.h5
for f in \$models; do stage "$out/models/\$f" "share/models/\$f"; done
stage "$out/cost_model.json" share/cost_model.json
# the calibration records its command line: the folds by a path inside the repository's build folder
rm -rf build/sc-cv-folds && cp -r "$cv" build/sc-cv-folds
# The calibration of the new models (rung's default models, share/models, taken from a share folder that holds the
# staged files under their names) on the new data set (the staged file, recorded under its name once installed).
mkdir -p "\$view/models"
for f in \$models; do ln -s "\$PWD/\$(tmp_of "share/models/\$f")" "\$view/models/\$f"; done
ln -s "\$PWD/share/pseudo" "\$view/pseudo"
cal=share/models/calibration.json
staged="\$staged \$(tmp_of \$cal).raw \$(tmp_of \$cal) doc/figures/.calibration.install-tmp.png doc/figures/.calibration.install-tmp.svg"
RUNG_SHARE_DIR="\$view" "$rung" calibrate --data "\$(tmp_of share/dataset/rung-dataset.h5)" --split "$split" \\
  --cv-folds build/sc-cv-folds -o "\$(tmp_of \$cal).raw" --plot doc/figures/.calibration.install-tmp.png \\
  --plot doc/figures/.calibration.install-tmp.svg
sed 's#share/dataset/\\.rung-dataset\\.h5\\.install-tmp#share/dataset/rung-dataset.h5#g' "\$(tmp_of \$cal).raw" >"\$(tmp_of \$cal)"
# Everything is in place under its temporary name: the renames, which a signal does not cut in the middle. The
# calibration, which vouches for the models and the data set it was made from, comes last: a rename that fails
# (or a SIGKILL) before it leaves the old calibration, whose recorded model identity then disagrees with the new
# models (rung then gives their intervals as "not calibrated"), never a new calibration beside old models.
trap '' HUP INT TERM
for f in \$models; do mv "\$(tmp_of "share/models/\$f")" "share/models/\$f"; done
for f in share/dataset/rung-dataset.h5 share/cost_model.json; do mv "\$(tmp_of "\$f")" "\$f"; done
for e in png svg; do mv "doc/figures/.calibration.install-tmp.\$e" "doc/figures/calibration.\$e"; done
mv "\$(tmp_of \$cal)" "\$cal"
# the labels pending since the last round are in the data set now
rm -f share/dataset/pending.h5
echo "installed round $(basename "$out")"
EOF
echo "data_round.sh: read the numbers above, then: sh $out/install.sh"
