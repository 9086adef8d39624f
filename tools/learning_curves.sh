#!/bin/sh
# Learning curves like the paper's Fig. 2: the TL, DL and SC models of tools/train_models.sh trained on N of the
# training materials (`rung train --max-train N`: a fixed subset, nested in larger N), evaluated on validation
# and test.
#   tools/learning_curves.sh DATA.h5 SPLIT_DIR IPA_MODEL OUT_DIR "N1 N2 ..." ["SEED ..."]
# Writes OUT_DIR/{tl,dl,sc}.n<N>.s<SEED>.h5 with <file>.{validation,test}.json and prints the tables (markdown).
# Hyper-parameters: the shipped models' (doc/models.md). Environment: RUNG (rung executable), THREADS.
set -eu
data=$1 split=$2 ipa=$3 out=$4 sizes=$5 seeds=${6:-0}
rung=${RUNG:-rung}
threads=${THREADS:-1}
mkdir -p "$out"
for seed in $seeds; do
  common="--data $data --split $split --threads $threads --seed $seed"
  for n in $sizes; do
    for m in tl dl sc; do
      f="$out/$m.n$n.s$seed.h5"
      case $m in
        tl) set -- --target rpa --init "$ipa" --epochs 100 --batch 32 --lr 1e-4 --weight-decay 1e-4 ;;
        dl) set -- --target rpa --arch dl100 --epochs 500 --batch 20 --lr 1e-3 --weight-decay 1e-4 ;;
        sc) set -- --target sc --arch sc --epochs 200 --batch 64 --lr 1e-3 --weight-decay 0 ;;
      esac
      "$rung" -q train $common "$@" --max-train "$n" -o "$f" >"$f.log" 2>&1
      for s in validation test; do
        "$rung" evaluate --model "$f" --data "$data" --split "$split" --subset $s --json "$f.$s.json" >/dev/null
      done
    done
  done
done
python3 - "$out" <<'PY'
import glob, json, re, sys
rows = {}
for f in glob.glob(f"{sys.argv[1]}/*.h5.test.json"):
    m = re.match(r".*/(tl|dl|sc)\.n(\d+)\.s(\d+)\.h5\.test\.json$", f)
    if m:
        v = json.load(open(f.replace(".test.json", ".validation.json")))["metrics"]
        rows[(m[1], int(m[2]), int(m[3]))] = (json.load(open(f))["metrics"], v)
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
PY
