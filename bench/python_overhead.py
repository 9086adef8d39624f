#!/usr/bin/env python3
"""Overhead of the Python module's rung.spectrum over the C++ call it wraps (response::compute_spectrum), on the
Si case the solver benchmarks use (the si_shifted_888 fixture save, YAMBO's 5.2.4 Si run), RPA with 27 G along x
on the paper's grid. Both run the same request in-process; the C++ side is bench/spectrum_call.cpp. The rounds
alternate C++ and Python so that a busy machine slows both alike; the overhead is median(Python)/median(C++) - 1,
in wall time and in CPU time (user + system of the process: the fairer number on a shared machine). Both
processes run with the same thread counts (OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = --threads, default 1), set
before the module is imported: left unset, the solver's OpenMP loops would use every core on the Python side only.

    python_overhead.py BENCH_SPECTRUM_CALL PYTHON_MODULE_DIR SAVE [--rounds 3] [--runs 2] [--threads 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cpp")
    ap.add_argument("module_dir")
    ap.add_argument("save")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS and OPENBLAS_NUM_THREADS of both sides")
    ap.add_argument("--request", default='{"theory": "rpa", "block": "27", "directions": ["x"]}')
    a = ap.parse_args()
    # before `import rung`: the OpenMP and OpenBLAS pools read them when the library loads
    threads = {"OMP_NUM_THREADS": str(a.threads), "OPENBLAS_NUM_THREADS": str(a.threads)}
    os.environ.update(threads)
    sys.path.insert(0, a.module_dir)
    import rung
    request = json.loads(a.request)
    theory = request.pop("theory", "ipa")
    cpp, py, cpp_cpu, py_cpu = [], [], [], []
    rung.spectrum(a.save, theory=theory, **request)  # warm the page cache and the module once
    for _ in range(a.rounds):
        out = subprocess.run([a.cpp, a.save, a.request, str(a.runs)], check=True, capture_output=True, text=True,
                             env=dict(os.environ, **threads)).stdout
        cpp += [float(line.split()[1]) for line in out.splitlines() if line.startswith("cpp ")]
        cpp_cpu += [float(line.split()[3]) for line in out.splitlines() if line.startswith("cpp ")]
        for _ in range(a.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            r = rung.spectrum(a.save, theory=theory, **request)
            py.append(time.perf_counter() - t0)
            py_cpu.append(time.process_time() - c0)
            assert len(r["energy_eV"]) == 2001
    mc, mp = statistics.median(cpp), statistics.median(py)
    print(f"request: {a.request}")
    print(f"threads: {' '.join(f'{k}={v}' for k, v in threads.items())} (C++ and Python alike); {a.rounds} rounds of "
          f"{a.runs} calls on each side after one warm-up call each")
    print(f"C++    rung::response::compute_spectrum: median {mc:.3f} s over {len(cpp)} runs ({min(cpp):.3f}-{max(cpp):.3f})")
    print(f"Python rung.spectrum:                    median {mp:.3f} s over {len(py)} runs ({min(py):.3f}-{max(py):.3f})")
    cc, cp = statistics.median(cpp_cpu), statistics.median(py_cpu)
    print(f"CPU time: C++ median {cc:.3f} s, Python median {cp:.3f} s")
    print(f"overhead: wall {100 * (mp / mc - 1):+.2f} %, CPU {100 * (cp / cc - 1):+.2f} % (target <= 5 %)")


if __name__ == "__main__":
    main()
