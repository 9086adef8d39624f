#!/usr/bin/env python3
"""Tabulates tools/cost_study.sh: per material the CPU seconds of the scf, the nscf and the native solver (the
record's CPU minus the two pw.x runs) with the earlier protocol and with today's, their ratio, and the SC of the
new IPA and RPA traces against the old ones (`rung dataset compare old.h5 new.h5`, the old as reference).
   tools/cost_study.py WORKROOT  -> markdown table and a summary on stdout   (RUNG names the rung executable)"""
import json, os, shlex, statistics, subprocess, sys

root = sys.argv[1]
rung = shlex.split(os.environ.get("RUNG", "rung"))


def records(name):
    out = {}
    folder = f"{root}/{name}/records"
    for f in sorted(os.listdir(folder)):
        if f.endswith(".json") and not f.endswith(".lite.json"):
            r = json.load(open(f"{folder}/{f}"))
            out[r["id"]] = r
    return out


def stages(r):
    t = r["timings"]
    scf, nscf = t.get("scf_cpu_s", 0), t.get("nscf_cpu_s", 0)
    return scf, nscf, t["cpu_s"] - scf - nscf, t["cpu_s"]


old, new = records("old"), records("new")
cmp = subprocess.run(rung + ["dataset", "compare", f"{root}/old.h5", f"{root}/new.h5"], capture_output=True, text=True)
if cmp.returncode != 0:
    sys.exit(f"rung dataset compare: {cmp.stderr.strip()}")
sc = {r["id"]: r for r in map(json.loads, cmp.stdout.splitlines())}
print("| material | atoms | old CPU-s scf / nscf / solver / total | new CPU-s scf / nscf / solver / total | ratio | "
      "SC IPA | SC RPA | G old / new |")
print("|---|---|---|---|---|---|---|---|")
tot_old, tot_new, ratios, sc_ipa, sc_rpa = [0.0] * 4, [0.0] * 4, [], [], []
for mid in sorted(old):
    o, n = old[mid], new.get(mid)
    if o.get("status") != "done" or not n or n.get("status") != "done" or mid not in sc:
        print(f"| {mid} | {o.get('natoms', '')} | {o.get('status')} | {n.get('status') if n else 'missing'} | | | | |")
        continue
    so, sn = stages(o), stages(n)
    for i in range(4):
        tot_old[i] += so[i]
        tot_new[i] += sn[i]
    ratios.append(so[3] / sn[3])
    c = sc[mid]
    sc_ipa.append(c["sc_ipa_vs_reference"])
    sc_rpa.append(c["sc_rpa_vs_reference"])
    g = lambda r: r["rpa_provenance"]["parameters"]["n_g"]
    print(f"| {mid} {o['formula']} | {o['natoms']} | {' / '.join(f'{x:.0f}' for x in so)} | "
          f"{' / '.join(f'{x:.0f}' for x in sn)} | {so[3] / sn[3]:.2f} | {c['sc_ipa_vs_reference']:.5f} | "
          f"{c['sc_rpa_vs_reference']:.5f} | {g(o)} / {g(n)} |")
if ratios:
    print()
    ratio = lambda a, b: f"{a / b:.2f}" if b > 0 else "n/a (none)"  # scf 0: the other tier's scf was reused
    print(f"{len(ratios)} materials; CPU of all: old {tot_old[3]:.0f} s, new {tot_new[3]:.0f} s, "
          f"ratio {ratio(tot_old[3], tot_new[3])} (scf {ratio(tot_old[0], tot_new[0])}, nscf {ratio(tot_old[1], tot_new[1])}, "
          f"solver {ratio(tot_old[2], tot_new[2])}); per material median ratio {statistics.median(ratios):.2f}, "
          f"min {min(ratios):.2f}; SC IPA min {min(sc_ipa):.5f}, SC RPA min {min(sc_rpa):.5f}")

    # the native solver's own stages (its provenance, wall seconds of the rank that ran it), summed
    def solver_stages(rs):
        t = [r["rpa_provenance"]["timings_s"] for r in rs if r.get("status") == "done"]
        tr, ch = sum(x.get("transitions_s", 0) for x in t), sum(x.get("chi0_s", 0) for x in t)
        tot = sum(x.get("total_s", 0) for x in t)
        builds = sum(x.get("chi0_builds", 1) for x in t)
        return f"transitions {tr:.0f} s, chi0 {ch:.0f} s, Dyson and the rest {tot - tr - ch:.0f} s ({builds} chi0 builds)"

    reused = [new[m]["scf_reused"]["cost_where_it_ran"] for m in new if "scf_reused" in new[m]]
    if reused:
        cpu = sum(c.get("cpu_s", 0) for c in reused)
        print(f"new: {len(reused)} materials reused the other tier's scf ({cpu:.0f} CPU-s where it ran, not counted "
              f"above; with it the new total is {tot_new[3] + cpu:.0f} s, ratio {ratio(tot_old[3], tot_new[3] + cpu)})")
    done = [m for m in old if m in new and old[m].get("status") == "done" and new[m].get("status") == "done"]
    print(f"solver stages, old: {solver_stages([old[m] for m in done])}")
    print(f"solver stages, new: {solver_stages([new[m] for m in done])}")
    wall = lambda rs: sum(r["timings"]["total_wall_s"] for r in rs)
    print(f"wall, summed over materials: old {wall([old[m] for m in done]):.0f} s, new {wall([new[m] for m in done]):.0f} s")
    retries = [m for m in done if new[m]["nbnd_nscf"] > new[m]["nbnd_optics"] and
               new[m]["nbnd_nscf"] > (old[m]["nbnd_nscf"] if old[m]["nbnd_nscf"] else 0)]
    print(f"nscf bands (computed / needed), summed: old {sum(old[m]['nbnd_nscf'] for m in done)} / "
          f"{sum(old[m]['nbnd_optics'] for m in done)}, new {sum(new[m]['nbnd_nscf'] for m in done)} / "
          f"{sum(new[m]['nbnd_optics'] for m in done)}; new above old (a retry): {', '.join(retries) or 'none'}")
