#!/usr/bin/python3
"""Validates share/pseudo against Alexandria's PBE gaps: for a sample of small structures from
alexandria_main_group.jsonl it runs pw.x scf (fixed occupations, a few empty bands, Gamma-centred grid of
spacing KSPACING, cutoff = the largest ecutwfc of the table among the structure's elements) on one core
and compares the gap on that grid with pbe_gap_indirect_eV (and the direct gap with pbe_gap_direct_eV).
Usage: tools/validate_pseudo_gaps.py JSONL WORKDIR [N=60 | ID,ID,...] [KSPACING=0.4]   -> WORKDIR/gaps.json
Every element of the table appears at least once (its smallest structure), then the smallest cells fill up."""
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
pseudo_dir = os.environ.get('RUNG_PSEUDO_DIR', os.path.join(here, '..', 'share', 'pseudo'))
table = json.load(open(os.path.join(pseudo_dir, 'table.json')))['elements']


def select(rows, n):
    rows = sorted(rows, key=lambda r: (r['nsites'], abs(np.linalg.det(np.array(r['lattice']))), r['id']))
    picked, seen = [], set()
    for el in sorted(table):
        for r in rows:
            if el in r['species'] and r['id'] not in seen:
                picked.append(r)
                seen.add(r['id'])
                break
    for r in rows:
        if len(picked) >= n:
            break
        if r['id'] not in seen:
            picked.append(r)
            seen.add(r['id'])
    return sorted(picked, key=lambda r: (r['nsites'], r['id']))


def kgrid(lattice, spacing):
    rec = 2 * math.pi * np.linalg.inv(np.array(lattice)).T
    n = [max(1, math.ceil(np.linalg.norm(b) / spacing)) for b in rec]
    # even divisions (as the paper's workflow): Gamma-centred even grids contain the zone-boundary X/M points
    return [k + 1 if k > 1 and k % 2 else k for k in n]


def write_input(r, ecut, k, path):
    species = sorted(set(r['species']))
    nel = sum(table[s]['z_valence'] for s in r['species'])
    nocc = int(round(nel)) // 2
    lines = [f"&control\n calculation='scf', verbosity='high', prefix='x', outdir='./tmp', pseudo_dir='{os.path.abspath(pseudo_dir)}'\n/",
             f"&system\n ibrav=0, nat={len(r['species'])}, ntyp={len(species)}, ecutwfc={ecut},"
             f" occupations='fixed', nbnd={nocc + 4}\n/",
             "&electrons\n conv_thr=1e-8, mixing_beta=0.5, electron_maxstep=60\n/", 'ATOMIC_SPECIES']
    lines += [f"{s} 1.0 {table[s]['file']}" for s in species]
    lines.append('CELL_PARAMETERS angstrom')
    lines += [' '.join(f'{x:.10f}' for x in v) for v in r['lattice']]
    lines.append('ATOMIC_POSITIONS crystal')
    lines += [f"{s} " + ' '.join(f'{x:.10f}' for x in p) for s, p in zip(r['species'], r['frac_coords'])]
    lines.append('K_POINTS automatic')
    lines.append(f'{k[0]} {k[1]} {k[2]} 0 0 0')
    open(path, 'w').write('\n'.join(lines) + '\n')
    return nel


def parse_bands(out, nocc):
    """VBM, CBM, direct gap (eV) from the band energies printed per k-point."""
    blocks = re.split(r'\n\s+k =.*bands \(ev\):\s*\n', out.split('End of self-consistent calculation')[-1])[1:]
    vbm, cbm, direct = -1e9, 1e9, 1e9
    for b in blocks:
        body = re.split(r'\n\s*\n\s*(?:occupation|highest|the Fermi|\s*k =)', '\n' + b.strip() + '\n')[0]
        e = [float(x) for x in re.findall(r'-?\d+\.\d+', body)]
        if len(e) <= nocc:
            continue
        vbm, cbm = max(vbm, e[nocc - 1]), min(cbm, e[nocc])
        direct = min(direct, e[nocc] - e[nocc - 1])
    return vbm, cbm, direct


def main():
    jsonl, work = sys.argv[1], sys.argv[2]
    ids = sys.argv[3].split(',') if len(sys.argv) > 3 and sys.argv[3].startswith('agm') else None
    n = int(sys.argv[3]) if len(sys.argv) > 3 and not ids else 60
    spacing = float(sys.argv[4]) if len(sys.argv) > 4 else 0.4
    rows = [json.loads(l) for l in open(jsonl)]
    os.makedirs(work, exist_ok=True)
    result_path = os.path.join(work, 'gaps.json')
    results = json.load(open(result_path)) if os.path.exists(result_path) else {}
    env = dict(os.environ, OMP_NUM_THREADS='1')
    sample = [r for r in rows if r['id'] in ids] if ids else select(rows, n)
    for r in sample:
        if r['id'] in results:
            continue
        d = os.path.join(work, r['id'])
        os.makedirs(d, exist_ok=True)
        ecut = max(table[s]['ecutwfc_Ry'] for s in r['species'])
        k = kgrid(r['lattice'], spacing)
        nel = write_input(r, ecut, k, os.path.join(d, 'scf.in'))
        rec = dict(id=r['id'], formula=r['formula'], nsites=r['nsites'], ecut=ecut, k=k,
                   alex_indirect=r['pbe_gap_indirect_eV'], alex_direct=r['pbe_gap_direct_eV'])
        if abs(nel - round(nel)) > 1e-6 or int(round(nel)) % 2:
            rec['error'] = 'odd electron count'
        else:
            t0 = time.time()
            try:
                p = subprocess.run(['pw.x', '-in', 'scf.in'], cwd=d, env=env, capture_output=True, text=True,
                                   timeout=600)
            except subprocess.TimeoutExpired:
                p = subprocess.CompletedProcess([], -9, '', '')
            rec['cpu_s'] = round(time.time() - t0, 1)
            open(os.path.join(d, 'scf.out'), 'w').write(p.stdout)
            subprocess.run(['rm', '-rf', os.path.join(d, 'tmp')])
            if 'convergence NOT achieved' in p.stdout:
                rec['error'] = 'scf not converged (fixed occupations)'
            elif p.returncode != 0 or 'End of self-consistent calculation' not in p.stdout:
                rec['error'] = f'pw.x failed (rc {p.returncode})'
            else:
                vbm, cbm, direct = parse_bands(p.stdout, int(round(nel)) // 2)
                rec.update(gap=round(cbm - vbm, 4), gap_direct=round(direct, 4))
                rec['d_indirect'] = round(rec['gap'] - rec['alex_indirect'], 4)
                rec['d_direct'] = round(rec['gap_direct'] - rec['alex_direct'], 4)
        results[r['id']] = rec
        json.dump(results, open(result_path + '.tmp', 'w'), indent=1)
        os.replace(result_path + '.tmp', result_path)
        print(json.dumps(rec), flush=True)
    ok = [v for v in results.values() if 'gap' in v]
    if ok:
        di = np.abs([v['d_indirect'] for v in ok])
        dd = np.abs([v['d_direct'] for v in ok])
        print(f'{len(ok)} structures: |dgap indirect| median {np.median(di):.3f} eV, worst {di.max():.3f} eV; '
              f'|dgap direct| median {np.median(dd):.3f} eV, worst {dd.max():.3f} eV; '
              f'cpu {sum(v.get("cpu_s", 0) for v in results.values()):.0f} s')


if __name__ == '__main__':
    main()
