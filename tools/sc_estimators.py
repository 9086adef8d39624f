#!/usr/bin/env python3
"""Compares the estimators of SC(IPA, RPA) from a structure alone on a data set's split subsets:
  direct   the SC model's regression (sc.h5),
  spectra  SC computed from the predicted RPA spectrum against the predicted IPA spectrum (rpa.h5, ipa.h5),
  mean     the mean of the two,
  constant the mean SC of the training materials.
Labels and split come from `rung evaluate` on the data set; predictions from `rung predict --json`.

  tools/sc_estimators.py MODELS_DIR DATA.h5 SPLIT_DIR STRUCTURES.jsonl [--threshold 0.9 ...]  -> markdown on stdout
Environment: RUNG (rung executable). A validation or test material missing from STRUCTURES.jsonl or without both
predicted spectra is left out of the tables; how many, and why, goes to stderr."""
import argparse, json, math, os, statistics, subprocess, sys, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("models")
ap.add_argument("data")
ap.add_argument("split")
ap.add_argument("structures")
ap.add_argument("--threshold", type=float, action="append")
a = ap.parse_args()
rung = os.environ.get("RUNG", "rung")
thresholds = a.threshold or [0.8, 0.85, 0.9]


def labels(subset):
    out = os.path.join(tmp, f"sc.{subset}.json")
    subprocess.run([rung, "evaluate", "--model", os.path.join(a.models, "sc.h5"), "--data", a.data, "--split", a.split,
                    "--subset", subset, "--json", out], check=True, stdout=subprocess.DEVNULL)
    return {m["id"]: m for m in json.load(open(out))["materials"]}


def sc(x, y, h):  # SC = 1 - int|x - y| / int|y| (trapezoid rule on a uniform grid)
    def trap(v):
        return h * (sum(v) - 0.5 * (v[0] + v[-1]))
    iad, iy = trap([abs(p - q) for p, q in zip(x, y)]), trap([abs(q) for q in y])
    # as rung's spectral_distance (src/core/metrics.cpp): NaN stays NaN; an all-zero reference gives 1 when the
    # spectra agree, else -inf
    if math.isnan(iad) or math.isnan(iy):
        return math.nan
    return 1 - iad / iy if iy > 0 else (1.0 if iad == 0 else -math.inf)


with tempfile.TemporaryDirectory(prefix="rung_sc_est_") as tmp:
    subsets = {s: labels(s) for s in ("train", "validation", "test")}
    ids = set(subsets["validation"]) | set(subsets["test"])
    rows = [l for l in open(a.structures) if l.strip() and json.loads(l)["id"] in ids]
    in_structures = {json.loads(l)["id"] for l in rows}
    if len(in_structures) < len(ids):
        absent = sorted(ids - in_structures, key=str)
        print(f"sc_estimators: {len(absent)} of {len(ids)} validation + test materials are not in {a.structures} "
              f"and are left out (no prediction): {', '.join(map(str, absent[:10]))}"
              + (" ..." if len(absent) > 10 else ""), file=sys.stderr)
    js = os.path.join(tmp, "structures.jsonl")
    with open(js, "w") as f:
        f.writelines(rows)
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
    """ranks from 0, tied values sharing the mean of their ranks"""
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    k = 0
    while k < len(order):
        e = k
        while e + 1 < len(order) and v[order[e + 1]] == v[order[k]]:
            e += 1
        for j in range(k, e + 1):
            r[order[j]] = 0.5 * (k + e)
        k = e + 1
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
    if len(keep) < len(members):
        gone = [i for i in members if i not in keep]
        absent = sum(i not in in_structures for i in gone)
        print(f"sc_estimators: {name}: {len(gone)} of {len(members)} materials left out, without both predicted "
              f"spectra ({absent} of them not in {a.structures}, {len(gone) - absent} not predicted by "
              f"`rung predict`)", file=sys.stderr)
    if not keep:
        print(f"| {name} | 0 | (no material with both predictions) |" + " |" * (3 + len(thresholds)))
        continue
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
