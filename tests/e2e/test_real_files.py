"""Packages that get real files at run time: one whose data holds native
code (a program it runs), or one `--files` / `[tool.kiln] files` names. A
one-file program writes such a package once to a per-user,
content-addressed cache (0700, owner checked, temporary name then rename,
checked against the program's bytes before use) and points the package's
__file__ and __path__ there; a folder program has the files in its folder.
kiln build says which packages it gave real files and why."""
import os
import stat
import subprocess

import pytest

from conftest import (assert_one_error_line, describe, kiln, kiln_build, run,
                      write_tree)

TOOL = open("/bin/echo", "rb").read()

FILES = {
    "tool/__init__.py": "",
    "cfg/__init__.py": "",
    "cfg/data/c.txt": "conf\n",
    "cfg/data/sub/d.txt": "deeper\n",
    "app.py": """
import os, subprocess, sys, tool, cfg
from importlib.resources import files
here = os.path.dirname(tool.__file__)
print(os.path.basename(here), cfg.__path__ == [os.path.dirname(cfg.__file__)])
print(subprocess.run([os.path.join(here, "bin", "echo"), "run", "from", "data"],
                     capture_output=True, text=True).stdout, end="")
c = os.path.join(os.path.dirname(cfg.__file__), "data")
print(open(os.path.join(c, "c.txt")).read(), end="")
print(sorted(os.listdir(os.path.join(c, "sub"))))
print(files(cfg).joinpath("data", "sub", "d.txt").read_text(), end="")
print("CACHE" if os.environ.get("XDG_CACHE_HOME", "-") in here else "FOLDER")
""",
}


def app(tmp_path):
    write_tree(tmp_path, FILES)
    (tmp_path / "tool" / "bin").mkdir()
    exe = tmp_path / "tool" / "bin" / "echo"
    exe.write_bytes(TOOL)
    exe.chmod(0o755)
    return tmp_path


def cache_env(tmp_path):
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env


def test_one_file_writes_packages_once_to_a_private_cache(tmp_path):
    app(tmp_path)
    r = kiln_build("app.py", "--files", "cfg", "-o", "prog", cwd=tmp_path)
    assert ("package tool gets real files at run time: its data holds "
            "a program (tool/bin/echo)") in r.stderr, describe(r)
    assert "package cfg gets real files at run time: --files names it" \
        in r.stderr, describe(r)
    env = cache_env(tmp_path)
    got = run([tmp_path / "prog"], cwd=tmp_path, env=env)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout == ("tool True\nrun from data\nconf\n['d.txt']\n"
                          "deeper\nCACHE\n"), describe(got)
    base = tmp_path / "cache" / "kiln" / "files"
    dirs = sorted(p.name for p in base.iterdir())
    assert [d.split("-")[0] for d in dirs] == ["cfg", "tool"], dirs
    assert stat.S_IMODE(base.stat().st_mode) == 0o700
    exe = base / dirs[1] / "tool" / "bin" / "echo"
    assert exe.read_bytes() == TOOL and exe.stat().st_mode & 0o100
    conf = base / dirs[0] / "cfg" / "data" / "c.txt"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    # Reused as it is by the next run; a changed copy is written again.
    before = conf.stat().st_mtime_ns
    got = run([tmp_path / "prog"], cwd=tmp_path, env=env)
    assert got.returncode == 0 and conf.stat().st_mtime_ns == before
    conf.write_text("tampered\n")
    got = run([tmp_path / "prog"], cwd=tmp_path, env=env)
    assert got.returncode == 0 and "tampered" not in got.stdout, describe(got)
    assert conf.read_text() == "conf\n"
    assert sorted(p.name for p in base.iterdir()) == dirs


def test_concurrent_first_runs(tmp_path):
    app(tmp_path)
    kiln_build("app.py", "-q", "--files", "cfg", "-o", "prog", cwd=tmp_path)
    env = cache_env(tmp_path)
    procs = [subprocess.Popen([str(tmp_path / "prog")], cwd=tmp_path,
                              env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    outs = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    assert all(o == outs[0] for o in outs), outs
    assert outs[0][1:] == ("", 0), outs[0]
    base = tmp_path / "cache" / "kiln" / "files"
    assert len(list(base.iterdir())) == 2, list(base.iterdir())


def test_cache_others_can_write_is_refused(tmp_path):
    app(tmp_path)
    kiln_build("app.py", "-q", "-o", "prog", cwd=tmp_path)
    base = tmp_path / "cache" / "kiln" / "files"
    base.mkdir(parents=True)
    base.chmod(0o777)
    got = run([tmp_path / "prog"], cwd=tmp_path, env=cache_env(tmp_path))
    assert got.returncode == 1, describe(got)
    assert ("cannot give package directory tool real files: "
            f"{base} is not private to this user") in got.stderr, describe(got)
    assert list(base.iterdir()) == []


def test_folder_program_has_them_in_its_folder(tmp_path):
    app(tmp_path)
    kiln_build("app.py", "-q", "--onedir", "--files", "cfg", "-o", "dist",
               cwd=tmp_path)
    got = run([tmp_path / "dist" / "dist"], cwd=tmp_path,
              env=cache_env(tmp_path))
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout.endswith("deeper\nFOLDER\n"), describe(got)
    assert not (tmp_path / "cache").exists()


def test_files_from_pyproject_and_bad_names(tmp_path):
    app(tmp_path)
    write_tree(tmp_path, {"pyproject.toml": """
[tool.kiln]
module = "app"
name = "prog"
files = ["cfg"]
"""})
    r = kiln("build", cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    assert "package cfg gets real files at run time: --files names it" \
        in r.stderr, describe(r)
    got = run([tmp_path / "dist" / "prog"], cwd=tmp_path,
              env=cache_env(tmp_path))
    assert got.stdout.endswith("deeper\nCACHE\n"), describe(got)
    r = kiln("build", "app.py", "--files", "nosuch", "-o", "p2", cwd=tmp_path)
    assert_one_error_line(r)
    assert "--files nosuch: the program has no package nosuch" in r.stderr
    assert not (tmp_path / "p2").exists()
    r = kiln("build", "app.py", "--files", "not a name", "-o", "p3",
             cwd=tmp_path)
    assert_one_error_line(r, status=2)
