#!/usr/bin/env python3
"""rung's RPA against YAMBO 5.2.4 on the Si case of the YAMBO reference (not a test).

    bench/solver_yambo.py RUNG SAVE YAMBO_SP_DIR [--rounds 3] [--out DIR] [--no-mpi] [--no-threads]

SAVE is the QE save of the YAMBO reference's Si inputs (shifted 8x8x8 -> 2048 k, 16 bands; the test fixture
builds it as qe_runs/si_shifted_888/out/si.save), YAMBO_SP_DIR the folder with YAMBO's o-* outputs of that save.
Every case is `rung spectrum SAVE --bands 1:16 --direction x` on 0-20 eV, 2001 frequencies, 0.3 eV (rung's
defaults), run `--rounds` times in alternation; the table shows medians. "wall" is the whole process as
/usr/bin/time measures it (start-up included), "compute" rung's own timer (total_s of its provenance), "peak"
the maximum resident set size. OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = 1 (one core per rank), except for the
two ways of using two cores on the 113-G case: two ranks (`mpirun -np 2`) and one process with two OpenMP threads.

YAMBO itself is not run: its times are the ones recorded beside rung's on the same 2-core development machine
(yambo-5.2.4/Si/TIMINGS-same-machine.md of the shared reference data), same save, YAMBO 5.2.4 serial single
precision (no MPI, no OpenMP), median of 3 alternating rounds, its dipoles included (printed as "recorded"), not
its p2y conversion of the save (1.2-1.6 s there) or its init run (1.5 s), which rung does not need: rung reads the
QE save itself.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

# YAMBO 5.2.4 serial single precision as yambo-5.2.4/Si/TIMINGS-same-machine.md records it (wall s, median of its
# 3 rounds; peak RSS MB): not measured by this script.
YAMBO = {
    "ipa": {"wall": 2.84, "peak": 237, "ref": "o-ip_x.eps_q1_ip"},
    "rpa59": {"wall": 44.64, "peak": 370, "ref": "o-rpa_ng59_x.eps_q1_inv_rpa_dyson"},
    "rpa113": {"wall": 167.20, "peak": 660, "ref": "o-rpa_ng113_x.eps_q1_inv_rpa_dyson"},
}
CASES = [("ipa", ["--theory", "ipa"]), ("rpa59", ["--theory", "rpa", "--gblock", "59"]),
         ("rpa113", ["--theory", "rpa", "--gblock", "113"])]
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
STAGES = ["read_save_s", "transitions_s", "chi0_binning_s", "chi0_transform_s", "chi0_s", "dyson_s", "total_s"]


def run_spectrum(rung, save, args, out, ranks, threads=1):
    cmd = [rung, "-q", "spectrum", save, *args, "--bands", "1:16", "--direction", "x", "-o", out + ".h5",
           "--yambo-text", out + ".txt"]
    if ranks > 1:
        cmd = [*MPIRUN, "-np", str(ranks)] + cmd
    tfile = out + ".time"
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tfile] + cmd, capture_output=True, text=True,
                       env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    wall, rss_kb, user, sys_s = open(tfile).read().split()[-4:]
    prov = {}
    for line in open(out + ".txt"):
        if line.startswith("# provenance"):
            prov = json.loads(line.split(":", 1)[1])
            break
    t = prov.get("timings_s", {})
    return {"wall": float(wall), "peak": int(rss_kb) / 1024, "user": float(user), "sys": float(sys_s),
            **{k: t.get(k, float("nan")) for k in STAGES}}


def sc_vs(rung, h5, ref):
    if not os.path.exists(ref):
        return float("nan")
    r = subprocess.run([rung, "compare", h5, ref, "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["sc"]


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rung")
    ap.add_argument("save")
    ap.add_argument("yambo_dir")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-mpi", action="store_true", help="skip the 2-rank runs")
    ap.add_argument("--no-threads", action="store_true", help="skip the 2-thread runs")
    a = ap.parse_args()
    if not os.path.isdir(a.yambo_dir):
        sys.exit(f"solver_yambo.py: the YAMBO reference folder {a.yambo_dir} does not exist (it is "
                 f"reference/yambo-5.2.4/Si/yambo_sp of the shared data; CMake: -DRUNG_SHARED_DIR=...)")
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[v] = "1"
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    out = a.out or tempfile.mkdtemp(prefix="rung-bench-")
    os.makedirs(out, exist_ok=True)
    rung = os.path.realpath(a.rung)
    load0 = os.getloadavg()

    # start-up: the bare process
    startup = []
    for _ in range(10):
        r = subprocess.run(["/usr/bin/time", "-f", "%e", rung, "--version"], capture_output=True, text=True)
        startup.append(float(r.stderr.split()[-1]))

    # and under the launcher, two ranks (mpirun's own start-up, MPI_Init and MPI_Finalize)
    startup2 = []
    if not a.no_mpi:
        for _ in range(10):
            r = subprocess.run(["/usr/bin/time", "-f", "%e", *MPIRUN, "-np", "2", rung, "--version"],
                               capture_output=True, text=True)
            startup2.append(float(r.stderr.split()[-1]))

    res = {c: [] for c, _ in CASES}
    res2, res_t2 = [], []
    for rnd in range(a.rounds):
        for c, args in CASES:
            res[c].append(run_spectrum(rung, a.save, args, f"{out}/{c}_np1_r{rnd}", 1))
        if not a.no_mpi:
            res2.append(run_spectrum(rung, a.save, CASES[2][1], f"{out}/rpa113_np2_r{rnd}", 2))
        if not a.no_threads:
            res_t2.append(run_spectrum(rung, a.save, CASES[2][1], f"{out}/rpa113_t2_r{rnd}", 1, threads=2))
    load1 = os.getloadavg()

    print(f"rung vs YAMBO 5.2.4, Si shifted 8x8x8 (2048 k, 16 bands), 2001 frequencies, 0.3 eV, x; "
          f"1 core; median of {a.rounds} rounds")
    print("YAMBO: the recorded same-machine times of yambo-5.2.4/Si/TIMINGS-same-machine.md (serial, single "
          "precision, median of 3 rounds), not measured in this run")
    print()
    print("| case | YAMBO wall s (recorded) | rung wall s | ratio | rung peak MB (YAMBO) | SC vs YAMBO |")
    print("|---|---|---|---|---|---|")
    for c, _ in CASES:
        y = YAMBO[c]
        w = med(res[c], "wall")
        sc = sc_vs(rung, f"{out}/{c}_np1_r0.h5", os.path.join(a.yambo_dir, y["ref"]))
        print(f"| {c} | {y['wall']:.2f} | {w:.2f} | {y['wall'] / w:.1f}x | {med(res[c], 'peak'):.0f} ({y['peak']}) | "
              f"{sc:.6f} |")
    print()
    print("rung's stages (s, median): wall = start-up + compute; compute = read + transitions + chi0 + Dyson")
    print("| case | wall | user | sys | compute | transitions | chi0 | (binning) | (transform) | Dyson |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c, _ in CASES:
        rr = res[c]
        print(f"| {c} | {med(rr, 'wall'):.2f} | {med(rr, 'user'):.2f} | {med(rr, 'sys'):.2f} | "
              f"{med(rr, 'total_s'):.2f} | {med(rr, 'transitions_s'):.2f} | {med(rr, 'chi0_s'):.2f} | "
              f"{med(rr, 'chi0_binning_s'):.2f} | {med(rr, 'chi0_transform_s'):.2f} | {med(rr, 'dyson_s'):.2f} |")
    transport = "launcher's choice"
    if res2:
        for line in open(f"{out}/rpa113_np2_r0.txt"):
            if line.startswith("# provenance"):
                transport = json.loads(line.split(":", 1)[1]).get("mpi_transport", transport)
                break
    one = res["rpa113"]
    if res2 or res_t2:
        print()
        print("| rpa113 on two cores | wall s | compute s | peak MB per process | vs 1 core (wall / compute) | "
              "same spectrum as 1 core |")
        print("|---|---|---|---|---|---|")
        print(f"| 1 rank, 1 thread | {med(one, 'wall'):.2f} | {med(one, 'total_s'):.2f} | {med(one, 'peak'):.0f} | | |")
        for label, rows, tag in (("2 ranks (mpirun -np 2)", res2, "np2"), ("1 rank, 2 OpenMP threads", res_t2, "t2")):
            if not rows:
                continue
            r = subprocess.run([rung, "compare", f"{out}/rpa113_np1_r0.h5", f"{out}/rpa113_{tag}_r0.h5", "--json"],
                               capture_output=True, text=True, check=True)
            same = json.loads(r.stdout)["sc"]
            print(f"| {label} | {med(rows, 'wall'):.2f} | {med(rows, 'total_s'):.2f} | {med(rows, 'peak'):.0f} | "
                  f"{med(one, 'wall') / med(rows, 'wall'):.2f}x / {med(one, 'total_s') / med(rows, 'total_s'):.2f}x | "
                  f"SC {same:.6f} |")
    print()
    print(f"start-up (`rung --version`, 10 runs): median {statistics.median(startup):.3f} s, "
          f"max {max(startup):.3f} s")
    if startup2:
        print(f"start-up under the launcher (`mpirun -np 2 rung --version`, 10 runs): median "
              f"{statistics.median(startup2):.3f} s, max {max(startup2):.3f} s; MPI transport: {transport}")
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f}; outputs in {out}")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"np1": res, "np2_rpa113": res2, "threads2_rpa113": res_t2, "startup_s": startup, "startup_mpirun_np2_s": startup2,
                   "yambo_recorded": YAMBO, "loadavg": [load0, load1]}, f, indent=1)


if __name__ == "__main__":
    main()
