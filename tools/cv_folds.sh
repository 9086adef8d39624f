#!/bin/sh
# Cross-validation folds of the structure-only SC model, for `rung calibrate --cv-folds` (doc/selection.md,
# "The structure-only interval").
#   tools/cv_folds.sh DATA.h5 SPLIT_DIR OUT_DIR [K]
# The data set's training materials with an SC label (as the split assigns them: the lists, then by formula) are
# dealt into K folds (default 5) by formula, every polymorph of a formula in one fold (the split itself is by
# formula), in the order of the SHA-1 of the formulas, so the folds do not depend on the data set's file order.
# For fold k, OUT_DIR/fold_k/split names every labelled material: train = the training materials outside fold k,
# validation = the split's validation materials (the checkpoint choice sees nothing of fold k), test = fold k and
# the split's test materials (which no fold may train on); OUT_DIR/fold_k/held_out.txt is fold k alone, the
# materials `rung calibrate --cv-folds` predicts with this fold's model. OUT_DIR/fold_k/sc.h5 is the SC model
# trained there with the shipped settings (tools/model_settings.sh), and model_set.json makes the folder a model
# set with the shipped SC estimator. Environment: RUNG (rung executable), THREADS (LibTorch threads, default 1),
# JOBS (folds trained at a time, default 1).
set -eu
data=$1 split=$2 out=$3 k=${4:-5}
rung=${RUNG:-rung}
threads=${THREADS:-1}
jobs=${JOBS:-1}
. "$(dirname "$0")/model_settings.sh"
[ "$SC_ESTIMATOR" = direct ] || {
  echo "cv_folds.sh: the folds train sc.h5 alone; SC_ESTIMATOR=$SC_ESTIMATOR needs the spectra models too" >&2
  exit 2
}
mkdir -p "$out"
for subset in train validation test; do
  "$rung" evaluate --model "$(dirname "$0")/../share/models/sc.h5" --data "$data" --split "$split" --subset "$subset" \
    --json "$out/$subset.json" >/dev/null
done
python3 - "$out" "$k" <<'EOF'
import hashlib, json, os, sys
out, k = sys.argv[1], int(sys.argv[2])
subset = {s: json.load(open(os.path.join(out, f"{s}.json")))["materials"] for s in ("train", "validation", "test")}
formula = {m["id"]: m["formula"] for ms in subset.values() for m in ms}
ids = [m["id"] for m in subset["train"]]
formulas = sorted({formula[i] for i in ids}, key=lambda f: hashlib.sha1(f.encode()).hexdigest())
fold_of = {f: n % k for n, f in enumerate(formulas)}
folds = [sorted(i for i in ids if fold_of[formula[i]] == f) for f in range(k)]
validation = sorted(m["id"] for m in subset["validation"])
test = sorted(m["id"] for m in subset["test"])
for f in range(k):
    d = os.path.join(out, f"fold_{f}")
    os.makedirs(os.path.join(d, "split"), exist_ok=True)
    held = set(folds[f])
    lists = {"split/train_set.txt": "".join(i + "\n" for i in sorted(ids) if i not in held),
             "split/test_set.txt": "".join(i + "\n" for i in sorted(held.union(test))),
             "split/validation_set.txt": "".join(i + "\n" for i in validation),
             "held_out.txt": "".join(i + "\n" for i in folds[f])}
    # A fold whose lists change (a grown data set) trains again: a kept sc.h5 would have seen its new test fold
    old = {n: open(os.path.join(d, n)).read() if os.path.exists(os.path.join(d, n)) else None for n in lists}
    if old != lists:
        for stale in ("sc.h5", "model_set.json", "train.log"):
            if os.path.exists(os.path.join(d, stale)):
                os.remove(os.path.join(d, stale))
        for n, text in lists.items():
            with open(os.path.join(d, n), "w") as fh:
                fh.write(text)
print(f"{len(ids)} training materials ({len(formulas)} formulas) in {k} folds of {min(map(len, folds))}-"
      f"{max(map(len, folds))}; {len(validation)} validation and {len(test)} test materials in no fold's training")
EOF
train_fold() {  # fold number
  d="$out/fold_$1"
  if [ ! -f "$d/sc.h5" ]; then
    # shellcheck disable=SC2086  # SC_FLAGS is a list of options
    "$rung" -q train --data "$data" --split "$d/split" --threads "$threads" --seed 0 --target sc $SC_FLAGS \
      --lr "$SC_LR" --weight-decay "$SC_WD" -o "$d/sc.h5" >"$d/train.log"
  fi
  write_model_set "$d"  # (always: a run killed after the training must not leave a model set without it)
}
. "$(dirname "$0")/processes.sh"
exit_on_signals
trap 'for p in $pids; do kill_tree "$p"; done' EXIT  # the workers and the trainings they started
# JOBS workers; worker w trains the folds w, w + JOBS, ...
pids=""
w=0
while [ "$w" -lt "$jobs" ]; do
  (
    f=$w
    while [ "$f" -lt "$k" ]; do
      train_fold "$f"
      f=$((f + jobs))
    done
  ) &
  pids="$pids $!"
  w=$((w + 1))
done
failed=0
for p in $pids; do wait "$p" || failed=1; done
pids=""
[ "$failed" = 0 ] || { echo "cv_folds.sh: a fold's training failed (its train.log says why)" >&2; exit 1; }
f=0
while [ "$f" -lt "$k" ]; do
  echo "fold $f: $(tail -n 1 "$out/fold_$f/train.log")"
  f=$((f + 1))
done
