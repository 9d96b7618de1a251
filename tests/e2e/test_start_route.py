"""What the interpreter's main phase does in a built program, whichever way
the runtime stub starts it (docs/runtime.md, "Two phases"): through
_Py_InitializeMain, or, on a Python without it (3.14), through a second
Py_InitializeFromConfig. `make e2e-start-route` runs this file, and the
other start-up tests, against a stub built the second way on the Python of
the build.

The main phase must find the bundle importer already first on
sys.meta_path: encodings, the codec of the standard streams (even one
named only at run time) and everything else it imports come from the
bundle, and the zip importer is not set up."""
import pytest

from conftest import KILN_PYTHON, describe, kiln_build, run, write_tree

APP = """
import sys
codecs = sorted(m for m in sys.modules
                if m == "encodings" or m.startswith("encodings."))
print(" ".join(codecs))
print(sorted({type(sys.modules[m].__loader__).__name__ for m in codecs}),
      sys.modules["encodings"].__file__.startswith(sys.kiln.files + "/"))
hooks = [getattr(h, "__name__", type(h).__name__) for h in sys.path_hooks]
print("zipimport" in sys.modules, "zipimporter" in hooks,
      getattr(sys.path_hooks[0], "__self__", None) is sys.meta_path[0],
      [getattr(f, "__name__", type(f).__name__) for f in sys.meta_path])
print(sys.stdout.encoding, sys.stdout.errors, sys.stdin.encoding,
      sys.getfilesystemencoding())
"""

# What python prints for the stdio line of APP.
STDIO = """
import sys
print(sys.stdout.encoding, sys.stdout.errors, sys.stdin.encoding,
      sys.getfilesystemencoding())
"""


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    d = tmp_path_factory.mktemp("start-route")
    write_tree(d, {"app.py": APP, "stdio.py": STDIO})
    kiln_build("app.py", "-q", "-o", "isolated", cwd=d)
    kiln_build("app.py", "-q", "--python-env", "-o", "env", cwd=d)
    return d


def lines(r):
    assert r.returncode == 0, describe(r)
    return r.stdout.splitlines()


def test_main_phase_imports_from_the_bundle(progs):
    got = lines(run([progs / "isolated"], env={"PATH": "/usr/bin:/bin"}))
    assert {"encodings", "encodings.aliases"} <= set(got[0].split()), got
    assert got[1] == "['BundleImporter'] True", got
    assert got[2] == ("False False True ['BundleImporter', "
                      "'BuiltinImporter', 'FrozenImporter']"), got


@pytest.mark.parametrize("encoding, module", [
    ("latin-1", "encodings.latin_1"), ("cp1252", "encodings.cp1252"),
    ("koi8_r", "encodings.koi8_r"), ("ascii:backslashreplace",
                                     "encodings.ascii"),
])
def test_stdio_codec_named_at_run_time(progs, encoding, module):
    """PYTHONIOENCODING (honoured with --python-env) makes the main phase
    import a codec module that nothing else needs, stored compressed in
    the bundle: it must come from the bundle, and the standard streams
    must be python's."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": encoding,
           "LC_ALL": "C.UTF-8"}
    want = lines(run([KILN_PYTHON, "-s", progs / "stdio.py"], env=env))
    got = lines(run([progs / "env"], env=env))
    assert got[3] == want[0], (got, want)
    assert module in got[0].split(), got
    assert got[1] == "['BundleImporter'] True", got
