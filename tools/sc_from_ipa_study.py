#!/usr/bin/env python3
"""How much does the IPA spectrum alone say about SC(IPA, RPA)? An upper bound for an SC estimator fed the
predicted IPA spectrum: the data set's own (computed) IPA traces stand in for the prediction, so a model of this
kind can only do worse with the predicted ones. Estimators, each fitted on the training materials:
  constant  the mean SC of the training labels;
  ridge     linear least squares with an L2 penalty on features of the IPA trace normalized to unit area
            (its area in 40 bins of 0.5 eV, first moment, width, the energy where 5 % of the area is reached,
            log of the area, the gap), the penalty chosen on validation;
  knn       the mean SC of the k training materials whose IPA traces (normalized to unit L2 norm) are closest in
            cosine similarity, k chosen on validation.
Every material with both spectra and a split subset counts; SC(IPA, RPA) is the data set's stored label.

  tools/sc_from_ipa_study.py DATA.h5 SPLIT_DIR     -> markdown on stdout
Needs numpy and h5py."""
import argparse

import h5py
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("split")
a = ap.parse_args()

subset_of = {}
for subset, name in (("train", "train_set.txt"), ("validation", "validation_set.txt"), ("test", "test_set.txt")):
    with open(f"{a.split}/{name}") as f:
        for line in f:
            if line.strip():
                subset_of[line.strip()] = subset


def stored(g, key):  # 16-bit spectra: value = offset + scale * stored (doc/dataset.md, "DATA.h5")
    d = g[key]
    v = d[()].astype(np.float64)
    return v * d.attrs["scale"] + d.attrs["offset"] if "scale" in d.attrs else v


w = np.linspace(0.0, 20.0, 2001)
rows = {"train": [], "validation": [], "test": []}
with h5py.File(a.data, "r") as f:
    for mid, g in f["materials"].items():
        if mid not in subset_of or "eps_imag_ipa" not in g or "eps_imag_rpa" not in g or "sc_ipa_rpa" not in g.attrs:
            continue
        rows[subset_of[mid]].append((stored(g, "eps_imag_ipa"), float(g.attrs["gap_eV"]), float(g.attrs["sc_ipa_rpa"])))


def features(ipa, gap):
    area = max(np.trapz(ipa, w), 1e-12)
    s = ipa / area
    bins = np.add.reduceat(s, np.arange(0, 2000, 50))[:40] * (w[1] - w[0])
    m1 = np.trapz(w * s, w)
    width = np.sqrt(max(np.trapz(w * w * s, w) - m1 * m1, 0.0))
    onset = w[np.argmax(np.cumsum(s) * (w[1] - w[0]) > 0.05)]
    return np.concatenate([bins, [m1 / 10, width / 10, onset / 10, gap / 10, np.log(area) / 5, 1.0]])


X = {k: np.array([features(ipa, gap) for ipa, gap, _ in v]) for k, v in rows.items()}
U = {k: np.array([ipa / np.sqrt(np.trapz(ipa * ipa, w)) for ipa, _, _ in v]) for k, v in rows.items()}
Y = {k: np.array([sc for _, _, sc in v]) for k, v in rows.items()}
mae = lambda p, k: float(np.mean(np.abs(p - Y[k])))

results = [("constant", "", {k: mae(np.full(len(Y[k]), Y["train"].mean()), k) for k in ("validation", "test")})]
best = None
for lam in (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0):
    A = X["train"]
    beta = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ Y["train"])
    r = {k: mae(X[k] @ beta, k) for k in ("validation", "test")}
    if best is None or r["validation"] < best[2]["validation"]:
        best = ("ridge", f"penalty {lam:g}", r)
results.append(best)
best = None
for k_nn in (1, 3, 5, 10, 20):
    r = {}
    for k in ("validation", "test"):
        nearest = np.argsort(-(U[k] @ U["train"].T), axis=1)[:, :k_nn]
        r[k] = mae(Y["train"][nearest].mean(axis=1), k)
    if best is None or r["validation"] < best[2]["validation"]:
        best = ("knn", f"k = {k_nn}", r)
results.append(best)

n = {k: len(v) for k, v in rows.items()}
print(f"SC(IPA, RPA) from the computed IPA trace alone: fitted on {n['train']} training materials, "
      f"chosen on {n['validation']} validation materials, scored on {n['test']} test materials\n")
print("| estimator | chosen on validation | mean abs dSC validation | mean abs dSC test | test / constant |")
print("|---|---|---|---|---|")
for name, choice, r in results:
    print(f"| {name} | {choice} | {r['validation']:.4f} | {r['test']:.4f} | {r['test'] / results[0][2]['test']:.2f} |")
