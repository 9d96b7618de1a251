"""importlib's protocol for importing a module, which the runtime does in C
for bundled modules (rt_importer_load.c), against python's own: circular
imports, a module body that raises, a parent that is no package, None in
sys.modules, a module that replaces itself in sys.modules, a parent that
refuses the child attribute, a package importing its own submodule,
fromlist, importlib.import_module, threads importing one module at once,
a finder put before the bundle importer, the order of sys.modules and the
"import" audit events.
Tracebacks are compared without importlib's own frames, of which python
shows more through importlib.import_module (docs/runtime.md)."""
import pytest

from conftest import KILN_PYTHON, describe, kiln_build, run, write_tree

APP = {
    'app.py': """\
import importlib, os, sys, threading, traceback, warnings

ROOTS = ([sys.kiln.files] if getattr(sys, "frozen", False)
         else [os.path.dirname(os.path.abspath(__file__)),
               os.path.dirname(os.__file__)])


def rel(text):
    text = str(text)
    for root in ROOTS:
        text = text.replace(root + "/", "")
    return text


def show(label, f):
    try:
        r = f()
        print(label, "->", rel(r))
    except BaseException as e:
        frames = [(rel(fr.filename), fr.name, fr.line)
                  for fr in traceback.extract_tb(e.__traceback__)
                  if not fr.filename.startswith("<frozen importlib")]
        print(label, "!", type(e).__name__, rel(e), frames)


seen = []
events = []
sys.addaudithook(lambda event, args: event == "import" and
                 str(args[0]).startswith("pkg") and events.append(args[0]))


class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("pkg"):
            seen.append(name)
        return None


show("circular", lambda: importlib.import_module("pkg.circ_a"))
show("circular again", lambda: importlib.import_module("pkg.circ_a").A)
show("body raises", lambda: __import__("pkg.bad"))
print("bad left", "pkg.bad" in sys.modules, hasattr(sys.modules["pkg"], "bad"))
show("not a package", lambda: __import__("json.decoder.x"))
sys.modules["pkg.blocked"] = None
show("blocked", lambda: __import__("pkg.blocked"))
show("replaced", lambda: (__import__("pkg.replace"), sys.modules["pkg"].replace)[1])
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    show("no setattr", lambda: __import__("pkg2.child").__class__.__name__)
    print("warned", [(str(x.message), x.category.__name__) for x in w
                     if x.category is ImportWarning])
show("init imports sub", lambda: __import__("pkg3").sub.ME)
show("fromlist", lambda: __import__("pkg", fromlist=["plain", "deep"]).deep.D)
show("import_module", lambda: importlib.import_module(".plain", "pkg").P)
got, count = [], []
def imp():
    got.append(importlib.import_module("pkg.slow"))
ts = [threading.Thread(target=imp) for _ in range(6)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("threads", len(got), len({id(m) for m in got}), got[0].RUNS)
sys.meta_path.insert(0, Recorder())
show("finder first", lambda: importlib.import_module("pkg.later").L)
print("asked", seen)
print("order", [m for m in sys.modules if m.startswith("pkg")])
print("audited", events)
""",
    'pkg/__init__.py': """\
""",
    'pkg/bad.py': """\
x = 1
raise ValueError("bad module")
""",
    'pkg/circ_a.py': """\
from pkg.circ_b import B
A = 1
""",
    'pkg/circ_b.py': """\
from pkg.circ_a import A
B = 2
""",
    'pkg/deep.py': """\
D = "deep"
""",
    'pkg/later.py': """\
L = "later"
""",
    'pkg/plain.py': """\
P = "plain"
""",
    'pkg/replace.py': """\
import sys
sys.modules[__name__] = "replaced"
""",
    'pkg/slow.py': """\
import builtins, time
RUNS = getattr(builtins, "_runs", 0) + 1
builtins._runs = RUNS
time.sleep(0.1)
""",
    'pkg2/__init__.py': """\
import sys, types
class Guarded(types.ModuleType):
    def __setattr__(self, k, v):
        if k == "child":
            raise AttributeError(k)
        super().__setattr__(k, v)
sys.modules[__name__].__class__ = Guarded
""",
    'pkg2/child.py': """\
C = 1
""",
    'pkg3/__init__.py': """\
from . import sub
""",
    'pkg3/sub.py': """\
import pkg3
ME = "sub"
""",
}

HIDDEN = ["pkg.circ_a", "pkg.bad", "pkg.replace", "pkg2.child", "pkg.slow",
          "pkg.later", "pkg.plain", "pkg.deep", "pkg3"]


def test_import_protocol_is_pythons(tmp_path):
    write_tree(tmp_path, APP)
    args = [a for m in HIDDEN for a in ("--hidden-import", m)]
    kiln_build("app.py", "-q", "-o", "app", *args, cwd=tmp_path)
    want = run([KILN_PYTHON, "-E", "-s", "-S", "-B", tmp_path / "app.py"])
    got = run([tmp_path / "app"])
    assert want.returncode == 0, describe(want)
    assert got.returncode == 0, describe(got)
    assert "threads 6 1 1" in want.stdout.splitlines(), want.stdout
    assert got.stdout.splitlines() == want.stdout.splitlines()


def test_verbose_imports_are_reported_as_by_python(tmp_path):
    """Under python's -v (PYTHONVERBOSE, honoured with --python-env) the
    imports go through importlib's own functions, which print one line per
    module imported: the same modules, in the same order, as python."""
    write_tree(tmp_path, {"v.py": "import json, pkg.plain, pkg.deep\n",
                          "pkg/__init__.py": "", "pkg/plain.py": "",
                          "pkg/deep.py": "from . import plain\n"})
    kiln_build("v.py", "-q", "--python-env", "-o", "v", cwd=tmp_path)
    env = {"PATH": "/usr/bin:/bin", "PYTHONVERBOSE": "1"}

    def imported(r):
        assert r.returncode == 0, describe(r)
        return [line.split("'")[1] for line in r.stderr.splitlines()
                if line.startswith(("import 'json", "import 'pkg"))]

    want = imported(run([KILN_PYTHON, "-s", "-S", tmp_path / "v.py"],
                        env=env))
    got = imported(run([tmp_path / "v"], env=env))
    assert {"json", "json.decoder", "pkg", "pkg.plain", "pkg.deep"} <= \
        set(want), want
    assert got == want
