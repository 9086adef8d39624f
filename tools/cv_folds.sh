#!/bin/sh
# Cross-validation folds of the structure-only SC model, for `rung calibrate --cv-folds` (doc/selection.md,
# "The structure-only interval").
#   tools/cv_folds.sh DATA.h5 SPLIT_DIR OUT_DIR [K]
# The data set's training materials with an SC label are dealt into K folds (default 5) in the order of the
# SHA-1 of their ids, so the folds do not depend on the data set's file order. For fold k, OUT_DIR/fold_k/split
# holds train = the training materials outside fold k, validation = the split's own validation materials (the
# checkpoint choice sees nothing of fold k), test = fold k; OUT_DIR/fold_k/sc.h5 is the SC model trained there
# with the shipped settings (tools/model_settings.sh), and model_set.json makes the folder a model set with the
# shipped SC estimator. Environment: RUNG (rung executable), THREADS (LibTorch threads, default 1), JOBS (folds
# trained at a time, default 1).
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
"$rung" evaluate --model "$(dirname "$0")/../share/models/sc.h5" --data "$data" --split "$split" --subset train \
  --json "$out/train.json" >/dev/null
python3 - "$out/train.json" "$split" "$out" "$k" <<'EOF'
import hashlib, json, os, sys
train_json, split, out, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ids = sorted((m["id"] for m in json.load(open(train_json))["materials"]),
             key=lambda i: hashlib.sha1(i.encode()).hexdigest())
folds = [ids[f::k] for f in range(k)]
for f in range(k):
    d = os.path.join(out, f"fold_{f}", "split")
    os.makedirs(d, exist_ok=True)
    held = set(folds[f])
    lists = {"train_set.txt": "".join(i + "\n" for i in ids if i not in held),
             "test_set.txt": "".join(i + "\n" for i in folds[f]),
             "validation_set.txt": open(os.path.join(split, "validation_set.txt")).read()}
    # A fold whose lists change (a grown data set) trains again: a kept sc.h5 would have seen its new test fold
    old = {n: open(os.path.join(d, n)).read() if os.path.exists(os.path.join(d, n)) else None for n in lists}
    if old != lists:
        for stale in ("sc.h5", "model_set.json", "train.log"):
            if os.path.exists(os.path.join(out, f"fold_{f}", stale)):
                os.remove(os.path.join(out, f"fold_{f}", stale))
        for n, text in lists.items():
            with open(os.path.join(d, n), "w") as fh:
                fh.write(text)
print(f"{len(ids)} training materials in {k} folds of {min(map(len, folds))}-{max(map(len, folds))}")
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
