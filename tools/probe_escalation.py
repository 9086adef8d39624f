#!/usr/bin/env python3
"""How right the probe's decisions could be with a larger block (doc/selection.md, "A larger probe").

    tools/probe_escalation.py ROWS.json

ROWS.json: `rung calibrate --rows` (each material's split subset, converged label, label block and the SC(IPA,
RPA) of every block its convergence tried). For two probes, the 59-G probe (the first block of at least 59 G, as
`rung select` runs it) and the convergence's first step E (the first block above the probe and below the label
block 2E), it fits the same correction as `rung calibrate` (1 - SC = a + b (1 - SC_probe), least squares on the
training materials), the split-conformal 90 % half-width on the validation materials, and prints mean |dSC| and
the share of right decisions at 0.80 / 0.85 / 0.90 on validation + test ('uncertain' launches, as the policy
does); then the staged policy: the 59-G probe, and for an 'uncertain' call the block E (the converged run's own
first step) decides.
"""
import json
import math
import sys

import numpy as np


def first_block(history, at_least):
    return next(((g, s) for g, s in history if g >= at_least), None)


def load(path):
    out = []
    for r in json.load(open(path)):
        probe = first_block(r["history"], 59)
        steps = [(g, s) for g, s in r["history"] if probe and probe[0] < g < r["label_n_g"]]
        out.append(dict(subset=r["subset"], label=r["label"], formula=r["formula"], label_n_g=r["label_n_g"],
                        probe=probe, e_block=steps[0] if steps else None))
    return out


def fit(rows, key, coverage=0.9):
    train = [o for o in rows if o["subset"] == "train" and o[key]]
    x = np.array([1 - o[key][1] for o in train])
    y = np.array([1 - o["label"] for o in train])
    a, b = np.linalg.lstsq(np.vstack([np.ones(len(x)), x]).T, y, rcond=None)[0]

    def predict(o):
        return 1 - (a + b * (1 - o[key][1]))

    res = sorted(abs(predict(o) - o["label"]) for o in rows if o["subset"] == "validation" and o[key])
    k = min(math.ceil((len(res) + 1) * coverage), len(res))
    return predict, res[k - 1], a, b, len(train), len(res)


def launches(sc, half, threshold):
    return sc - half < threshold  # rpa-needed or uncertain


def main(path):
    rows = load(path)
    held = [o for o in rows if o["subset"] in ("validation", "test")]
    fits = {key: fit(rows, key) for key in ("probe", "e_block")}
    print("| evidence | n | fit (a, b; training n) | half-width (validation n) | mean abs dSC | right at 0.80 "
          "(unc.) | right at 0.85 (unc.) | right at 0.90 (unc.) |")
    print("|---|---|---|---|---|---|---|---|")
    for key, name in (("probe", "59-G probe"), ("e_block", "block E (the convergence's first step)")):
        predict, half, a, b, n_train, n_val = fits[key]
        mats = [o for o in held if o[key]]
        cells = []
        for t in (0.8, 0.85, 0.9):
            right = sum(launches(predict(o), half, t) == (o["label"] < t) for o in mats)
            unc = sum(predict(o) - half < t <= predict(o) + half for o in mats)  # the interval straddles t
            cells.append(f"{100 * right / len(mats):.1f} % ({unc})")
        err = np.mean([abs(predict(o) - o["label"]) for o in mats])
        print(f"| {name} | {len(mats)} | {a:.4f}, {b:.4f}; {n_train} | ± {half:.4f} ({n_val}) | {err:.4f} | "
              + " | ".join(cells) + " |")
    p, hp = fits["probe"][0], fits["probe"][1]
    e, he = fits["e_block"][0], fits["e_block"][1]
    mats = [o for o in held if o["probe"]]
    cells, wrong = [], []
    for t in (0.8, 0.85, 0.9):
        right = staged = 0
        for o in mats:
            launch = launches(p(o), hp, t)
            if p(o) - hp < t <= p(o) + hp and o["e_block"]:  # 'uncertain' at the probe
                staged += 1
                launch = launches(e(o), he, t)
            right += launch == (o["label"] < t)
            if t == 0.8 and launch != (o["label"] < t):
                wrong.append(f"{o['formula']} (probe {p(o):.4f}, E {e(o) if o['e_block'] else float('nan'):.4f}, "
                             f"label {o['label']:.4f})")
        cells.append(f"{100 * right / len(mats):.1f} % ({staged} staged)")
    print(f"| staged: the probe, block E where it is uncertain | {len(mats)} | | | | " + " | ".join(cells) + " |")
    ratio = [o["e_block"][0] / o["label_n_g"] for o in held if o["e_block"]]
    print(f"\nblock E / label block, G-vectors: median {np.median(ratio):.2f} "
          f"(10-90 %: {np.percentile(ratio, 10):.2f}-{np.percentile(ratio, 90):.2f})")
    print("wrong at 0.80, staged: " + "; ".join(wrong))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
