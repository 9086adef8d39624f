"""The Python module against rung's own command line and readers (run by ctest: tests/python/python.cmake).

Environment (set by ctest): RUNG_CLI (the rung executable), RUNG_QE_RUNS_DIR (the pw.x fixture runs),
RUNG_SHARED_DIR (../shared), RUNG_TEST_WITH_TORCH (1 when the module has the model); scratch files go to pytest's
tmp_path. A test skips only for what a machine may lack: ../shared (a user's clone), an optional package (h5py, ase,
pymatgen) or LibTorch in the build; anything else that is absent (a pw.x fixture run, a file of a present ../shared)
fails it. conftest.py fails the run on any other skip.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import rung

QE_RUNS = pathlib.Path(os.environ.get("RUNG_QE_RUNS_DIR", "/nonexistent"))
SHARED = pathlib.Path(os.environ.get("RUNG_SHARED_DIR", "/nonexistent"))
CLI = os.environ.get("RUNG_CLI", "rung")
TINY = QE_RUNS / "si_tiny" / "out" / "si.save"
CIF = SHARED / "structures" / "agm004850436_Ca4SbTe2Br.cif"


def shared_present():
    return (SHARED / "reference").is_dir()


def need(path, why):
    """A file of ../shared: skipped where ../shared is absent, a failure where it is present and the file is not."""
    if pathlib.Path(path).exists():
        return
    if not shared_present():
        pytest.skip(f"{why}: ../shared is absent ({SHARED / 'reference'}; it runs in CI)")
    pytest.fail(f"{path} is missing although {SHARED / 'reference'} is present")


# The cases of tests/fixtures/run_qe.sh (as in tests/support/paths.hpp): those from rung's own inputs are always
# made (or the fixture fails), those from ../shared's whenever it is present.
OWN_FIXTURES = {"si_tiny", "si_tiny_unpolarised", "si_tiny_noncollinear", "alsb_so", "alsb_so_fd", "alsb_so_ibz",
                "alsb_so_nosym", "si_list_sym", "si_list_nosym", "si_scf_occupied"}
SHARED_FIXTURES = {"yambo_tests_si", "si_shifted_888", "si_gamma_888", "si_gamma_888_nosym", "qe_si_888_nosym",
                   "al_888", "fe_bcc_888"}


def need_fixture(case):
    """A pw.x fixture run: skipped only for a ../shared case where ../shared is absent; missing otherwise fails."""
    assert case in OWN_FIXTURES | SHARED_FIXTURES, f"tests/fixtures/run_qe.sh makes no case {case}"
    if case in SHARED_FIXTURES and not shared_present():
        pytest.skip(f"needs the pw.x fixture run {case}, made from ../shared, which is absent (it runs in CI)")
    if not (QE_RUNS / case / ".done").exists():
        pytest.fail(f"the pw.x fixture run {case} is missing in {QE_RUNS} (tests/fixtures/run_qe.sh makes it)")


def without_torch(e):
    """A NotImplementedError of the model calls: a skip in a build without LibTorch, a failure in one with it."""
    if os.environ.get("RUNG_TEST_WITH_TORCH") == "1":
        pytest.fail(f"the module was built with LibTorch but says: {e}")
    pytest.skip(f"rung was built without LibTorch: {e}")


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


def h5_complex(ds):
    a = ds[()]
    if np.iscomplexobj(a):  # h5py maps rung's compound {r, i} to complex128 itself
        return a
    return a["r"] + 1j * a["i"]


# ---- spectra -------------------------------------------------------------------------------------------------

def test_spectrum_round_trip_against_the_cli(tmp):
    """rung.spectrum and `rung spectrum` write/return identical numbers (same request, same library)."""
    h5py = pytest.importorskip("h5py", reason="python3-h5py is not installed")
    need_fixture("si_tiny")
    out, txt = tmp / "cli.h5", tmp / "cli.txt"
    subprocess.run([CLI, "-q", "spectrum", str(TINY), "--theory", "rpa", "--gblock", "9", "--direction", "x",
                    "--direction", "trace", "--steps", "301", "-o", str(out), "--yambo-text", str(txt)], check=True)
    r = rung.spectrum(TINY, theory="rpa", block="9", directions=["x", "trace"], steps=301)
    assert r["theory"] == "rpa"
    with h5py.File(out, "r") as f:
        assert np.array_equal(f["energy_eV"][()], r["energy_eV"])
        for comp in ("x", "trace"):
            assert np.array_equal(h5_complex(f[comp]["eps"]), r["eps"][comp])
            assert np.array_equal(h5_complex(f[comp]["eps_nolf"]), r["eps_nolf"][comp])
            for name in rung.OPTICAL_CONSTANTS:
                assert np.array_equal(f[comp]["optical"][name][()], r["optical"][comp][name]), name
    # and the file read back through the module is the same again
    back = rung.read_spectrum(out)
    for comp in ("x", "trace"):
        assert np.array_equal(back["eps"][comp], r["eps"][comp])
    assert r["provenance"]["request"]["block"] == "9"
    # the YAMBO-layout text (the first direction, x, 8 digits): rung's writer names the component in its header
    # (its "@ Q(1): 1 0 0" line reads the same for the trace)
    text = rung.read_spectrum(txt)
    assert list(text["eps"]) == ["x"] and text["theory"] == "rpa" and text["q_direction"]["x"] == (1.0, 0.0, 0.0)
    assert np.allclose(text["eps"]["x"], r["eps"]["x"], rtol=1e-6, atol=1e-12)


def test_spectrum_arrays_and_optical_constants():
    need_fixture("si_tiny")
    r = rung.spectrum(TINY, steps=101, emax_eV=10.0)
    e, eps = r["energy_eV"], r["eps"]["trace"]
    assert e.shape == (101,) and eps.dtype == np.complex128 and eps.shape == (101,)
    assert r["eps_nolf"] == {}  # IPA: no local fields
    oc = r["optical"]["trace"]
    n_k = np.sqrt(eps)  # the textbook definitions, independently of rung's C++
    assert np.allclose(oc["n"], n_k.real, rtol=1e-12, atol=0)
    assert np.allclose(oc["k"], n_k.imag, rtol=1e-12, atol=1e-300)
    assert np.allclose(oc["loss"], -(1 / eps).imag, rtol=1e-12, atol=0)
    assert np.allclose(oc["reflectivity"], np.abs((n_k - 1) / (n_k + 1)) ** 2, rtol=1e-12, atol=0)
    hbar_c_eV_cm = 1.973269804e-5
    assert np.allclose(oc["absorption_cm"], 2 * e * n_k.imag / hbar_c_eV_cm, rtol=1e-12, atol=0)


def test_compare_and_read_any_format():
    ysp = SHARED / "reference" / "yambo-5.2.4" / "Si" / "yambo_sp"
    need(ysp / "o-ip_x.eps_q1_ip", "needs the shared YAMBO 5.2.4 runs")
    same = rung.compare(ysp / "o-ip_x.eps_q1_ip", ysp / "o-ip_x.eps_q1_ip")
    assert same["sc"] == pytest.approx(1.0, abs=1e-12) and same["n_points"] == 2001
    d = rung.compare(ysp / "o-ip_x.eps_q1_ip", ysp / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson")
    cli = subprocess.run([CLI, "compare", "--json", str(ysp / "o-ip_x.eps_q1_ip"),
                          str(ysp / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson")], check=True, capture_output=True, text=True)
    import json
    j = json.loads(cli.stdout)
    assert d["sc"] == j["sc"] and d["mse"] == j["mse"] and d["mae"] == j["mae"]
    # like with like: YAMBO's x against epsilon.x's trace is refused naming the x file, unless told (Si is cubic)
    qe = SHARED / "reference" / "qe-si" / "epsr_si.dat"
    need(qe, "needs the shared QE Si reference")
    with pytest.raises(ValueError, match="o-ip_x.eps_q1_ip.*one direction"):
        rung.compare(qe, ysp / "o-ip_x.eps_q1_ip")
    assert rung.compare(qe, ysp / "o-ip_x.eps_q1_ip", direction_as_trace=True)["n_points"] > 0
    s = rung.read_spectrum(ysp / "o-rpa_ng27_x.eps_q1_inv_rpa_dyson")
    assert s["theory"] == "rpa" and len(s["energy_eV"]) == 2001
    assert list(s["eps"]) == ["x"]  # the file's "Absorption @ Q(1): 1 0 0" line
    assert s["eps"]["x"][0] == complex(12.55917, 0.869705)  # the file's first row (5.2.4 Si, 27 G)


def test_read_spectrum_names_the_direction_a_yambo_file_records():
    ysp = SHARED / "reference" / "yambo-5.2.4" / "Si" / "yambo_sp"
    need(ysp / "o-ip_x.eps_q1_ip", "needs the shared YAMBO 5.2.4 runs")
    x = rung.read_spectrum(ysp / "o-ip_x.eps_q1_ip")
    assert list(x["eps"]) == ["x"] and list(x["optical"]) == ["x"] and x["q_direction"]["x"] == (1.0, 0.0, 0.0)
    assert x["theory"] == "ipa" and x["eps_nolf"] == {}
    assert x["eps"]["x"][0] == complex(13.61925, 0.986837)  # the file's first row: E, Im, Re
    z = rung.read_spectrum(ysp / "o-rpa_ng27_z.eps_q1_inv_rpa_dyson")
    assert list(z["eps"]) == ["z"] and list(z["eps_nolf"]) == ["z"] and z["theory"] == "rpa"
    d = rung.read_spectrum(ysp / "o-ip_111.eps_q1_ip")  # "@ Q(1): 0.577350259 0.577350259 0.577350259"
    (name,) = d["eps"]  # one name per direction, whatever its length and sign: q_1_1_1 (the vector as the file gives it)
    assert name == "q_1_1_1" and np.allclose(d["q_direction"][name], [0.577350259] * 3, rtol=0, atol=1e-8)
    for same in ("q_1_1_1", "q_2_2_2", "q_-1_-1_-1"):
        assert list(rung.read_spectrum(ysp / "o-ip_111.eps_q1_ip", component=same)["eps"]) == ["q_1_1_1"]
    with pytest.raises(ValueError, match="holds the q_1_1_1 direction"):
        rung.read_spectrum(ysp / "o-ip_111.eps_q1_ip", component="q_1_1_0")
    # a component is checked against the file's direction, not used as its label
    assert list(rung.read_spectrum(ysp / "o-ip_x.eps_q1_ip", component="x")["eps"]) == ["x"]
    for wrong in ("y", "trace"):
        with pytest.raises(ValueError, match="o-ip_x.eps_q1_ip"):
            rung.read_spectrum(ysp / "o-ip_x.eps_q1_ip", component=wrong)
    # the loss function is no dielectric function: no eps, n, k, R, alpha or loss are made of it
    with pytest.raises(ValueError, match="o-ip_x.eel_q1_ip"):
        rung.read_spectrum(ysp / "o-ip_x.eel_q1_ip")


def test_read_spectrum_where_the_file_states_no_direction_or_theory():
    qe = SHARED / "reference" / "qe-si"
    need(qe / "si.plot_eps.dat", "needs the shared QE Si reference")
    t = rung.read_spectrum(qe / "si.plot_eps.dat")  # turbo_spectrum.x: neither is in the file
    assert list(t["eps"]) == ["unknown"] and t["theory"] == "unknown" and t["q_direction"] == {}
    with pytest.raises(ValueError, match="si.plot_eps.dat"):
        rung.read_spectrum(qe / "si.plot_eps.dat", component="x")
    need(qe / "epsr_si.dat", "needs the shared QE Si reference")
    e = rung.read_spectrum(qe / "epsr_si.dat", component="y")  # epsilon.x: x, y, z columns, no theory stated
    assert list(e["eps"]) == ["y"] and e["q_direction"]["y"] == (0.0, 1.0, 0.0) and e["theory"] == "unknown"
    assert list(rung.read_spectrum(qe / "epsi_si.dat")["eps"]) == ["trace"]


def test_gil_is_released_during_a_spectrum():
    need_fixture("si_tiny")
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        t0 = time.perf_counter()
        rung.spectrum(TINY, theory="rpa", block="27", directions=["x"], steps=2001)
        t1 = time.perf_counter()
    finally:
        done.set()
        t.join()
    during = [x for x in ticks if t0 < x < t1]
    # the other thread ran while rung computed: with the GIL held it could not tick at all in between
    assert len(during) >= 3, f"{len(during)} ticks in {t1 - t0:.3f} s"


def run_child(code, *args, **env_extra):
    """`code` in a fresh interpreter that imports this rung (the interpreter running the tests may have changed
    rung's settings or has its own signal handling); its CompletedProcess."""
    path = [os.path.dirname(os.path.abspath(rung.__file__)), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in path if p), **env_extra)
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=600)


def test_ctrl_c_stops_a_long_computation_between_two_steps(tmp):
    """In a child interpreter (pytest has its own Ctrl-C handling): a SIGINT during rung.spectrum and during the
    native launch of rung.select raises KeyboardInterrupt from the call well before the work would end, and the
    module works afterwards. Bounds are relative to the uninterrupted run timed in the same child."""
    save = QE_RUNS / "yambo_tests_si" / "out" / "Si.save"
    need_fixture("yambo_tests_si")
    code = r"""
import os, signal, sys, threading, time, rung
save, outdir = sys.argv[1], sys.argv[2]
def run(call, delay):
    if delay:
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()
    t0 = time.perf_counter()
    try:
        call()
        return "finished", time.perf_counter() - t0
    except KeyboardInterrupt:
        return "interrupted", time.perf_counter() - t0
spectrum = lambda: rung.spectrum(save, theory="rpa", block="113", directions=["x"])
how, full = run(spectrum, 0)
assert how == "finished", how
how, t = run(spectrum, 0.25 * full)
print("spectrum", how, round(full, 3), round(t, 3))
how, probe = run(lambda: rung.select(save, launch="none", log=os.devnull), 0)  # the decision alone: the probe
assert how == "finished", how
select = lambda: rung.select(save, launch="native", outdir=outdir, log="-")
delay = 1.5 * probe + 1.0  # after the probe, well inside the launch (about 40 s on one core)
how, t = run(select, delay)
print("select", how, round(t, 3), round(delay, 3))
r = rung.spectrum(save, theory="ipa", directions=["x"], steps=101)
print("after", len(r["energy_eV"]))
"""
    r = run_child(code, save, tmp / "launch", OMP_NUM_THREADS="1")
    assert r.returncode == 0, r.stderr
    lines = dict((ln.split()[0], ln.split()[1:]) for ln in r.stdout.splitlines())
    how, full, t = lines["spectrum"][0], float(lines["spectrum"][1]), float(lines["spectrum"][2])
    assert how == "interrupted"
    # signalled at a quarter of the run: the solver asks at most every 0.1 s, between the k-points of the table,
    # inside chi0's tiles (chunks of 16 elements) and between the Dyson solves' frequencies; measured here 0.06-0.1 s
    # after the signal (without the checks: t = full; with checks between chi0's tiles alone, as before 2026-12-06,
    # a loaded CI machine saw 1.6 s). The margin is for a loaded machine.
    assert t < 0.25 * full + max(1.0, 0.35 * full), (t, full)
    # the converged launch takes about 40 s on one core; signalled during it, after the decision's probe (timed
    # alone in the same child), it stops instead of recording a failed launch (the margin: a step that does not
    # ask, such as the Dyson solves of a 300-G block, takes seconds on a loaded machine)
    assert lines["select"][0] == "interrupted", r.stdout
    assert float(lines["select"][1]) < float(lines["select"][2]) + 15, r.stdout
    assert not list((tmp / "launch").rglob("*.h5")), "an interrupted launch wrote a spectrum"
    assert lines["after"] == ["101"]


def test_progress_true_prints_without_set_progress():
    """progress=True on one call prints progress lines on stderr although rung.set_progress was never called."""
    need_fixture("si_tiny")
    r = run_child("import sys, rung; rung.spectrum(sys.argv[1], theory='rpa', block='9', steps=101, progress=True)",
                  TINY)
    assert r.returncode == 0, r.stderr
    assert "chi0" in r.stderr and "done in" in r.stderr, r.stderr


def test_progress_is_off_by_default():
    """In a fresh interpreter (this one may have called rung.set_progress): nothing on stderr without asking."""
    need_fixture("si_tiny")
    r = run_child("import sys, rung; rung.spectrum(sys.argv[1], steps=101)", TINY)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


# ---- structures ----------------------------------------------------------------------------------------------

def canonical(d):
    """A structure dict independent of orientation and atom order: metric tensor, sorted (Z, frac)."""
    lat = np.asarray(d["lattice_bohr"])
    frac = np.mod(np.asarray(d["frac"]) + 1e-9, 1.0) - 1e-9
    order = sorted(range(len(d["numbers"])), key=lambda i: (int(d["numbers"][i]), *np.round(frac[i], 5)))
    return lat @ lat.T, np.asarray(d["numbers"])[order], frac[order]


def assert_same_crystal(a, b, tol_bohr=1e-5, tol_frac=1e-6):
    ga, za, fa = canonical(a)
    gb, zb, fb = canonical(b)
    assert np.array_equal(za, zb)
    assert np.allclose(ga, gb, rtol=0, atol=tol_bohr * np.abs(ga).max())
    assert np.allclose(fa, fb, rtol=0, atol=tol_frac)


def test_structure_from_ase_equals_rungs_cif_reader():
    ase_io = pytest.importorskip("ase.io", reason="python3-ase is not installed")
    need(CIF, "needs the shared structures")
    ours = rung.structure(CIF)
    atoms = ase_io.read(str(CIF))
    # ASE's own CIF reader: the same crystal (cell, species, positions) up to orientation and atom order;
    # tolerance: both read the CIF's printed digits, ASE in its own frame (1e-5 relative on the metric)
    assert_same_crystal(rung.structure(atoms), ours)
    # the conversion itself is exact: an Atoms built from rung's own numbers comes back unchanged
    import ase
    bohr = 0.529177210903
    same = ase.Atoms(numbers=ours["numbers"], cell=ours["lattice_bohr"] * bohr, scaled_positions=ours["frac"], pbc=True)
    back = rung.structure(same)
    assert np.allclose(back["lattice_bohr"], ours["lattice_bohr"], rtol=1e-14, atol=0)
    assert np.array_equal(back["numbers"], ours["numbers"])
    assert np.allclose(back["frac"], ours["frac"], rtol=0, atol=1e-14)


def test_structure_from_pymatgen_equals_rungs_cif_reader():
    mg = pytest.importorskip("pymatgen.core", reason="python3-pymatgen is not installed")
    need(CIF, "needs the shared structures")
    ours = rung.structure(CIF)
    s = mg.Structure.from_file(str(CIF))
    conv = rung.structure(s)
    assert conv["formula"] == ours["formula"]
    assert_same_crystal(conv, ours)
    # exact conversion of rung's own numbers
    bohr = 0.529177210903
    same = mg.Structure(mg.Lattice(ours["lattice_bohr"] * bohr), [int(z) for z in ours["numbers"]], ours["frac"])
    back = rung.structure(same)
    assert np.allclose(back["lattice_bohr"], ours["lattice_bohr"], rtol=1e-14, atol=0)
    assert np.allclose(back["frac"], ours["frac"], rtol=0, atol=1e-14)


def test_predict_paths_and_objects_agree():
    need(CIF, "needs the shared structures")
    try:
        by_path = rung.predict(CIF)
    except NotImplementedError as e:
        without_torch(e)
    assert len(by_path) == 1 and by_path[0]["target"] == "ipa"
    assert by_path[0]["eps_imag"].shape == by_path[0]["energy_eV"].shape == (2001,)
    assert np.all(by_path[0]["eps_imag"] >= 0)  # clipped at zero (the default output processing)
    raw = rung.predict(CIF, raw=True)
    assert not np.array_equal(raw[0]["eps_imag"], by_path[0]["eps_imag"])
    mg = pytest.importorskip("pymatgen.core", reason="python3-pymatgen is not installed")
    by_object = rung.predict([mg.Structure.from_file(str(CIF))])
    # the same crystal from pymatgen's reader: same graph up to the CIF's printed digits
    assert np.allclose(by_object[0]["eps_imag"], by_path[0]["eps_imag"], rtol=1e-4, atol=1e-4)


def test_float_atomic_numbers_are_a_value_error():
    """A duck-typed structure whose atomic numbers are floats is refused as bad input (ValueError), not a
    RuntimeError of the binding layer."""

    class Atoms:  # the ase.Atoms methods rung reads
        def get_cell(self):
            return np.eye(3) * 5.43

        def get_scaled_positions(self, wrap=False):
            return np.zeros((1, 3))

        def get_atomic_numbers(self):
            return np.array([14.0])

        def get_chemical_formula(self):
            return "Si"

    with pytest.raises(ValueError, match="atomic numbers must be integers"):
        rung.structure(Atoms())


def test_a_model_file_written_again_is_loaded_again(tmp):
    """Models are cached by their file: a file replaced in place (a retrain) is read again, not served from the cache;
    rung.clear_model_cache() empties the cache."""
    si = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "si_tiny" / "scf.in"
    models = pathlib.Path(__file__).resolve().parents[2] / "share" / "models"
    model = tmp / "model.h5"
    shutil.copy(models / "ipa.h5", model)
    try:
        first = rung.predict(str(si), model=str(model))
    except NotImplementedError as e:
        without_torch(e)
    assert first[0]["target"] == "ipa"
    shutil.copy(models / "rpa.h5", model)
    os.utime(model, (1e9, 1e9))  # (a time of its own: the copy may share the first file's second)
    again = rung.predict(str(si), model=str(model))
    assert again[0]["target"] == "rpa"
    rung.clear_model_cache()
    assert rung.predict(str(si), model=str(model))[0]["target"] == "rpa"


def test_predict_carries_re_eps_and_optical_constants(tmp):
    """rung.predict gives Re eps (Kramers-Kronig of the predicted Im eps) and n, k, R, alpha, loss: the textbook
    formulas on eps = eps_real + i eps_imag, and the numbers `rung predict -o` writes (float32 there)."""
    si = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "si_tiny" / "scf.in"
    try:
        r = rung.predict(str(si), precision="float64")
    except NotImplementedError as e:
        without_torch(e)
    p = r[0]
    assert p["re_eps_source"].startswith("kramers-kronig of the predicted Im eps, 0-20 eV, truncated")
    e, im, re_ = p["energy_eV"], p["eps_imag"], p["eps_real"]
    assert re_.shape == im.shape == e.shape == (2001,)
    assert 3.2 < np.sqrt(re_[0]) < 4.2  # Si: n(0) near 3.7
    oc = p["optical"]
    assert sorted(oc) == sorted(rung.OPTICAL_CONSTANTS)
    n_k = np.sqrt(re_ + 1j * im)  # the textbook definitions, independently of rung's C++
    assert np.allclose(oc["n"], n_k.real, rtol=1e-12, atol=0)
    assert np.allclose(oc["k"], n_k.imag, rtol=1e-12, atol=1e-300)
    assert np.allclose(oc["loss"], -(1 / (re_ + 1j * im)).imag, rtol=1e-12, atol=1e-15)
    assert np.allclose(oc["reflectivity"], np.abs((n_k - 1) / (n_k + 1)) ** 2, rtol=1e-12, atol=0)
    assert np.allclose(oc["absorption_cm"], 2 * e * n_k.imag / 1.973269804e-5, rtol=1e-12, atol=0)
    h5py = pytest.importorskip("h5py", reason="python3-h5py is not installed")
    out = tmp / "pred.h5"
    subprocess.run([CLI, "-q", "predict", str(si), "--precision", "float64", "-o", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    with h5py.File(out, "r") as f:
        assert f.attrs["re_eps_source"] == p["re_eps_source"]
        assert np.allclose(f["eps_real"][0], re_, rtol=1e-12, atol=1e-12)
        for name in rung.OPTICAL_CONSTANTS:
            assert np.allclose(f["optical"][name][0], oc[name], rtol=1e-12, atol=1e-12), name
    sc = rung.predict(str(si), target="sc")[0]
    assert "sc" in sc and "optical" not in sc and "eps_real" not in sc


def test_select_returns_the_decision_record():
    need(CIF, "needs the shared structures")
    try:
        rec = rung.select(CIF, log="-")
    except NotImplementedError as e:
        without_torch(e)
    # the command line's record of the same structure with the same shipped models: the same decision and numbers
    out = subprocess.run([CLI, "-q", "select", str(CIF), "--json", "--log", "-"], check=True, capture_output=True,
                         text=True).stdout
    cli = json.loads(out)["decisions"][0]
    assert rec["decision"] == cli["decision"]
    # (1e-6: the module and the command may run LibTorch on different thread counts where OMP_NUM_THREADS is not
    # set, and a float32 network's sums then differ in their last digits; under ctest both use one thread)
    assert rec["evidence"]["sc_ipa_rpa"] == pytest.approx(cli["evidence"]["sc_ipa_rpa"], abs=1e-6)
    assert rec["evidence"]["interval"] == pytest.approx(cli["evidence"]["interval"], abs=1e-6)
    # the shipped models put this 32-atom crystal well below the 0.9 threshold: measured SC 0.786, interval
    # 0.720-0.852, so the RPA is needed; the SC is held to 0.066 (the interval's half width: a retrained model
    # that moves it further than its own calibrated uncertainty is a different prediction, to be looked at)
    assert rec["decision"] == "rpa-needed"
    assert rec["evidence"]["sc_ipa_rpa"] == pytest.approx(0.786, abs=0.066)
    assert rec["evidence"]["interval"][1] < 0.9
    assert "prediction" in rec
    both = rung.select([CIF, CIF], log="-")
    assert len(both) == 2 and both[0]["decision"] == rec["decision"]


def test_select_keeps_its_models_between_calls_and_reloads_a_changed_set(tmp):
    """rung.select loads a model set once (about a second) and keeps it by its files, as rung.predict does: a loop
    over structures pays the load once; a set whose files change is loaded again. A dict of rung.structure is a
    structure."""
    si = str(pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "si_tiny" / "scf.in")
    shipped = pathlib.Path(__file__).resolve().parents[2] / "share" / "models"
    models = tmp / "set"
    models.mkdir()
    for f in ("ipa.h5", "rpa.h5"):  # SC from the predicted spectra alone
        shutil.copy(shipped / f, models / f)
    rung.clear_model_cache()
    t0 = time.perf_counter()
    try:
        a = rung.select(si, model=str(models), log="-")
    except NotImplementedError as e:
        without_torch(e)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = rung.select(si, model=str(models), log="-")
    second = time.perf_counter() - t0
    assert b["evidence"]["sc_ipa_rpa"] == a["evidence"]["sc_ipa_rpa"]
    # measured 1.8 s, then 0.02 s: the second call does not load the models again
    assert second < 0.5 * first, (first, second)
    for f in ("sc.h5", "model_set.json"):  # the set now has the SC model, which decides alone ("direct")
        shutil.copy(shipped / f, models / f)
    c = rung.select(si, model=str(models), log="-")
    assert c["evidence"]["sc_ipa_rpa"] != a["evidence"]["sc_ipa_rpa"]
    d = rung.select(rung.structure(si), model=str(models), log="-")
    assert d["evidence"]["sc_ipa_rpa"] == pytest.approx(c["evidence"]["sc_ipa_rpa"], abs=1e-6)


def test_select_keeps_a_set_that_failed_to_load_until_its_files_change(tmp):
    """A model set that cannot be loaded is kept as its failure: the next call raises the same error without reading
    the set again, and a set whose files change is read again. (ipa.h5 and rpa.h5 load before model_set.json is
    read: an ipa.h5 spoiled behind the cache's back, with its size and modification time kept, would fail first if
    the set were read again.)"""
    si = str(pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "si_tiny" / "scf.in")
    shipped = pathlib.Path(__file__).resolve().parents[2] / "share" / "models"
    models = tmp / "broken"
    models.mkdir()
    for f in ("ipa.h5", "rpa.h5"):
        shutil.copy(shipped / f, models / f)
    (models / "model_set.json").write_text('{"format": "something-else"}\n')
    rung.clear_model_cache()
    try:
        with pytest.raises(ValueError, match="model_set.json.*not a rung model-set file"):
            rung.select(si, model=str(models), log="-")
    except NotImplementedError as e:
        without_torch(e)
    ipa = models / "ipa.h5"
    st = ipa.stat()
    ipa.write_bytes(b"\0" * st.st_size)
    os.utime(ipa, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(ValueError, match="model_set.json.*not a rung model-set file"):
        rung.select(si, model=str(models), log="-")
    shutil.copy(shipped / "ipa.h5", ipa)
    (models / "model_set.json").write_text('{"format": "rung-model-set", "format_version": 1, "sc_estimator": "mean"}\n')
    assert 0 <= rung.select(si, model=str(models), log="-")["evidence"]["sc_ipa_rpa"] <= 1


def test_a_prediction_prints_no_libtorch_note(tmp):
    """LibTorch 1.13's note that scatter_reduce is "in beta" (printed once per process on stderr) is not the
    user's business: rung drops it, on its own thread and for its own calls only."""
    si = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "si_tiny" / "scf.in"
    r = run_child("import sys, rung\ntry:\n    rung.predict(sys.argv[1])\nexcept NotImplementedError:\n    pass", si)
    assert r.returncode == 0, r.stderr
    assert "scatter_reduce" not in r.stderr and "in beta" not in r.stderr, r.stderr


def test_select_on_one_file_of_several_structures_returns_them_all(tmp):
    si = ('{"id": "si%d", "lattice": [[0, 2.7155, 2.7155], [2.7155, 0, 2.7155], [2.7155, 2.7155, 0]], '
          '"species": ["Si", "Si"], "frac_coords": [[0, 0, 0], [0.25, 0.25, 0.25]]}\n')
    two = tmp / "two.jsonl"
    two.write_text(si % 1 + si % 2)
    try:
        recs = rung.select(str(two), log="-")
    except NotImplementedError as e:
        without_torch(e)
    assert isinstance(recs, list) and len(recs) == 2


def test_select_on_structure_objects_logs_each_decision_as_it_is_made(tmp):
    # Two objects shaped like pymatgen Structures, the second with both atoms on one site (refused by the model):
    # the first decision is in the log although the call raises (it was written only after the loop).
    from types import SimpleNamespace as NS
    a = 2.7155
    def fake(frac):
        return NS(lattice=NS(matrix=[[0, a, a], [a, 0, a], [a, a, 0]]), frac_coords=frac, atomic_numbers=[14, 14],
                  composition=NS(reduced_formula="Si"))
    log = tmp / "decisions.jsonl"
    try:
        rung.select(fake([[0, 0, 0], [0.25, 0.25, 0.25]]), log=str(tmp / "probe.jsonl"))
    except NotImplementedError as e:
        without_torch(e)
    with pytest.raises(ValueError):
        rung.select([fake([[0, 0, 0], [0.25, 0.25, 0.25]]), fake([[0, 0, 0], [0, 0, 0]])], log=str(log))
    assert len(log.read_text().splitlines()) == 1


def test_a_malformed_file_that_exists_is_a_value_error(tmp):
    bad = tmp / "bad.jsonl"
    bad.write_text('{"id": "x", "lattice": [[1, 0, 0]]}\n')
    with pytest.raises(ValueError):
        rung.structure(str(bad))


# ---- errors: the CLI's bad-input cases as exceptions -----------------------------------------------------------

def test_missing_paths_raise_file_not_found(tmp):
    for call in (lambda: rung.spectrum(tmp / "nope.save"), lambda: rung.info(tmp / "nope"),
                 lambda: rung.read_spectrum(tmp / "nope.h5"), lambda: rung.structure(tmp / "nope.cif"),
                 lambda: rung.compare(tmp / "a.h5", tmp / "b.h5"), lambda: rung.predict(tmp / "x.cif")):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            call()


def test_bad_options_name_their_key():
    with pytest.raises(ValueError, match='"broadening_ev"'):
        rung.spectrum("x", broadening_ev=0.1)  # unknown key (the canonical one is broadening_eV)
    with pytest.raises(ValueError, match="broadening_eV"):
        rung.spectrum(TINY, broadening_eV=-1.0)
    with pytest.raises(ValueError, match='"steps"'):
        rung.spectrum(TINY, steps="many")
    with pytest.raises(ValueError, match="theory"):
        rung.spectrum(TINY, theory="gw")
    with pytest.raises(ValueError, match='"block"'):
        rung.spectrum(TINY, theory="rpa", block="4 parsecs")
    with pytest.raises(ValueError, match="precision"):
        rung.predict(CIF, precision="half")
    with pytest.raises(ValueError, match='"treshold"'):
        rung.select(CIF, treshold=0.8)
    with pytest.raises(ValueError, match="column"):
        rung.compare(CIF, CIF, column="abs")
    with pytest.raises(TypeError):
        rung.structure(42)


def test_numpy_values_and_out_of_range_integers_name_their_key():
    with pytest.raises(ValueError, match='"steps"'):
        rung.spectrum("x", steps=np.array([101, 201]))  # an array counts as its list: no count
    with pytest.raises(ValueError, match='"steps"'):
        rung.spectrum("x", steps=10**30)  # beyond 64 bits (pybind11 alone: a RuntimeError without the key)
    with pytest.raises(ValueError, match='"broadening_eV"'):
        rung.spectrum("x", broadening_eV=np.complex128(1j))
    with pytest.raises(ValueError, match='"batch"'):
        rung.predict("x.cif", batch=-(2**70))
    need_fixture("si_tiny")
    # numpy scalars as their values, a numpy array as its list: the same request as with Python's own types
    a = rung.spectrum(TINY, steps=np.int64(101), emax_eV=np.float32(10.0), directions=np.array(["x", "z"]))
    b = rung.spectrum(TINY, steps=101, emax_eV=10.0, directions=["x", "z"])
    assert sorted(a["eps"]) == ["x", "z"]
    for comp in ("x", "z"):
        assert np.array_equal(a["eps"][comp], b["eps"][comp])


def test_predict_refuses_a_thread_count_it_would_not_apply():
    # the module leaves the process's thread pools alone: threads=4 would be silently ignored
    with pytest.raises(ValueError, match='"threads"'):
        rung.predict(CIF, threads=4)


def test_bad_files_raise_value_error_naming_the_file(tmp):
    # an empty folder, a folder that is not a save, a truncated XML, a corrupted value, garbage spectra and CIFs:
    # each a ValueError with rung's one-line message naming the file (no crash, no traceback from C++)
    empty = tmp / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=re.escape(str(empty))):
        rung.spectrum(empty)
    need_fixture("si_tiny")
    save = tmp / "si.save"
    shutil.copytree(TINY, save)
    xml = save / "data-file-schema.xml"
    good = xml.read_text()
    xml.write_text(good[: len(good) // 2])
    with pytest.raises(ValueError, match=re.escape(str(xml))) as e:
        rung.spectrum(save)
    assert "\n" not in str(e.value)
    i = good.rfind("<nbnd>8</nbnd>")
    xml.write_text(good[:i] + "<nbnd>eight</nbnd>" + good[i + len("<nbnd>8</nbnd>"):])
    with pytest.raises(ValueError, match="nbnd"):
        rung.info(save)
    xml.write_text(good)
    wfc = save / "wfc1.dat"
    wfc.write_bytes(wfc.read_bytes()[:100])
    with pytest.raises(ValueError, match="wfc1.dat"):
        rung.spectrum(save)
    bad = tmp / "o-bad.eps_q1_ip"
    bad.write_text("# Version 5.2.4\n# Absorption @ Q(1): 1 0 0\n0.0 1.0\n0.1 nan 2\n")
    with pytest.raises(ValueError, match="o-bad.eps_q1_ip"):
        rung.read_spectrum(bad)
    cif = tmp / "nocell.cif"
    cif.write_text("data_x\n_atom_site_label Si1\n_atom_site_fract_x 0\n")
    with pytest.raises(ValueError, match="nocell.cif"):
        rung.structure(cif)
    with pytest.raises(ValueError, match="nocell.cif"):
        rung.predict(cif)


def test_info_matches_the_cli():
    need_fixture("si_tiny")
    import json
    cli = json.loads(subprocess.run([CLI, "info", "--json", str(TINY)], check=True, capture_output=True,
                                    text=True).stdout)
    assert rung.info(TINY) == cli
