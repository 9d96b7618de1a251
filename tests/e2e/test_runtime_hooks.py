"""--runtime-hook FILE: Python files run, in order, before the app, in
every process of the program (multiprocessing's children too), as
PyInstaller's run-time hooks: what a hook sets (os.environ, a patched
module) is what the app sees, as under python running the hooks and then
the app in one process. Each hook is its own bundled module; its imports
are bundled; an exception in it is an uncaught exception (traceback
naming the hook's file and line, status 1) and a syntax error in it stops
the build."""
import os

import pytest

from conftest import (KILN_PYTHON, Bundle, assert_one_error_line, describe,
                      kiln_build, run, write_tree)

HOOKS = {
    "hooks/set-env.py": """
        import os
        os.environ["HOOK_ORDER"] = os.environ.get("HOOK_ORDER", "") + "env,"
        os.environ["HOOK_NAME"] = __name__
        os.environ["HOOK_FILE"] = __file__
    """,
    "hooks/patch.py": """
        import decimal, json, os
        os.environ["HOOK_ORDER"] += "patch,"
        _dumps = json.dumps
        json.dumps = lambda obj, **kw: "patched " + _dumps(obj, **kw)
    """,
}

APP = """
    import json, os, sys
    print(os.environ["HOOK_ORDER"])
    print(json.dumps([1, 2]))
    print("decimal imported", "decimal" in sys.modules)
    print("hook globals leak", "_dumps" in globals())
"""

# python with the same hooks: each run in one process before the app.
DRIVER = """
    import runpy, sys
    for hook in sys.argv[1:-1]:
        runpy.run_path(hook, run_name="hook")
    sys.argv = sys.argv[-1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("hooks")
    write_tree(root, {**HOOKS, "app.py": APP, "driver.py": DRIVER})
    return root


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_hooks_run_in_order_before_the_app(app, mode):
    out = app / f"out-{mode}"
    kiln_build("app.py", "-q", f"--{mode}", "--runtime-hook",
               "hooks/set-env.py", "--runtime-hook", "hooks/patch.py",
               "-o", out / "prog", cwd=app)
    prog = out / "prog" / "prog" if mode == "onedir" else out / "prog"
    got = run([prog], cwd=app, env={"PATH": "/usr/bin:/bin"})
    want = run([KILN_PYTHON, "-E", "-s", app / "driver.py",
                app / "hooks/set-env.py", app / "hooks/patch.py",
                app / "app.py"], cwd=app, env={"PATH": "/usr/bin:/bin"})
    assert want.returncode == 0, describe(want)
    assert (got.returncode, got.stdout, got.stderr) == (0, want.stdout, ""), \
        describe(got)
    assert got.stdout.splitlines()[:2] == ["env,patch,",
                                           'patched [1, 2]'], describe(got)
    # Each hook is a bundled module of its own, listed in the options text.
    b = Bundle.read(prog)
    assert b.options.splitlines()[-2:] == [
        "runtime-hook _kiln_hook_1_set_env",
        "runtime-hook _kiln_hook_2_patch"], b.options


def test_hook_name_and_file(app):
    write_tree(app, {"show.py": """
        import os
        print(os.environ["HOOK_NAME"])
        print(os.environ["HOOK_FILE"])
    """})
    prog = app / "out-show" / "show"
    kiln_build("show.py", "-q", "--runtime-hook", "hooks/set-env.py",
               "-o", prog, cwd=app)
    r = run([prog])
    assert r.returncode == 0, describe(r)
    assert r.stdout.splitlines() == [
        "_kiln_hook_1_set_env", f"{prog}/_kiln_hook_1_set_env.py"], describe(r)


def test_hook_from_pyproject(app):
    write_tree(app, {"pyproject.toml": """
        [tool.kiln]
        module = "app"
        runtime-hook = ["hooks/patch.py", "hooks/set-env.py"]
        quiet = true
    """})
    try:
        kiln_build("-o", app / "out-proj" / "app", cwd=app)
    finally:
        (app / "pyproject.toml").unlink()
    r = run([app / "out-proj" / "app"])
    assert r.returncode == 1, describe(r)
    # patch.py runs first now, and reads HOOK_ORDER before set-env.py sets it
    assert "KeyError: 'HOOK_ORDER'" in r.stderr, describe(r)
    assert "_kiln_hook_1_patch.py\", line 2" in r.stderr, describe(r)


MP_APP = """
    import multiprocessing as mp, os, sys

    def child(q):
        q.put(os.environ["HOOKED"] == "pid%d" % os.getpid())

    if __name__ == "__main__":
        print("main", os.environ["HOOKED"] == "pid%d" % os.getpid())
        mp.set_start_method("spawn")
        q = mp.Queue()
        p = mp.Process(target=child, args=(q,))
        p.start()
        print("child", q.get())
        p.join()
        print("exit", p.exitcode)
"""


def test_hook_runs_in_spawn_children(tmp_path):
    write_tree(tmp_path, {"mp_app.py": MP_APP, "hook.py": """
        import os
        os.environ["HOOKED"] = "pid%d" % os.getpid()
    """})
    prog = tmp_path / "out" / "mp_app"
    kiln_build("mp_app.py", "-q", "--runtime-hook", "hook.py", "-o", prog,
               cwd=tmp_path)
    r = run([prog], timeout=90)
    assert r.returncode == 0, describe(r)
    assert r.stdout.splitlines() == ["main True", "child True", "exit 0"], \
        describe(r)


def test_hook_exception_is_reported_like_the_apps(tmp_path):
    write_tree(tmp_path, {"app.py": 'print("app ran")\n', "bad_hook.py": """
        import os

        def fail():
            raise RuntimeError("the hook failed")

        fail()
    """})
    prog = tmp_path / "out" / "app"
    kiln_build("app.py", "-q", "--runtime-hook", "bad_hook.py", "-o", prog,
               cwd=tmp_path)
    r = run([prog])
    assert r.returncode == 1, describe(r)
    assert r.stdout == "", describe(r)
    lines = r.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):", describe(r)
    assert f'  File "{prog}/_kiln_hook_1_bad_hook.py", line 6, in <module>' \
        in lines, describe(r)
    assert "    raise RuntimeError(\"the hook failed\")" in lines, describe(r)
    assert lines[-1] == "RuntimeError: the hook failed", describe(r)


def test_hook_exit_status(tmp_path):
    write_tree(tmp_path, {"app.py": 'print("app ran")\n',
                          "hook.py": "import sys\nsys.exit(7)\n"})
    prog = tmp_path / "out" / "app"
    kiln_build("app.py", "-q", "--runtime-hook", "hook.py", "-o", prog,
               cwd=tmp_path)
    r = run([prog])
    assert (r.returncode, r.stdout, r.stderr) == (7, "", ""), describe(r)


def test_hook_syntax_error_fails_the_build(tmp_path):
    write_tree(tmp_path, {"app.py": 'print("app")\n',
                          "hooks/broken.py": "import os\nx = (1,\n"})
    r = kiln_build("app.py", "--runtime-hook", "hooks/broken.py", "-o",
                   tmp_path / "out" / "app", cwd=tmp_path, expect_ok=False)
    assert_one_error_line(r)
    assert f"{tmp_path}/hooks/broken.py:2:" in r.stderr, describe(r)
    assert "SyntaxError" in r.stderr, describe(r)
    assert not (tmp_path / "out" / "app").exists()


def test_missing_hook_fails_the_build(tmp_path):
    write_tree(tmp_path, {"app.py": 'print("app")\n'})
    r = kiln_build("app.py", "--runtime-hook", "nohook.py", "-o",
                   tmp_path / "out" / "app", cwd=tmp_path, expect_ok=False)
    assert_one_error_line(r)
    assert "nohook.py: No such file or directory (a --runtime-hook)" in r.stderr, \
        describe(r)


def test_hook_files_are_kept_from_the_output(tmp_path):
    """A hook is an input of the build: -o never writes over it."""
    write_tree(tmp_path, {"app.py": 'print("app")\n', "hook.py": "x = 1\n"})
    r = kiln_build("app.py", "--force", "--runtime-hook", "hook.py", "-o",
                   "hook.py", cwd=tmp_path, expect_ok=False)
    assert_one_error_line(r)
    assert (tmp_path / "hook.py").read_text() == "x = 1\n"
    assert os.path.getsize(tmp_path / "hook.py") == 6
