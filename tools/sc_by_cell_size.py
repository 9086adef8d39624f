#!/usr/bin/env python3
"""Median SC of a model's predictions by cell size: does a model trained on small cells predict larger ones as well?

    tools/sc_by_cell_size.py STRUCTURES.jsonl [--exclude IDS.tsv] PER_MATERIAL.tsv...

PER_MATERIAL.tsv: `rung evaluate --per-material` files, read by their header's column names (id, formula, sc and,
where the material has an IPA spectrum, ipa_as_rpa_sc), one per subset; the subset is read from the file name
(...train..., ...validation..., ...test...). A material whose SC is nan is counted apart, not averaged.
--exclude: a per-material file whose ids are left out (e.g. the model's own training materials, from
`rung evaluate --subset train --per-material` on the data set the model was trained on).
STRUCTURES.jsonl: the structures (id, nsites) the data set was made from.
Prints a markdown table: atoms per cell, subset, n, median and mean SC of the model, median SC of the IPA as RPA
(over the rows with an IPA spectrum; "(of m)" where those are fewer than n).
"""
import json
import math
import statistics
import sys


def read_tsv(path):
    """(id, formula, ipa_as_rpa_sc or nan, sc or nan) per row, by the header's column names."""
    columns = None
    for line in open(path):
        if not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if line.startswith("#"):
            # the header is the '# id<TAB>formula...' line; the '#' lines before it say what the numbers are of
            names = [c.strip() for c in line[1:].rstrip("\n").split("\t")]
            if names[0] == "id":
                columns = names
            continue
        if columns is None:
            sys.exit(f"{path}: no '# id<TAB>formula...' header line (not a `rung evaluate --per-material` file)")
        row = dict(zip(columns, f))
        yield row["id"], row.get("formula", ""), float(row.get("ipa_as_rpa_sc", "nan")), float(row.get("sc", "nan"))


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
    groups, nan_sc = {}, 0
    for path in files:
        subset = next((s for s in ("train", "validation", "test") if s in path.rsplit("/", 1)[-1]), "?")
        for mid, formula, ipa_sc, sc in read_tsv(path):
            if mid in exclude:
                continue
            if mid not in nsites:
                sys.exit(f"{path}: material {mid} is not in {argv[1]}")
            if math.isnan(sc):
                nan_sc += 1
                continue
            groups.setdefault((nsites[mid], subset), []).append((sc, ipa_sc))
            groups.setdefault((nsites[mid], "all"), []).append((sc, ipa_sc))
    print("| atoms | subset | n | median SC | mean SC | IPA as RPA median SC |")
    print("|---|---|---|---|---|---|")
    for (n, subset), v in sorted(groups.items()):
        sc = [a for a, _ in v]
        ipa = [b for _, b in v if not math.isnan(b)]
        # over the rows with an IPA spectrum only: say so where that is not all of n
        ipa_text = f"{statistics.median(ipa):.3f}" if ipa else "n/a"
        if ipa and len(ipa) < len(v):
            ipa_text += f" (of {len(ipa)})"
        print(f"| {n} | {subset} | {len(v)} | {statistics.median(sc):.3f} | {statistics.mean(sc):.3f} | {ipa_text} |")
    if nan_sc:
        print(f"\n{nan_sc} rows without an SC (nan) left out")


if __name__ == "__main__":
    main(sys.argv)
