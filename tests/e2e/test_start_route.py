"""What the interpreter's main phase does in a built program, whichever way
the runtime stub starts it (docs/runtime.md, "Two phases"): through
_Py_InitializeMain, or, on a Python without it (3.14), through a second
Py_InitializeFromConfig. `make e2e-start-route` runs this file, and the
other start-up tests, against a stub built the second way on the Python of
the build.

The main phase must find the bundle importer already first on
sys.meta_path: encodings, the codec of the standard streams (even one
named only at run time) and everything else it imports come from the
bundle, and the zip importer is not set up. importlib's path-based
importers are set up the first time the program asks for them, as CPython
would have set them up, and from then on are where python has them."""
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


# The path-based importers a program that looks nothing up on disk sets up
# only when asked (docs/runtime.md, "Two phases", step 4): before, after a
# bundled extension module, and after the first import that needs them.
LAZY = """
import sys
def state():
    return ("_frozen_importlib_external" in sys.modules,
            [getattr(h, "__qualname__", type(h).__name__)
             for h in sys.path_hooks],
            [getattr(f, "__name__", type(f).__name__) for f in sys.meta_path])
print(*state())
import _bz2
print(hasattr(_bz2, "__file__"), *state())
def user_hook(path):
    raise ImportError
sys.path_hooks.append(user_hook)
if sys.argv[1:] == ["standin"]:
    print(sys.modules["_frozen_importlib"]._bootstrap_external.SOURCE_SUFFIXES)
else:
    import importlib.machinery
    print(importlib.machinery.SOURCE_SUFFIXES)
import importlib._bootstrap as b, _frozen_importlib_external as e
print(*state())
print(b._bootstrap_external is e, e._bootstrap is b,
      sys.modules["importlib._bootstrap_external"] is e)
import os, pkgutil, tempfile
d = tempfile.mkdtemp()
open(os.path.join(d, "zz_on_disk.py"), "w").close()
print([m.name for m in pkgutil.iter_modules([d])])
os.remove(os.path.join(d, "zz_on_disk.py"))
os.rmdir(d)
"""

FILE_FINDER = "FileFinder.path_hook.<locals>.path_hook_for_FileFinder"


@pytest.fixture(scope="module")
def lazy(tmp_path_factory):
    d = tmp_path_factory.mktemp("lazy-external")
    write_tree(d, {"lazy.py": LAZY})
    kiln_build("lazy.py", "-q", "-o", "lazy", cwd=d)
    return d


@pytest.mark.parametrize("how", ["import", "standin"])
def test_path_importers_are_set_up_when_asked(lazy, how):
    """Nothing of them before the first use, not even for an extension
    module; then the same module importlib uses, FileFinder's hook where
    python has it (before a hook the program appended, after the bundle
    importer's), PathFinder off sys.meta_path, and files found on disk by
    pkgutil as python finds them."""
    want = lines(run([KILN_PYTHON, "-I", "-S", "-c", LAZY, how]))
    got = lines(run([lazy / "lazy", how]))
    finders = "['BundleImporter', 'BuiltinImporter', 'FrozenImporter']"
    assert got[0] == f"False ['BundleImporter._kiln_path_hook'] {finders}"
    assert got[1] == ("True False ['BundleImporter._kiln_path_hook'] "
                      f"{finders}"), got
    assert got[2] == want[2] == "['.py']", (got, want)
    assert got[3] == (f"True ['BundleImporter._kiln_path_hook', "
                      f"'{FILE_FINDER}', 'user_hook'] {finders}"), got
    assert want[3].startswith(f"True ['zipimporter', '{FILE_FINDER}', "
                              "'user_hook']"), want
    assert got[4:] == want[4:] == ["True True True", "['zz_on_disk']"]


THREADS = """
import sys, threading
got, errors = [], []
def imp():
    try:
        import importlib.util
        got.append(importlib.util)
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=imp) for _ in range(8)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(len(got), len({id(m) for m in got}), errors,
      sum(1 for h in sys.path_hooks
          if "FileFinder" in getattr(h, "__qualname__", "")),
      [getattr(f, "__name__", type(f).__name__) for f in sys.meta_path])
"""


def test_path_importers_set_up_once_under_threads(tmp_path):
    """Eight threads ask at once: one set-up, one module, one hook."""
    write_tree(tmp_path, {"threads.py": THREADS})
    kiln_build("threads.py", "-q", "-o", "threads", cwd=tmp_path)
    got = lines(run([tmp_path / "threads"]))
    assert got == ["8 1 [] 1 ['BundleImporter', 'BuiltinImporter', "
                   "'FrozenImporter']"], got
