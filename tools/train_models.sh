#!/bin/sh
# Trains rung's shipped models on a data set and evaluates them on the paper's test split (issue #5).
#   tools/train_models.sh DATA.h5 SPLIT_DIR OUT_DIR
# Writes OUT_DIR/{ipa,rpa,rpa_dl,sc}.h5, OUT_DIR/<model>.<subset>.json (rung evaluate) and
# OUT_DIR/choices.txt. Hyper-parameters that the paper leaves open for a data set this small (the
# learning rates of TL and DL) are chosen on the VALIDATION subset; the test subset is only evaluated,
# never looked at for a choice. Environment: RUNG (rung executable), THREADS (LibTorch threads).
set -eu
data=$1 split=$2 out=$3
rung=${RUNG:-rung}
threads=${THREADS:-2}
# IPA_LRS, RPA_LRS, DL_LRS: the learning-rate candidates (defaults below); one value each skips the
# choice, e.g. to retrain on a grown data set with the rates round 2 chose on validation.
# SMOKE=1: 10 epochs each, to check the pipeline on a small data set (the numbers mean nothing then)
e500=500 e200=200
[ "${SMOKE:-0}" = 1 ] && e500=10 e200=10
mkdir -p "$out/candidates"
common="--data $data --split $split --threads $threads --seed 0"

evaluate() {  # model-file name
  for subset in validation test; do
    "$rung" evaluate --model "$out/$1.h5" --data "$data" --split "$split" --subset $subset --json "$out/$1.$subset.json" \
      --per-material "$out/$1.$subset.tsv"
  done
}
# Median SC on the validation subset of a candidate (higher is better).
val_sc() {
  "$rung" evaluate --model "$1" --data "$data" --split "$split" --subset validation --json "$1.val.json" >/dev/null
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['median_sc'])" "$1.val.json"
}
# Trains candidates "name lr" for a target, keeps the best by validation median SC as OUT_DIR/<as>.h5.
choose() {  # as, then the common train options; candidates from $CANDIDATES ("lr lr ...")
  as=$1; shift
  best="" best_sc=-1e9
  for lr in $CANDIDATES; do
    f="$out/candidates/$as.lr$lr.h5"
    "$rung" -q train $common "$@" --lr "$lr" -o "$f" >"$f.log"
    s=$(val_sc "$f")
    echo "$as lr=$lr validation median SC $s" | tee -a "$out/choices.txt"
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$s" "$best_sc"; then
      best=$f best_sc=$s
    fi
  done
  cp "$best" "$out/$as.h5"
  echo "$as: chose $(basename "$best")" | tee -a "$out/choices.txt"
  evaluate "$as"
}
: >"$out/choices.txt"

# IPA (spec §3.3: Adam lr 2e-3, wd 1e-4; batch 32 rather than 512: a few hundred materials)
CANDIDATES=${IPA_LRS:-"2e-3 5e-4"} choose ipa --target ipa --arch ipa --epochs $e500 --batch 32 --weight-decay 1e-4
# RPA by transfer learning from the IPA model, all layers fine-tuned (spec §3.4: lr 1e-5, 500 epochs, batch 128)
CANDIDATES=${RPA_LRS:-"1e-5 1e-4 5e-4"} choose rpa --target rpa --init "$out/ipa.h5" --epochs $e500 --batch 32 --weight-decay 1e-4
# RPA directly (spec §3.5: the smallest-N architecture dl100)
CANDIDATES=${DL_LRS:-"1e-4 1e-3"} choose rpa_dl --target rpa --arch dl100 --epochs $e500 --batch 20 --weight-decay 1e-4
# SC(IPA,RPA) from scratch (spec §3.6: lr 1e-3, wd 0, batch 64, 200 epochs). On a few hundred materials
# the spec's setting was no better than a constant on test (round 3), so the rate and the weight decay
# are chosen here too, by the lowest mean |dSC| on validation. SC_CANDIDATES: "lr:wd lr:wd ...".
best="" best_err=1e9
for c in ${SC_CANDIDATES:-"1e-3:0 3e-4:0 1e-3:1e-4 3e-4:1e-4"}; do
  lr=${c%%:*} wd=${c#*:}
  f="$out/candidates/sc.lr$lr.wd$wd.h5"
  "$rung" -q train $common --target sc --arch sc --epochs $e200 --batch 64 --lr "$lr" --weight-decay "$wd" -o "$f" >"$f.log"
  "$rung" evaluate --model "$f" --data "$data" --split "$split" --subset validation --json "$f.val.json" >/dev/null
  e=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['mean_abs_sc_error'])" "$f.val.json")
  echo "sc lr=$lr wd=$wd validation mean |dSC| $e" | tee -a "$out/choices.txt"
  if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$e" "$best_err"; then
    best=$f best_err=$e
  fi
done
cp "$best" "$out/sc.h5"
echo "sc: chose $(basename "$best")" | tee -a "$out/choices.txt"
evaluate sc
