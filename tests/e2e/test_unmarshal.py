"""The runtime's reader of bundled bytecode (src/runtime/rt_unmarshal.c)
makes the code objects CPython's marshal makes from the same bytes: every
bundled module of a program importing much of the standard library, and a
module holding every kind of constant compiled code can hold, compared
object by object (values, types, which strings are interned) with
marshal.loads of the .pyc `kiln extract` writes for it; and a program
raises the audit events python raises when it reads bytecode."""
import json

from conftest import (KILN_PYTHON, build_program, describe, kiln,
                      kiln_build, python_run, run, write_tree)

# Modules whose code covers most of what compiled code holds: classes,
# closures, async code, comprehensions, large literal tables, docstrings.
STDLIB = ("asyncio", "email.message", "email.parser", "http.client", "json",
          "xml.etree.ElementTree", "unittest", "argparse", "dataclasses",
          "typing", "decimal", "fractions", "statistics", "inspect",
          "pydoc", "tarfile", "zipfile", "logging.handlers", "sqlite3",
          "urllib.request", "ipaddress", "difflib", "textwrap", "enum",
          "concurrent.futures", "encodings.idna", "pickle", "csv")

# Constants of every kind marshal writes for code: big and negative
# integers, floats (nan, -0.0), complex numbers, bytes, frozensets,
# non-ASCII strings and names, long tuples and strings, nested closures,
# a cell that is also an argument, generators, async code, lambdas.
CONSTANTS = '''
"""A module docstring."""
BIG = (2 ** 100, -(2 ** 70), 2 ** 31, -(2 ** 31) - 1, 10 ** 40 + 7, 0, -1)
FLOATS = (1.5, -0.0, float("inf"), 1e300, 2.5e-300)
NAN = float("nan")
COMPLEX = (1j, 2.5 + 3j, -0j)
BYTES = (b"", b"x", b"\\x00\\xff" * 40, bytes(range(256)))
TEXT = ("", "a", "ä", "日本語", "\\udc80", "x" * 300, "naïve name", "€" * 300)
LONG_TUPLE = tuple(range(300))
LONG_NAME_ABCDEFGHIJKLMNOPQRSTUVWXYZ_ABCDEFGHIJKLMNOPQRSTUVWXYZ_ABCDEFGHIJKLMNOPQRSTUVWXYZ = 1
ñame = "identifier that is not ASCII"
x_long_ascii = "interned? " + "y" * 260
STOP = StopIteration
DOTS = ...


def membership(x):
    return x in {1, 2.5, "a", b"b", (1, 2), frozenset()}, x in frozenset({"p", "q"})


def outer(arg, *rest, kw=("d",), **more):
    def middle(y=arg):
        z = y + len(rest)

        def inner():
            nonlocal z
            z += 1
            return arg, z, more
        return inner
    return middle


async def agen(n):
    for i in range(n):
        yield i


async def coro(xs):
    return [x async for x in agen(len(xs))], {k: v for k, v in enumerate(xs)}


def gen():
    yield from (i * i for i in range(3) if i)
    return [lambda q=i: q for i in range(2)]


class Klass:
    """A class docstring."""
    attr: "int" = 3

    def method(self, __private=1, /, b=2, *, c=3):
        return __class__, super().__init__, self.attr, __private, b, c
'''

# The check run inside the built program: each named module's code from
# the bundle importer (the runtime's reader) against marshal.loads of its
# extracted .pyc (CPython's marshal), recursively.
CHECK = '''
import ctypes, marshal, sys, types

def interned(s):
    # PyASCIIObject's state bits: after refcount, type, length, hash
    return ctypes.c_uint.from_address(id(s) + 4 * ctypes.sizeof(ctypes.c_ssize_t)).value & 3

def same(a, b, where):
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, types.CodeType):
        for attr in ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount",
                     "co_nlocals", "co_stacksize", "co_flags", "co_code",
                     "co_names", "co_varnames", "co_cellvars", "co_freevars",
                     "co_name", "co_qualname", "co_firstlineno",
                     "co_linetable", "co_exceptiontable", "co_consts"):
            same(getattr(a, attr), getattr(b, attr), where + "." + attr)
        assert list(a.co_lines()) == list(b.co_lines()), where
    elif isinstance(a, (tuple, frozenset)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, str):
        assert a == b, where
        assert interned(a) == interned(b), (where, a[:40], interned(a), interned(b))
    elif isinstance(a, (float, complex)):
        assert repr(a) == repr(b), (where, a, b)
    else:
        assert a == b, (where, a, b)

def main(listing, importer=None):
    importer = importer or sys.meta_path[0]
    done = 0
    for line in open(listing, encoding="utf-8"):
        name, pyc = line.rstrip("\\n").split("\\t")
        with open(pyc, "rb") as f:
            expected = marshal.loads(f.read()[16:])
        got = importer.get_code(name)
        assert got.co_filename.endswith(expected.co_filename), (name, got.co_filename)
        same(got, expected, name)
        done += 1
    print("same", done)

if __name__ == "__main__" and len(sys.argv) > 1:
    main(sys.argv[1])
'''


def _listing(program, extracted, out):
    """Write 'name<TAB>pyc' for every bundled module with bytecode."""
    r = kiln("inspect", "--json", program)
    assert r.returncode == 0, describe(r)
    lines = []
    for e in json.loads(r.stdout)["entries"]:
        if e["kind"] not in ("module", "package") or e["data"] is None:
            continue
        stem = e["path"][:-3] if e["path"].endswith(".py") else e["path"]
        pyc = extracted / (stem + ".pyc")
        assert pyc.is_file(), f"kiln extract wrote no {pyc}"
        lines.append(f"{e['name']}\t{pyc}\n")
    out.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def test_code_objects_are_marshals(tmp_path):
    src = write_tree(tmp_path / "src", {
        "constants.py": CONSTANTS,
        "check.py": CHECK + "\nimport constants\n" +
                    "".join(f"import {m}\n" for m in STDLIB),
    })
    prog = build_program(src, "check.py", output=tmp_path / "check")
    extracted = tmp_path / "extracted"
    r = kiln("extract", prog, "--all", "-o", extracted)
    assert r.returncode == 0, describe(r)
    n = _listing(prog, extracted, tmp_path / "listing.txt")
    assert n > 300, n
    r = run([prog, tmp_path / "listing.txt"])
    assert r.returncode == 0, describe(r)
    assert r.stdout.split() == ["same", str(n)], describe(r)


def test_extension_module_code_objects_are_marshals(tmp_path):
    """The same in an extension module, which takes the constructor from
    its host when the host's libpython has it, and marshal otherwise."""
    src = write_tree(tmp_path / "src", {
        "constants.py": CONSTANTS,
        "check.py": CHECK,
        "plug.py": """
            import check, constants

            def main(listing):
                check.main(listing, constants.__spec__.loader)
        """,
    })
    out = tmp_path / "out"
    out.mkdir()
    kiln_build("plug.py", "--target", "extension", "--suffix", ".so", "-o",
               out / "plug.so", cwd=src)
    extracted = tmp_path / "extracted"
    r = kiln("extract", out / "plug.so", "--all", "-o", extracted)
    assert r.returncode == 0, describe(r)
    n = _listing(out / "plug.so", extracted, tmp_path / "listing.txt")
    assert n >= 3, n
    r = run([KILN_PYTHON, "-I", "-S", "-c",
             "import sys; sys.path.insert(0, sys.argv[1]); import plug; "
             "plug.main(sys.argv[2])", out, tmp_path / "listing.txt"])
    assert r.returncode == 0, describe(r)
    assert r.stdout.split() == ["same", str(n)], describe(r)


def test_constants_keep_their_values(tmp_path):
    """The constants module run from the bundle gives python's values."""
    src = write_tree(tmp_path / "src", {
        "constants.py": CONSTANTS,
        "app.py": """
            import asyncio, constants as c
            print(repr((c.BIG, c.FLOATS, c.COMPLEX, c.BYTES, c.TEXT,
                        c.LONG_TUPLE[-3:], c.ñame, c.x_long_ascii, c.STOP,
                        c.DOTS, c.NAN != c.NAN)))
            print(c.membership("a"), c.membership(3))
            print(c.outer(1, 2, 3, k=4)()(), list(c.gen()))
            print(asyncio.run(c.coro("ab")), c.Klass().method()[2:])
            print(c.__doc__, c.Klass.__doc__, c.Klass.__annotations__)
        """,
    })
    prog = build_program(src, "app.py", output=tmp_path / "app")
    got = run([prog])
    want = python_run(src / "app.py", cwd=src)
    assert want.returncode == 0, describe(want)
    assert got.returncode == 0, describe(got)
    assert got.stdout == want.stdout


AUDIT = '''
import sys
# the frozen modules the imports below need, first: python's site has
# imported them, and each Python version reads them its own way (3.11 and
# 3.12 have them as C structures, not bytecode)
import abc, codecs, io, os, stat, posixpath, genericpath, _collections_abc
import collections.abc
events = []
sys.addaudithook(lambda e, a: events.append(e)
                 if e.startswith(("marshal.", "code.")) else None)
before = set(sys.modules)
import json.decoder, email.message, constants
new = [sys.modules[m] for m in set(sys.modules) - before]
# modules made from bytecode: neither built in nor extension modules,
# nor frozen ones where the Python has them as C structures (3.11, 3.12)
read = [m for m in new if getattr(m.__spec__, "origin", None) != "built-in"
        and not str(getattr(m, "__file__", "")).endswith(".so")
        and (getattr(m.__spec__, "origin", None) != "frozen"
             or sys.version_info >= (3, 13))]
print(len(read), events.count("marshal.loads"), len(events))
'''


def test_audit_events_are_pythons(tmp_path):
    """Reading a module's bytecode raises what python raises when it reads
    a .pyc: one marshal.loads, no code.__new__ per code object."""
    src = write_tree(tmp_path / "src", {"constants.py": CONSTANTS,
                                        "app.py": AUDIT})
    prog = build_program(src, "app.py", output=tmp_path / "app")
    # python reads the stdlib's .pyc files and, once a first run has
    # written it, the script's neighbour's
    r = run([KILN_PYTHON, "-E", "-s", "-c", "import constants"], cwd=src)
    assert r.returncode == 0, describe(r)
    want = python_run(src / "app.py", cwd=src)
    got = run([prog])
    assert want.returncode == 0, describe(want)
    assert got.returncode == 0, describe(got)
    for r in (got, want):
        modules, loads, events = map(int, r.stdout.split())
        assert modules > 10 and modules == loads == events, describe(r)
