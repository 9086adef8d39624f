#!/usr/bin/env python3
"""Tabulates tools/settings_study.sh: per material and variant, SC(IPA,RPA) and the similarity of each
variant's spectra to the default's (paper's SC, trapezoid rule, the default as reference), plus CPU time.
   tools/settings_study.py WORKROOT  -> markdown table on stdout"""
import json, os, sys

def sc(x, ref, de=0.01):
    num = sum(0.5 * de * (abs(x[i] - ref[i]) + abs(x[i + 1] - ref[i + 1])) for i in range(len(x) - 1))
    den = sum(0.5 * de * (abs(ref[i]) + abs(ref[i + 1])) for i in range(len(ref) - 1))
    return 1 - num / den

root = sys.argv[1]
variants = [v for v in ["default", "nscf_k3000", "window30", "gblock999", "scf_k2000"] if os.path.isdir(f"{root}/{v}")]
records = {v: {f[:-5]: json.load(open(f"{root}/{v}/records/{f}")) for f in os.listdir(f"{root}/{v}/records")} for v in variants}
print("| material | variant | SC(IPA,RPA) | SC(IPA vs default IPA) | SC(RPA vs default RPA) | G block | CPU (s) |")
print("|---|---|---|---|---|---|---|")
for mid in sorted(records["default"]):
    base = records["default"][mid]
    for v in variants:
        r = records[v].get(mid)
        if r is None or r.get("status") != "done":
            print(f"| {mid} | {v} | {r.get('status') if r else 'missing'} | | | | |")
            continue
        name = f"{mid} {r['formula']}" if v == "default" else ""
        g = r.get("rpa_provenance", {}).get("parameters", {}).get("n_g", "")
        print(f"| {name} | {v} | {r['sc_ipa_rpa']:.4f} | {sc(r['eps_imag_ipa'], base['eps_imag_ipa']):.4f} | "
              f"{sc(r['eps_imag_rpa'], base['eps_imag_rpa']):.4f} | {g} | {r['timings']['cpu_s']:.0f} |")
