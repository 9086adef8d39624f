#!/bin/sh
# Learning curves like the paper's Fig. 2: the TL, DL and SC models of tools/train_models.sh trained on N of the
# training materials (`rung train --max-train N`: a fixed subset, nested in larger N), evaluated on validation
# and test.
#   tools/learning_curves.sh DATA.h5 SPLIT_DIR IPA_MODEL OUT_DIR "N1 N2 ..." ["SEED ..."]
# Writes OUT_DIR/{tl,dl,sc}.n<N>.s<SEED>.h5 with <file>.{validation,test}.json, prints the tables (markdown) and
# draws the figure (`rung plot --table`): test median SC against N for TL and DL (mean over the seeds) and the
# IPA-as-RPA baseline, OUT_DIR/learning_curves.{tsv,png,svg}. A model that was finished with the same command
# (OUT_DIR/<model>.cmd: flags, data, IPA model) is not trained again, so a stopped run resumes and a finished one
# only redraws; changed settings retrain. The tables and the figure hold this run's models only (its MODELS, N and
# seeds), not other files that an earlier run with other settings left in OUT_DIR.
# Hyper-parameters: the shipped models' (tools/model_settings.sh, doc/models.md). Environment: RUNG (rung
# executable), THREADS, MODELS (which of "tl dl sc" to train; default all three).
set -eu
. "$(dirname "$0")/model_settings.sh"
data=$1 split=$2 ipa=$3 out=$4 sizes=$5 seeds=${6:-0}
rung=${RUNG:-rung}
threads=${THREADS:-1}
mkdir -p "$out"
runs=""  # this run's models, <model>.n<N>.s<SEED>, for the tables and the figure
# the inputs' contents, so that a retrained IPA model or a new data set under the same name retrains the curves
sums="data $(cksum <"$data" | cut -d' ' -f1) ipa $(cksum <"$ipa" | cut -d' ' -f1)"
for seed in $seeds; do
  common="--data $data --split $split --threads $threads --seed $seed"
  for n in $sizes; do
    for m in ${MODELS:-tl dl sc}; do
      f="$out/$m.n$n.s$seed.h5"
      runs="$runs $m.n$n.s$seed"
      case $m in
        tl) set -- --target rpa --init "$ipa" $TL_FLAGS --lr $TL_LR --weight-decay $TL_WD ;;
        dl) set -- --target rpa $DL_FLAGS --lr $DL_LR --weight-decay $DL_WD ;;
        sc) set -- --target sc $SC_FLAGS --lr $SC_LR --weight-decay $SC_WD ;;
        *) echo "learning_curves: unknown model '$m' in MODELS (tl, dl, sc)" >&2; exit 2 ;;
      esac
      # a finished model is kept only if it was trained with this very command (settings, data, IPA model)
      cmd="train $common $* --max-train $n ($sums)"
      [ -f "$f" ] && [ -f "$f.test.json" ] && [ "$(cat "$f.cmd" 2>/dev/null)" = "$cmd" ] && continue
      rm -f "$f.cmd"
      "$rung" -q train $common "$@" --max-train "$n" -o "$f" >"$f.log" 2>&1
      for s in validation test; do
        "$rung" evaluate --model "$f" --data "$data" --split "$split" --subset $s --json "$f.$s.json" >/dev/null
      done
      echo "$cmd" >"$f.cmd"
    done
  done
done
# shellcheck disable=SC2086  # runs is a list of names without blanks
python3 - "$out" $runs <<'PY'
import collections, json, re, statistics, sys
rows = {}
for run in sys.argv[2:]:
    m = re.fullmatch(r"(tl|dl|sc)\.n(\d+)\.s(\d+)", run)
    if not m:
        sys.exit(f"learning_curves: unexpected model name {run!r} (MODELS takes tl, dl and sc; N and seeds integers)")
    f = f"{sys.argv[1]}/{run}.h5"
    v = json.load(open(f"{f}.validation.json"))["metrics"]
    rows[(m[1], int(m[2]), int(m[3]))] = (json.load(open(f"{f}.test.json"))["metrics"], v)
print("| model | N train | seed | test median SC | test median MSE | test mean SC | validation median SC |")
print("|---|---|---|---|---|---|---|")
for (k, n, s), (t, v) in sorted(rows.items()):
    if k != "sc":
        print(f"| {k.upper()} | {n} | {s} | {t['median_sc']:.3f} | {t['median_mse']:.3f} | {t['mean_sc']:.3f} | {v['median_sc']:.3f} |")
print("\n| model | N train | seed | test mean abs dSC | test median abs dSC | validation mean abs dSC |")
print("|---|---|---|---|---|---|")
for (k, n, s), (t, v) in sorted(rows.items()):
    if k == "sc":
        print(f"| SC | {n} | {s} | {t['mean_abs_sc_error']:.4f} | {t['median_abs_sc_error']:.4f} | {v['mean_abs_sc_error']:.4f} |")
# the figure's points: per model and N the mean over the seeds of the test median SC; the baseline is the
# test materials' own SC(IPA, RPA) (the same for every N)
curve = collections.defaultdict(list)
for (k, n, s), (t, v) in sorted(rows.items()):
    if k != "sc":
        curve[(k.upper(), n)].append(t["median_sc"])
        curve[("IPA as RPA baseline", n)].append(t["ipa_as_rpa"]["median_sc"])
with open(f"{sys.argv[1]}/learning_curves.tsv", "w") as f:
    f.write("series\tRPA training materials N\ttest median SC (mean over seeds)\n")
    for name in ("TL", "DL", "IPA as RPA baseline"):
        for (k, n), ys in sorted(curve.items(), key=lambda kv: kv[0][1]):
            if k == name:
                f.write(f"{k}\t{n}\t{statistics.mean(ys):.4f}\n")
PY
# a figure only when there are spectra models (MODELS=sc trains none)
[ "$(wc -l <"$out/learning_curves.tsv")" -gt 1 ] || exit 0
for ext in png svg; do
  "$rung" plot --table "$out/learning_curves.tsv" --title "Learning curves (test split)" -o "$out/learning_curves.$ext"
done
