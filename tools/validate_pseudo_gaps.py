#!/usr/bin/python3
"""Validates share/pseudo against Alexandria's PBE gaps: for a sample of small structures from
alexandria_main_group.jsonl it runs the data-set factory's pw.x scf (`rung dataset pw-input`: spglib's primitive
cell, fixed occupations, four empty bands, the table's cutoff, K_DENSITY k-points per reciprocal atom) on one
core, reads the KS gaps with `rung info SAVE --json`, and compares them with pbe_gap_indirect_eV and
pbe_gap_direct_eV.
Usage: tools/validate_pseudo_gaps.py JSONL WORKDIR [N=60 | ID,ID,...] [K_DENSITY=1000]   -> WORKDIR/gaps.json
Every element of the table appears at least once (its smallest structure), then the smallest cells fill up.
RUNG names the rung executable (default: rung on the PATH)."""
import json
import os
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


def rung(*args, items_may_fail=False):
    """Runs rung with `args`; its stdout. items_may_fail: exit status 2 with lines on stdout is a run whose failed
    items are among them (`rung dataset pw-input`: a structure that fails has its {"error": ...} line)."""
    p = subprocess.run([os.environ.get('RUNG', 'rung'), *args], capture_output=True, text=True)
    if p.returncode != 0 and not (items_may_fail and p.returncode == 2 and p.stdout.strip()):
        sys.exit(f"rung {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def main():
    jsonl, work = sys.argv[1], sys.argv[2]
    ids = sys.argv[3].split(',') if len(sys.argv) > 3 and sys.argv[3].startswith('agm') else None
    n = int(sys.argv[3]) if len(sys.argv) > 3 and not ids else 60
    k_density = float(sys.argv[4]) if len(sys.argv) > 4 else 1000
    rows = {r['id']: r for r in map(json.loads, open(jsonl))}
    os.makedirs(work, exist_ok=True)
    result_path = os.path.join(work, 'gaps.json')
    results = json.load(open(result_path)) if os.path.exists(result_path) else {}
    env = dict(os.environ, OMP_NUM_THREADS='1')
    sample = [rows[i] for i in ids if i in rows] if ids else select(list(rows.values()), n)
    todo = [r['id'] for r in sample if r['id'] not in results]
    planned = [json.loads(l) for l in rung('dataset', 'pw-input', '--structures', jsonl, '--ids', ','.join(todo),
                                           '--out-dir', work, '--pseudo-dir', pseudo_dir,
                                           '--k-density', str(k_density), items_may_fail=True).splitlines()] if todo else []
    for plan in planned:
        r = rows[plan['id']]
        rec = dict(id=r['id'], formula=r['formula'], nsites=r['nsites'],
                   alex_indirect=r['pbe_gap_indirect_eV'], alex_direct=r['pbe_gap_direct_eV'])
        nel = plan.get('valence_electrons', 0)
        if 'error' in plan:
            rec['error'] = plan['error']
        elif abs(nel - round(nel)) > 1e-6 or int(round(nel)) % 2:
            rec['error'] = 'odd electron count'
        else:
            rec.update(ecut=plan['ecutwfc_Ry'], k=plan['k'])
            d = os.path.dirname(plan['input'])
            t0 = time.time()
            try:
                p = subprocess.run(['pw.x', '-in', 'scf.in'], cwd=d, env=env, capture_output=True, text=True,
                                   timeout=600)
            except subprocess.TimeoutExpired:
                p = subprocess.CompletedProcess([], -9, '', '')
            rec['cpu_s'] = round(time.time() - t0, 1)
            open(os.path.join(d, 'scf.out'), 'w').write(p.stdout)
            if 'convergence NOT achieved' in p.stdout:
                rec['error'] = 'scf not converged (fixed occupations)'
            elif p.returncode != 0 or 'End of self-consistent calculation' not in p.stdout:
                rec['error'] = f'pw.x failed (rc {p.returncode})'
            else:
                info = json.loads(rung('info', os.path.join(d, 'out', 'rung.save'), '--json'))
                if info.get('gap_indirect_eV') is None:
                    rec['error'] = 'no KS gap (a metal with these pseudopotentials)'
                else:
                    rec.update(gap=round(info['gap_indirect_eV'], 4), gap_direct=round(info['gap_direct_eV'], 4))
                    rec['d_indirect'] = round(rec['gap'] - rec['alex_indirect'], 4)
                    rec['d_direct'] = round(rec['gap_direct'] - rec['alex_direct'], 4)
            subprocess.run(['rm', '-rf', os.path.join(d, 'out')])
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
