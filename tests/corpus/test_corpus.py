"""The compatibility corpus: real PyPI packages (pins.txt), each used for
real by a smoke app (apps/NAME_app.py) that prints a deterministic result.

Each app is built with kiln from one venv holding the pins
($KILN_BUILD/corpus-venv, kept between runs), as a one-file program and as
a folder program (--onedir), and run as a user runs it (from an empty
directory, with no venv active); its stdout and exit status must be what
the venv's own python prints for the same script. A known limitation is a
strict xfail naming its issue and the error line it shows, so that a fix
(or a different failure) is noticed.

`make test` runs the cheap apps (marked fast); `make corpus` runs every
app, builds each with `pyinstaller --onefile` too (marked peer: its result
is recorded for the README's table, not asserted) and writes
tests/corpus/README.md from the results (report.py).
"""
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from e2e_conftest import KILN_BUILD, kiln_build, make_venv, run

HERE = Path(__file__).resolve().parent
APPS_DIR = HERE / "apps"
DATA_DIR = HERE / "data"
PINS = tuple(line.strip() for line in
             (HERE / "pins.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#"))
VERSIONS = {p.split("==")[0].lower().replace("_", "-"): p.split("==")[1]
            for p in PINS}

RUN_TIMEOUT = 120
PYINSTALLER_TIMEOUT = 900


class KnownFailure(AssertionError):
    """The failure a strict xfail expects: the program failed and showed
    the error line its Known names."""


@dataclass(frozen=True)
class Known:
    """A known failure of one mode: the issue it is (the xfail's reason)
    and a regular expression for what the failure shows (searched in the
    program's stderr and in the difference from python's output)."""
    reason: str
    shows: str


@dataclass(frozen=True)
class App:
    dists: tuple                 # distributions shown in the table
    fast: bool = False           # in `make test`'s subset
    args: tuple = ()             # "DATA" stands for tests/corpus/data
    known: dict = field(default_factory=dict)  # mode -> Known




def both(known):
    return {"onefile": known, "onedir": known}


APPS = {
    "attrs": App(("attrs",)),
    "babel": App(("babel",)),
    "certifi": App(("certifi",)),
    "charset_normalizer": App(("charset-normalizer",)),
    "click": App(("click",)),
    "cryptography": App(("cryptography", "cffi")),
    "dateutil": App(("python-dateutil", "six")),
    "docutils": App(("docutils",)),
    "idna": App(("idna",), fast=True),
    "jinja2": App(("jinja2", "markupsafe")),
    "jsonschema": App(("jsonschema", "jsonschema-specifications",
                       "referencing", "rpds-py")),
    "lxml": App(("lxml",)),
    "markdown": App(("markdown",)),
    "markupsafe": App(("markupsafe",), fast=True),
    "numpy": App(("numpy",)),
    "packaging": App(("packaging",), fast=True),
    "pillow": App(("pillow",)),
    "pkg_resources": App(("setuptools",)),
    "platformdirs": App(("platformdirs",)),
    "psutil": App(("psutil",)),
    "pydantic": App(("pydantic", "pydantic-core")),
    "pygments": App(("pygments",)),
    "pytz": App(("pytz",), fast=True),
    "requests": App(("requests", "urllib3", "certifi"), args=("DATA",)),
    "rich": App(("rich", "pygments", "markdown-it-py")),
    "setuptools": App(("setuptools",)),
    "sqlalchemy": App(("sqlalchemy", "greenlet")),
    "tqdm": App(("tqdm",)),
    "typing_extensions": App(("typing-extensions",)),
    "tzdata": App(("tzdata",), fast=True),
    "urllib3": App(("urllib3",), args=("DATA",), known=both(Known(
        "collection policy: urllib3 (docs/collection.md, Optional "
        "imports) imports idna only inside a function and does not require it, so "
        "kiln leaves it out and says so ('left out idna'; --hidden-import "
        "idna brings it); parse_url of a non-ASCII host then fails, where "
        "python finds the idna that the venv happens to hold",
        "LocationParseError: Failed to parse: https://user@"))),
    "yaml": App(("pyyaml",)),
}

MODES = ("onefile", "onedir")


def package_label(app):
    return " + ".join(f"{d} {VERSIONS[d]}" for d in app.dists)


def app_args(app):
    return [str(DATA_DIR) if a == "DATA" else a for a in app.args]


def kiln_params():
    params = []
    for name, app in sorted(APPS.items()):
        for mode in MODES:
            marks = [pytest.mark.fast] if app.fast else []
            known = app.known.get(mode)
            if known:
                marks.append(pytest.mark.xfail(strict=True, raises=KnownFailure,
                                               reason=known.reason))
            params.append(pytest.param(name, mode, marks=marks,
                                       id=f"{mode}-{name}"))
    return params


# ---- fixtures ----------------------------------------------------------------

@pytest.fixture(scope="session")
def corpus_venv(request):
    """A venv with every pin, kept in KILN_BUILD between runs; for the
    fast subset alone (`-m fast`, as `make test` runs it), one with only
    the pins of its apps, which need nothing else."""
    if request.config.getoption("-m") == "fast":
        fast = {d for app in APPS.values() if app.fast for d in app.dists}
        pins = tuple(p for p in PINS if
                     p.split("==")[0].lower().replace("_", "-") in fast)
        return make_venv(KILN_BUILD / "corpus-fast-venv", pins)
    return make_venv(KILN_BUILD / "corpus-venv", PINS)


@pytest.fixture(scope="session")
def user_env(tmp_path_factory):
    """The environment programs and python run in: no venv active, no
    PYTHON* variables, and a cache directory of the run's own (a one-file
    program's importlib.resources.as_file writes there)."""
    env = {k: v for k, v in os.environ.items()
           if k != "VIRTUAL_ENV" and not k.startswith("PYTHON")}
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    return env


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    """A copy of apps/ (what kiln builds from) and an empty directory
    (where everything runs)."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(APPS_DIR, root / "apps",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "cwd").mkdir()
    return root


@pytest.fixture(scope="session")
def expected(corpus_venv, workdir, user_env):
    """expected(name): what the venv's python prints for the app (once per
    session); it must succeed."""
    cache = {}

    def get(name):
        if name not in cache:
            r = run([corpus_venv / "bin" / "python", "-E", "-s",
                     workdir / "apps" / f"{name}_app.py",
                     *app_args(APPS[name])],
                    cwd=workdir / "cwd", env=user_env, timeout=RUN_TIMEOUT)
            assert r.returncode == 0, f"python fails on the app:\n{r.stderr}"
            cache[name] = r
        return cache[name]
    return get


# ---- comparing a program with python ------------------------------------------

# A line that names an exception ("ImportError: ...", "pkg.sub.Error: ...").
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|NotFound)\b")


def error_line(stderr, shows=None):
    """The line of stderr that shows what went wrong: the one holding
    a match of the regular expression `shows` if given, else the last exception line, else the
    last line. PyInstaller's own "[PYI-pid:ERROR] Failed to execute
    script" lines say nothing and are passed over."""
    lines = [ln.strip() for ln in stderr.splitlines()
             if ln.strip() and not ln.startswith("[PYI-")]
    if shows:
        for ln in lines:
            if re.search(shows, ln):
                return ln
    named = [ln for ln in lines if EXCEPTION_LINE.match(ln)]
    return (named or lines or [""])[-1]


def difference(got, want, shows=None, where=None):
    """None when got (a program's run) printed what want (python's run)
    printed and exited as it did; else one line saying how it differs,
    with `where` (the program's path) written as <program>."""
    if got.returncode != want.returncode:
        diff = (f"exit status {got.returncode} (python: {want.returncode}):"
                f" {error_line(got.stderr, shows)}")
    elif got.stdout == want.stdout:
        return None
    else:
        g, w = got.stdout.splitlines(), want.stdout.splitlines()
        diff = "output differs in line endings"
        for i in range(max(len(g), len(w))):
            gl = g[i] if i < len(g) else "<end>"
            wl = w[i] if i < len(w) else "<end>"
            if gl != wl:
                diff = (f"output line {i + 1}: {gl[:120]!r} "
                        f"(python: {wl[:120]!r})")
                break
    return diff.replace(str(where), "<program>") if where else diff


def check(got, want, record, known, where):
    """Fails the test when got differs from want: with KnownFailure when
    the failure is the known one (it shows known.shows), else with an
    AssertionError that shows the whole run."""
    diff = difference(got, want, known and known.shows, where)
    record["detail"] = diff or ""
    if diff is None:
        return
    if known is not None and re.search(known.shows,
                                       diff + "\n" + got.stderr):
        raise KnownFailure(diff)
    raise AssertionError(
        f"{diff}\n--- stdout ---\n{got.stdout}\n--- stderr ---\n{got.stderr}"
        f"\n--- python's stdout ---\n{want.stdout}")


def tree_size(path):
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ---- the tests -----------------------------------------------------------------

@pytest.mark.parametrize("name,mode", kiln_params())
def test_kiln_program_prints_what_python_prints(name, mode, corpus_venv,
                                                workdir, user_env, expected,
                                                record_property):
    app = APPS[name]
    known = app.known.get(mode)
    record = {"app": name, "package": package_label(app),
              "tool": f"kiln-{mode}", "fast": app.fast,
              "xfail": known.reason if known else None}
    record_property("corpus", record)
    want = expected(name)
    out = workdir / "dist" / mode / name
    args = [f"{name}_app.py", "--venv", corpus_venv, "-o", out, "--name", name]
    kiln_build(*args, *(["--onedir"] if mode == "onedir" else []),
               cwd=workdir / "apps")
    prog = out / name if mode == "onedir" else out
    record["size"] = tree_size(out)
    got = run([prog, *app_args(app)], cwd=workdir / "cwd", env=user_env,
              timeout=RUN_TIMEOUT)
    try:
        check(got, want, record, known, out)
    except KnownFailure:
        remove(out)
        raise
    remove(out)  # 64 programs of 14 to 30 MiB: only a surprise is kept


def remove(path):
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


@pytest.fixture(scope="session")
def pyinstaller_dir(corpus_venv):
    """Where PyInstaller builds: a copy of apps/ in KILN_BUILD, kept (with
    PyInstaller's own build/ cache and configuration directory) between
    runs, as a user's project directory would be."""
    d = KILN_BUILD / "corpus-pyinstaller"
    shutil.copytree(APPS_DIR, d, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return d


@pytest.mark.peer
@pytest.mark.parametrize("name", sorted(APPS))
def test_pyinstaller_onefile(name, corpus_venv, pyinstaller_dir, workdir,
                             user_env, expected, record_property):
    """`pyinstaller --onefile NAME_app.py`, as its user would first type it
    in the venv, run like kiln's programs. PyInstaller is the peer the
    README compares with, not the code under test: its result is recorded
    (ok and the line that shows a failure), not asserted."""
    app = APPS[name]
    record = {"app": name, "package": package_label(app),
              "tool": "pyinstaller-onefile"}
    record_property("corpus", record)
    want = expected(name)
    env = dict(user_env, VIRTUAL_ENV=str(corpus_venv),
               PATH=f"{corpus_venv / 'bin'}:{user_env.get('PATH', '')}",
               PYINSTALLER_CONFIG_DIR=str(pyinstaller_dir / ".config"))
    b = run([corpus_venv / "bin" / "pyinstaller", "--onefile",
             f"{name}_app.py"], cwd=pyinstaller_dir, env=env,
            timeout=PYINSTALLER_TIMEOUT, stdin=subprocess.DEVNULL)
    if b.returncode != 0:
        record.update(ok=False, detail=f"build failed: {error_line(b.stderr)}")
        return
    prog = pyinstaller_dir / "dist" / f"{name}_app"
    record["size"] = tree_size(prog)
    got = run([prog, *app_args(app)], cwd=workdir / "cwd", env=user_env,
              timeout=RUN_TIMEOUT)
    diff = difference(got, want)
    record.update(ok=diff is None, detail=re.sub(r"[^\s'\"]*/_MEI\w+",
                                                 "<unpacked>", diff or ""))
