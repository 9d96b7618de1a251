"""Same inputs, same bytes: the same application copied to two places
(other absolute paths, other file times), built from another working
directory into another output path, gives a byte-identical program, for
every run mode, with a package, an extension module and --add-data."""
import hashlib
import os
import shutil

import pytest

from conftest import (Bundle, build_extension, build_program, describe, run,
                      write_tree)

APP = {
    "app.py": """
        import sys
        from shop import cli
        sys.exit(cli.main())
    """,
    "shop/__init__.py": """
        from . import prices
        NAMES = {"apple", "pear", "plum"}
    """,
    "shop/__main__.py": """
        import sys
        from shop import cli
        sys.exit(cli.main())
    """,
    "shop/prices.py": """
        import fastmath
        TABLE = {"apple": 3, "pear": 4}

        def price(name):
            return fastmath.twice(TABLE.get(name, 0))
    """,
    "shop/cli.py": """
        import json, os, sys
        from . import prices, NAMES

        def main():
            data = __loader__.get_data(
                os.path.join(sys.executable, "res", "stock.json"))
            stock = json.loads(data)
            print(sorted(NAMES), prices.price("apple"), stock["pear"])
            return 0
    """,
    "assets/stock.json": '{"pear": 7}',
    "assets/sub/notes.txt": "kept",
}

MODES = {
    "script": ["app.py"],
    "module": ["-m", "shop"],
    "entry": ["--entry", "shop.cli:main"],
}


@pytest.fixture(scope="module")
def source(tmp_path_factory, pyinfo):
    d = tmp_path_factory.mktemp("repro-src")
    write_tree(d, APP)
    build_extension(d, "fastmath", pyinfo)
    return d


def _copy(source, dest, mtime):
    """Copy the app to dest with every file and directory dated mtime."""
    shutil.copytree(source, dest)
    for root, dirs, files in os.walk(dest):
        for n in dirs + files:
            os.utime(os.path.join(root, n), (mtime, mtime))
    return dest


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _differing_entries(a, b):
    """Names of the bundle entries whose stored bytes differ."""
    da, db = a.read_bytes(), b.read_bytes()
    ea, eb = Bundle(da).entries, Bundle(db).entries

    def part(data, e, which):
        at, size = e[f"{which}_abs"], e[f"{which}_size"]
        return data[at:at + size]
    return sorted(n for n in set(ea) | set(eb)
                  if n not in ea or n not in eb or
                  any(part(da, ea[n], w) != part(db, eb[n], w)
                      for w in ("data", "aux")))


@pytest.mark.parametrize("mode", sorted(MODES))
def test_same_inputs_give_the_same_bytes(source, tmp_path, mode):
    one = _copy(source, tmp_path / "one", 1_000_000_000)
    two = _copy(source, tmp_path / "elsewhere" / "deeper" / "two",
                1_700_000_000)
    data = ["--add-data", "assets:res"]
    # The first build runs in the app's directory with relative paths, the
    # second from another directory with absolute ones.
    args_one = [*MODES[mode], *data]
    args_two = [str(two / a) if a in ("app.py", "assets:res") else a
                for a in args_one]
    if mode != "script":
        args_two += ["--paths", str(two)]
    args_two = [str(two / "assets") + ":res" if a == str(two / "assets:res")
                else a for a in args_two]
    cwd_two = tmp_path / "elsewhere"
    a = build_program(one, *args_one, output=tmp_path / "out-one" / "shop")
    b = build_program(cwd_two, *args_two, output=tmp_path / "b" / "prog")
    for prog in (a, b):
        r = run([prog])
        assert (r.returncode, r.stdout) == (0, "['apple', 'pear', 'plum'] 6 7\n"), \
            describe(r)
    if _sha256(a) != _sha256(b):
        raise AssertionError(f"{mode}: programs differ; entries that differ: "
                             f"{_differing_entries(a, b)}")
