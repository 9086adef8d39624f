#!/usr/bin/env python3
"""How each stage of rung's RPA scales with N_k, N_v*N_c, N_G and N_omega (not a test).

    bench/solver_scaling.py RUNG SAVE_8x8x8 [--kgrid N=SAVE ...] [--ecut E=SAVE ...] [--out DIR]
                            [--predict NK,NVNC,NG,NW[,NPW]]

Around a base run (SAVE, 59 G, bands 1:16, 0-20 eV in 2001 steps, 0.3 eV, x, 1 core) one size is varied at a
time: the G block (27, 59, 113, 169), the frequency count (501 ... 4001 on the same 0-20 eV), the conduction
bands (--bands 1:8, 1:12, 1:16: N_v*N_c = 16, 32, 48), with --kgrid the k grid and with --ecut the plane-wave
basis (other QE saves of the same crystal: another grid, another wavefunction cut-off; N_pw is the provenance's
system.n_pw_mean). Every stage time of the output's provenance is fitted to t = c * x^alpha (least squares in
log-log, the best of two runs per point); the table lists alpha per stage and size. --predict extrapolates the
base stage times to another size with these exponents (t = t_base * prod (x / x_base)^alpha): an estimate
(without --ecut runs it does not know about a larger plane-wave basis).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

STAGES = ["transitions_s", "chi0_setup_s", "chi0_binning_s", "chi0_transform_s", "dyson_s", "total_s"]


def run(rung, save, extra, out):
    cmd = [rung, "-q", "spectrum", save, "--theory", "rpa", "--direction", "x", "-o", out + ".h5",
           "--yambo-text", out + ".txt", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    for line in open(out + ".txt"):
        if line.startswith("# provenance"):
            p = json.loads(line.split(":", 1)[1])
            s = p["system"]
            nvnc = s["n_transitions"] / s["n_k_full"]
            size = {"nk": s["n_k_full"], "nvnc": nvnc, "ng": p["parameters"]["n_g"], "nw": p["parameters"]["steps"],
                    "npw": s.get("n_pw_mean", float("nan"))}
            return size, p["timings_s"]
    sys.exit("no provenance in " + out + ".txt")


def best_of(rung, save, extra, out, repeats=2):
    best = None
    for i in range(repeats):
        size, t = run(rung, save, extra, f"{out}_{i}")
        if best is None or t["total_s"] < best[1]["total_s"]:
            best = (size, t)
    return best


def fit(xs, ys):
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0.003]
    if len(pts) < 2:
        return float("nan")
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx > 0 else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rung")
    ap.add_argument("save")
    ap.add_argument("--kgrid", action="append", default=[], help="N=SAVE: the same crystal on another k grid")
    ap.add_argument("--ecut", action="append", default=[], help="E=SAVE: the same crystal at another ecutwfc")
    ap.add_argument("--out", default=None)
    ap.add_argument("--only", default=None, help="comma-separated scans to run (ng,nw,nvnc,nk,npw); default all")
    ap.add_argument("--predict", default=None, help="NK,NVNC,NG,NW[,NPW] to extrapolate to")
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
    out = a.out or tempfile.mkdtemp(prefix="rung-scaling-")
    os.makedirs(out, exist_ok=True)
    rung = os.path.realpath(a.rung)
    base = ["--gblock", "59", "--bands", "1:16", "--steps", "2001"]
    scans = {
        "ng": [["--gblock", g, "--bands", "1:16", "--steps", "2001"] for g in ("27", "59", "113", "169")],
        "nw": [["--gblock", "59", "--bands", "1:16", "--steps", w] for w in ("501", "1001", "2001", "4001")],
        "nvnc": [["--gblock", "59", "--bands", b, "--steps", "2001"] for b in ("1:8", "1:12", "1:16")],
    }
    only = set(a.only.split(",")) if a.only else None
    points = {}
    for key, variants in scans.items():
        if only is None or key in only:
            points[key] = [best_of(rung, a.save, v, f"{out}/{key}_{i}") for i, v in enumerate(variants)]
    if a.kgrid and (only is None or "nk" in only):
        saves = [kv.split("=", 1)[1] for kv in a.kgrid] + [a.save]
        points["nk"] = [best_of(rung, s, base, f"{out}/nk_{i}") for i, s in enumerate(saves)]
    if a.ecut and (only is None or "npw" in only):
        saves = [kv.split("=", 1)[1] for kv in a.ecut]
        points["npw"] = [best_of(rung, s, base, f"{out}/npw_{i}") for i, s in enumerate(saves)]
    base_size, base_t = best_of(rung, a.save, base, f"{out}/base")

    print("rung RPA stage times against size (1 core, best of 2 runs per point; base: "
          f"N_k {base_size['nk']}, N_v*N_c {base_size['nvnc']:.0f}, N_G {base_size['ng']}, N_omega {base_size['nw']}, "
          f"N_pw {base_size['npw']:.0f})")
    alpha = {}
    for key, pts in points.items():
        xs = [p[0][key] for p in pts]
        print(f"\n{key}: " + ", ".join(f"{x:g}" for x in xs))
        for st in STAGES:
            ys = [p[1].get(st, 0.0) for p in pts]
            alpha[(key, st)] = fit(xs, ys)
            print(f"  {st:18s} " + " ".join(f"{y:7.3f}" for y in ys) + f"   alpha = {alpha[(key, st)]:5.2f}")
    print("\n| stage | base s | " + " | ".join(f"alpha({k})" for k in points) + " |")
    print("|---|---|" + "---|" * len(points))
    for st in STAGES:
        print(f"| {st} | {base_t.get(st, 0):.3f} | " +
              " | ".join(f"{alpha[(k, st)]:.2f}" for k in points) + " |")
    if a.predict:
        vals = [float(x) for x in a.predict.split(",")]
        target = dict(zip(["nk", "nvnc", "ng", "nw", "npw"], vals))
        print("\nextrapolated to " + ", ".join(f"{k} {v:g}" for k, v in target.items()) + " (estimate):")
        total = 0.0
        for st in STAGES[:-1]:
            t = base_t.get(st, 0.0)
            for k in points:
                al = alpha[(k, st)]
                if not math.isnan(al) and k in target:
                    t *= (target[k] / base_size[k]) ** al
            total += t
            print(f"  {st:18s} {t:9.1f} s")
        print(f"  {'sum':18s} {total:9.1f} s")
    with open(os.path.join(out, "scaling.json"), "w") as f:
        json.dump({"points": {k: v for k, v in points.items()}, "base": [base_size, base_t],
                   "alpha": {f"{k}:{s}": v for (k, s), v in alpha.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
