#!/usr/bin/env python3
"""Candidate intervals for `rung select`'s probe (doc/selection.md, "The probe"), from the rows of `rung calibrate`.

    rung calibrate --data share/dataset/rung-dataset.h5 --split ../shared/structures/splits --no-model \
        -o cal.json --rows rows.json
    tools/probe_interval_study.py rows.json [--cv N]

Each row holds the label's G-block history (SC(IPA, RPA) at every block the factory tried); SC_27 is SC at the
first block of at least 27 G below the probe block (the probe's own SC when there is none). Every candidate is
fitted on the training rows, its half-width calibrated on the validation rows (split conformal, the
ceil((n + 1) 0.9)-th smallest score); the test rows are only reported. Candidates:

    (a)  1 - SC = alpha + beta (1 - SC_59), constant half-width (what rung ships);
    (b)  the same prediction, normalized scores |residual| / sigma, half-width q sigma with sigma = s0 + f(probe):
         f = |SC_59 - SC_27|, the spread of SC_15, SC_27, SC_59, the probe block's size, SC_59; s0 chosen on the
         training rows (the s0 in 0, 0.002, ..., 0.6 of the smallest mean training half-width at 90 %, among those
         that keep sigma positive on every training row; the candidate is left out when none does), sigma at least
         0.001 on the other rows;
    (b') sigma = a + b |SC_59 - SC_27| (at least 0.001), the least-squares line of the |training residuals|;
    (c)  1 - SC = alpha + beta (1 - SC_59) + gamma (SC_27 - SC_59), constant half-width (`--second-g 27`);
    (c+b) (c) with sigma = s0 + |SC_59 - SC_27| (at least 0.001).

Also: the decisions of (a) with a zero half-width (the most any interval around (a)'s SC can reach), and with
--cv N, N random splits of the training + validation rows (fit / calibrate / score; no test row) in about the
proportions 94 / 24 / 24 (round 7's 142 rows, doc/selection.md), by formula as rung's own split (all polymorphs
of a formula in one part, so a part's count can exceed its share by a formula's rows).
"""
import json
import math
import random
import statistics as st
import sys

COVERAGE = 0.9
THRESHOLDS = (0.8, 0.85, 0.9)


def sc_at(row, g, below):
    for n, s in row["history"]:
        if n >= g:
            return s if n < below else None
    return None


def load(path):
    out = []
    for r in json.load(open(path)):
        d = {"id": r["id"], "formula": r["formula"], "subset": r["subset"], "y": r["label"], "x": r["sc_probe"],
             "ng": r["probe_n_g"]}
        x27 = sc_at(r, 27, r["probe_n_g"])
        d["x27"] = x27 if x27 is not None else d["x"]
        below27 = next((n for n, _ in r["history"] if n >= 27), r["probe_n_g"])
        x15 = sc_at(r, 15, below27)
        d["x15"] = x15 if x15 is not None else d["x27"]
        out.append(d)
    return out


def solve(rows, feats):
    """least squares of 1 - SC on the features (normal equations, Gauss-Jordan)"""
    X = [feats(d) for d in rows]
    y = [1 - d["y"] for d in rows]
    k = len(X[0])
    m = [[sum(x[i] * x[j] for x in X) for j in range(k)] + [sum(x[i] * t for x, t in zip(X, y))] for i in range(k)]
    for i in range(k):
        p = max(range(i, k), key=lambda r: abs(m[r][i]))
        m[i], m[p] = m[p], m[i]
        for r in range(k):
            if r != i:
                f = m[r][i] / m[i][i]
                m[r] = [a - f * b for a, b in zip(m[r], m[i])]
    w = [m[i][k] / m[i][i] for i in range(k)]
    return lambda d: min(1.0, 1 - sum(a * b for a, b in zip(w, feats(d)))), w


def one_block(d):
    return [1, 1 - d["x"]]


def movement(d):
    return [1, 1 - d["x"], d["x27"] - d["x"]]


def quantile(scores):
    n = len(scores)
    rank = math.ceil((n + 1) * COVERAGE)
    return math.inf if rank > n else sorted(abs(s) for s in scores)[rank - 1]


SIGMA_MIN = 0.001  # the least sigma of (b), (b') and (c+b): s0 keeps it positive on the training rows only
CV_PARTS = (94, 24, 24)  # fit / calibrate / score, as proportions of the training + validation rows


def cv_cuts(n):
    """the fit and calibrate counts of an n-row re-split (94 and 24 of 142 rows)"""
    total = sum(CV_PARTS)
    n_fit = round(n * CV_PARTS[0] / total)
    n_cal = round(n * CV_PARTS[1] / total)
    return n_fit, n_cal


def choose_s0(pred, f, rows):
    """the s0 of the smallest mean half-width on rows, or None when no s0 in 0..0.6 keeps sigma positive on all"""
    best = None
    for i in range(0, 301):
        s0 = 0.002 * i
        if any(s0 + f(d) <= 0 for d in rows):
            continue
        q = quantile([(pred(d) - d["y"]) / (s0 + f(d)) for d in rows])
        h = sum(q * (s0 + f(d)) for d in rows) / len(rows)
        if best is None or h < best[0]:
            best = (h, s0)
    return None if best is None else best[1]


def decide(sc, h, t):
    lo, hi = sc - h, min(1.0, sc + h)
    return "ipa-sufficient" if lo >= t else ("rpa-needed" if hi < t else "uncertain")


def score(rows, pred, half):
    """mean half-width, coverage, and per threshold (fraction right, uncertain); NaN for no rows"""
    if not rows:
        return math.nan, math.nan, [(math.nan, 0) for _ in THRESHOLDS]
    hs = [half(d) for d in rows]
    cov = sum(abs(pred(d) - d["y"]) <= h for d, h in zip(rows, hs)) / len(rows)
    dec = []
    for t in THRESHOLDS:
        right = unc = 0
        for d, h in zip(rows, hs):
            c = decide(pred(d), h, t)
            right += (c != "ipa-sufficient") == (d["y"] < t)
            unc += c == "uncertain"
        dec.append((right / len(rows), unc))
    return st.mean(hs), cov, dec


def candidates(train):
    pa, wa = solve(train, one_block)
    pc, wc = solve(train, movement)
    m27 = lambda d: abs(d["x"] - d["x27"])
    spread = lambda d: max(d["x15"], d["x27"], d["x"]) - min(d["x15"], d["x27"], d["x"])
    size = lambda d: d["ng"] / 59 - 1
    level = lambda d: d["x"] - 0.6
    out = [("(a) constant", pa, None)]

    def normalized(name, pred, f):
        # pred None: no s0 keeps sigma positive on the training rows (the candidate is left out)
        s0 = choose_s0(pred, f, train)
        if s0 is None:
            return (f"{name}, no s0 in 0..0.6 keeps sigma > 0 on the training rows", None, None)
        return (f"{name}, s0={s0:.3f}", pred, lambda d, f=f, s0=s0: max(SIGMA_MIN, s0 + f(d)))

    for name, f in (("abs(SC59-SC27)", m27), ("spread(15,27,59)", spread), ("n_G/59-1", size), ("SC59-0.6", level)):
        out.append(normalized(f"(b) s0+{name}", pa, f))
    _, (a, b) = solve([dict(d, y=1 - abs(pa(d) - d["y"])) for d in train], lambda d: [1, m27(d)])
    out.append((f"(b') a+b*abs(SC59-SC27) (at least 0.001), a={a:.4f} b={b:.4f}", pa,
                lambda d, a=a, b=b: max(SIGMA_MIN, a + b * m27(d))))
    out.append(("(c) +gamma(SC27-SC59), constant", pc, None))
    out.append(normalized("(c+b) s0+abs(SC59-SC27)", pc, m27))
    return out, wa, wc


def calibrated(pred, sigma, cal):
    sig = sigma or (lambda d: 1.0)
    q = quantile([(pred(d) - d["y"]) / sig(d) for d in cal])
    return lambda d: q * sig(d)


def fmt_dec(dec):
    return " | ".join(f"{100 * r:.1f} % ({u})" for r, u in dec)


def main():
    rows = load(sys.argv[1])
    cv = int(sys.argv[sys.argv.index("--cv") + 1]) if "--cv" in sys.argv else 0
    train = [d for d in rows if d["subset"] == "train"]
    val = [d for d in rows if d["subset"] == "validation"]
    test = [d for d in rows if d["subset"] == "test"]
    if len(train) < 3 or not val:
        sys.exit(f"probe_interval_study: needs at least 3 training rows and 1 validation row "
                 f"({len(train)} and {len(val)} in {sys.argv[1]})")
    cands, wa, wc = candidates(train)
    print(f"# {len(train)} training, {len(val)} validation, {len(test)} test rows; coverage {COVERAGE}")
    print(f"# (a) 1 - SC = {wa[0]:.4f} + {wa[1]:.4f} (1 - SC59); "
          f"(c) 1 - SC = {wc[0]:.4f} + {wc[1]:.4f} (1 - SC59) {wc[2]:+.4f} (SC27 - SC59)")
    head = " | ".join(f"right at {t:.2f} (unc.)" for t in THRESHOLDS)
    print(f"| candidate | materials | n | mean half-width | coverage | {head} |")
    print("|---|---|---|---|---|" + "---|" * len(THRESHOLDS))
    for name, pred, sigma in cands:
        if pred is None:
            print(f"| {name} | | | | | {' | '.join('' for _ in THRESHOLDS)} |")
            continue
        half = calibrated(pred, sigma, val)
        for sub, S in (("validation", val), ("test", test), ("validation+test", val + test)):
            h, cov, dec = score(S, pred, half)
            print(f"| {name} | {sub} | {len(S)} | {h:.4f} | {cov:.2f} | {fmt_dec(dec)} |")
    pa = cands[0][1]
    for sub, S in (("validation", val), ("test", test), ("validation+test", val + test)):
        print(f"| (a) zero half-width (the ceiling) | {sub} | {len(S)} | 0 |  | {fmt_dec(score(S, pa, lambda d: 0.0)[2])} |")
    if not cv:
        return
    pool = train + val
    n_fit, n_cal = cv_cuts(len(pool))
    if n_fit < 3 or n_cal < 1 or len(pool) - n_fit - n_cal < 1:
        sys.exit(f"probe_interval_study: {len(pool)} training + validation rows are too few for --cv "
                 f"({n_fit} / {n_cal} / {len(pool) - n_fit - n_cal})")
    print(f"\n# {cv} random splits by formula, about {n_fit} / {n_cal} / {len(pool) - n_fit - n_cal}, of the {len(pool)} "
          f"training + validation rows (seed 1)")
    print(f"| candidate | mean half-width | coverage | {head} |")
    print("|---|---|---|" + "---|" * len(THRESHOLDS))
    rng = random.Random(1)
    acc = {}  # candidate's position -> [name, one score per split, None where the candidate was left out]
    groups = {}  # by formula, as rung's own split: polymorphs of one formula never straddle fit and score
    for r in pool:
        groups.setdefault(r["formula"], []).append(r)
    groups = [groups[f] for f in sorted(groups)]
    for _ in range(cv):
        rng.shuffle(groups)
        fit, cal, ev = [], [], []
        for g in groups:  # whole formulas, each into the first part still short of its count
            (fit if len(fit) < n_fit else cal if len(cal) < n_cal else ev).extend(g)
        if not ev:
            continue
        for i, (name, pred, sigma) in enumerate(candidates(fit)[0]):
            entry = acc.setdefault(i, [name.split(", ")[0], []])
            entry[1].append(None if pred is None else score(ev, pred, calibrated(pred, sigma, cal)))
    for name, res in acc.values():
        res = [r for r in res if r is not None]
        if len(res) < cv:
            name += f" (fitted in {len(res)} of {cv} splits)"
        if not res:
            print(f"| {name} | | | {' | '.join('' for _ in THRESHOLDS)} |")
            continue
        dec = " | ".join(f"{100 * st.mean(r[2][k][0] for r in res):.1f} % ({st.mean(r[2][k][1] for r in res):.2f})"
                         for k in range(len(THRESHOLDS)))
        print(f"| {name} | {st.mean(r[0] for r in res):.4f} | {st.mean(r[1] for r in res):.3f} | {dec} |")
    print(f"\n# each against (a) on the same splits: narrower / wider half-width; a threshold with more (fewer) right")
    print("| candidate | narrower | wider | more right somewhere | fewer right somewhere |")
    print("|---|---|---|---|---|")
    base = acc[0][1]
    for name, res in list(acc.values())[1:]:
        pairs = [(r, b) for r, b in zip(res, base) if r is not None]  # the splits where the candidate was fitted
        if not pairs:
            print(f"| {name} | | | | |")
            continue
        n = len(pairs)
        more = sum(any(r[2][k][0] > b[2][k][0] for k in range(len(THRESHOLDS))) for r, b in pairs)
        fewer = sum(any(r[2][k][0] < b[2][k][0] for k in range(len(THRESHOLDS))) for r, b in pairs)
        print(f"| {name} | {100 * sum(r[0] < b[0] for r, b in pairs) / n:.0f} % | "
              f"{100 * sum(r[0] > b[0] for r, b in pairs) / n:.0f} % | {100 * more / n:.0f} % | {100 * fewer / n:.0f} % |")


if __name__ == "__main__":
    main()
