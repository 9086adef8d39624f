#!/bin/sh
# tools/data_round.sh end to end on the committed data set with an empty work folder, every training cut to 2
# epochs (SMOKE=1): the round's plumbing (merge, stats, the four trainings two at a time, the folds, calibrate with
# both row files, the tables, the TL model by cell size, the cost model's refit, install.sh) against today's
# command-line options, then a second run that resumes without training again. The numbers mean nothing here.
# It must leave the repository untouched: install.sh runs in a copy of the repository's layout under OUT (where
# rung draws figures, PLOTS=true): a calibration that fails installs nothing, one that succeeds installs everything.
#   data_round_smoke.sh RUNG SOURCE_DIR SHARED_DIR OUT
set -eu
rung=$1 src=$2 shared=$3 out=$4
[ -d "$shared/reference" ] || { echo "RUNG-SKIP: needs $shared (../shared is absent in a user's clone; it runs in CI)"; exit 0; }
for need in "$shared/structures/splits/train_set.txt" "$shared/structures/alexandria_main_group.jsonl"; do
  [ -f "$need" ] || { echo "$need is missing although $shared/reference is present"; exit 1; }
done
rm -rf "$out" && mkdir -p "$out/WORK/records"
before=$(cat "$src/share/dataset/rung-dataset.h5" "$src/share/models/"* | cksum)
SMOKE=1 JOBS=2 RUNG="$rung" STRUCTURES="$shared/structures/alexandria_main_group.jsonl" \
  sh "$src/tools/data_round.sh" "$out/WORK" "$shared/structures/splits" "$out/round" >"$out/round.log" 2>&1 || {
  tail -n 30 "$out/round.log"
  echo "data_round.sh failed (log: $out/round.log)"
  exit 1
}
fail() { echo "$1"; exit 1; }
for f in rung-dataset.h5 stats.txt models/ipa.h5 models/rpa.h5 models/rpa_dl.h5 models/sc.h5 models/model_set.json \
  folds/fold_0/sc.h5 folds/fold_4/sc.h5 calibration.json probe_rows.json model_rows.json models_table.md \
  sc_estimators.md tl.validation.tsv tl.test.tsv sc_by_cell_size.md cost_model.json install.sh; do
  [ -s "$out/round/$f" ] || fail "missing or empty: $out/round/$f"
done
grep -q "^status: done" "$out/round/stats.txt" || fail "stats.txt holds no status line"
# an empty work folder merged into a copy of the committed file (with the labels pending since it, where there are
# any) keeps every material of them
committed=$src/share/dataset/rung-dataset.h5
if [ -f "$src/share/dataset/pending.h5" ]; then
  "$rung" dataset combine "$committed" "$src/share/dataset/pending.h5" --out "$out/committed.h5" >/dev/null
  committed=$out/committed.h5
fi
n_committed=$("$rung" dataset stats "$committed" | head -n 1 | sed -E 's/.*: ([0-9]+) materials.*/\1/')
n_round=$(head -n 1 "$out/round/stats.txt" | sed -E 's/.*: ([0-9]+) materials.*/\1/')
[ "$n_committed" = "$n_round" ] || fail "the round's data set holds $n_round materials, the committed one $n_committed"
grep -q "cv_sc" "$out/round/model_rows.json" || fail "model_rows.json holds no cross-validation prediction"
grep -q '"sc_estimator"' "$out/round/models/model_set.json" || fail "model_set.json names no SC estimator"
# the folds: no fold trains on a test material, every training material is held out by exactly one fold, and a
# formula's polymorphs are held out together (until 2026-12-05 the test materials, in no fold's lists, joined the
# folds' training by formula hash)
python3 - "$out/round/folds" <<'EOF' || fail "the cross-validation folds leak (above)"
import json, os, sys
d = sys.argv[1]
rows = {s: json.load(open(os.path.join(d, f"{s}.json")))["materials"] for s in ("train", "test")}
formula = {m["id"]: m["formula"] for ms in rows.values() for m in ms}
test, train = {m["id"] for m in rows["test"]}, {m["id"] for m in rows["train"]}
held_all = []
for f in sorted(x for x in os.listdir(d) if x.startswith("fold_")):
    trains = set(open(os.path.join(d, f, "split", "train_set.txt")).read().split())
    held = set(open(os.path.join(d, f, "held_out.txt")).read().split())
    tests = set(open(os.path.join(d, f, "split", "test_set.txt")).read().split())
    if trains & test or not test <= tests:
        sys.exit(f"{f}: its lists let test materials into training")
    if {formula[i] for i in trains} & {formula[i] for i in held}:
        sys.exit(f"{f}: a formula both held out and trained on")
    held_all += held
if sorted(held_all) != sorted(train):
    sys.exit("the folds do not hold out every training material exactly once")
EOF
# the split is recorded as the repository root sees it (calibration.json is committed: no machine's path in it)
grep -q '"split": *"/' "$out/round/calibration.json" && fail "calibration.json records an absolute split path"
# a second run resumes: the models and folds of the same data set are kept, not trained again
stamp_models=$(cksum <"$out/round/models/sc.h5")
SMOKE=1 JOBS=2 RUNG="$rung" STRUCTURES="$shared/structures/alexandria_main_group.jsonl" \
  sh "$src/tools/data_round.sh" "$out/WORK" "$shared/structures/splits" "$out/round" >"$out/round2.log" 2>&1 || {
  tail -n 30 "$out/round2.log"
  fail "data_round.sh failed on resume (log: $out/round2.log)"
}
[ "$(cksum <"$out/round/models/sc.h5")" = "$stamp_models" ] || fail "the resumed round trained the models again"
after=$(cat "$src/share/dataset/rung-dataset.h5" "$src/share/models/"* | cksum)
[ "$before" = "$after" ] || fail "the round changed share/ before install.sh ran"

# install.sh in a copy of the repository's layout: a calibration that fails (here: its figures' folder is missing)
# leaves every file as it was and no temporary file; with the folder, every file is the round's
if [ "${PLOTS:-true}" = true ]; then
  repo=$out/repo
  rm -rf "$repo" && mkdir -p "$repo/share/dataset" "$repo/share/models" "$repo/build"
  cp "$src/share/dataset/rung-dataset.h5" "$repo/share/dataset/"
  cp "$src/share/models/"* "$repo/share/models/"
  cp "$src/share/cost_model.json" "$repo/share/"
  ln -s "$src/share/pseudo" "$repo/share/pseudo"
  echo "pending labels" >"$repo/share/dataset/pending.h5"
  # the split as install.sh names it, relative to the repository root (data_round.sh: "../shared/..."), resolves
  # from the copy too
  rel=$(python3 -c 'import os, sys; print(os.path.relpath(os.path.abspath(sys.argv[1]), sys.argv[2]))' \
    "$shared/structures/splits" "$src")
  case $rel in
  ../*) top=$(echo "$rel" | cut -d/ -f2) && { [ -e "$out/$top" ] || ln -s "$(cd "$src/.." && pwd)/$top" "$out/$top"; } ;;
  *) top=$(echo "$rel" | cut -d/ -f1) && ln -s "$src/$top" "$repo/$top" ;;
  esac
  files() { (cd "$repo" && find share doc -type f 2>/dev/null | sort | xargs cksum); }
  temporaries() { find "$repo" -name '*install-tmp*' | head -n 3; }
  files_before=$(files)
  (cd "$repo" && sh "$out/round/install.sh") >"$out/install1.log" 2>&1 && fail "install.sh succeeded without doc/figures"
  grep -q "doc/figures does not exist" "$out/install1.log" || fail "install.sh failed otherwise (log: $out/install1.log)"
  [ "$(files)" = "$files_before" ] || fail "a failed install.sh changed the repository's files"
  [ -z "$(temporaries)" ] || fail "a failed install.sh left temporary files: $(temporaries)"
  mkdir -p "$repo/doc/figures"
  (cd "$repo" && sh "$out/round/install.sh") >"$out/install2.log" 2>&1 || {
    tail -n 20 "$out/install2.log"
    fail "install.sh failed (log: $out/install2.log)"
  }
  cmp -s "$out/round/rung-dataset.h5" "$repo/share/dataset/rung-dataset.h5" || fail "the data set is not the round's"
  for f in ipa.h5 rpa.h5 rpa_dl.h5 sc.h5 model_set.json; do
    cmp -s "$out/round/models/$f" "$repo/share/models/$f" || fail "share/models/$f is not the round's"
  done
  cmp -s "$out/round/cost_model.json" "$repo/share/cost_model.json" || fail "the cost model is not the round's"
  [ -s "$repo/doc/figures/calibration.png" ] && [ -s "$repo/doc/figures/calibration.svg" ] || fail "no figures"
  grep -q '"data": "share/dataset/rung-dataset.h5"' "$repo/share/models/calibration.json" ||
    fail "the calibration does not name the installed data set"
  grep -q 'install-tmp' "$repo/share/models/calibration.json" && fail "the calibration names a temporary file"
  [ -e "$repo/share/dataset/pending.h5" ] && fail "install.sh kept pending.h5"
  [ -z "$(temporaries)" ] || fail "install.sh left temporary files: $(temporaries)"
fi
echo "data_round.sh smoke: every output present, share/ untouched, install.sh all or nothing"
