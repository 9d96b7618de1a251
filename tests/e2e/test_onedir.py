"""Folder programs (`kiln build --onedir`): the executable dist/NAME/NAME
keeps bytecode and sources; extension modules and data files are real files
in dist/NAME/_internal/, indexed in the executable. They run like python
and like the one-file program, from any directory and after the whole
folder is moved; a damaged, replaced or deleted file of the folder is
damage (one line, status 126); what is at the output path is replaced only
when kiln wrote it (or with --force, never an input); the same inputs give
the same bytes in every file."""
import json
import os
import resource
import shutil
import signal
import struct
import subprocess

import pytest

import test_package
import test_stdlib
from conftest import (KILN, KILN_PYTHON, Bundle, assert_one_error_line,
                      build_program, describe, inspect_entries, kiln,
                      kiln_build, run, run_json, write_tree)

APP = {
    "app.py": """
        import importlib.resources
        import json
        import linecache
        import os
        import sys

        import mypkg
        from mypkg import tool

        cmd = sys.argv[1] if len(sys.argv) > 1 else "report"
        here = os.path.dirname(__file__)

        def calc():
            import decimal
            import sqlite3
            con = sqlite3.connect(":memory:")
            con.execute("create table t (x)")
            con.executemany("insert into t values (?)", [(1,), (2,), (3,)])
            return {
                "tool": tool.twice(21),
                "json": json.dumps({"b": [1, 2.5, None], "a": "\u2603"}, sort_keys=True),
                "decimal": str(decimal.Decimal(1) / decimal.Decimal(7)),
                "sqlite": con.execute("select sum(x) from t").fetchone()[0],
                "linecache": linecache.getline(tool.__file__, 2, vars(tool)),
                "data_get_data": __loader__.get_data(
                    os.path.join(here, "conf", "app.ini")).decode(),
            }

        def report():
            import _bz2, _decimal, _sqlite3
            exts = {"_decimal": _decimal.__file__, "_bz2": _bz2.__file__,
                    "_sqlite3": _sqlite3.__file__}
            return dict(calc(), **{
                "file": __file__,
                "pkg_file": mypkg.__file__,
                "tool_file": tool.__file__,
                "pkg_path": list(mypkg.__path__),
                "exts": exts,
                "exts_exist": {k: os.path.isfile(v) for k, v in exts.items()},
                "py_exists": [os.path.exists(__file__),
                              os.path.exists(tool.__file__)],
                "data_next_to_pkg": mypkg.read_data(),
                "resources": importlib.resources.files("mypkg")
                    .joinpath("data.txt").read_text(),
                "data_next_to_main": open(os.path.join(here, "conf", "app.ini")).read(),
                "listdir": sorted(os.listdir(os.path.dirname(mypkg.__file__))),
                "executable": sys.executable,
                "frozen": getattr(sys, "frozen", None),
            })

        if cmd == "report":
            print(json.dumps(report()))
        elif cmd == "calc":
            print(json.dumps(calc()))
        elif cmd == "crash":
            tool.crash()
        elif cmd == "lazy":
            print("before")
            import _queue
            print("after")
        elif cmd == "imports":
            import decimal, sqlite3, _queue
            print(decimal.Decimal(1) / 4, sqlite3.sqlite_version_info > (3,))
            print(__loader__.get_data(os.path.join(here, "conf", "app.ini")).decode())
        elif cmd == "get_data":
            print(__loader__.get_data(os.path.join(here, "conf", "app.ini")).decode())
        elif cmd == "optional":
            try:
                import _queue
                print("imported")
            except ImportError as e:
                print("fell back:", e)
    """,
    "mypkg/__init__.py": """
        import os

        def read_data():
            with open(os.path.join(os.path.dirname(__file__), "data.txt")) as f:
                return f.read()
    """,
    "mypkg/tool.py": """
        def twice(x):
            return 2 * x  # line 2

        def crash():
            raise RuntimeError("crash in tool")
    """,
    "mypkg/data.txt": "package data \u2603\n",
    "conf/app.ini": "[app]\nname = demo\n",
}

DATA_ARGS = ("--add-data", "mypkg/data.txt:mypkg", "--add-data", "conf:conf")


def _build_onedir(src, out, *extra, name=None):
    """kiln build app.py --onedir into out (a folder); returns the
    executable's Path (named after the folder unless --name)."""
    args = ["app.py", "--onedir", *DATA_ARGS, *extra, "-o", out]
    if name:
        args += ["--name", name]
    kiln_build(*args, cwd=src)
    exe = out / (name or out.name)
    assert exe.is_file() and os.access(exe, os.X_OK), f"no {exe}"
    return exe


def kl_checksum(data):
    """kl_checksum (docs/format.md) of bytes."""
    h, prime, mask = 0xcbf29ce484222325, 0x100000001b3, (1 << 64) - 1
    whole = len(data) // 8 * 8
    for (w,) in struct.iter_unpack("<Q", data[:whole]):
        h = ((h ^ w) * prime) & mask
    for b in data[whole:]:
        h = ((h ^ b) * prime) & mask
    return h


def tree(root):
    """{relative path: bytes} of every file below root, and the
    directories."""
    files, dirs = {}, set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        dirs.update(os.path.normpath(os.path.join(rel, d)) for d in dirnames)
        for f in filenames:
            p = os.path.join(dirpath, f)
            files[os.path.normpath(os.path.join(rel, f))] = open(p, "rb").read()
    return files, dirs


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("onedir") / "src", APP)


@pytest.fixture(scope="module")
def folder(src):
    exe = _build_onedir(src, src.parent / "dist" / "app")
    return exe.parent


@pytest.fixture(scope="module")
def exe(folder):
    return folder / "app"


@pytest.fixture(scope="module")
def report(exe):
    return run_json([exe], cwd="/")


@pytest.fixture(scope="module")
def onefile_report(src):
    prog = build_program(src, "app.py", *DATA_ARGS,
                         output=src.parent / "onefile" / "app")
    return run_json([prog, "calc"], cwd="/")


# ---- layout ----------------------------------------------------------------


def test_layout(folder, exe, pyinfo):
    """The executable and _internal/, nothing else; in _internal/ only the
    extension modules and data files, each where its path says."""
    assert sorted(os.listdir(folder)) == ["_internal", "app"]
    b = Bundle.read(exe)
    assert b.folder == "_internal"
    files, _dirs = tree(folder / "_internal")
    external = {e["path"]: e for e in b.entries.values() if e["external"]}
    assert set(files) == set(external)
    suffixes = tuple(pyinfo["ext_suffixes"])
    for name, e in b.entries.items():
        if e["kind"] in ("extension", "shlib", "data", "pkgdata", "metadata"):
            assert e["external"], name
        else:
            assert not e["external"], name
    assert {"mypkg/data.txt", "conf/app.ini"} <= set(files)
    assert any(p.startswith("_bz2") and p.endswith(suffixes) for p in files)
    assert not [p for p in files if p.endswith((".py", ".pyc"))]
    for rel in ("mypkg/data.txt", "conf/app.ini"):
        assert files[rel] == (folder.parent.parent / "src" / rel).read_bytes()
        assert kl_checksum(files[rel]) == external[rel]["data_check"]
    assert os.access(folder / "_internal" / next(
        p for p in files if p.endswith(suffixes)), os.X_OK)


def test_inspect_shows_where_each_entry_lies(folder, exe):
    by_exe = inspect_entries(exe)
    assert inspect_entries(folder) == by_exe
    assert by_exe["__main__"] == ("module", "program")
    assert by_exe["mypkg.tool"] == ("module", "program")
    assert by_exe["_bz2"] == ("extension", "file")
    assert by_exe["mypkg/data.txt"] == ("data", "file")
    header = kiln("inspect", exe).stdout.splitlines()[0]
    assert "_internal" in header, header
    for target in (exe, folder):
        r = kiln("inspect", target, "--verify")
        assert r.returncode == 0, describe(r)
        assert "checksums match" in r.stdout, describe(r)


def test_inspect_of_a_onefile_program_says_program(hello):
    assert {w for _k, w in inspect_entries(hello).values()} == {"program"}


# ---- running ---------------------------------------------------------------


def test_file_paths_are_under_the_folder(report, folder):
    internal = str(folder / "_internal")
    assert report["file"] == f"{internal}/app.py"
    assert report["pkg_file"] == f"{internal}/mypkg/__init__.py"
    assert report["tool_file"] == f"{internal}/mypkg/tool.py"
    assert report["pkg_path"] == [f"{internal}/mypkg"]
    for name, f in report["exts"].items():
        assert os.path.dirname(f) == internal, (name, f)
        assert os.path.basename(f).startswith(name + "."), (name, f)
    assert all(report["exts_exist"].values()), report["exts_exist"]
    # Bytecode stays in the executable: no source file shadows anything.
    assert report["py_exists"] == [False, False]
    assert report["listdir"] == ["data.txt"]
    assert report["executable"] == str(folder / "app")
    assert report["frozen"] is True


def test_same_results_as_python_and_onefile(report, onefile_report, src):
    py = run_json([KILN_PYTHON, "-E", "-s", src / "app.py"], cwd="/")
    keys = ["data_next_to_pkg", "data_next_to_main", "data_get_data",
            "resources", "tool", "json", "decimal", "sqlite", "linecache"]
    assert {k: report[k] for k in keys} == {k: py[k] for k in keys}
    assert report["data_get_data"] == report["data_next_to_main"]
    assert onefile_report == {k: report[k] for k in onefile_report}


def test_traceback_shows_bundled_source(exe, folder):
    r = run([exe, "crash"])
    assert r.returncode == 1, describe(r)
    assert f'File "{folder}/_internal/mypkg/tool.py", line 5' in r.stderr, \
        describe(r)
    assert 'raise RuntimeError("crash in tool")' in r.stderr, describe(r)
    assert r.stderr.rstrip().endswith("RuntimeError: crash in tool")


def test_runs_from_another_directory_and_through_a_link(exe, tmp_path):
    link = tmp_path / "app-link"
    link.symlink_to(exe)
    for cmd, cwd in (([exe], tmp_path), ([link], "/"),
                     ([os.path.relpath(exe, tmp_path)], tmp_path)):
        r = run([*cmd, "get_data"], cwd=cwd)
        assert (r.returncode, r.stdout) == (0, "[app]\nname = demo\n\n"), \
            describe(r)


def test_moved_folder_still_works(folder, tmp_path):
    moved = tmp_path / "elsewhere" / "renamed"
    shutil.copytree(folder, moved, symlinks=True)
    got = run_json([moved / "app"], cwd=tmp_path)
    assert got["file"] == f"{moved}/_internal/app.py"
    assert got["data_next_to_pkg"] == "package data \u2603\n"
    assert all(got["exts_exist"].values())


def test_nothing_is_searched_for(exe, folder, tmp_path):
    """Traced with strace, the program touches in its folder only the
    folder itself (once, at start) and the files its bundle indexes, each
    by its exact path: no file is looked for, none is missing, and no
    Python source or bytecode is opened anywhere."""
    from test_no_disk import PYVENV_READ, pyvenv_cfg_probes, strace
    r, calls = strace([exe, "imports"], tmp_path, cwd=tmp_path)
    if PYVENV_READ:  # test_no_disk.test_hello_does_not_look_for_pyvenv_cfg
        calls = [c for c in calls if c[2] not in pyvenv_cfg_probes(calls)]
    assert r.returncode == 0, describe(r)
    assert r.stdout.startswith("0.25 True\n"), describe(r)
    indexed = {f"{folder}/_internal/{e['path']}"
               for e in Bundle.read(exe).entries.values() if e["external"]}
    touched = [(path, line) for _call, path, line in calls
               if path.startswith(f"{folder}/")]
    stray = [line for path, line in touched
             if path not in indexed and path != f"{folder}/_internal"
             and path != str(exe)]
    assert not stray, "\n".join(stray)
    assert not [line for p, line in touched
                if "= -1" in line and p != str(exe)]
    assert sum(path == f"{folder}/_internal" for path, _l in touched) == 1
    assert {f"{folder}/_internal/conf/app.ini"} < {p for p, _l in touched}
    assert not [line for _c, path, line in calls
                if path.endswith((".py", ".pyc")) or "__pycache__" in path]


# ---- damage ------------------------------------------------------------------


@pytest.fixture
def copy(folder, tmp_path):
    """A fresh copy of the folder program to damage; returns its folder."""
    dest = tmp_path / "copy"
    shutil.copytree(folder, dest, symlinks=True)
    return dest


def _ext_file(root, name):
    internal = root / "_internal"
    return internal / next(p for p in os.listdir(internal)
                           if p.startswith(name + "."))


def assert_damage(r, *words):
    """r stopped with status 126 and one line on stderr naming damage."""
    assert r.returncode == 126, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, describe(r)
    assert "Traceback" not in r.stderr, describe(r)
    assert "No module named" not in r.stderr, describe(r)
    for w in words:
        assert w in r.stderr, describe(r)


@pytest.mark.parametrize("how", ["flipped", "replaced", "truncated"])
def test_damaged_extension_module_is_damage(copy, how):
    f = _ext_file(copy, "_queue")
    data = f.read_bytes()
    if how == "flipped":
        b = bytearray(data)
        b[len(b) // 2] ^= 0xFF
        f.write_bytes(bytes(b))
    elif how == "replaced":
        f.write_bytes(_ext_file(copy, "_bz2").read_bytes())
    else:
        f.write_bytes(data[:len(data) // 2])
    r = run([copy / "app", "lazy"])
    # The program ran until it needed the file, then stopped.
    assert r.stdout == "before\n", describe(r)
    assert_damage(r, "damaged", f.name)
    # An `except ImportError` does not fall back past the damage.
    assert_damage(run([copy / "app", "optional"]), "damaged")
    r = kiln("inspect", copy, "--verify")
    assert_one_error_line(r)
    assert "damaged" in r.stderr and f.name in r.stderr, describe(r)


def test_deleted_extension_module_is_a_clear_error(copy):
    f = _ext_file(copy, "_queue")
    f.unlink()
    r = run([copy / "app", "lazy"])
    assert_damage(r, str(f), "No such file")
    assert_damage(run([copy / "app", "optional"]), str(f))
    r = kiln("inspect", copy, "--verify")
    assert_one_error_line(r)
    assert str(f.name) in r.stderr, describe(r)


def test_damaged_data_file_read_through_the_loader_is_damage(copy):
    (copy / "_internal" / "conf" / "app.ini").write_text("[app]\nname = x\n")
    assert_damage(run([copy / "app", "get_data"]), "damaged", "app.ini")


def test_missing_folder_is_a_clear_error(copy):
    shutil.rmtree(copy / "_internal")
    r = run([copy / "app", "get_data"])
    assert_damage(r, "_internal", "--onedir")
    assert r.stdout == ""
    # Copying the executable alone elsewhere is the same mistake.
    alone = copy.parent / "alone"
    alone.mkdir()
    shutil.copy2(copy / "app", alone / "app")
    assert_damage(run([alone / "app"]), "_internal")


# ---- writing the folder --------------------------------------------------------


def _refused(r, out):
    assert_one_error_line(r)
    assert str(out) in r.stderr, describe(r)


def _no_temporaries(parent):
    return [p for p in os.listdir(parent) if ".kiln-" in p]


def test_output_onto_a_directory_that_is_not_kiln_s(src, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    r = kiln("build", "app.py", "--onedir", "-o", out, cwd=src)
    _refused(r, out)
    assert "--force" in r.stderr and "notes.txt" in r.stderr, describe(r)
    assert os.listdir(out) == ["notes.txt"]
    exe = _build_onedir(src, out, "--force")
    assert sorted(os.listdir(out)) == ["_internal", "out"]
    assert run([exe, "get_data"]).returncode == 0
    assert _no_temporaries(tmp_path) == []


def test_output_onto_an_empty_directory(src, tmp_path):
    out = tmp_path / "out"
    (out / "empty").mkdir(parents=True)
    exe = _build_onedir(src, out)
    assert sorted(os.listdir(out)) == ["_internal", "out"]
    assert run([exe, "get_data"]).returncode == 0


def test_output_onto_a_file(src, tmp_path):
    out = tmp_path / "out"
    out.write_text("mine")
    _refused(kiln("build", "app.py", "--onedir", "-o", out, cwd=src), out)
    assert out.read_text() == "mine"
    exe = _build_onedir(src, out, "--force")
    assert run([exe, "get_data"]).returncode == 0


def test_a_file_added_to_a_folder_program_is_kept(src, tmp_path):
    out = tmp_path / "out"
    _build_onedir(src, out)
    (out / "_internal" / "mypkg" / "extra.txt").write_text("mine")
    r = kiln("build", "app.py", "--onedir", *DATA_ARGS, "-o", out, cwd=src)
    _refused(r, out)
    assert "extra.txt" in r.stderr, describe(r)
    assert (out / "_internal" / "mypkg" / "extra.txt").read_text() == "mine"


def test_replaces_a_previous_kiln_program(src, tmp_path):
    out = tmp_path / "out"
    # a one-file program first, then a folder program, then another
    build_program(src, "app.py", *DATA_ARGS, output=out)
    exe = _build_onedir(src, out)
    first = tree(out)
    (out / "_internal" / "conf" / "app.ini").write_text("edited")
    os.unlink(_ext_file(out, "_bz2"))
    exe = _build_onedir(src, out, name="renamed")
    assert sorted(os.listdir(out)) == ["_internal", "renamed"]
    assert tree(out)[0]["_internal/conf/app.ini"] == \
        first[0]["_internal/conf/app.ini"]
    assert run([exe, "get_data"]).returncode == 0
    assert _no_temporaries(tmp_path) == []


@pytest.mark.parametrize("target", ["src", "script", "data", "parent"])
def test_never_replaces_an_input_even_with_force(src, target):
    out = {"src": src, "script": src / "app.py", "data": src / "conf",
           "parent": src.parent}[target]
    before = tree(src)
    r = kiln("build", "app.py", "--onedir", *DATA_ARGS, "-o", out, "--force",
             cwd=src)
    _refused(r, out)
    assert "this build reads" in r.stderr, describe(r)
    assert tree(src) == before


def _limit_file_size():
    """In the child: writes beyond 1 MiB fail with EFBIG (no SIGXFSZ)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_failed_write_keeps_the_previous_program(src, tmp_path):
    out = tmp_path / "out"
    exe = _build_onedir(src, out)
    before = tree(out)
    r = subprocess.run([str(KILN), "build", "app.py", "--onedir", *DATA_ARGS,
                        "-o", str(out)], cwd=src, capture_output=True,
                       text=True, timeout=180, preexec_fn=_limit_file_size)
    assert_one_error_line(r)
    assert tree(out) == before
    assert _no_temporaries(tmp_path) == []
    assert run([exe, "get_data"]).returncode == 0


def test_same_inputs_give_the_same_bytes_in_every_file(src, folder, tmp_path):
    again = _build_onedir(src, tmp_path / "again" / "app").parent
    a, b = tree(folder), tree(again)
    assert a[1] == b[1]
    assert sorted(a[0]) == sorted(b[0])
    differ = [p for p in a[0] if a[0][p] != b[0][p]]
    assert differ == []
    for p in a[0]:
        assert os.stat(folder / p).st_mode == os.stat(again / p).st_mode, p


def test_executable_names(src, tmp_path):
    """dist/NAME/NAME by default; with -o, named after the folder; --name
    names it."""
    kiln_build("app.py", "--onedir", cwd=src)
    assert sorted(os.listdir(src / "dist" / "app")) == ["_internal", "app"]
    shutil.rmtree(src / "dist")
    r = kiln_build("app.py", "--onedir", "-o", tmp_path / "tool/", cwd=src)
    assert f"{tmp_path}/tool/tool" in r.stderr, describe(r)
    assert sorted(os.listdir(tmp_path / "tool")) == ["_internal", "tool"]
    kiln_build("app.py", "-D", "-o", tmp_path / "t2", "--name", "x", cwd=src)
    assert sorted(os.listdir(tmp_path / "t2")) == ["_internal", "x"]


def test_onefile_is_the_default_and_wins_when_last(src, tmp_path):
    out = tmp_path / "one"
    kiln_build("app.py", "--onedir", "--onefile", "-o", out, cwd=src)
    assert out.is_file()
    assert Bundle.read(out).folder == ""


def test_help_describes_onedir():
    r = kiln("build", "--help")
    assert "--onedir" in r.stdout and "_internal" in r.stdout
    assert "--force" in r.stdout


# ---- existing apps in folder mode -------------------------------------------


@pytest.fixture(scope="module")
def stdlib_onedir(tmp_path_factory):
    d = tmp_path_factory.mktemp("stdlib-onedir")
    write_tree(d, {"app.py": test_stdlib.APP})
    kiln_build("app.py", "--onedir", "-o", d / "dist" / "app", cwd=d)
    got = run_json([d / "dist" / "app" / "app"], cwd="/")
    py = run_json([KILN_PYTHON, "-I", "-S", d / "app.py"], cwd="/")
    return d / "dist" / "app", got, py


@pytest.mark.parametrize("name", test_stdlib.CHECKS)
def test_stdlib_app_same_result_as_python(stdlib_onedir, name):
    _folder, got, py = stdlib_onedir
    assert got["results"][name] == py["results"][name]


def test_stdlib_app_extension_modules_are_the_folder_s_files(stdlib_onedir,
                                                              pyinfo):
    folder, got, py = stdlib_onedir
    suffixes = tuple(pyinfo["ext_suffixes"])
    exts = {n: f for n, (f, _o) in py["modules"].items()
            if f and f.endswith(suffixes)}
    assert len(exts) >= 5
    for name, py_file in exts.items():
        f, origin = got["modules"][name]
        assert f == origin == f"{folder}/_internal/{os.path.basename(py_file)}"
        assert os.path.isfile(f)


def test_package_app_in_folder_mode(tmp_path):
    """test_package's app run with -m, as a folder program: the same
    report as the one-file program, with the folder for the program."""
    write_tree(tmp_path / "src", test_package.APP)
    one = build_program(tmp_path / "src", "-m", "mypkg",
                        output=tmp_path / "one" / "mypkg")
    kiln_build("-m", "mypkg", "--onedir", "-o", tmp_path / "dir" / "mypkg",
               cwd=tmp_path / "src")
    exe = tmp_path / "dir" / "mypkg" / "mypkg"
    a, b = run([one, "x"]), run([exe, "x"])
    assert a.returncode == 0 and b.returncode == 0, describe(b)
    got = json.loads(b.stdout)
    want = json.loads(a.stdout.replace(str(one),
                                       f"{exe.parent}/_internal"))
    want["executable"] = str(exe)
    want["argv"][0] = str(exe)
    assert got == want
    r = run([exe, "crash-core"])
    assert r.returncode == 1
    assert "crash in core" in r.stderr and \
        "raise KeyError" in r.stderr, describe(r)
