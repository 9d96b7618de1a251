"""Seeing inside a built program: `kiln inspect --json` against the
tests' own bundle parser, `kiln extract` giving files python itself
loads, and `kiln inspect --licenses` / `--license-texts` against what the
venv's python says of the same distributions."""
import json
import os
import struct
from pathlib import Path

import pytest

from conftest import (KILN, KILN_PYTHON, Bundle, assert_one_error_line,
                      describe, kiln, kiln_build, python_run, run, run_json,
                      venv_run, write_tree)

APP = {
    "app.py": """
        import json
        from pkg import mod
        from importlib.resources import files
        print(mod.greet("inspect"), json.dumps([1, 2]))
        print(files("pkg").joinpath("words.txt").read_text().strip())
        """,
    "pkg/__init__.py": "",
    "pkg/mod.py": """
        def greet(who):
            return "hello " + who
        """,
    "pkg/words.txt": "some words\n",
}

# Runs the extracted program's bytecode with no source beside it.
RUN_PYC = """
import runpy, sys
sys.path.insert(0, sys.argv[1])
runpy.run_path(sys.argv[2], run_name="__main__")
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """APP's sources, and APP built one-file and as a folder."""
    d = tmp_path_factory.mktemp("inspect")
    write_tree(d, APP)
    kiln_build("app.py", "-q", "-o", d / "onefile", cwd=d)
    kiln_build("app.py", "-q", "--onedir", "-o", d / "onedir", cwd=d)
    return d


def exe(app, mode):
    return app / "onedir" / "onedir" if mode == "onedir" else app / "onefile"


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_json_says_where_every_entry_lies(app, mode):
    """Every entry, with the offsets, sizes and checksums the tests' own
    parser reads from the bundle; the bytes at each offset are the
    entry's (a stored module's source is its file's text)."""
    prog = exe(app, mode)
    got = run_json([KILN, "inspect", "--json",
                    prog.parent if mode == "onedir" else prog])
    data = prog.read_bytes()
    b = Bundle(data)
    assert got["format"] == b.header_version
    assert got["program"] == os.fspath(prog)
    assert got["run"] == {"mode": "script", "target": None}
    assert got["folder"] == (b.folder or None)
    assert (got["bundle_offset"], got["bundle_size"]) == (b.bundle_offset,
                                                          b.bundle_size)
    names = [e["name"] for e in got["entries"]]
    assert sorted(names) == sorted(b.entries), "not every entry listed"
    for e in got["entries"]:
        want = b.entries[e["name"]]
        assert e["kind"] == want["kind"], e
        assert e["path"] == (want["path"] or None), e
        if e["kind"] == "namespace":
            assert (e["data"], e["source"]) == (None, None), e
            continue
        d = e["data"]
        assert d["stored_size"] == want["data_size"], e
        assert d["checksum"] == "%016x" % want["data_check"], e
        if want["external"]:
            assert (d["location"], d["offset"]) == ("file", 0), e
            assert d["file"] == f"{b.folder}/{want['path']}", e
            assert (prog.parent / d["file"]).stat().st_size == \
                d["stored_size"], e
        else:
            assert (d["location"], d["file"]) == ("program", None), e
            assert d["offset"] == want["data_abs"], e
        if e["kind"] in ("module", "package"):
            s = e["source"]
            assert s is not None and s["offset"] == want["aux_abs"], e
            assert s["stored_size"] == want["aux_size"], e
    main = next(e for e in got["entries"] if e["name"] == "pkg.mod")
    src = (app / "pkg" / "mod.py").read_bytes()
    assert main["source"]["size"] == len(src)
    if not main["source"]["compressed"]:
        off = main["source"]["offset"]
        assert data[off:off + len(src)] == src


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_extract_gives_files_python_loads(app, mode, tmp_path):
    """The program's own modules as .pyc files python runs with no
    source beside them, printing what the program prints; the sources
    and the data file byte for byte."""
    prog = exe(app, mode)
    want = run([prog])
    assert want.returncode == 0, describe(want)
    out = tmp_path / "out"
    r = kiln("extract", prog, "__main__", "pkg", "pkg.mod", "pkg/words.txt",
             "-o", out)
    assert r.returncode == 0, describe(r)
    assert r.stdout == f"{prog}: wrote 7 files to {out}\n", describe(r)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file())
    assert files == ["app.py", "app.pyc", "pkg/__init__.py",
                     "pkg/__init__.pyc", "pkg/mod.py", "pkg/mod.pyc",
                     "pkg/words.txt"], files
    for rel in ("app.py", "pkg/mod.py", "pkg/words.txt"):
        assert (out / rel).read_bytes() == (app / rel).read_bytes(), rel
    magic = run([KILN_PYTHON, "-I", "-c", "import importlib.util, sys; "
                 "sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"])
    pyc = (out / "pkg" / "mod.pyc").read_bytes()
    assert pyc[:4].hex() == magic.stdout
    assert struct.unpack("<III", pyc[4:16]) == (
        0, 0, len((app / "pkg" / "mod.py").read_bytes()))
    for rel in ("app.py", "pkg/mod.py", "pkg/__init__.py"):
        (out / rel).unlink()
    (tmp_path / "run_pyc.py").write_text(RUN_PYC)
    got = python_run(tmp_path / "run_pyc.py", out, out / "app.pyc",
                     cwd=tmp_path)
    assert (got.returncode, got.stdout) == (0, want.stdout), describe(got)


def test_extract_all_writes_every_entry(app, tmp_path):
    """--all: one file per stored part (bytecode, source, data, native
    code) and a directory per namespace package; the default folder is
    the program's name with _extracted, in the working directory."""
    prog = exe(app, "onefile")
    entries = run_json([KILN, "inspect", "--json", prog])["entries"]
    r = kiln("extract", prog, "--all", cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    out = tmp_path / "onefile_extracted"
    files = {p.relative_to(out).as_posix() for p in out.rglob("*")
             if p.is_file()}
    want = 0
    for e in entries:
        if e["kind"] == "namespace":
            assert (out / e["path"]).is_dir(), e
            continue
        want += 1 + (e["source"] is not None)
        if e["kind"] in ("extension", "shlib"):
            assert os.access(out / e["path"], os.X_OK), e
            assert (out / e["path"]).stat().st_size == e["data"]["size"], e
        elif e["kind"] not in ("module", "package"):
            assert e["path"] in files, e
    assert len(files) == want
    assert r.stdout == f"{prog}: wrote {want} files to onefile_extracted\n"


def test_extract_never_writes_over_a_file(app, tmp_path):
    """A second extract into the same folder stops at the first file that
    exists, in one line, and leaves it as it was; an unknown name writes
    nothing; no name is a usage error."""
    prog = exe(app, "onefile")
    out = tmp_path / "out"
    out.mkdir()
    (out / "pkg").mkdir()
    (out / "pkg" / "mod.py").write_text("mine\n")
    r = kiln("extract", prog, "pkg.mod", "-o", out)
    assert_one_error_line(r)
    assert "exists already" in r.stderr and "pkg/mod.py" in r.stderr
    assert (out / "pkg" / "mod.py").read_text() == "mine\n"
    r = kiln("extract", prog, "pkg.mod", "no.such.module", "-o",
             tmp_path / "other")
    assert_one_error_line(r)
    assert "no entry named no.such.module" in r.stderr, describe(r)
    assert not (tmp_path / "other").exists()
    assert_one_error_line(kiln("extract", prog), status=2)
    assert_one_error_line(kiln("extract", prog, "--all", "pkg.mod"),
                          status=2)


def test_extract_of_a_damaged_entry_says_so(app, tmp_path):
    """A payload whose checksum fails is never written out: one line
    saying the program is damaged."""
    prog = exe(app, "onefile")
    data = bytearray(prog.read_bytes())
    e = Bundle(bytes(data)).entries["pkg.mod"]
    data[e["aux_abs"] + e["aux_size"] // 2] ^= 0x40
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(data))
    r = kiln("extract", bad, "pkg.mod", "-o", tmp_path / "out")
    assert_one_error_line(r)
    assert "damaged" in r.stderr and "pkg.mod" in r.stderr, describe(r)
    assert not (tmp_path / "out" / "pkg" / "mod.py").exists()


def test_inspect_modes_are_one_at_a_time(app):
    prog = exe(app, "onefile")
    assert_one_error_line(kiln("inspect", prog, "--json", "--verify"),
                          status=2)
    assert_one_error_line(kiln("inspect", prog, "--license-texts"), status=2)


# What the venv's python says of each distribution's licence: the
# headers kiln reads, the files of its .dist-info it takes as licence
# files, and where those lie.
LICENSE_INFO = r"""
import importlib.metadata as md, json, os, re, sys
out = {}
stems = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "COPYRIGHT")
for d in md.distributions():
    m = d.metadata
    name = m["Name"]
    if name.lower() not in sys.argv[1:]:
        continue
    info = os.path.basename(str(d._path))
    lic = [f for f in d.files if f.parts[0] == info and (
           f.parts[1] == "licenses" or f.name.upper().startswith(stems) or
           "/".join(f.parts[1:]) in (m.get_all("License-File") or []))]
    out[name.lower()] = {
        "line": "%s %s" % (name, m["Version"]),
        "expression": m["License-Expression"],
        "license": (m["License"] or "").strip().splitlines()[:1],
        "classifiers": [c.split(" :: ")[-1] for c in m.get_all("Classifier") or []
                        if c.startswith("License :: ")],
        "files": sorted("/".join(f.parts) for f in lic),
        "stem": info.rsplit(".", 1)[0],
        "paths": {"/".join(f.parts): str(f.locate()) for f in lic},
    }
print(json.dumps(out))
"""

LICENSE_DISTS = ("click", "pyyaml", "attrs", "rich", "pygments")


@pytest.fixture(scope="module")
def licensed(pypi_venv, tmp_path_factory):
    """A program of five PyPI distributions, and what the venv's python
    says of their licences."""
    d = tmp_path_factory.mktemp("licenses")
    write_tree(d, {"app.py": "import click, yaml, attr, rich, pygments\n"
                             "print('ok')\n",
                   "info.py": LICENSE_INFO})
    kiln_build("app.py", "-q", "--venv", pypi_venv, "-o", d / "prog", cwd=d)
    r = venv_run(pypi_venv, d / "info.py", *LICENSE_DISTS, cwd=d)
    assert r.returncode == 0, describe(r)
    info = json.loads(r.stdout)
    assert sorted(info) == sorted(LICENSE_DISTS), info
    return d / "prog", info


def dist_block(text, line):
    """The lines of --licenses' output about the distribution whose first
    line is `line`."""
    lines = text.splitlines()
    assert line in lines, f"{line!r} not in\n{text}"
    i = lines.index(line)
    return lines[i + 1:i + 3]


def test_licenses_name_each_distribution_as_its_metadata_does(licensed,
                                                              pyinfo):
    prog, info = licensed
    r = kiln("inspect", prog, "--licenses")
    assert (r.returncode, r.stderr) == (0, ""), describe(r)
    assert f"Python {pyinfo['version']} (CPython" in r.stdout
    assert f"  text: {pyinfo['stdlib']}/LICENSE.txt" in r.stdout
    for name, d in info.items():
        licence, files = dist_block(r.stdout, d["line"])
        assert licence.startswith("  licence: "), (name, licence)
        if d["expression"]:
            assert f"{d['expression']} (License-Expression)" in licence
        elif d["license"]:
            assert d["license"][0][:72] in licence, (name, licence)
        for c in d["classifiers"]:
            assert c in licence, (name, licence)
        if d["files"]:
            assert files == "  files: " + " ".join(d["files"]), (name, files)
        else:
            assert files == "  files: none in its metadata", (name, files)
    assert any(d["files"] for d in info.values()), "no licence file at all"


def test_license_texts_are_the_distributions_files(licensed, pyinfo,
                                                   tmp_path):
    prog, info = licensed
    out = tmp_path / "notices"
    r = kiln("inspect", prog, "--license-texts", out)
    assert (r.returncode, r.stderr) == (0, ""), describe(r)
    summary = kiln("inspect", prog, "--licenses").stdout
    assert (out / "LICENSES.txt").read_text() == summary
    assert (out / f"python-{pyinfo['version']}" / "LICENSE.txt").read_bytes() \
        == (Path(pyinfo["stdlib"]) / "LICENSE.txt").read_bytes()
    for d in info.values():
        for rel, path in d["paths"].items():
            got = out / d["stem"] / rel.split("/", 1)[1]
            assert got.read_bytes() == Path(path).read_bytes(), rel
    written = sum(1 for p in out.rglob("*") if p.is_file())
    assert r.stdout.endswith(f"# wrote {written} files to {out}\n"), \
        describe(r)
    again = kiln("inspect", prog, "--license-texts", out)
    assert_one_error_line(again)
    assert "exists already" in again.stderr


def test_licenses_say_where_native_libraries_came_from(numpy_venv,
                                                       tmp_path):
    """A library a wheel brought (numpy.libs/...) is named with its
    distribution, found in its RECORD; one the build machine gave
    (libffi, for ctypes) is said to be the system's."""
    write_tree(tmp_path, {"app.py": "import numpy, ctypes\nprint(1)\n"})
    kiln_build("app.py", "-q", "--venv", numpy_venv, "-o", tmp_path / "prog",
               cwd=tmp_path)
    r = kiln("inspect", tmp_path / "prog", "--licenses")
    assert (r.returncode, r.stderr) == (0, ""), describe(r)
    lines = r.stdout.splitlines()
    natives = lines[lines.index("native libraries") + 1:]
    wheel = [n for n in natives if "numpy.libs/" in n]
    assert wheel and all(" from the distribution numpy " in n
                         for n in wheel), r.stdout
    assert any(n.startswith("  libffi.so") and "of the system it was built "
               "on" in n for n in natives), r.stdout
