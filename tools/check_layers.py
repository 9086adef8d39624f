#!/usr/bin/env python3
"""Checks that rung's layers depend one way (doc/developing.md):

    core <- io <- {response, ml} <- dataset <- select <- {capi, cli, python}

Every `#include "<layer>/..."` in src/<layer>/ must name its own layer or one below it; response and ml,
and capi, cli and python, must not include each other. Inside src/io, the folders that name formats (qe, yambo,
spectra, structures) include their own folder and the shared top of io (the HDF5 wrapper, the run summary's type);
summary/ (which reader a path needs) may use qe/ and yambo/; yambo/ may also use qe/ (a YAMBO SAVE is read into QE's types), and structures/ too (pw.x input and QE's
XML), nothing else crosses. Prints each violation
(file:line) and exits 1 if any.

    tools/check_layers.py [SRC_DIR]
"""
import pathlib
import re
import sys

RANK = {"core": 0, "io": 1, "response": 2, "ml": 2, "dataset": 3, "select": 4, "capi": 5, "cli": 5, "python": 5}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([a-z_0-9]+)(/?)')
IO_FOLDERS = {"qe": set(), "yambo": {"qe"}, "spectra": set(), "structures": {"qe"}, "summary": {"qe", "yambo"}}


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1] / "src")
    bad = []
    checked = 0
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".hpp", ".cpp", ".h", ".in") or path.parent == src:
            continue
        layer = path.relative_to(src).parts[0]
        if layer not in RANK:
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(1) not in RANK:
                continue
            checked += 1
            other = m.group(1)
            if other != layer and RANK[other] >= RANK[layer]:
                bad.append(f"{path.relative_to(src.parent)}:{n}: {layer} includes {other} ({line.strip()})")
            elif layer == "io" and other == "io":
                parts = path.relative_to(src).parts
                mine = parts[1] if len(parts) > 2 else None  # None: the shared top of io
                theirs = m.group(2) if m.group(3) else None
                if mine is None and theirs is not None:
                    bad.append(f"{path.relative_to(src.parent)}:{n}: io's shared top includes io/{theirs}/ ({line.strip()})")
                elif mine is not None and mine not in IO_FOLDERS:
                    bad.append(f"{path.relative_to(src.parent)}:{n}: io/{mine}/ is not one of {sorted(IO_FOLDERS)}")
                elif theirs is not None and theirs != mine and theirs not in IO_FOLDERS.get(mine, set()):
                    bad.append(f"{path.relative_to(src.parent)}:{n}: io/{mine}/ includes io/{theirs}/ ({line.strip()})")
    for b in bad:
        print(b)
    print(f"{checked} includes checked, {len(bad)} going the wrong way")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
