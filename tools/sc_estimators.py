#!/usr/bin/env python3
"""Compares the estimators of SC(IPA, RPA) from a structure alone on a data set's split subsets:
  direct   the SC model's regression (sc.h5),
  spectra  SC computed from the predicted RPA spectrum against the predicted IPA spectrum (rpa.h5, ipa.h5),
  mean     the mean of the two,
  constant the mean SC of the training materials.
Labels and split come from `rung evaluate` on the data set; predictions from `rung predict --json`.

  tools/sc_estimators.py MODELS_DIR DATA.h5 SPLIT_DIR STRUCTURES.jsonl [--threshold 0.9 ...]  -> markdown on stdout
Environment: RUNG (rung executable)."""
import argparse, json, os, statistics, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("models")
ap.add_argument("data")
ap.add_argument("split")
ap.add_argument("structures")
ap.add_argument("--threshold", type=float, action="append")
a = ap.parse_args()
rung = os.environ.get("RUNG", "rung")
thresholds = a.threshold or [0.8, 0.85, 0.9]
tmp = tempfile.mkdtemp(prefix="rung_sc_est_")


def labels(subset):
    out = os.path.join(tmp, f"sc.{subset}.json")
    subprocess.run([rung, "evaluate", "--model", os.path.join(a.models, "sc.h5"), "--data", a.data, "--split", a.split,
                    "--subset", subset, "--json", out], check=True, stdout=subprocess.DEVNULL)
    return {m["id"]: m for m in json.load(open(out))["materials"]}


def sc(x, y, h):  # SC = 1 - int|x - y| / int|y| (trapezoid rule on a uniform grid)
    def trap(v):
        return h * (sum(v) - 0.5 * (v[0] + v[-1]))
    return 1 - trap([abs(p - q) for p, q in zip(x, y)]) / trap([abs(q) for q in y])


subsets = {s: labels(s) for s in ("train", "validation", "test")}
ids = set(subsets["validation"]) | set(subsets["test"])
rows = [l for l in open(a.structures) if json.loads(l)["id"] in ids]
js = os.path.join(tmp, "structures.jsonl")
open(js, "w").writelines(rows)
pred = {}
for target in ("ipa", "rpa"):
    p = subprocess.run([rung, "predict", "--model", os.path.join(a.models, f"{target}.h5"), "--json", js],
                       check=True, capture_output=True, text=True)
    d = json.loads(p.stdout)
    h = (d["energy_eV"]["max"] - d["energy_eV"]["min"]) / (d["energy_eV"]["points"] - 1)
    for m in d["predictions"]:
        pred.setdefault(m["id"], {})[target] = m["eps_imag"]
const = statistics.mean(m["true"] for m in subsets["train"].values())

print(f"| subset | n | estimator | mean abs dSC | median abs dSC | Spearman | "
      + " | ".join(f"right at {t}" for t in thresholds) + " |")
print("|---|---|---|---|---|---|" + "---|" * len(thresholds))


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    for k, i in enumerate(order):
        r[i] = k
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    num = sum((p - mx) * (q - my) for p, q in zip(rx, ry))
    den = (sum((p - mx) ** 2 for p in rx) * sum((q - my) ** 2 for q in ry)) ** 0.5
    return num / den if den else float("nan")


for name, members in (("validation", subsets["validation"]), ("test", subsets["test"]),
                      ("validation+test", {**subsets["validation"], **subsets["test"]})):
    keep = [i for i in members if i in pred and "ipa" in pred[i] and "rpa" in pred[i]]
    truth = [members[i]["true"] for i in keep]
    est = {"direct (sc.h5)": [min(1.0, members[i]["predicted"]) for i in keep],
           "from spectra (rpa.h5 vs ipa.h5)": [sc(pred[i]["rpa"], pred[i]["ipa"], h) for i in keep],
           f"constant (training mean {const:.3f})": [const] * len(keep)}
    est["mean of direct and from spectra"] = [0.5 * (p + q) for p, q in zip(*list(est.values())[:2])]
    for e, v in est.items():
        err = [abs(p - t) for p, t in zip(v, truth)]
        right = [100 * sum((p < t0) == (t < t0) for p, t in zip(v, truth)) / len(v) for t0 in thresholds]
        rho = spearman(v, truth) if not e.startswith("constant") else float("nan")
        print(f"| {name} | {len(v)} | {e} | {statistics.mean(err):.4f} | {statistics.median(err):.4f} | "
              f"{rho:.2f} | " + " | ".join(f"{r:.1f} %" for r in right) + " |")
