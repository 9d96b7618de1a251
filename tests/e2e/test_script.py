"""Script mode: the module dunders and introspection python gives a script,
odd program paths and arguments, closed standard streams."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import (KILN_PYTHON, build_program, describe, python_run, run,
                      write_tree)

APP = {
    "tool.py": r'''
        import importlib.util
        import inspect
        import json
        import linecache
        import os
        import sys

        import helper


        def local(x):
            """Local function."""
            return x + 1


        class Thing:
            def method(self):
                return "thing"


        def relative():
            try:
                from . import helper as h
            except ImportError as e:
                return f"{type(e).__name__}: {e}"
            return "imported"


        cmd = sys.argv[1] if len(sys.argv) > 1 else "report"
        if cmd == "report":
            spec = importlib.util.find_spec("helper")
            print(json.dumps({
                "name": __name__,
                "spec": repr(__spec__),
                "file": __file__,
                "package": __package__,
                "cached": globals().get("__cached__"),
                "main_in_modules": sys.modules["__main__"].__dict__ is globals(),
                "getsource_local": inspect.getsource(local),
                "getsource_class": inspect.getsource(Thing),
                "getsource_helper": inspect.getsource(helper.f),
                "getsourcelines": inspect.getsourcelines(helper.f)[1],
                "getfile": inspect.getfile(helper.f),
                "getmodule": inspect.getmodule(helper.f).__name__,
                "linecache_globals": linecache.getline(helper.__file__, 2,
                                                       helper.__dict__),
                "linecache_main": linecache.getline(__file__, 1, globals()),
                "spec_origin": spec.origin,
                "spec_has_location": spec.has_location,
                "spec_parent": spec.parent,
                "helper_file": helper.__file__,
                "helper_cached": getattr(helper, "__cached__", None),
                "relative": relative(),
                "stack_line": inspect.stack()[0].code_context[0].strip()
                              if inspect.stack()[0].code_context else None,
            }))
        elif cmd == "argv":
            print(json.dumps([os.fsencode(a).hex() for a in sys.argv[2:]]))
        elif cmd == "linecache":
            import helper2
            print(repr(linecache.getline(helper2.__file__, 2)))
        elif cmd == "warn":
            import warnings
            warnings.warn("careful now")
        elif cmd == "closed":
            import bz2, json
            os.write(2, repr([sys.stdin, sys.stdout]).encode() + b"\n")
            os.write(2, str(len(bz2.decompress(bz2.compress(b"abc")))).encode() + b"\n")
            print("to nowhere")
    ''',
    "helper.py": '''
        # helper
        def f():
            return "f"
    ''',
    "helper2.py": '''
        # helper2
        def g():
            return "g"
    ''',
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    d = tmp_path_factory.mktemp("script")
    write_tree(d / "src", APP)
    return d


@pytest.fixture(scope="module")
def prog(app):
    return build_program(app / "src", "tool.py", output=app / "out" / "tool")


@pytest.fixture(scope="module")
def report(prog):
    r = run([prog], cwd="/")
    assert r.returncode == 0, describe(r)
    assert r.stderr == "", describe(r)
    return json.loads(r.stdout)


def test_script_dunders(report, prog):
    assert report["name"] == "__main__"
    assert report["spec"] == "None"
    assert report["file"] == f"{prog}/tool.py"
    assert report["package"] is None
    assert report["main_in_modules"] is True


def test_script_introspection(report, prog):
    assert report["getsource_local"].startswith("def local(x):\n")
    assert report["getsource_class"].startswith("class Thing:\n")
    assert report["getsource_helper"] == 'def f():\n    return "f"\n'
    assert report["getsourcelines"] == 2
    assert report["getfile"] == f"{prog}/helper.py"
    assert report["linecache_globals"] == "def f():\n"
    assert report["linecache_main"] == "import importlib.util\n"
    assert report["spec_origin"] == f"{prog}/helper.py"
    assert report["spec_has_location"] is True
    assert report["stack_line"] is not None


def test_script_report_matches_python(app, prog, report):
    src = app / "src"
    r = python_run(src / "tool.py", cwd="/")
    assert r.returncode == 0, describe(r)
    expected = json.loads(r.stdout.replace(str(src), str(prog)))
    assert report == expected


def test_linecache_with_module_globals_only(prog):
    """Without module globals linecache has no loader to ask and looks on
    disk, where `<program>/helper2.py` does not exist; the runtime gives it
    a lazy entry for every bundled module once it is loaded, so it reads
    what python reads from disk."""
    r = run([prog, "linecache"])
    assert r.returncode == 0, describe(r)
    assert r.stdout == "'def g():\\n'\n"


def test_warning_shows_source_line(prog, app):
    r = run([prog, "warn"])
    p = python_run(app / "src" / "tool.py", "warn")
    assert r.returncode == p.returncode == 0
    assert r.stderr == p.stderr.replace(str(app / "src"), str(prog))
    assert 'warnings.warn("careful now")' in r.stderr


def test_argv_bytes_roundtrip(prog, app):
    """Arguments that are not valid UTF-8 survive as python's
    surrogateescape does."""
    args = [b"\xff\xfe", "é".encode(), b"", b"a b", "☃".encode(), b"-m", b"--"]
    r = run([prog, "argv", *args], text=False)
    p = python_run(app / "src" / "tool.py", "argv", *args, text=False)
    assert r.returncode == 0, describe(r)
    assert json.loads(r.stdout) == [a.hex() for a in args]
    assert r.stdout == p.stdout


def test_program_path_with_spaces_and_non_ascii(prog, tmp_path):
    d = tmp_path / "dir with space" / "ünïcode ☃"
    d.mkdir(parents=True)
    target = d / "prög ram"
    shutil.copy2(prog, target)
    r = run([target], cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    rep = json.loads(r.stdout)
    assert rep["file"] == f"{target}/tool.py"
    assert rep["getsource_helper"] == 'def f():\n    return "f"\n'
    r = run([target, "closed"], cwd=tmp_path)  # loads an extension module
    assert r.returncode == 0, describe(r)


def test_run_through_symlink(prog, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(prog)
    r = run([link])
    assert r.returncode == 0, describe(r)
    assert json.loads(r.stdout)["getsource_helper"] == 'def f():\n    return "f"\n'


def test_closed_standard_streams_match_python(prog, app):
    """With fds 0 and 1 closed, streams are None (as in python) and loading
    an extension module (whose memfd may take fd 0 or 1) still works."""
    def go(cmd):
        p = subprocess.run([str(c) for c in cmd], stderr=subprocess.PIPE,
                           text=True, timeout=60,
                           preexec_fn=lambda: (os.close(0), os.close(1)))
        return p.returncode, p.stderr
    k = go([prog, "closed"])
    p = go([KILN_PYTHON, "-E", "-s", app / "src" / "tool.py", "closed"])
    assert k == p
    assert k == (0, "[None, None]\n3\n")
