"""multiprocessing in a built program, against python: every start method
(spawn, forkserver, fork) with Pool, ProcessPoolExecutor and Process, in
one-file and folder programs, without freeze_support(). The program
recognises the command lines multiprocessing builds for sys.executable
(--multiprocessing-fork, and the forkserver's and resource tracker's -c
programs) and runs them instead of the app, so no child reruns the app's
main: the app's guarded main runs once, and its top level runs in
children as often as under python (as __mp_main__). Any other command
line, however much it looks like one, reaches the app."""
import os
import resource

import pytest

from conftest import (KILN_PYTHON, describe, kiln_build, run, write_tree)

APP = """
import multiprocessing as mp, sys
from concurrent.futures import ProcessPoolExecutor
print("top", __name__, file=sys.stderr, flush=True)

def square(x):
    return x * x

if __name__ == "__main__":
    print("main runs", sys.argv[1:], flush=True)
    if sys.argv[1:2] == ["leak"]:
        from multiprocessing import shared_memory
        mp.set_start_method("spawn")
        shm = shared_memory.SharedMemory(create=True, size=16)
        print("name", shm.name, flush=True)
        shm.close()          # not unlinked: the resource tracker does it
        sys.exit(0)
    if sys.argv[1:]:
        sys.exit(0)
    for method in ("spawn", "forkserver", "fork"):
        ctx = mp.get_context(method)
        with ctx.Pool(2) as p:
            print(method, "pool", p.map(square, range(5)), flush=True)
        with ProcessPoolExecutor(2, mp_context=ctx) as ex:
            print(method, "executor", list(ex.map(square, range(5))),
                  flush=True)
        q = ctx.Queue()
        child = ctx.Process(target=q.put, args=(42,))
        child.start()
        print(method, "process", q.get(), flush=True)
        child.join()
"""

# A runaway (a child rerunning the app) shows as a timeout, and where the
# limit applies (not to root), as a refused fork.
TIMEOUT = 90


def limited():
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    cap = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    resource.setrlimit(resource.RLIMIT_NPROC, (cap, hard))


def run_app(cmd, cwd):
    import subprocess
    return subprocess.run([str(c) for c in cmd], cwd=cwd, text=True,
                          capture_output=True, timeout=TIMEOUT,
                          preexec_fn=limited)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("mp")
    write_tree(d, {"app.py": APP})
    kiln_build("app.py", "-q", "-o", d / "onefile", cwd=d)
    kiln_build("app.py", "-q", "--onedir", "-o", d / "onedir", cwd=d)
    want = run_app([KILN_PYTHON, "-E", "-s", d / "app.py"], d)
    assert want.returncode == 0, describe(want)
    return d, {"onefile": d / "onefile", "onedir": d / "onedir" / "onedir"},\
        want


def tops(stderr):
    """How often the app's top level ran as __main__ and as __mp_main__
    (children's lines may share a line when they write at once)."""
    words = stderr.split()
    return words.count("__main__"), words.count("__mp_main__")


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_every_start_method_runs_as_under_python(built, mode):
    d, progs, want = built
    got = run_app([progs[mode]], d)
    assert (got.returncode, got.stdout) == (0, want.stdout), describe(got)
    assert got.stdout.count("main runs") == 1
    # Once as __main__; in each spawn or forkserver worker as __mp_main__
    # (the pool sizes are 2, and ProcessPoolExecutor starts workers as it
    # needs them, so python's count varies from run to run too; from 3.14
    # the forkserver runs it once for all the workers it forks: at least
    # 2 + 1 + 1 for spawn and 1 for the forkserver).
    (main, workers), (py_main, py_workers) = tops(got.stderr), \
        tops(want.stderr)
    assert main == py_main == 1, describe(got)
    assert 5 <= workers <= 14 and 5 <= py_workers <= 14, describe(got)
    assert "Traceback" not in got.stderr, describe(got)


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_the_resource_tracker_unlinks_a_leaked_segment(built, mode):
    d, progs, _ = built
    want = run_app([KILN_PYTHON, "-E", "-s", d / "app.py", "leak"], d)
    got = run_app([progs[mode], "leak"], d)
    assert got.returncode == want.returncode == 0, describe(got)
    name = got.stdout.split("name ", 1)[1].split()[0]
    assert not os.path.exists(f"/dev/shm/{name.lstrip('/')}")
    # The tracker says what it cleaned up, as it does under python.
    assert "leaked shared_memory objects" in want.stderr, describe(want)
    assert "leaked shared_memory objects" in got.stderr, describe(got)


@pytest.mark.parametrize("args", [
    ["--multiprocessing-fork"],
    ["--multiprocessing-fork", "tracker_fd=x"],
    ["--multiprocessing-fork", "--verbose"],
    ["-B", "-c", "print(1)"],
    ["-c", "from multiprocessing.resource_tracker import main;main(x)"],
    ["-c", "from multiprocessing.spawn import spawn_main; spawn_main()",
     "--other"],
    ["-X", "dev", "-c", "import os"],
])
def test_other_command_lines_reach_the_app(built, args):
    d, progs, _ = built
    got = run_app([progs["onefile"], *args], d)
    assert got.returncode == 0, describe(got)
    assert got.stdout == f"main runs {args!r}\n", describe(got)
