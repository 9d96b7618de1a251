"""Which packages a program is built from: --venv, the active VIRTUAL_ENV,
--python, .pth files, --requirements and --pip into a staging directory, and
a project's pyproject.toml with its scripts and [tool.kiln] settings."""
import os
from pathlib import Path

import pytest

from conftest import (KILN_PYTHON, Bundle, assert_one_error_line, build_program,
                      describe, kiln, make_venv, run, venv_run, write_tree)

# A package the embedded Python's own site-packages may hold, pinned to
# another version in the test venv, and one it must never find there.
APP = """
import idna
print("idna", idna.__version__)
try:
    import kiln_only_in_base
    print("leaked", kiln_only_in_base.__file__)
except ImportError:
    print("kiln_only_in_base: not installed")
"""


def _site_packages(venv):
    (sp,) = Path(venv).glob("lib/python*/site-packages")
    return sp


@pytest.fixture(scope="module")
def small_venv(tmp_path_factory):
    """A venv with one old idna."""
    return make_venv(tmp_path_factory.mktemp("venv") / "v", ("idna==3.4",))


def test_venv_collects_from_the_venv_only(tmp_path, small_venv):
    write_tree(tmp_path, {"app.py": APP})
    prog = build_program(tmp_path, "app.py", "--venv", small_venv,
                         output=tmp_path / "app")
    want = venv_run(small_venv, tmp_path / "app.py", cwd=tmp_path)
    assert want.returncode == 0, describe(want)
    assert "idna 3.4" in want.stdout
    got = run([prog], cwd=tmp_path)
    assert got.returncode == 0, describe(got)
    assert got.stdout == want.stdout


def test_virtual_env_variable_is_the_default(tmp_path, small_venv):
    write_tree(tmp_path, {"app.py": APP})
    env = dict(os.environ, VIRTUAL_ENV=str(small_venv))
    r = kiln("build", "app.py", "-o", tmp_path / "app", cwd=tmp_path, env=env)
    assert r.returncode == 0, describe(r)
    got = run([tmp_path / "app"], cwd=tmp_path)
    assert "idna 3.4" in got.stdout, describe(got)


def test_python_option_uses_that_interpreters_environment(tmp_path,
                                                          small_venv):
    write_tree(tmp_path, {"app.py": APP})
    prog = build_program(tmp_path, "app.py", "--python",
                         small_venv / "bin" / "python",
                         output=tmp_path / "app")
    got = run([prog], cwd=tmp_path)
    assert "idna 3.4" in got.stdout, describe(got)


def test_pth_path_entries_are_honoured(tmp_path, small_venv):
    extra = write_tree(tmp_path / "extra", {"pthmod.py": "NAME = 'pth'\n"})
    pth = _site_packages(small_venv) / "kiln_test_extra.pth"
    pth.write_text(f"# a comment\n{extra}\n{tmp_path / 'does-not-exist'}\n")
    try:
        write_tree(tmp_path / "app", {"app.py": "import pthmod\n"
                                                "print(pthmod.NAME)\n"})
        prog = build_program(tmp_path / "app", "app.py", "--venv",
                             small_venv, output=tmp_path / "prog")
    finally:
        pth.unlink()
    got = run([prog], cwd=tmp_path)
    assert got.returncode == 0 and got.stdout == "pth\n", describe(got)


def _fake_interpreter(root, version):
    """A venv-shaped directory whose bin/python answers kiln's question as a
    Python of another version would."""
    x_y = ".".join(version.split(".")[:2])
    py = write_tree(root, {"bin/python": f"#!/bin/sh\n"
                           f"printf '{x_y}\\000{version}\\000'\n"}) / "bin/python"
    py.chmod(0o755)
    (root / "pyvenv.cfg").write_text(f"version = {version}\n")
    return root


def test_venv_of_another_python_version(tmp_path):
    venv = _fake_interpreter(tmp_path / "v", "3.99.1")
    write_tree(tmp_path, {"app.py": "print(1)\n"})
    r = kiln("build", "app.py", "--venv", venv, "-o", tmp_path / "app",
             cwd=tmp_path)
    assert_one_error_line(r)
    assert "Python 3.99.1" in r.stderr and "this kiln embeds Python" in r.stderr
    assert "make PYTHON=python3.99" in r.stderr
    assert not (tmp_path / "app").exists()


@pytest.mark.parametrize("what", ["missing", "not-a-venv", "both"])
def test_bad_environment_options(tmp_path, small_venv, what):
    write_tree(tmp_path, {"app.py": "print(1)\n"})
    (tmp_path / "plain").mkdir()
    args = {"missing": ["--venv", tmp_path / "nope"],
            "not-a-venv": ["--venv", tmp_path / "plain"],
            "both": ["--venv", small_venv, "--python",
                     small_venv / "bin" / "python"]}[what]
    r = kiln("build", "app.py", *args, "-o", tmp_path / "app", cwd=tmp_path)
    assert_one_error_line(r)
    assert not (tmp_path / "app").exists()


def test_requirements_are_installed_for_the_build(tmp_path, small_venv):
    write_tree(tmp_path, {"app.py": "import idna\nprint(idna.__version__)\n",
                          "req.txt": "idna==3.6\n"})
    assert list(_site_packages(small_venv).glob("idna-3.4*"))
    prog = build_program(tmp_path, "app.py", "-q", "-r", "req.txt",
                         "--venv", small_venv, output=tmp_path / "app")
    got = run([prog], cwd=tmp_path)
    assert got.returncode == 0 and got.stdout == "3.6\n", describe(got)
    # The staging directory is gone, and the venv untouched.
    assert not list(_site_packages(small_venv).glob("idna-3.6*"))


def test_pip_arguments_win_over_the_environment(tmp_path, small_venv):
    write_tree(tmp_path, {"app.py": "import idna\nprint(idna.__version__)\n"})
    prog = build_program(tmp_path, "app.py", "-q", "--venv", small_venv,
                         "--pip", "idna==3.5", output=tmp_path / "app")
    got = run([prog], cwd=tmp_path)
    assert got.stdout == "3.5\n", describe(got)


def test_pip_failure_is_reported_with_pips_message(tmp_path, small_venv):
    write_tree(tmp_path, {"app.py": "print(1)\n"})
    r = kiln("build", "app.py", "-q", "--pip", "kiln-no-such-package-zzz==1",
             "--venv", small_venv, "-o", tmp_path / "app", cwd=tmp_path)
    assert r.returncode == 1, describe(r)
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("kiln: error: pip install failed"), describe(r)
    assert "kiln-no-such-package-zzz" in last, describe(r)
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "app").exists()


# ---- pyproject.toml -----------------------------------------------------------

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "greet"
version = "1.0"
dependencies = ["idna==3.6"]

[project.scripts]
greet = "greet.cli:main"
greet-exit = "greet.cli:exit_three [fancy]"

[project.optional-dependencies]
fancy = []

[tool.kiln]
no-source = true
exclude-module = ["json"]
"""


def in_venv(venv):
    """The environment of a shell where venv is activated."""
    return dict(os.environ, VIRTUAL_ENV=str(venv))


@pytest.fixture(scope="module")
def project(tmp_path_factory, small_venv):
    """The project built as a user would, in a shell where a venv (with
    pip, which pip-installs the project) is active."""
    root = tmp_path_factory.mktemp("proj")
    write_tree(root, {
        "pyproject.toml": PYPROJECT,
        "src/greet/__init__.py": "",
        "src/greet/cli.py": """
            import sys
            import idna
            try:
                import json
            except ImportError:
                json = None

            def main():
                print("hello", idna.__version__, sys.argv[1:], json)

            def exit_three():
                print("exiting")
                return 3
            """,
    })
    r = kiln("build", "-q", cwd=root, env=in_venv(small_venv))
    assert r.returncode == 0, describe(r)
    return root


def test_project_builds_one_program_per_script(project):
    got = run([project / "dist" / "greet", "a", "b"])
    assert got.returncode == 0, describe(got)
    assert got.stdout == "hello 3.6 ['a', 'b'] None\n"
    got = run([project / "dist" / "greet-exit"])
    assert got.returncode == 3 and got.stdout == "exiting\n", describe(got)


def test_project_settings_apply(project):
    entries = Bundle.read(project / "dist" / "greet").entries
    assert "json" not in entries                       # exclude-module
    assert entries["greet.cli"]["aux_size"] == 0       # no-source


def test_script_option_builds_one(tmp_path, project, small_venv):
    write_tree(tmp_path, {"pyproject.toml": PYPROJECT})
    (tmp_path / "src").symlink_to(project / "src")
    r = kiln("build", "-q", "--script", "greet-exit", cwd=tmp_path,
             env=in_venv(small_venv))
    assert r.returncode == 0, describe(r)
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == \
        ["greet-exit"]


def test_flags_override_settings(tmp_path):
    write_tree(tmp_path, {"pyproject.toml": """
        [tool.kiln]
        entry = "app:main"
        name = "from-settings"
        """, "app.py": "def main():\n    print('hi')\n"})
    r = kiln("build", "-q", "--name", "from-flag", cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    assert run([tmp_path / "dist" / "from-flag"]).stdout == "hi\n"
    assert not (tmp_path / "dist" / "from-settings").exists()


def test_unknown_key_names_line_and_known_keys(tmp_path):
    write_tree(tmp_path, {"pyproject.toml": """
        [project]
        name = "x"
        version = "1"

        [tool.kiln]
        compress = true
        hiden-import = ["json"]
        """})
    r = kiln("build", cwd=tmp_path)
    assert_one_error_line(r)
    assert "pyproject.toml:7:" in r.stderr, describe(r)
    assert "'hiden-import'" in r.stderr and "hidden-import" in r.stderr
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("line, want", [
    ('compress = "yes"', "compress must be true or false, not a string"),
    ("hidden-import = 'json'", "hidden-import must be a list of strings"),
    ("paths = [1, 2]", "paths must be a list of strings"),
    ("name = 3", "name must be a string, not a number"),
])
def test_wrong_type_names_key_and_line(tmp_path, line, want):
    write_tree(tmp_path, {"pyproject.toml": f"[tool.kiln]\n{line}\n"})
    r = kiln("build", cwd=tmp_path)
    assert_one_error_line(r)
    assert "pyproject.toml:2:" in r.stderr and want in r.stderr, describe(r)


@pytest.mark.parametrize("files, want", [
    ({}, "nothing to build"),
    ({"pyproject.toml": "[project]\nname = 'x'\nversion = '1'\n"},
     "no [project.scripts]"),
    ({"pyproject.toml": "[project\nname = 1\n"}, "pyproject.toml"),
])
def test_project_errors(tmp_path, files, want):
    write_tree(tmp_path, files)
    r = kiln("build", cwd=tmp_path)
    assert r.returncode != 0, describe(r)
    assert_one_error_line(r, status=r.returncode)
    assert want in r.stderr, describe(r)
    assert not (tmp_path / "dist").exists()


def test_unknown_script_name(tmp_path, project):
    write_tree(tmp_path, {"pyproject.toml": PYPROJECT})
    r = kiln("build", "--script", "nope", cwd=tmp_path)
    assert_one_error_line(r)
    assert "no script named 'nope'" in r.stderr
    assert "greet, greet-exit" in r.stderr


def test_environment_without_pip(tmp_path):
    venv = tmp_path / "nopip"
    r = run([KILN_PYTHON, "-m", "venv", "--without-pip", venv])
    assert r.returncode == 0, describe(r)
    write_tree(tmp_path, {"app.py": "print(1)\n"})
    r = kiln("build", "app.py", "-q", "--pip", "idna", "--venv", venv,
             "-o", tmp_path / "app", cwd=tmp_path)
    assert_one_error_line(r)
    assert "has no pip" in r.stderr and "--venv" in r.stderr, describe(r)
    assert not (tmp_path / "app").exists()


def test_console_script_whose_module_is_missing(tmp_path, small_venv):
    write_tree(tmp_path, {
        "pyproject.toml": PYPROJECT.replace("greet.cli:main",
                                            "greet.nothere:main"),
        "src/greet/__init__.py": "",
        "src/greet/cli.py": "def exit_three():\n    return 3\n",
    })
    r = kiln("build", "-q", "--script", "greet", cwd=tmp_path,
             env=in_venv(small_venv))
    assert_one_error_line(r)
    assert "greet.nothere" in r.stderr, describe(r)
    assert not (tmp_path / "dist" / "greet").exists()


def test_every_option_is_a_documented_setting():
    import re
    r = kiln("build", "--help")
    assert r.returncode == 0, describe(r)
    flags = set(re.findall(r"^  (?:-\w, )?--([a-z-]+)", r.stdout, re.M))
    flags.discard("help")
    doc = (Path(__file__).resolve().parents[2] / "docs" / "config.md").read_text()
    table = doc.split("\n## `[tool.kiln]`\n", 1)[1].split("\n## ", 1)[0]
    keys = set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M))
    assert flags and flags == keys
