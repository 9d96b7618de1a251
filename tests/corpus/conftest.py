"""Shared set-up of the compatibility corpus (tests/corpus/).

It reuses the end-to-end tests' helpers (tests/e2e/conftest.py: running
kiln, building programs, the pinned venv), loaded under the name
e2e_conftest, and the same environment variables (KILN_BUILD, KILN_PYTHON).

Each corpus test stores what it found with record_property("corpus", {...});
with --corpus-results FILE, every test's outcome (pass, fail, expected
failure, unexpected pass) and that record are written to FILE as JSON at
the end of the run, which tests/corpus/report.py turns into the README's
table.
"""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "e2e_conftest", Path(__file__).resolve().parents[1] / "e2e" / "conftest.py")
e2e_conftest = importlib.util.module_from_spec(_spec)
sys.modules["e2e_conftest"] = e2e_conftest
_spec.loader.exec_module(e2e_conftest)

# The end-to-end tests' check that kiln is built, registered here too.
from e2e_conftest import _kiln_is_built  # noqa: E402,F401


# What pytest_runtest_logreport kept, in the order the tests ran.
_outcomes = []


def pytest_addoption(parser):
    parser.addoption("--corpus-results", metavar="FILE",
                     help="write every corpus test's outcome to FILE (JSON)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "fast: the corpus's cheap subset, run by `make test`")
    config.addinivalue_line(
        "markers", "peer: builds with another tool for comparison (make corpus)")


def pytest_runtest_logreport(report):
    """Keeps the outcome of each corpus test (the final report: after
    pytest has applied its xfail marks)."""
    record = dict(report.user_properties).get("corpus")
    if record is None or report.when != "call":
        return
    if report.skipped and hasattr(report, "wasxfail"):
        status = "xfail"
    elif report.failed and str(report.longrepr).startswith("[XPASS(strict)]"):
        status = "xpass"
    else:
        status = "pass" if report.passed else "fail"
    if status != "pass" and not record.get("detail"):
        lines = str(report.longrepr).strip().splitlines()
        record["detail"] = (lines or [""])[-1][:300]
    _outcomes.append(dict(record, test=report.nodeid, status=status))


def pytest_sessionfinish(session):
    path = session.config.getoption("--corpus-results")
    if not path:
        return
    Path(path).write_text(json.dumps(
        {"python": e2e_conftest.run([e2e_conftest.KILN_PYTHON, "-c",
                                     "import platform;"
                                     "print(platform.python_version())"]
                                    ).stdout.strip(),
         "results": _outcomes}, indent=1, sort_keys=True) + "\n")
