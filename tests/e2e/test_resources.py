"""importlib.resources in a built program: files() of a bundled package is
a read-only Traversable over its data (and, in a one-file program, its
modules' sources), and the older functions work through it; each call
prints what plain python prints for the same package installed as files."""
import os
from pathlib import Path

import pytest

from conftest import describe, kiln_build, python_run, run, write_tree

FILES = {
    "mypkg/__init__.py": "",
    "mypkg/mod.py": "X = 1\n",
    "mypkg/data/a.txt": "hello data\n",
    "mypkg/data/sub/deeper/c.json": '{"k": [1, 2]}\n',
    "mypkg/data/sub/b.txt": "bee\n",
}

APP = """
import importlib.resources as r
import json, warnings
import mypkg, mypkg.mod

warnings.simplefilter("ignore", DeprecationWarning)
f = r.files(mypkg)
d = f / "data"
print(f.is_dir(), f.is_file(), f.name, d.name, d.is_dir())
print(sorted(p.name for p in d.iterdir()))
print(sorted(p.name for p in (d / "sub").iterdir()), (d / "sub").is_file())
print((d / "a.txt").is_file(), (d / "a.txt").is_dir(), (d / "a.txt").name)
print(repr((d / "a.txt").read_text()), (d / "a.txt").read_bytes())
print(json.loads(f.joinpath("data", "sub", "deeper", "c.json").read_text()))
print(json.loads(f.joinpath("data/sub/deeper/c.json").read_bytes()))
with (d / "a.txt").open("rb") as fh:
    print(fh.read())
with (d / "sub" / "b.txt").open("r", encoding="utf-8") as fh:
    print(repr(fh.read()))
with r.as_file(d / "a.txt") as p:
    print(open(p).read().strip())
print(r.read_text(mypkg, "mod.py") if MODE == "onefile" else "X = 1\\n", end="")
print(r.read_binary(mypkg, "mod.py") if MODE == "onefile" else b"X = 1\\n")
print(r.is_resource(mypkg, "mod.py") if MODE == "onefile" else True)
for bad in (d / "nope.txt", f / "nope" / "x"):
    try:
        bad.read_bytes()
    except FileNotFoundError as e:
        print("FileNotFoundError", e.errno)
try:
    d.read_bytes()
except (IsADirectoryError, PermissionError) as e:
    print("directory", type(e).__name__)
"""

# Only for the program: under python the same call would write the file.
WRITE = """
import importlib.resources as r
import mypkg
for mode in ("w", "a", "r+", "wb"):
    try:
        (r.files(mypkg) / "data" / "a.txt").open(mode)
    except OSError as e:
        print(mode, type(e).__name__, e.errno)
print(r.files(mypkg).joinpath("data", "a.txt").read_text(), end="")
"""


def same_as_python(tmp_path, mode, app):
    """Build app (with FILES) in mode and check it prints what python
    prints for the same files."""
    write_tree(tmp_path, FILES)
    write_tree(tmp_path, {"app.py": app})
    want = python_run(tmp_path / "app.py", cwd=tmp_path)
    assert want.returncode == 0, describe(want)
    out = tmp_path / "prog"
    kiln_build("app.py", "-q", f"--{mode}", "-o", out, cwd=tmp_path)
    got = run([out / "prog" if mode == "onedir" else out], cwd=tmp_path)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout == want.stdout, describe(got)


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_files_as_python_answers(tmp_path, mode):
    same_as_python(tmp_path, mode, f"MODE = {mode!r}\n" + APP)


# read_text() decodes as open() does: universal newlines, byte order
# marks, error handlers, and the same errors for encodings that are not
# text encodings or do not exist.
TEXTS = {
    "crlf.txt": b"one\r\ntwo\rthree\n\r\n",
    "bom.txt": b"\xef\xbb\xbfmarked\r\n",
    "latin.txt": b"caf\xe9\r",
    "wide.txt": "wide\r\nline\n".encode("utf-16"),
}
READ_TEXT = """
import importlib.resources as r
import mypkg
d = r.files(mypkg) / "text"
for name, encoding, errors in [
        ("crlf.txt", "utf-8", None), ("crlf.txt", "ascii", "strict"),
        ("bom.txt", "utf-8", None), ("bom.txt", "utf-8-sig", None),
        ("latin.txt", "latin-1", None), ("latin.txt", "utf-8", "replace"),
        ("latin.txt", "utf-8", None), ("latin.txt", "utf-8", "nosuch"),
        ("wide.txt", "utf-16", None), ("crlf.txt", "base64", None),
        ("crlf.txt", "nosuch", None)]:
    try:
        print(name, repr((d / name).read_text(encoding, errors)))
    except Exception as e:
        print(name, type(e).__name__, e)
print(repr((d / "crlf.txt").read_text(encoding="utf-8")))
"""


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_read_text_decodes_as_open_does(tmp_path, mode):
    for name, data in TEXTS.items():
        (tmp_path / "mypkg" / "text").mkdir(parents=True, exist_ok=True)
        (tmp_path / "mypkg" / "text" / name).write_bytes(data)
    same_as_python(tmp_path, mode, READ_TEXT)


def test_files_are_read_only(tmp_path):
    write_tree(tmp_path, FILES)
    write_tree(tmp_path, {"app.py": WRITE})
    kiln_build("app.py", "-q", "-o", tmp_path / "prog", cwd=tmp_path)
    got = run([tmp_path / "prog"], cwd=tmp_path)
    assert got.returncode == 0, describe(got)
    assert got.stdout == ("w OSError 30\na OSError 30\nr+ OSError 30\n"
                          "wb OSError 30\nhello data\n"), describe(got)


# A directory of data under a package imports as a namespace package, as
# python imports it from files: files("pkg.data") and the older functions
# name it so.
DATA_DIRS = """
import importlib.resources as r, importlib.util, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import mypkg
print(r.files("mypkg.data").joinpath("a.txt").read_text(), end="")
print(sorted(p.name for p in r.files("mypkg.data").iterdir()))
print(r.read_text("mypkg.data", "a.txt"), end="")
print(r.files("mypkg.data.sub.deeper").joinpath("c.json").read_text(), end="")
import mypkg.data.sub
print(mypkg.data.sub.__name__, getattr(mypkg.data.sub, "__file__", None))
print(importlib.util.find_spec("mypkg.nodata"))
try:
    import mypkg.data.nothere
except ImportError as e:
    print(type(e).__name__)
"""


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_data_directories_import_as_namespace_packages(tmp_path, mode):
    same_as_python(tmp_path, mode, DATA_DIRS)


# pkgutil over a bundled package: iter_modules and walk_packages list its
# modules and subpackages (not its data directories), as python lists them
# from files.
PKGUTIL = """
import pkgutil
import mypkg, mypkg.mod
import mypkg.inner, mypkg.inner.leaf
print(sorted((m.name, m.ispkg) for m in pkgutil.iter_modules(mypkg.__path__)))
print(sorted((m.name, m.ispkg) for m in pkgutil.iter_modules(mypkg.__path__,
                                                              "mypkg.")))
print(sorted(m.name for m in pkgutil.walk_packages(mypkg.__path__, "mypkg.")))
print(pkgutil.get_data("mypkg", "data/a.txt"))
"""


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_pkgutil_lists_bundled_modules(tmp_path, mode):
    write_tree(tmp_path, {"mypkg/inner/__init__.py": "",
                          "mypkg/inner/leaf.py": "",
                          "mypkg/_helper.py": ""})
    same_as_python(tmp_path, mode, PKGUTIL.replace(
        "import mypkg.inner, mypkg.inner.leaf",
        "import mypkg.inner, mypkg.inner.leaf, mypkg._helper"))


# as_file(): a real file in a per-user content-addressed cache, written
# once and reused, checked before use.
AS_FILE = """
import importlib.resources as r, os, stat, sys
import mypkg
f = r.files(mypkg) / "data" / "sub" / "b.txt"
try:
    with r.as_file(f) as p1, r.as_file(f) as p2:
        print(open(p1).read().strip(), os.path.basename(p1), p1 == p2)
        print(oct(stat.S_IMODE(os.stat(p1.parent.parent).st_mode)))
        print(p1)
except OSError as e:
    print("OSError", e.errno, e.strerror)
"""


def test_as_file_uses_a_private_content_addressed_cache(tmp_path):
    write_tree(tmp_path, FILES)
    write_tree(tmp_path, {"app.py": AS_FILE})
    kiln_build("app.py", "-q", "-o", tmp_path / "prog", cwd=tmp_path)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    first = run([tmp_path / "prog"], cwd=tmp_path, env=env)
    assert first.returncode == 0, describe(first)
    lines = first.stdout.splitlines()
    assert lines[:2] == ["bee b.txt True", "0o700"], describe(first)
    cached = Path(lines[2])
    assert cached.is_relative_to(tmp_path / "cache" / "kiln" / "files")
    # Another run reuses it; a damaged copy is replaced before use.
    cached.write_text("tampered\n")
    again = run([tmp_path / "prog"], cwd=tmp_path, env=env)
    assert again.stdout == first.stdout, describe(again)
    assert cached.read_text() == "bee\n"
    # A cache directory others may write to is refused, not used.
    (tmp_path / "cache" / "kiln" / "files").chmod(0o777)
    shared = run([tmp_path / "prog"], cwd=tmp_path, env=env)
    assert shared.stdout.startswith("OSError 13 kiln file cache is not "
                                    "private"), describe(shared)
