#!/usr/bin/env python3
"""Labels recomputed with a higher G cap against the factory's own (doc/dataset.md, "Four-atom cells at the cap").

    tools/label_cap_check.py NEW_WORK_DIR FACTORY_WORK_DIR

NEW_WORK_DIR: the work folder of `rung dataset run --ids ... --solver-options '{"max_block": N}'` over materials
that FACTORY_WORK_DIR already holds. Prints a Markdown table: each label's block and SC(IPA, RPA) before and after,
and the paper's SC between the two RPA traces (and the two IPA traces) with the new label as the reference.
"""
import glob
import json
import os
import sys

import numpy as np


trapezoid = getattr(np, "trapezoid", None) or np.trapz  # NumPy 2 renamed it


def sc(x, y, w):
    x, y = np.asarray(x), np.asarray(y)
    return 1 - trapezoid(abs(x - y), w) / trapezoid(abs(y), w)


def convergence(record):
    """The label's G-block convergence, or None for a fixed-block record (nothing to compare a cap with)."""
    c = record.get("rpa_provenance", {}).get("convergence")
    return c if c and c.get("history") else None


def main(new_dir, old_dir):
    print("| material | old: G (shell Ry), SC(IPA,RPA), SC vs its E block | new: G (shell Ry), converged, "
          "SC(IPA,RPA) | SC(old label, new label) RPA trace | SC IPA old/new |")
    print("|---|---|---|---|---|")
    skipped = []
    for p in sorted(glob.glob(os.path.join(new_dir, "records", "*.json"))):
        if p.endswith(".lite.json"):
            continue
        n = json.load(open(p))
        old_path = os.path.join(old_dir, "records", os.path.basename(p))
        if n.get("status") != "done":
            skipped.append(f"{n.get('id', p)}: new record {n.get('status')}")
            continue
        if not os.path.isfile(old_path):
            skipped.append(f"{n['id']}: no record in {old_dir}")
            continue
        o = json.load(open(old_path))
        co, cn = convergence(o), convergence(n)
        if o.get("status") != "done" or co is None or cn is None:
            skipped.append(f"{n['id']}: old record {o.get('status')}, convergence history "
                           f"old {'yes' if co else 'no'} / new {'yes' if cn else 'no'}")
            continue
        if len(o["eps_imag_rpa"]) != len(n["eps_imag_rpa"]) or len(o["eps_imag_ipa"]) != len(n["eps_imag_ipa"]):
            skipped.append(f"{n['id']}: spectra of different lengths")
            continue
        w = np.linspace(0, 20, len(n["eps_imag_rpa"]))  # the data set's grid: 0-20 eV
        ho, hn = co["history"][-1], cn["history"][-1]
        print(f"| {n['id']} {n['formula']} | {co['chosen_n_g']} ({ho['shell_energy_Ry']:.1f}), {o['sc_ipa_rpa']:.3f}, "
              f"{ho.get('sc_vs_previous', float('nan')):.4f} | {cn['chosen_n_g']} ({hn['shell_energy_Ry']:.1f}), "
              f"{cn.get('converged')}, {n['sc_ipa_rpa']:.3f} | {sc(o['eps_imag_rpa'], n['eps_imag_rpa'], w):.4f} | "
              f"{sc(o['eps_imag_ipa'], n['eps_imag_ipa'], w):.5f} |")
    for line in skipped:  # left out of the table, and said so
        print(f"skipped {line}", file=sys.stderr)

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
