"""kiln --version and --help."""
import re

import pytest

from conftest import describe, kiln


def test_version_names_kiln_and_embedded_python(pyinfo):
    r = kiln("--version")
    assert r.returncode == 0, describe(r)
    assert r.stderr == ""
    line = r.stdout.strip()
    assert len(r.stdout.splitlines()) == 1, describe(r)
    m = re.fullmatch(r"kiln (\d+\.\d+\.\d+\S*) \(Python (\S+)\)", line)
    assert m, line
    assert m.group(2) == pyinfo["version"]


@pytest.mark.parametrize("args,usage", [
    (["build", "--help"], "usage: kiln build"),
    (["build", "-h"], "usage: kiln build"),
    (["inspect", "--help"], "usage: kiln inspect"),
    (["inspect", "-h"], "usage: kiln inspect"),
    (["extract", "--help"], "usage: kiln extract"),
    (["--help"], "usage: kiln"),
])
def test_help_exits_0(args, usage, tmp_path):
    r = kiln(*args, cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    assert r.stdout.startswith(usage), describe(r)
    assert r.stderr == ""
    assert not (tmp_path / "dist").exists()


def test_build_help_lists_options():
    r = kiln("build", "--help")
    for opt in ("-m MODULE", "--entry", "-o", "--name", "--hidden-import",
                "--exclude-module", "--no-source", "--compress", "--verbose",
                "--collect", "--collect-data"):
        assert opt in r.stdout, opt
    r = kiln("inspect", "--help")
    assert "--verify" in r.stdout
