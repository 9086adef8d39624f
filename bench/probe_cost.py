#!/usr/bin/env python3
"""What the QE probe of `rung select` costs against the converged RPA it stands for (not a test).

    bench/probe_cost.py RUNG SAVE [SAVE ...] [--repeat 2]

For each QE save, in the same run on the same machine (best of --repeat runs, wall time of one process on
one core, start-up included):
  probe      rung spectrum --theory rpa --gblock 59 --direction x,y,z  (what `rung select` runs)
  converged  rung spectrum --theory rpa --converge                      (what `--launch native` runs: the
             ladder E, 2E, ... from 4 Ry to 300 G until SC >= 0.99 on x, y, z)
  block      rung spectrum --theory rpa --gblock N --direction trace    (one run at the converged block N)
and prints the ratios probe/converged and probe/block.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return dt


def provenance(path):
    import h5py  # only here: the provenance of the converged run names its block
    with h5py.File(path, "r") as f:
        p = f.attrs["provenance"]
        return json.loads(p if isinstance(p, str) else p.decode())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rung")
    ap.add_argument("saves", nargs="+")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    env_note = "OMP_NUM_THREADS=" + os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"# rung probe cost, best of {a.repeat}, one process, {env_note}")
    print(f"{'save':40s} {'probe s':>8s} {'conv. s':>8s} {'block':>6s} {'block s':>8s} {'probe/conv':>10s} {'probe/block':>11s}")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for save in a.saves:
            out = os.path.join(tmp, "s.h5")
            xyz = ["--direction", "x", "--direction", "y", "--direction", "z"]
            probe = min(timed([a.rung, "-q", "spectrum", save, "--theory", "rpa", "--gblock", "59", *xyz, "-o", out])
                        for _ in range(a.repeat))
            conv = min(timed([a.rung, "-q", "spectrum", save, "--theory", "rpa", "--converge", "-o", out])
                       for _ in range(a.repeat))
            n_g = provenance(out)["parameters"]["n_g"]
            block = min(timed([a.rung, "-q", "spectrum", save, "--theory", "rpa", "--gblock", str(n_g), "-o", out])
                        for _ in range(a.repeat))
            ratios.append(probe / conv)
            name = save if len(save) <= 40 else "..." + save[-37:]
            print(f"{name:40s} {probe:8.2f} {conv:8.2f} {n_g:6d} {block:8.2f} {probe / conv:10.3f} {probe / block:11.3f}")
    print(f"# probe / converged RPA: median {statistics.median(ratios):.3f}, max {max(ratios):.3f}")


if __name__ == "__main__":
    main()
