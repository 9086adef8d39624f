#!/usr/bin/env python3
"""Would a second, larger probe for the materials the first one leaves 'uncertain' make the decisions right more
often? Policy measured: the shipped 59-G probe with its correction and interval (CALIBRATION.json); when its
interval straddles the threshold, a second probe at the first block of the label's G-block history with at least
GMIN G-vectors (larger than the probe block, smaller than the label's block) decides instead, with its own
correction 1 - SC = a + b (1 - SC_second) fitted on the training rows and a split-conformal half-width (coverage
0.9) from the validation rows. A material whose history holds no such block stays 'uncertain' (launched).
Scored on validation + test as `rung calibrate` scores: right when the RPA is launched exactly when the label lies
below the threshold.

  tools/probe_escalation_study.py ROWS.json CALIBRATION.json [--gmin 80 100]   -> markdown on stdout
ROWS.json: `rung calibrate ... --no-model --rows ROWS.json` (each label's G-block history)."""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from probe_interval_study import decide, quantile, solve  # noqa: E402  (the same fit, interval and policy)

ap = argparse.ArgumentParser()
ap.add_argument("rows")
ap.add_argument("calibration")
ap.add_argument("--gmin", type=int, nargs="+", default=[80, 100])
a = ap.parse_args()
rows = json.load(open(a.rows))
probe = json.load(open(a.calibration))["probe"]
A1, B1, H1 = probe["alpha"], probe["beta"], probe["half_width"]


def second(r, gmin):
    for g, sc in r["history"]:
        if gmin <= g < r["label_n_g"] and g > r["probe_n_g"]:
            return g, sc
    return None


scored = [r for r in rows if r["subset"] in ("validation", "test") and r.get("sc_probe") is not None]
print(f"first probe: 1 - SC = {A1:.4f} + {B1:.4f} (1 - SC_probe), half-width {H1:.4f}; {len(scored)} validation + "
      "test materials\n")
print("| second probe | fit (n) | a, b | half-width (n validation) | mean abs dSC validation / test | right at 0.80 / 0.85 / 0.90 "
      "(escalated, no such block, still uncertain at 0.80) |")
print("|---|---|---|---|---|---|")


def launches(r, t, p2=None, h2=None):
    """whether the RPA is launched at threshold t, and which evidence decided ("first", "second", "uncertain",
    "none": no second block)"""
    p1 = 1 - (A1 + B1 * (1 - r["sc_probe"]))
    first = decide(p1, H1, t)
    if first != "uncertain":
        return first == "rpa-needed", "first"
    s = None if p2 is None else p2(r)
    if s is None:
        return True, "none"
    second_call = decide(s, h2, t)
    return second_call != "ipa-sufficient", ("uncertain" if second_call == "uncertain" else "second")


right = [100 * sum(launches(r, t)[0] == (r["label"] < t) for r in scored) / len(scored) for t in (0.8, 0.85, 0.9)]
print(f"| none (shipped) | | | | | {right[0]:.1f} / {right[1]:.1f} / {right[2]:.1f} % |")
for gmin in a.gmin:
    train = [{"x": second(r, gmin)[1], "y": r["label"]} for r in rows if r["subset"] == "train" and second(r, gmin)]
    pred, (a2, b2) = solve(train, lambda d: [1, 1 - d["x"]])  # 1 - SC = a + b (1 - SC_second)

    def p2(r, gmin=gmin, pred=pred):
        s = second(r, gmin)
        return None if s is None else pred({"x": s[1]})

    val = [r for r in rows if r["subset"] == "validation" and second(r, gmin)]
    h2 = quantile([p2(r) - r["label"] for r in val])
    err = {sub: statistics.mean(abs(p2(r) - r["label"]) for r in rows if r["subset"] == sub and second(r, gmin))
           for sub in ("validation", "test")}
    right, counts = [], {}
    for t in (0.8, 0.85, 0.9):
        out = [launches(r, t, p2, h2) for r in scored]
        right.append(100 * sum(o[0] == (r["label"] < t) for o, r in zip(out, scored)) / len(scored))
        if t == 0.8:
            counts = {k: sum(o[1] == k for o in out) for k in ("second", "uncertain", "none")}
    print(f"| first block >= {gmin} G | {len(train)} | {a2:.4f}, {b2:.4f} | {h2:.4f} ({len(val)}) | "
          f"{err['validation']:.4f} / {err['test']:.4f} | {right[0]:.1f} / {right[1]:.1f} / {right[2]:.1f} % "
          f"({counts['second'] + counts['uncertain']}, {counts['none']}, {counts['uncertain'] + counts['none']}) |")
