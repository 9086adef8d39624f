#!/usr/bin/env python3
"""OPTIMATE predictions for the structures of a CIF folder, read by pymatgen.

    predict_cif_folder.py FOLDER [N]

Reads the first N (default 10) CIFs of FOLDER with pymatgen, predicts the IPA spectrum (Im eps of the trace) and
the RPA's similarity SC(IPA, RPA) for all of them in one batched call each, and prints a table.
"""
import pathlib
import sys

import numpy as np
from pymatgen.core import Structure

import rung


def main(folder, n=10):
    files = sorted(pathlib.Path(folder).glob("*.cif"))[: int(n)]
    structures = [Structure.from_file(str(f)) for f in files]
    ipa = rung.predict(structures, target="ipa")
    sc = rung.predict(structures, target="sc")
    rows = []
    for f, s, p, q in zip(files, structures, ipa, sc):
        peak = float(p["energy_eV"][int(np.argmax(p["eps_imag"]))])
        rows.append((f.name, s.composition.reduced_formula, peak, q["sc"]))
        print(f"{f.name:24s} {s.composition.reduced_formula:12s} Im eps peak at {peak:5.2f} eV   "
              f"SC(IPA,RPA) = {q['sc']:.3f}")
    return rows


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:3])
