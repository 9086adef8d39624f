#!/usr/bin/env python3
"""Reads the ld1.x outputs of tools/make_pseudos.sh and writes share/pseudo/table.json:
recommended ecutwfc from the Bessel-basis convergence, the ghost check, and the transferability errors.
Usage: tools/pseudo_table.py PSEUDO_DIR LOG_DIR"""
import json
import math
import os
import re
import sys

# Eigenvalue tolerance (Ry) defining the recommended cutoff: every bound Bessel-basis eigenvalue within
# 1 mRy (14 meV) of its 120 Ry value, well below the 0.15 eV median gap error the validation allows
# (doc/pseudopotentials.md).
ECUT_TOL_RY = 1.0e-3
# Semicore levels (below -1.5 Ry) only need to sit right to within 3 mRy (40 meV at ~ -20..-50 eV).
ECUT_TOL_DEEP_RY = 3.0e-3
DEEP_RY = -1.5
# A pseudo state this far (Ry) below the all-electron reference in the same channel is a ghost.
GHOST_TOL_RY = 0.01


def parse_bessel(text):
    """{cutoff: {l: [E_N1, E_N2, E_N3]}} from the Bessel-function test block."""
    out = {}
    block = text.split('Test with a basis set of Bessel functions')[-1]
    cut = None
    for line in block.splitlines():
        m = re.match(r'\s*Cutoff \(Ry\) :\s*([\d.]+)', line)
        if m:
            cut = float(m.group(1))
            out[cut] = {}
            continue
        m = re.match(r'\s*E\(L=(\d)\) =\s*(.*)', line)
        if m and cut is not None:
            out[cut][int(m.group(1))] = [float(x) for x in re.findall(r'(-?[\d.]+)\s*Ry', m.group(2))]
    return out


def parse_gen_test(text):
    """[(label, l, occ, eAE, ePS)] from the generation-configuration test."""
    part = text.split('Testing the pseudopotential')[-1]
    rows = []
    for m in re.finditer(r'^\s*\d+\s+(\d)\s+(\w+)\s+1\(\s*([\d.]+)\)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)',
                         part, re.M):
        rows.append((m.group(2), int(m.group(1)), float(m.group(3)), float(m.group(4)), float(m.group(5))))
    return rows


def parse_transfer(text):
    """[(dE_ae, dE_ps, Delta)] in Ry for configurations 2..n."""
    ae = [float(x) for x in re.findall(r'dEtot_ae =\s*(-?[\d.]+)', text)]
    ps = re.findall(r'dEtot_ps =\s*(-?[\d.]+) Ry,\s*Delta E=\s*(-?[\d.]+)', text)
    return [(a, float(p), float(d)) for a, (p, d) in zip(ae, ps)]


def main(pseudo, logs):
    meta = json.load(open(os.path.join(pseudo, 'generation.json')))
    table = {}
    problems = []
    for el in sorted(meta):
        gen = open(os.path.join(logs, f'{el}.ld1.out')).read()
        tst = open(os.path.join(logs, f'{el}.ld1test.out')).read()
        bessel = parse_bessel(gen)
        cuts = sorted(bessel)
        top = bessel[cuts[-1]]
        # recommended cutoff: the smallest one from which on all bound eigenvalues stay converged
        ecut = cuts[-1]
        for c in reversed(cuts):
            ok = all(abs(e - top[l][i]) < (ECUT_TOL_DEEP_RY if top[l][i] < DEEP_RY else ECUT_TOL_RY)
                     for l in top for i, e in enumerate(bessel[c].get(l, [])) if top[l][i] < 0)
            if not ok:
                break
            ecut = c
        ecut = int(5 * math.ceil(max(ecut, 25) / 5))
        # ghost check: in every channel the lowest Bessel-basis eigenvalue must be the all-electron
        # reference state, not something below it
        states = parse_gen_test(gen)
        ghosts = []
        ref = {}
        for lab, l, occ, eae, eps in states:
            ref.setdefault(l, []).append((eae, lab))
        for l, lst in ref.items():
            # a ghost is an EXTRA bound state: more Bessel-basis levels below the channel's highest
            # reference (+ tolerance) than there are reference states
            lst.sort()
            bound = [e for e in top.get(l, []) if e < lst[-1][0] + GHOST_TOL_RY]
            if len(bound) > len(lst):
                ghosts.append(f"L={l}: {len(bound)} levels below {lst[-1][0]:.4f} Ry for {len(lst)} reference state(s)")
        deepest = min(e for e, _ in sum(ref.values(), []))
        for l, lst in top.items():
            if l not in ref and lst and lst[0] < deepest - GHOST_TOL_RY:
                ghosts.append(f'L={l}: bound state {lst[0]:.4f} Ry below every valence level')
        eig_err = max(abs(top[l][i] - eae) for l, lst in ref.items() for i, (eae, _) in enumerate(lst)
                      if i < len(top.get(l, [])))
        tr = parse_transfer(tst)
        zval = float(re.search(r'valence charge is\s*([\d.]+)', tst).group(1))
        m = meta[el]
        table[el] = dict(file=m['file'], ecutwfc_Ry=ecut, z_valence=zval, valence=m['valence'],
                         core=m['core'] or 'none',
                         method=('Troullier-Martins norm-conserving, scalar-relativistic PBE, ld1.x (QE 6.7), '
                                 f"one projector per channel, lloc={m['lloc']}" + (', NLCC' if m['nlcc'] else '')),
                         note=m['note'], rc_bohr=m['rc_bohr'],
                         ghost_free=not ghosts,
                         bessel_max_eigenvalue_error_mRy=round(1000 * eig_err, 2),
                         transferability=[dict(dE_ae_mRy=round(1000 * a, 2), dE_ps_mRy=round(1000 * p, 2),
                                               error_mRy=round(1000 * d, 2)) for a, p, d in tr],
                         generation_input=f'{el}.ld1.in', test_input=f'{el}.ld1test.in')
        if ghosts:
            problems.append(f'{el}: ' + '; '.join(ghosts))
        worst = max((abs(d) for _, _, d in tr), default=0)
        print(f'{el:2s} zval {zval:4.1f} ecut {ecut:3d} Ry  ghost-free {not ghosts!s:5s} '
              f'max|eig err| {1000 * eig_err:6.2f} mRy  max|dE err| {1000 * worst:6.2f} mRy ({len(tr)} configs)')
    out = dict(format='rung-pseudo-table/1', functional='PBE', generator='ld1.x (Quantum ESPRESSO 6.7)',
               ecut_criterion=(f'bound Bessel-basis eigenvalues within {ECUT_TOL_RY * 1000:g} mRy '
                               f'({ECUT_TOL_DEEP_RY * 1000:g} mRy below {DEEP_RY} Ry) of the 120 Ry value'),
               elements=table)
    tmp = os.path.join(pseudo, 'table.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, os.path.join(pseudo, 'table.json'))
    for p in problems:
        print('GHOST', p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
