#!/usr/bin/env python3
"""Writes share/pseudo/<El>.ld1.in (generation) and <El>.ld1test.in (transferability) for rung's
norm-conserving pseudopotential table. The per-element choices (valence, radii, local channel) live here
in one place; doc/pseudopotentials.md explains them. Usage: tools/write_pseudo_inputs.py share/pseudo"""
import os
import sys

S = {}


def sp(el, Z, core, cfg, valence, cards, lloc=-1, rcloc=None, nlcc=True, tests=(), note=''):
    S[el] = dict(Z=Z, core=core, cfg=cfg, valence=valence, cards=cards, lloc=lloc,
                 rcloc=rcloc if rcloc is not None else min(c[5] for c in cards), nlcc=nlcc,
                 tests=list(tests), note=note)


# cards: (label, n (pseudo, nodeless = l+1), l, occupation, energy (0 = eigenvalue), r_c in bohr)
sp('H', 1, '', '1s1', '1s1', [('1S', 1, 0, 1.0, 0.0, 1.10)], lloc=0, nlcc=False,
   tests=['1s1', '1s0.5', '1s0.2'], note='purely local (s channel)')
sp('He', 2, '', '1s2', '1s2', [('1S', 1, 0, 2.0, 0.0, 1.10)], lloc=0, nlcc=False,
   tests=['1s2', '1s1.5', '1s1'], note='purely local (s channel)')


def sblock(el, Z, core, ns, np_, rc_s, rc_p, n, nlcc=True):
    """s/p valence; the local potential is the pseudised all-electron potential (lloc=-1). With a filled
    d shell in the core (Ge-Kr, Sn-Xe) the empty d channel gets its own projector (unbound nd at
    0.10 Ry): the bare all-electron potential lacks the repulsion of orthogonality to the core d shell
    and pulled d-like conduction states far down (LiI gap 2.79 eV without, 4.14 eV with the d projector,
    Alexandria 4.26 eV; BeTe 1.05 / 2.02 / 2.02 eV)."""
    cfg = f'{n}s{ns} {n}p{np_}'
    valence = f'{n}s{ns}' + (f' {n}p{np_}' if np_ else '')
    cards = [(f'{n}S', 1, 0, float(ns), 0.0, rc_s), (f'{n}P', 2, 1, float(np_), 0.0, rc_p)]
    # Ge (group 14) keeps no d projector: with it their solids got ghost states (a band at
    # -10^3 eV in SiGe, no scf convergence for SnS)
    dcore = 'd10' in core and np_ >= 3
    if np_ == 6:  # closed shell: ionise instead of promoting
        tests = [cfg, f'{n}s{ns} {n}p5', f'{n}s{ns} {n}p5.5', f'{n}s1 {n}p6']
    elif np_ >= 1:
        tests = [cfg, f'{n}s{ns} {n}p{np_ - 1}', f'{n}s{ns - 1} {n}p{np_ + 1}', f'{n}s{ns} {n}p{np_ - 0.5}']
    else:
        tests = [cfg, f'{n}s{ns - 0.5} {n}p0', f'{n}s{ns - 1} {n}p1', f'{n}s{ns - 1} {n}p0']
    gen_cfg = cfg
    if dcore:
        cards.append((f'{n}D', 3, 2, 0.0, 0.10, rc_p))
        gen_cfg = f'{cfg} {n}d-2'
    sp(el, Z, core, gen_cfg, valence, cards, nlcc=nlcc, tests=tests,
       note='s,p projectors + unbound d projector; d shell in core' if dcore else 's,p projectors')


sblock('Li', 3, '[He]', 1, 0, 2.2, 2.2, 2)
sblock('Be', 4, '[He]', 2, 0, 1.9, 1.9, 2)
sblock('B', 5, '[He]', 2, 1, 1.6, 1.6, 2)
sblock('C', 6, '[He]', 2, 2, 1.45, 1.45, 2)
sblock('N', 7, '[He]', 2, 3, 1.35, 1.35, 2)
sblock('O', 8, '[He]', 2, 4, 1.35, 1.35, 2)
sblock('F', 9, '[He]', 2, 5, 1.3, 1.3, 2)
sblock('Ne', 10, '[He]', 2, 6, 1.3, 1.3, 2, nlcc=False)
sblock('Na', 11, '[Ne]', 1, 0, 2.4, 2.4, 3)
sblock('Mg', 12, '[Ne]', 2, 0, 2.2, 2.2, 3)
sblock('Al', 13, '[Ne]', 2, 1, 2.0, 2.0, 3)
sblock('Si', 14, '[Ne]', 2, 2, 1.9, 1.9, 3)
sblock('P', 15, '[Ne]', 2, 3, 1.8, 1.8, 3)
sblock('S', 16, '[Ne]', 2, 4, 1.7, 1.7, 3)
sblock('Cl', 17, '[Ne]', 2, 5, 1.6, 1.6, 3)
sblock('Ar', 18, '[Ne]', 2, 6, 1.6, 1.6, 3, nlcc=False)
sblock('Ge', 32, '[Ar] 3d10', 2, 2, 2.0, 2.0, 4)
sblock('As', 33, '[Ar] 3d10', 2, 3, 2.0, 2.0, 4)
sblock('Se', 34, '[Ar] 3d10', 2, 4, 1.9, 1.9, 4)
sblock('Br', 35, '[Ar] 3d10', 2, 5, 1.9, 1.9, 4)
sblock('Kr', 36, '[Ar] 3d10', 2, 6, 1.9, 1.9, 4, nlcc=False)
sblock('Sb', 51, '[Kr] 4d10', 2, 3, 2.2, 2.2, 5)
sblock('Te', 52, '[Kr] 4d10', 2, 4, 2.2, 2.2, 5)
sblock('I', 53, '[Kr] 4d10', 2, 5, 2.1, 2.1, 5)
sblock('Xe', 54, '[Kr] 4d10', 2, 6, 2.1, 2.1, 5, nlcc=False)


def semicore(el, Z, core, n, sout, dout, sneutral, rc_s, rc_p, rc_d):
    """Semicore ns,np in valence (r_c(s) kept small: the outer s level error grows fast with it).
    One projector per channel: the semicore state is the reference and the outer (n+1)s is its first
    excited state in the same channel. The empty nd channel (conduction band of K/Ca/Rb/Sr compounds)
    gets its own projector, generated in a slightly ionised configuration where nd is bound (an
    unbound d reference at a fixed energy gave RbF a 0.24 eV smaller gap)."""
    m = n + 1
    cfg = f'{n}s2 {n}p6 {m}s{sout} {n}d{dout}'
    cards = [(f'{n}S', 1, 0, 2.0, 0.0, rc_s), (f'{n}P', 2, 1, 6.0, 0.0, rc_p), (f'{n}D', 3, 2, dout, 0.0, rc_d)]
    tests = [f'{n}s2 {n}p6 {m}s{sneutral}', f'{n}s2 {n}p6 {m}s{sneutral - 0.5}', f'{n}s2 {n}p6 {m}s{sneutral - 1}',
             f'{n}s2 {n}p5 {m}s{sneutral}']
    # No NLCC: with the semicore shell in valence ld1.x's partial core (matched where core = valence
    # density, i.e. very close to the nucleus) spoils the gap: CaO 3.05 eV with NLCC, 3.67 eV without
    # (Alexandria 3.64 eV).
    sp(el, Z, core, cfg, f'{n}s2 {n}p6 {m}s{sneutral}', cards, tests=tests, nlcc=False,
       note='semicore s,p in valence; d projector')


semicore('K', 19, '[Ne]', 3, 0.3, 0.2, 1, 1.4, 1.7, 2.0)
semicore('Ca', 20, '[Ne]', 3, 1, 0.5, 2, 1.3, 1.6, 2.0)
semicore('Rb', 37, '[Ar] 3d10', 4, 0.3, 0.2, 1, 1.6, 1.9, 2.3)
semicore('Sr', 38, '[Ar] 3d10', 4, 1, 0.5, 2, 1.5, 1.8, 2.2)


def dval(el, Z, core, n, nd, np_, rc_s, rc_p, rc_d):
    """Filled (n-1)d shell in valence (Ga 3d, In 4d sit only ~15 eV below the VBM and hybridise with anion s)."""
    cfg = f'{nd}d10 {n}s2 {n}p{np_}'
    cards = [(f'{n}S', 1, 0, 2.0, 0.0, rc_s), (f'{n}P', 2, 1, float(np_), 0.0, rc_p), (f'{nd}D', 3, 2, 10.0, 0.0, rc_d)]
    tests = [cfg, f'{nd}d10 {n}s2 {n}p0', f'{nd}d10 {n}s1 {n}p2', f'{nd}d10 {n}s1 {n}p1']
    sp(el, Z, core, cfg, cfg, cards, tests=tests, nlcc=False, note='d shell in valence')


# Ga: 3d in valence. With 3d in the core (+NLCC) GaN came out 1.03 eV above Alexandria's gap, with 3d in
# valence 0.05 eV below. (ld1.x's Bessel-basis test puts its 3d level 0.16 Ry below the all-electron
# one at every r_c(d) tried, 1.6-2.4 bohr, without any extra state: see doc/pseudopotentials.md.)
dval('Ga', 31, '[Ar]', 4, 3, 1, 2.0, 2.2, 2.0)
dval('In', 49, '[Kr]', 5, 4, 1, 2.2, 2.4, 2.2)
# Sn: 4d in valence. With 4d in the core SnS came out 0.37 eV below Alexandria (and a d projector instead
# gave ghosts); with 4d in valence 0.10 eV below.
dval('Sn', 50, '[Kr]', 5, 4, 2, 2.2, 2.4, 2.2)


def write_text(path, text):
    """Writes `text` to a temporary file beside `path` and renames it into place (a kill never leaves a cut file)."""
    tmp = f"{path}.tmp"
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def upf_name(el):
    return f'{el}.pbe-rung-tm.UPF'


def write(out):
    for el, s in S.items():
        core = (s['core'] + ' ') if s['core'] else ''
        cards = ''.join(f"{lab:<3} {n:2d} {l:2d} {occ:6.2f} {e:6.2f} {rc:5.2f} {rc:5.2f}  0.0\n"
                        for (lab, n, l, occ, e, rc) in s['cards'])
        lloc = s['lloc']
        rcl = f", rcloc={s['rcloc']:.2f}" if lloc == -1 else ''
        gen = f"""! rung norm-conserving pseudopotential for {el} ({s['note']}): scalar-relativistic PBE,
! Troullier-Martins, one projector per channel (pseudotype=1), local channel lloc={lloc}.
! Neutral valence: {s['valence']}. Regenerate with tools/make_pseudos.sh; the &test block is
! ld1.x's spherical-Bessel-basis test (ghost check and cutoff convergence).
 &input
   title='{el}', zed={s['Z']}., rel=1, iswitch=3, dft='PBE',
   config='{core}{s['cfg']}'
 /
 &inputp
   pseudotype=1, tm=.true., lloc={lloc}{rcl}, nlcc={'.true.' if s['nlcc'] else '.false.'},
   file_pseudopw='{upf_name(el)}', author='rung'
 /
{len(s['cards'])}
{cards} &test
   nconf=1, configts(1)='{s['cfg']}', ecutmin=20, ecutmax=120, decut=5
 /
"""
        write_text(os.path.join(out, f'{el}.ld1.in'), gen)
        cts = '\n'.join(f"   configts({i + 1})='{c}'" for i, c in enumerate(s['tests']))
        test = f"""! Transferability test of {upf_name(el)}: total-energy differences between configurations,
! pseudopotential vs all-electron (ld1.x prints dEtot_ae, dEtot_ps and their difference Delta E).
 &input
   title='{el}', zed={s['Z']}., rel=1, iswitch=2, dft='PBE',
   config='{core}{s['tests'][0]}'
 /
 &test
   file_pseudo='{upf_name(el)}', nconf={len(s['tests'])},
{cts}
 /
"""
        write_text(os.path.join(out, f'{el}.ld1test.in'), test)
    # the per-element facts the table needs that ld1.x does not print
    import json
    meta = {el: dict(file=upf_name(el), valence=s['valence'], core=s['core'], note=s['note'],
                     lloc=s['lloc'], nlcc=s['nlcc'], rc_bohr={c[0]: c[5] for c in s['cards']})
            for el, s in S.items()}
    write_text(os.path.join(out, 'generation.json'), json.dumps(meta, indent=1, sort_keys=True))


if __name__ == '__main__':
    write(sys.argv[1] if len(sys.argv) > 1 else 'share/pseudo')
