#!/usr/bin/env python3
"""doc/models.md's tables from tools/train_models.sh's output (OUT_DIR/<model>.<subset>.json).
   tools/models_table.py OUT_DIR [THRESHOLD]   -> markdown on stdout"""
import json, os, statistics, subprocess, sys

out = sys.argv[1]
threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 0.9
load = lambda name, subset="test": json.load(open(f"{out}/{name}.{subset}.json"))
f = lambda x: f"{x:.3f}"

rpa, dl, ipa, sc = load("rpa"), load("rpa_dl"), load("ipa"), load("sc")
b = rpa["metrics"]["ipa_as_rpa"]
print("RPA spectra, test split (rung data) | n | median SC | mean SC | median MSE | median MAE")
print("|---|---|---|---|---|---|")
for name, m in [("TL (ipa.h5 -> rpa.h5)", rpa["metrics"]), ("DL (dl100 from scratch, rpa_dl.h5)", dl["metrics"]),
                ("IPA-as-RPA baseline (DFT IPA as prediction)", b)]:
    print(f"| {name} | {m['n']} | {f(m['median_sc'])} | {f(m['mean_sc'])} | {f(m['median_mse'])} | {f(m['median_mae'])} |")
m = ipa["metrics"]
print(f"\nIPA model on IPA test spectra: n {m['n']}, median SC {f(m['median_sc'])}, mean SC {f(m['mean_sc'])}, "
      f"median MSE {f(m['median_mse'])}, median MAE {f(m['median_mae'])}")
m = sc["metrics"]
print(f"\nSC model: n {m['n']}, |dSC| mean {f(m['mean_abs_sc_error'])}, median {f(m['median_abs_sc_error'])}")
rows = sc["materials"]
# the baseline an SC model must beat: a constant, the mean SC of the training subset
if not os.path.exists(f"{out}/sc.train.json"):
    subprocess.run([os.environ.get("RUNG", "rung"), "evaluate", "--model", f"{out}/sc.h5", "--data", sc["data"],
                    "--split", sc["split"], "--subset", "train", "--json", f"{out}/sc.train.json"],
                   check=True, stdout=subprocess.DEVNULL)
mean_train = statistics.mean(r["true"] for r in load("sc", "train")["materials"])
err = [abs(r["true"] - mean_train) for r in rows]
print(f"constant predictor (training mean SC {f(mean_train)}): |dSC| mean {f(statistics.mean(err))}, "
      f"median {f(statistics.median(err))}")
tp = sum(1 for r in rows if r["true"] < threshold and r["predicted"] < threshold)
fn = sum(1 for r in rows if r["true"] < threshold and r["predicted"] >= threshold)
fp = sum(1 for r in rows if r["true"] >= threshold and r["predicted"] < threshold)
tn = sum(1 for r in rows if r["true"] >= threshold and r["predicted"] >= threshold)
print(f"decision at SC {threshold}: RPA needed and predicted so {tp}, needed but missed {fn}, "
      f"not needed but predicted needed {fp}, not needed and predicted so {tn}")
