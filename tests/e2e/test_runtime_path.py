"""--runtime-path: a program that imports plugins from directories on disk
next to it ($ORIGIN), after its bundle, and then honours sys.path changes
as python does; without it, nothing is looked up on disk. Compared with
python running the same script beside the same directories."""
import shutil

import pytest

from conftest import (KILN_PYTHON, Bundle, assert_one_error_line, describe,
                      kiln, kiln_build, run, write_tree)

APP = """
import os, sys
here = os.path.dirname(os.path.abspath(sys.argv[0]))
try:
    import plugin
    print("plugin", plugin.VALUE, plugin.helper.NAME)
except ModuleNotFoundError as e:
    print("no plugin:", e)
sys.path.insert(0, os.path.join(here, "more"))
try:
    import extra
    print("extra", extra.X)
except ModuleNotFoundError as e:
    print("no extra:", e)
import json
print("bundled json", json.__name__)
"""

PLUGINS = {
    "plugins/plugin.py": "from plugin_helpers import helper\nVALUE = 7\n",
    "plugins/plugin_helpers/__init__.py": "",
    "plugins/plugin_helpers/helper.py": "NAME = 'helper'\n",
    "more/extra.py": "X = 'extra'\n",
}


@pytest.fixture
def app(tmp_path):
    write_tree(tmp_path, {"src/app.py": APP})
    return tmp_path


def place(root):
    """Put the plugin directories next to a program in root."""
    write_tree(root, PLUGINS)


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_plugins_beside_the_program(app, mode):
    out = app / "out"
    kiln_build("app.py", "-q", f"--{mode}", "--runtime-path",
               "$ORIGIN/plugins", "-o", out / "prog", cwd=app / "src")
    prog = out / "prog" / "prog" if mode == "onedir" else out / "prog"
    place(prog.parent)
    assert Bundle.read(prog).runtime_path == "$ORIGIN/plugins"
    # python, with the plugins directory on its path, beside the same dirs
    shutil.copy(app / "src" / "app.py", prog.parent / "app.py")
    want = run([KILN_PYTHON, "-I", prog.parent / "app.py"], cwd=app,
               env={"PYTHONPATH": "", "PATH": "/usr/bin:/bin"})
    assert "no plugin" in want.stdout
    want = run([KILN_PYTHON, "-I", "-c",
                "import sys, runpy; sys.path.append(sys.argv[1]); "
                "sys.argv = sys.argv[2:]; "
                "runpy.run_path(sys.argv[0], run_name='__main__')",
                prog.parent / "plugins", prog.parent / "app.py"], cwd=app)
    got = run([prog], cwd=app)
    assert (got.returncode, got.stdout) == (0, want.stdout), describe(got)
    assert "plugin 7 helper" in got.stdout and "extra extra" in got.stdout


def test_without_it_nothing_is_imported_from_disk(app):
    kiln_build("app.py", "-q", "-o", app / "prog", cwd=app / "src")
    place(app)
    got = run([app / "prog"], cwd=app)
    assert got.returncode == 0, describe(got)
    assert got.stdout.splitlines()[:2] == [
        "no plugin: No module named 'plugin'",
        "no extra: No module named 'extra'"], describe(got)


def test_a_missing_directory_is_ignored(app):
    kiln_build("app.py", "-q", "--runtime-path", "/nonexistent/kiln",
               "--runtime-path", "$ORIGIN/plugins", "-o", app / "prog",
               cwd=app / "src")
    place(app)
    got = run([app / "prog"], cwd=app)
    assert got.returncode == 0, describe(got)
    assert "plugin 7 helper" in got.stdout, describe(got)


@pytest.mark.parametrize("bad", ["", "a:b"])
def test_a_bad_runtime_path_is_one_line(app, bad):
    r = kiln("build", "app.py", "--runtime-path", bad, "-o", app / "prog",
             cwd=app / "src")
    assert_one_error_line(r, status=2)
    assert "--runtime-path" in r.stderr


ZIPAPP = """
import importlib.util, os, sys, zipimport
here = os.path.dirname(os.path.abspath(sys.argv[0]))
print(any(h is zipimport.zipimporter for h in sys.path_hooks))
try:
    import zipped
    print("zipped", zipped.WHERE)
except ModuleNotFoundError as e:
    print("no zipped:", e)
spec = zipimport.zipimporter(os.path.join(here, "plugins.zip")).find_spec(
    "zipped")
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
print("explicit", m.WHERE)
"""


def make_zip(path):
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("zipped.py", "WHERE = 'in the zip'\n")


def test_zip_files_on_the_runtime_path(tmp_path):
    """A zip file on the runtime path imports as under python with it on
    sys.path (the zip importer is installed); without a runtime path the
    program installs no zip importer while it starts, but zipimport still
    works when the app uses it."""
    write_tree(tmp_path, {"src/zapp.py": ZIPAPP})
    make_zip(tmp_path / "plugins.zip")
    kiln_build("src/zapp.py", "-q", "-o", "withzip", "--runtime-path",
               "$ORIGIN/plugins.zip", cwd=tmp_path)
    kiln_build("src/zapp.py", "-q", "-o", "plain", cwd=tmp_path)
    got = run([tmp_path / "withzip"], cwd=tmp_path)
    shutil.copy(tmp_path / "plugins.zip", tmp_path / "src")
    want = run([KILN_PYTHON, "-I", tmp_path / "src" / "zapp.py"],
               cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert got.returncode == 0, describe(got)
    assert got.stdout.splitlines()[:2] == ["True", "zipped in the zip"], \
        describe(got)
    got = run([tmp_path / "plain"], cwd=tmp_path)
    assert got.returncode == 0, describe(got)
    lines = got.stdout.splitlines()
    assert lines[0] == "False" and lines[1].startswith("no zipped:"), \
        describe(got)
    assert lines[2] == "explicit in the zip", describe(got)
    assert want.returncode == 0, describe(want)
    assert want.stdout.splitlines()[2] == lines[2], describe(want)


def test_pathlib_first_imported_with_a_runtime_path(tmp_path):
    """The first import of pathlib in a program with --runtime-path reaches
    PathFinder for a module no finder has (ntpath's `nt`), whose path entry
    finder for the program must not need pathlib itself (it did: a
    circular import ended the program)."""
    write_tree(tmp_path, {"src/app.py": "import pathlib\n"
                                        "print(pathlib.PurePath('a', 'b'))\n"})
    prog = tmp_path / "dist" / "app"
    kiln_build("app.py", "--runtime-path", "$ORIGIN/plugins", "-o", prog,
               cwd=tmp_path / "src")
    r = run([prog])
    assert (r.returncode, r.stdout, r.stderr) == (0, "a/b\n", ""), describe(r)
