"""Shared libraries an extension module brings with it, as auditwheel
lays them out: the module finds libkla.so.1 in ../mypkg.libs through its
RPATH ($ORIGIN), and libkla needs libklb.so.2 beside it, found through the
module's RPATH too (an RPATH is inherited by what the object loads). kiln
bundles both and the program loads them from memory (or, in a folder
program, from its folder) before the module, in dependency order, without
the build directory; python gives the same answers from the files."""
import os
import shutil

import pytest

from conftest import (KILN_PYTHON, Bundle, build_extension,
                      build_shlibs_app, describe, kiln_build, python_run, run,
                      write_tree)


@pytest.fixture
def app(tmp_path, pyinfo):
    return build_shlibs_app(tmp_path, pyinfo)


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_libraries_come_with_the_module(app, mode, tmp_path):
    want = python_run(app / "app.py", cwd=app)
    assert (want.returncode, want.stdout) == (0, "42\n"), describe(want)
    out = tmp_path / "out" / "prog"
    kiln_build("app.py", "-q", f"--{mode}", "-o", out, cwd=app)
    prog = out / "prog" if mode == "onedir" else out
    entries = Bundle.read(prog).entries
    assert entries["libkla.so.1"]["kind"] == "shlib"
    assert entries["libklb.so.2"]["kind"] == "shlib"
    # The build directory is gone: only what the program carries is left.
    shutil.move(str(app / "mypkg.libs"), str(tmp_path / "moved.libs"))
    env = dict(os.environ, LD_LIBRARY_PATH="")
    got = run([prog], cwd=tmp_path, env=env)
    assert (got.returncode, got.stdout, got.stderr) == (0, "42\n", ""), \
        describe(got)
    maps = run([prog, "maps"], cwd=tmp_path, env=env)
    if mode == "onedir":
        assert (out / "_internal" / "mypkg.libs" / "libkla.so.1").is_file()
        assert str(out / "_internal" / "mypkg.libs" / "libkla.so.1") in \
            maps.stdout, describe(maps)
    else:
        # From memory: the loader shows the memfds, named after them.
        assert "['/memfd:libkla.so.1 (deleted)', '/memfd:libklb.so.2 " \
            "(deleted)']" in maps.stdout, describe(maps)


def test_two_hundred_extension_modules_at_a_low_ulimit(tmp_path, pyinfo):
    """Loaded extension modules hold no descriptor: a program imports 200
    of them with `ulimit -n 16`, as python3 does."""
    import resource

    names = [f"_kl{i:03d}" for i in range(200)]
    pkg = tmp_path / "many"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in names:
        build_extension(pkg, name, pyinfo)
    write_tree(tmp_path, {"app.py": (
        "import importlib\n"
        f"names = {names!r}\n"
        "mods = [importlib.import_module('many.' + n) for n in names]\n"
        "print(len(mods), sum(m.twice(i) for i, m in enumerate(mods)))\n")})

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))

    want = run_limited([KILN_PYTHON, "-E", "-s", tmp_path / "app.py"], low,
                       cwd=tmp_path)
    assert (want.returncode, want.stdout) == (0, "200 39800\n"), describe(want)
    kiln_build("app.py", "-q", "--collect", "many", "-o", "prog", cwd=tmp_path)
    got = run_limited([tmp_path / "prog"], low, cwd=tmp_path)
    assert (got.returncode, got.stdout) == (0, "200 39800\n"), describe(got)


def run_limited(cmd, preexec, cwd):
    """Run cmd (as conftest.run) with preexec applied in the child."""
    import subprocess
    return subprocess.run([str(c) for c in cmd], cwd=cwd, text=True,
                          capture_output=True, preexec_fn=preexec,
                          timeout=120)
