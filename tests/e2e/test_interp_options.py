"""Interpreter options fixed at build time (-O, -OO, -u, -W, -X,
--hash-seed, --python-env, --meipass): each visible in sys.flags and in
behaviour exactly as under `python -I` with the same options, the Python
the program embeds; wrong values refused at build time in one line."""
import os
import select
import subprocess

import pytest

from conftest import (KILN_PYTHON, Bundle, assert_one_error_line, describe, kiln,
                      kiln_build, kiln_python_version, run, write_tree)

# The -X options CPython 3.14 added, for a KILN_PYTHON that has them.
PY314 = kiln_python_version() >= (3, 14)

APP = '''
"""The module's docstring."""
import sys, warnings
f = sys.flags
print("flags", f.optimize, f.dev_mode, f.utf8_mode, f.hash_randomization,
      f.ignore_environment, f.int_max_str_digits, f.warn_default_encoding)
print("xoptions", sorted(sys._xoptions.items()))
print("warnoptions", sys.warnoptions)
print("doc", __doc__)
try:
    assert False, "asserts run"
    print("asserts stripped")
except AssertionError as e:
    print(e)
import json, threading
print("stdlib docstrings stripped", json.dumps.__doc__ is None)
try:
    threading.Thread(group=1)
    print("stdlib asserts stripped")
except AssertionError as e:
    print("stdlib", e)
import faulthandler
print("faulthandler", faulthandler.is_enabled())
if sys.argv[1:] == ["hash"]:
    print("hash", hash("kiln"))
warnings.warn("old", DeprecationWarning)
print("after the warning")
'''

BASE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    d = tmp_path_factory.mktemp("interp-options")
    write_tree(d, {"app.py": APP})
    return d


def both(src, name, build_args, python_args, env=None, python_env=None,
         args=()):
    """Build app.py with build_args and run it with args, and run it under
    `python -I python_args` (or, when python_env gives variables python is
    to read, `python -s python_args` with them): the two
    CompletedProcesses."""
    kiln_build("app.py", "-q", "-o", name, *build_args, cwd=src)
    env = {**BASE_ENV, **(env or {})}
    got = run([src / name, *args], env=env)
    want = run([KILN_PYTHON, "-s" if python_env else "-I", *python_args,
                src / "app.py", *args], env={**env, **(python_env or {})})
    return got, want


def same(got, want, src):
    """The program printed what python printed; stderr the same once the
    script's path is the program's."""
    assert got.returncode == want.returncode, describe(got) + describe(want)
    assert got.stdout == want.stdout, describe(got) + describe(want)
    return got


@pytest.mark.parametrize("build_args,python_args", [
    ([], []),
    (["-O"], ["-O"]),
    (["-OO"], ["-OO"]),
    (["--optimize=1"], ["-O"]),
    (["-X", "dev"], ["-X", "dev"]),
    (["-X", "utf8"], ["-X", "utf8"]),
    (["-X", "utf8=0"], ["-X", "utf8=0"]),
    (["-X", "faulthandler"], ["-X", "faulthandler"]),
    (["-X", "int_max_str_digits=700"], ["-X", "int_max_str_digits=700"]),
    (["-W", "ignore::DeprecationWarning", "-X", "dev"],
     ["-W", "ignore::DeprecationWarning", "-X", "dev"]),
] + ([
    (["-X", "context_aware_warnings=1"], ["-X", "context_aware_warnings=1"]),
    (["-X", "thread_inherit_context=1"], ["-X", "thread_inherit_context=1"]),
    (["-X", "disable-remote-debug"], ["-X", "disable-remote-debug"]),
] if PY314 else []), ids=lambda a: " ".join(a) or "none")
def test_flags_and_behaviour_as_python(src, build_args, python_args):
    got, want = both(src, "p", build_args, python_args)
    assert want.returncode == 0, describe(want)
    same(got, want, src)
    assert got.stderr.replace(str(src / "p"), str(src)) == want.stderr, \
        describe(got) + describe(want)


def test_warning_filter_error_turns_a_warning_into_an_exception(src):
    got, want = both(src, "w", ["-W", "error::DeprecationWarning"],
                      ["-W", "error::DeprecationWarning"])
    assert want.returncode == 1, describe(want)
    same(got, want, src)
    assert "after the warning" not in got.stdout
    assert got.stderr.splitlines()[-1] == want.stderr.splitlines()[-1] == \
        "DeprecationWarning: old", describe(got)


def hash_line(r):
    return [line for line in r.stdout.splitlines() if line.startswith("hash")]


def test_hash_seed_is_pythonhashseed(src):
    got, want = both(src, "h", ["--hash-seed", "1234"], [],
                     python_env={"PYTHONHASHSEED": "1234"}, args=["hash"])
    assert "hash " in want.stdout, describe(want)
    assert hash_line(got) == hash_line(want), describe(got) + describe(want)
    again = run([src / "h", "hash"], env=BASE_ENV)
    assert again.stdout == got.stdout, "a fixed seed gives the same hashes"
    zero, want0 = both(src, "h0", ["--hash-seed", "0"], [],
                       python_env={"PYTHONHASHSEED": "0"}, args=["hash"])
    assert hash_line(zero) == hash_line(want0), describe(zero)
    assert "flags 0 False 0 0 1 " in zero.stdout, describe(zero)


def test_frozen_modules_off_bundles_the_frozen_stdlib(src):
    write_tree(src, {"fm.py": "import os, codecs\nprint(os.__file__)\n"})
    kiln_build("fm.py", "-q", "-o", "fm", "-X", "frozen_modules=off",
               cwd=src)
    got = run([src / "fm"], env=BASE_ENV)
    assert got.returncode == 0, describe(got)
    assert got.stdout == f"{src / 'fm'}/os.py\n", describe(got)
    kiln_build("fm.py", "-q", "-o", "fm-on", cwd=src)
    got = run([src / "fm-on"], env=BASE_ENV)
    want = run([KILN_PYTHON, "-I", src / "fm.py"], env=BASE_ENV)
    assert got.stdout.endswith("/os.py\n") and want.returncode == 0


def test_importtime_reports_on_stderr(src):
    got, want = both(src, "it", ["-X", "importtime"], ["-X", "importtime"])
    same(got, want, src)
    assert "import time:" in want.stderr
    assert "import time:" in got.stderr, describe(got)
    assert "encodings" in got.stderr, describe(got)


def test_environment_ignored_by_default_honoured_with_python_env(src):
    env = {"PYTHONWARNINGS": "error::DeprecationWarning", "PYTHONUTF8": "1",
           "PYTHONHASHSEED": "7", "PYTHONDEVMODE": "1"}
    got, want = both(src, "env0", [], [], env=env)
    same(got, want, src)  # python -I ignores them as well
    kiln_build("app.py", "-q", "-o", "env1", "--python-env", cwd=src)
    got = run([src / "env1", "hash"], env={**BASE_ENV, **env})
    want = run([KILN_PYTHON, src / "app.py", "hash"],
               env={**BASE_ENV, **env})
    assert want.returncode == 1, describe(want)
    same(got, want, src)
    assert "flags 0 True 1 1 0 " in got.stdout, describe(got)


def test_pythonoptimize_sets_the_flag_but_not_the_bytecode(src):
    """PYTHONOPTIMIZE (with --python-env) sets sys.flags.optimize as under
    python, but the bundled bytecode stays as it was compiled: python
    would read .opt-1.pyc files, the program has one level of bytecode
    (docs/runtime.md). Build with -O for stripped asserts."""
    kiln_build("app.py", "-q", "-o", "envo", "--python-env", cwd=src)
    got = run([src / "envo"], env={**BASE_ENV, "PYTHONOPTIMIZE": "1"})
    assert got.returncode == 0, describe(got)
    assert got.stdout.startswith("flags 1 ") and "asserts run" in got.stdout


def pipe_first_line(cmd, timeout):
    """Start cmd (which prints a line, then waits for stdin) and return the
    first line read from its stdout pipe within timeout seconds, or None;
    then let it finish."""
    p = subprocess.Popen([os.fspath(c) for c in cmd], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=BASE_ENV)
    try:
        ready, _, _ = select.select([p.stdout], [], [], timeout)
        line = p.stdout.readline() if ready else None
        p.communicate(b"go\n", timeout=30)
    finally:
        p.kill()
        p.wait()
    return line


def test_unbuffered_output_reaches_a_pipe_at_once(src):
    write_tree(src, {"u.py": "import sys\nprint('first')\n"
                             "sys.stdin.readline()\n"})
    kiln_build("u.py", "-q", "-o", "u", "-u", cwd=src)
    kiln_build("u.py", "-q", "-o", "ub", cwd=src)
    assert pipe_first_line([KILN_PYTHON, "-I", "-u", src / "u.py"], 10) == \
        b"first\n"
    assert pipe_first_line([src / "u"], 10) == b"first\n"
    # Without -u the line waits in the buffer, as under python.
    assert pipe_first_line([KILN_PYTHON, "-I", src / "u.py"], 2) is None
    assert pipe_first_line([src / "ub"], 2) is None


MARKS = '''
import os, sys
print(sys.frozen, sys.kiln.version != "", sys.kiln.program == sys.executable)
print(sys.kiln.files)
print(getattr(sys, "_MEIPASS", None))
if hasattr(sys, "_MEIPASS"):
    with open(os.path.join(sys._MEIPASS, "data", "note.txt")) as f:
        print(f.read().strip())
'''


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_meipass_and_the_kiln_mark(tmp_path, mode):
    write_tree(tmp_path, {"m.py": MARKS, "note.txt": "from the data\n"})
    args = ["m.py", "-q", "--add-data", "note.txt:data"] + \
        (["--onedir"] if mode == "onedir" else [])
    kiln_build(*args, "-o", "plain", cwd=tmp_path)
    kiln_build(*args, "-o", "mei", "--meipass", cwd=tmp_path)
    exe = (lambda n: tmp_path / n / n) if mode == "onedir" else \
        (lambda n: tmp_path / n)
    files = (lambda n: tmp_path / n / "_internal") if mode == "onedir" else \
        exe
    got = run([exe("plain")], env=BASE_ENV)
    assert got.returncode == 0, describe(got)
    assert got.stdout == f"True True True\n{files('plain')}\nNone\n", \
        describe(got)
    got = run([exe("mei")], env=BASE_ENV)
    assert got.returncode == 0, describe(got)
    assert got.stdout == (f"True True True\n{files('mei')}\n{files('mei')}\n"
                          "from the data\n"), describe(got)


def test_options_from_pyproject(tmp_path):
    write_tree(tmp_path, {
        "app.py": APP,
        "pyproject.toml": """
            [tool.kiln]
            module = "app"
            optimize = 2
            xoption = ["utf8", "int_max_str_digits=800"]
            warnings = ["ignore::DeprecationWarning"]
            hash-seed = 99
            """})
    kiln_build("-q", "-o", "p", cwd=tmp_path)
    assert Bundle.read(tmp_path / "p").options == (
        "optimize 2\nwarn ignore::DeprecationWarning\nxoption utf8\n"
        "xoption int_max_str_digits=800\nhash-seed 99\n")
    got = run([tmp_path / "p"], env=BASE_ENV)
    want = run([KILN_PYTHON, "-E", "-s", "-OO", "-X", "utf8", "-X",
                "int_max_str_digits=800", "-W", "ignore::DeprecationWarning",
                "-m", "app"], env=BASE_ENV, cwd=tmp_path)
    assert want.returncode == 0, describe(want)
    assert (got.returncode, got.stdout) == (0, want.stdout), describe(got)
    got = run([tmp_path / "p", "hash"], env=BASE_ENV)
    want = run([KILN_PYTHON, "-s", "-m", "app", "hash"], cwd=tmp_path,
               env={**BASE_ENV, "PYTHONHASHSEED": "99"})
    assert hash_line(got) == hash_line(want) != [], describe(got)
    write_tree(tmp_path, {"pyproject.toml":
                          "[tool.kiln]\nmodule = 'app'\noptimize = '2'\n"})
    r = kiln("build", "-q", "-o", "q", cwd=tmp_path)
    assert_one_error_line(r)
    assert "optimize must be a number" in r.stderr, describe(r)


@pytest.mark.parametrize("args,says,status", [
    (["-X", "nosuch"], "-X nosuch: not an option of Python", 1),
    (["-X", "int_max_str_digits=5"], "at least 640", 1),
    (["-X", "frozen_modules=maybe"], "on or off", 1),
    (["-X", "utf8=2"], "0 or 1", 1),
    (["-X", "warn_default_encoding"], "PYTHONWARNDEFAULTENCODING", 1),
    (["-W", "bogus"], "-W bogus: invalid action: 'bogus'", 1),
    (["-W", "error::NoSuchWarning"], "unknown warning category", 1),
    (["-W", "error:::m:x"], "the line number 'x' is not a number", 1),
    (["-W", "a:b:c:d:1:f"], "too many fields", 1),
    (["-O3"], "the optimization level is 0, 1 or 2", 2),
    (["--hash-seed", "-4"], "--hash-seed -4: not a number", 1),
    (["--hash-seed", "4294967296"], "not a number from 0 to 4294967295", 1),
] + ([
    (["-X", "context_aware_warnings"], "0 or 1 (given with =)", 1),
    (["-X", "thread_inherit_context=2"], "0 or 1 (given with =)", 1),
    (["-X", "importtime=3"], "must be 1 or 2", 1),
] if PY314 else [
    (["-X", "context_aware_warnings=1"], "not an option of Python", 1),
]))
def test_bad_options_are_refused_in_one_line(src, args, says, status):
    r = kiln("build", "app.py", "-q", "-o", "bad", *args, cwd=src)
    assert_one_error_line(r, status=status)
    assert says in r.stderr, describe(r)
    assert not (src / "bad").exists()


@pytest.mark.parametrize("level", ["", "-O", "-OO"])
def test_cached_is_where_importlib_puts_it(tmp_path, level):
    """__cached__ of a bundled module and package is the path importlib's
    cache_from_source gives for its __file__ at the level in force, as
    under python (the program computes it itself)."""
    write_tree(tmp_path, {
        "c.py": """
            import importlib.util, json, json.decoder, mypkg.sub
            for m in (json, json.decoder, mypkg, mypkg.sub):
                print(m.__name__, m.__cached__ ==
                      importlib.util.cache_from_source(m.__file__),
                      m.__cached__.rsplit("/", 2)[1:])
            """,
        "mypkg/__init__.py": "",
        "mypkg/sub.py": ""})
    kiln_build("c.py", "-q", "-o", "c", *([level] if level else []),
               cwd=tmp_path)
    got = run([tmp_path / "c"], env=BASE_ENV)
    assert got.returncode == 0, describe(got)
    tag = {"": "", "-O": ".opt-1", "-OO": ".opt-2"}[level]
    lines = got.stdout.splitlines()
    assert [line.split(" ", 2)[1] for line in lines] == ["True"] * 4, \
        describe(got)
    # json.decoder: ['__pycache__', 'decoder.cpython-3XY[.opt-N].pyc']
    assert "'__pycache__', 'decoder." in lines[1], describe(got)
    assert lines[1].endswith(f"{tag}.pyc']"), describe(got)
    assert (".opt-" in lines[1]) == bool(tag), describe(got)
