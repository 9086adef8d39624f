#!/usr/bin/env python3
"""Tabulates tools/settings_study.sh: per material and variant, SC(IPA,RPA) and the similarity of each
variant's spectra to the default's (the paper's SC, the default as reference), the G block and the CPU time, as
`rung dataset compare default.h5 variant.h5` computes them from the variants' data sets.
   tools/settings_study.py WORKROOT  -> markdown table on stdout   (RUNG names the rung executable)"""
import json, os, subprocess, sys

root = sys.argv[1]
rung = os.environ.get("RUNG", "rung")
variants = [v for v in ["default", "nscf_k3000", "window30", "gblock999", "scf_k2000"] if os.path.isfile(f"{root}/{v}.h5")]
rows = {}
for v in variants:
    out = subprocess.run([rung, "dataset", "compare", f"{root}/default.h5", f"{root}/{v}.h5"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        sys.exit(f"rung dataset compare {v}: {out.stderr.strip()}")
    rows[v] = {r["id"]: r for r in map(json.loads, out.stdout.splitlines())}
print("| material | variant | SC(IPA,RPA) | SC(IPA vs default IPA) | SC(RPA vs default RPA) | G block | CPU (s) |")
print("|---|---|---|---|---|---|---|")
for mid in sorted(rows.get("default", {})):
    for v in variants:
        r = rows[v][mid]
        if r["status"] != "done" or "sc_rpa_vs_reference" not in r:
            print(f"| {mid} | {v} | {r['status']} | | | | |")
            continue
        name = f"{mid} {r['formula']}" if v == "default" else ""
        print(f"| {name} | {v} | {r['sc_ipa_rpa']:.4f} | {r['sc_ipa_vs_reference']:.4f} | "
              f"{r['sc_rpa_vs_reference']:.4f} | {r.get('n_g', '')} | {r.get('cpu_s', 0):.0f} |")
