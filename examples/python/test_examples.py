"""The Python examples as tests (ctest runs them with pytest: examples/CMakeLists.txt). They skip, saying why,
where ../shared (the references, and the inputs of the si_gamma_888 fixture run) or pymatgen is absent; where
../shared is present, a missing file of it or fixture run is a failure."""
import os
import pathlib
import shutil

import numpy as np
import pytest

import rung

HERE = pathlib.Path(__file__).resolve().parent
QE_RUNS = pathlib.Path(os.environ.get("RUNG_QE_RUNS_DIR", "/nonexistent"))
SHARED = pathlib.Path(os.environ.get("RUNG_SHARED_DIR", "/nonexistent"))


def need(path, why):
    if pathlib.Path(path).exists():
        return
    if not (SHARED / "reference").is_dir():
        pytest.skip(f"{why}: ../shared is absent ({SHARED / 'reference'}; it runs in CI)")
    pytest.fail(f"{path} is missing although {SHARED / 'reference'} is present")


def test_si_spectrum_against_yambo(tmp_path):
    import si_spectrum
    save = QE_RUNS / "si_gamma_888" / "out" / "si.save"  # pw.x on the quick start's inputs (examples/si)
    yambo = SHARED / "reference" / "yambo-5.2.4" / "Si_gamma8x8x8" / "yambo_sp" / "o-ip_x.eps_q1_ip"
    need(save / "data-file-schema.xml", "needs the si_gamma_888 pw.x fixture")
    need(yambo, "needs the shared YAMBO 5.2.4 runs")
    # the solver's own bound against YAMBO (tests/response/spectrum_reference.cpp): SC >= 0.995,
    # what remains being QE 6.7 vs YAMBO's single precision
    assert si_spectrum.main(save, yambo, tmp_path / "si.png") >= 0.995


def test_predictions_for_a_cif_folder(tmp_path):
    pytest.importorskip("pymatgen.core", reason="python3-pymatgen is not installed")
    import predict_cif_folder
    src = SHARED / "structures" / "cif"
    need(src, "needs the shared structures")
    for f in sorted(src.glob("*.cif"))[:5]:
        shutil.copy(f, tmp_path)
    try:
        rows = predict_cif_folder.main(tmp_path, 5)
    except NotImplementedError as e:
        pytest.skip(str(e))
    assert len(rows) == 5
    # the same folder through rung's own CIF reader: the same predictions (float32 network, CIF digits)
    by_path = rung.predict(tmp_path, target="sc")
    assert np.allclose([p["sc"] for p in by_path], [r[3] for r in rows], rtol=0, atol=1e-4)
    assert all(-1.0 <= r[3] <= 1.0 and 0.0 <= r[2] <= 20.0 for r in rows)
