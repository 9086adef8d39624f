#!/usr/bin/env python3
"""Assembles one ensemble model file from model files trained separately (other seeds of the same setting):
the members are copied side by side (members/0 .. members/K-1) and ensemble_size is set, so that `rung predict`,
`rung evaluate` and `tools/sc_estimators.py` average them as they do the members of `rung train --ensemble K`.
The files must agree in target, architecture, weights type, element encoding, energy grid, training data set and
how they were trained on it (the split, its counts, the filters, the IPA source, max_train, loss and starting model):
members of other splits (a cross-validation fold's) would make an ensemble no split describes.

  tools/ensemble_of.py OUT.h5 MODEL.h5 [MODEL.h5 ...]

OUT.h5 stores no metrics (a member's would not be the ensemble's): evaluate it with `rung evaluate`."""
import json
import os
import sys
import tempfile

import h5py
import numpy as np

if len(sys.argv) < 3:
    sys.exit(__doc__)
out, ins = sys.argv[1], sys.argv[2:]
SAME = ("target", "architecture", "weights", "element_encoding", "training_dataset", "format", "format_version")
SAME_TRAINING = ("split", "counts", "filters", "ipa_source", "max_train", "loss", "init_fingerprint")


def training(f):
    return json.loads(f.attrs.get("training", "{}") or "{}")


def check_members():
    """Every file against the first, before anything is written."""
    for path in ins:
        if not os.path.isfile(path):
            sys.exit(f"{path}: no such file")
    with h5py.File(ins[0], "r") as first:
        for path in ins[1:]:
            with h5py.File(path, "r") as f:
                for key in SAME:
                    if str(f.attrs.get(key)) != str(first.attrs.get(key)):
                        sys.exit(f"{path}: attribute {key} differs from {ins[0]}'s")
                for key in SAME_TRAINING:
                    if training(f).get(key) != training(first).get(key):
                        sys.exit(f"{path}: training {key} differs from {ins[0]}'s")
                if not np.array_equal(f["energy_eV"][()], first["energy_eV"][()]):
                    sys.exit(f"{path}: energy grid differs from {ins[0]}'s")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        sys.exit(f"{out}: cannot write it, its folder {folder} does not exist")


def assemble(tmp):
    with h5py.File(ins[0], "r") as first, h5py.File(tmp, "w") as o:
        for k, v in first.attrs.items():
            if k != "metrics":
                o.attrs[k] = v
        o.create_dataset("energy_eV", data=first["energy_eV"][()])
        k_out = 0
        for path in ins:
            with h5py.File(path, "r") as f:
                for k in range(int(f.attrs["ensemble_size"])):
                    f.copy(f[f"members/{k}"], o.require_group("members"), name=str(k_out))
                    k_out += 1
        o.attrs["ensemble_size"] = np.array(k_out, dtype=first.attrs["ensemble_size"].dtype)
        o.attrs["assembled_from"] = " ".join(ins)
    return k_out


check_members()
# a temporary file of its own beside OUT (two runs at once do not share one), renamed into place when complete and
# removed on any failure
fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out) + ".tmp-", dir=os.path.dirname(os.path.abspath(out)))
os.close(fd)
umask = os.umask(0)
os.umask(umask)
os.chmod(tmp, 0o666 & ~umask)  # (mkstemp's file is the owner's alone)
try:
    n = assemble(tmp)
    os.replace(tmp, out)
except BaseException:
    os.unlink(tmp)
    raise
print(f"{out}: {n} members from {len(ins)} files")
