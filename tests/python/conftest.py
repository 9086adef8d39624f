"""python:module is one ctest test: a skip inside it would pass unseen. A test may skip only for what a machine may
legitimately lack (the reasons below, each said by the helpers of test_python_module.py or by importorskip): an
optional package (python3-h5py, -ase, -pymatgen), ../shared (a user's clone) or LibTorch in the build. Any other skip
fails the run, and every skip is listed at its end (pytest -rs)."""
import re

ALLOWED = re.compile(r"is not installed|\.\./shared, which is absent|\.\./shared is absent|built without LibTorch")
_unexpected = []


def pytest_runtest_logreport(report):
    if not report.skipped:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if not ALLOWED.search(reason):
        _unexpected.append(f"{report.nodeid}: {reason}")


def pytest_terminal_summary(terminalreporter):
    for u in _unexpected:
        terminalreporter.write_line(f"UNEXPECTED SKIP (a failure): {u}", red=True)


def pytest_sessionfinish(session, exitstatus):
    if _unexpected and session.exitstatus == 0:
        session.exitstatus = 1
