"""A program's exit does what python's exit shows without tearing the
interpreter down: threads joined, atexit handlers and weakref finalizers
run, sys.stdout flushed (120 when that fails), every file written and
never closed complete on disk. What it leaves out, objects' __del__ at
exit, comes back with --full-finalize and in development mode."""
import subprocess

import pytest

from conftest import (KILN_PYTHON, describe, kiln_build, run, write_tree)

APP = '''
import atexit, sys, threading, time, weakref

log = open(sys.argv[1], "w")              # text, never closed
log.write("text line\\n" * 1000)
raw = open(sys.argv[1] + ".bin", "wb")    # binary, never closed
raw.write(b"\\x00bytes" * 3000)
rw = open(sys.argv[1] + ".rw", "w+b")     # read-write, never closed
rw.write(b"random access")


def keep():
    kept = open(sys.argv[1] + ".fn", "a")  # only a thread's frame holds it
    kept.write("from a function")
    time.sleep(0.2)
    holder.append(kept)


holder = []
threading.Thread(target=keep).start()


class Noisy:
    def __del__(self):
        print("__del__ ran")


noisy = Noisy()
token = Noisy()
weakref.finalize(token, print, "finalizer ran")
atexit.register(print, "atexit ran")
print("main done")
if sys.argv[2:] == ["exit"]:
    sys.exit("bye")
'''


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("fast-exit"), {"app.py": APP})


def files_of(base):
    return [p.read_bytes() if p.exists() else None
            for p in (base, base.with_name(base.name + ".bin"),
                      base.with_name(base.name + ".rw"),
                      base.with_name(base.name + ".fn"))]


@pytest.mark.parametrize("args", [[], ["exit"]])
def test_unclosed_files_threads_and_atexit_as_python(src, tmp_path, args):
    kiln_build("app.py", "-q", "-o", "prog", cwd=src)
    got = run([src / "prog", tmp_path / "k.txt", *args])
    want = run([KILN_PYTHON, "-I", src / "app.py", tmp_path / "p.txt",
                *args])
    lines = want.stdout.splitlines()
    assert lines[:3] == ["main done", "atexit ran", "finalizer ran"], \
        describe(want)
    # python then runs __del__ of what module teardown frees; the quick
    # exit does not (docs/runtime.md, "Exit").
    assert lines[3:] == ["__del__ ran"] * 2, describe(want)
    assert got.stdout.splitlines() == lines[:3], describe(got)
    assert (got.returncode, got.stderr) == (want.returncode, want.stderr)
    assert files_of(tmp_path / "k.txt") == files_of(tmp_path / "p.txt")
    assert files_of(tmp_path / "k.txt")[0] == b"text line\n" * 1000


def test_full_finalize_runs_del_at_exit(src, tmp_path):
    kiln_build("app.py", "-q", "-o", "full", "--full-finalize", cwd=src)
    got = run([src / "full", tmp_path / "k.txt"])
    want = run([KILN_PYTHON, "-I", src / "app.py", tmp_path / "p.txt"])
    assert (got.returncode, got.stdout, got.stderr) == \
        (want.returncode, want.stdout, want.stderr), describe(got)
    assert files_of(tmp_path / "k.txt") == files_of(tmp_path / "p.txt")


def test_development_mode_ends_as_python_with_its_warnings(tmp_path):
    write_tree(tmp_path, {"leak.py": """
        f = open(__import__("sys").argv[1], "w")
        f.write("data")
        print("done")
        """})
    kiln_build("leak.py", "-q", "-o", "leak", "-X", "dev", cwd=tmp_path)
    got = run([tmp_path / "leak", tmp_path / "k"])
    want = run([KILN_PYTHON, "-I", "-X", "dev", tmp_path / "leak.py",
                tmp_path / "p"])
    assert "ResourceWarning: unclosed file" in want.stderr, describe(want)
    assert "ResourceWarning: unclosed file" in got.stderr, describe(got)
    assert (tmp_path / "k").read_text() == (tmp_path / "p").read_text() == \
        "data"


@pytest.mark.parametrize("end", ["", "import sys; sys.exit(3)",
                                 "raise SystemExit('bye')",
                                 "raise ValueError('v')"])
def test_stdout_that_cannot_be_written_exits_120_as_python(tmp_path, end):
    """A failed flush of sys.stdout at exit gives 120 whatever the status
    was (python's exit overrides it too)."""
    write_tree(tmp_path, {"p.py": f"print('lost')\n{end}\n"})
    kiln_build("p.py", "-q", "-o", "p", cwd=tmp_path)
    with open("/dev/full", "w") as full:
        got, want = (subprocess.run([str(c) for c in cmd], stdout=full,
                                    stderr=subprocess.PIPE, text=True,
                                    timeout=60)
                     for cmd in ([tmp_path / "p"],
                                 [KILN_PYTHON, "-I", tmp_path / "p.py"]))
    assert want.returncode == 120, want.stderr
    assert "No space left on device" in want.stderr
    assert (got.returncode,
            got.stderr.replace(f"{tmp_path}/p/p.py", f"{tmp_path}/p.py")) == \
        (120, want.stderr), got.stderr
