#!/usr/bin/env python3
"""Median SC of a model's predictions by cell size: does a model trained on small cells predict larger ones as well?

    tools/sc_by_cell_size.py STRUCTURES.jsonl [--exclude IDS.tsv] PER_MATERIAL.tsv...

PER_MATERIAL.tsv: `rung evaluate --per-material` files (id, formula, ipa_as_rpa_mse, ipa_as_rpa_sc, mae, mse, sc),
one per subset; the subset is read from the file name (...train..., ...validation..., ...test...).
--exclude: a per-material file whose ids are left out (e.g. the model's own training materials, from
`rung evaluate --subset train --per-material` on the data set the model was trained on).
STRUCTURES.jsonl: the structures (id, nsites) the data set was made from.
Prints a markdown table: atoms per cell, subset, n, median and mean SC of the model, median SC of the IPA as RPA.
"""
import json
import statistics
import sys


def read_tsv(path):
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        yield f[0], f[1], float(f[3]), float(f[6])


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    nsites = {}
    for line in open(argv[1]):
        d = json.loads(line)
        nsites[d["id"]] = d["nsites"]
    files, exclude, i = [], set(), 2
    while i < len(argv):
        if argv[i] == "--exclude":
            exclude |= {m for m, *_ in read_tsv(argv[i + 1])}
            i += 2
        else:
            files.append(argv[i])
            i += 1
    groups = {}
    for path in files:
        subset = next((s for s in ("train", "validation", "test") if s in path.rsplit("/", 1)[-1]), "?")
        for mid, formula, ipa_sc, sc in read_tsv(path):
            if mid in exclude:
                continue
            if mid not in nsites:
                sys.exit(f"{path}: material {mid} is not in {argv[1]}")
            groups.setdefault((nsites[mid], subset), []).append((sc, ipa_sc))
            groups.setdefault((nsites[mid], "all"), []).append((sc, ipa_sc))
    print("| atoms | subset | n | median SC | mean SC | IPA as RPA median SC |")
    print("|---|---|---|---|---|---|")
    for (n, subset), v in sorted(groups.items()):
        sc = [a for a, _ in v]
        print(f"| {n} | {subset} | {len(v)} | {statistics.median(sc):.3f} | {statistics.mean(sc):.3f} | "
              f"{statistics.median([b for _, b in v]):.3f} |")


if __name__ == "__main__":
    main(sys.argv)
