#!/usr/bin/env python3
"""The quick start's Si from Python: rung's IPA spectrum of the save as numpy arrays, next to YAMBO's.

    si_spectrum.py SAVE YAMBO_O_FILE [FIGURE.png]

SAVE is the quick start's save, out/si.save in the example's work folder (examples/si/work/ inside the checkout) (Γ-centred 8x8x8, 16 bands); YAMBO_O_FILE is YAMBO's IPA
along x for the same run (o-ip_x.eps_q1_ip). Prints the similarity SC = 1 - ∫|X-Y| / ∫|Y| of Im eps and the
optical constants at 3 eV; with matplotlib, also draws both spectra.
"""
import sys

import numpy as np

import rung


def sc(x, y, e):
    return 1.0 - np.trapz(np.abs(x - y), e) / np.trapz(np.abs(y), e)


def main(save, yambo_file, figure=None):
    ours = rung.spectrum(save, theory="ipa", directions=["x"])  # the paper's grid: 2001 points, 0-20 eV, 0.3 eV
    yambo = rung.read_spectrum(yambo_file, component="x")  # a ValueError unless the file's q direction is x
    e = ours["energy_eV"]
    eps = ours["eps"]["x"]
    ref = np.interp(e, yambo["energy_eV"], yambo["eps"]["x"].imag)
    similarity = sc(eps.imag, ref, e)
    i = int(np.argmin(np.abs(e - 3.0)))
    oc = ours["optical"]["x"]
    print(f"Si IPA along x: SC(rung, YAMBO) = {similarity:.4f}")
    print(f"at {e[i]:.2f} eV: n = {oc['n'][i]:.3f}, k = {oc['k'][i]:.3f}, R = {oc['reflectivity'][i]:.3f}, "
          f"alpha = {oc['absorption_cm'][i]:.3e} cm^-1, loss = {oc['loss'][i]:.4f}")
    if figure:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no figure")
        else:
            plt.plot(e, eps.imag, label="rung IPA")
            plt.plot(e, ref, "--", label="YAMBO 5.2.4 IPA")
            plt.xlabel("Energy (eV)")
            plt.ylabel("Im ε")
            plt.legend()
            plt.savefig(figure)
    return similarity


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(*sys.argv[1:4])
