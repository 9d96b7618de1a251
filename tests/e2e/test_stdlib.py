"""An application exercising many standard library modules, including
extension modules, gives the same results as python and loads every
extension module from the program itself."""
import json
import os

import pytest

from conftest import KILN_PYTHON, build_program, describe, run, write_tree

APP = r'''
import argparse
import asyncio
import base64
import bz2
import collections
import concurrent.futures
import csv
import ctypes
import datetime
import decimal
import email
import email.message
import email.policy
import fractions
import hashlib
import io
import json
import logging
import lzma
import pickle
import random
import re
import select
import socket
import sqlite3
import ssl
import statistics
import struct
import sys
import threading
import time
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib

results = {}


def check(name):
    def deco(fn):
        results[name] = fn()
        return fn
    return deco


@check("json")
def _():
    doc = {"a": [1, 2.5, None, True], "ü": "☃", "n": {"x": -1}}
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    back = json.loads(text)
    return [text, back == doc, json.dumps("é\u2028")]


@check("sqlite3")
def _():
    con = sqlite3.connect(":memory:")
    con.row_factory = sqlite3.Row
    con.execute("create table t (id integer primary key, name text, v real)")
    con.executemany("insert into t (name, v) values (?, ?)",
                    [("a", 1.5), ("b", 2.5), ("ç", 3.0)])
    rows = [dict(r) for r in con.execute("select * from t order by id")]
    total = con.execute("select sum(v), count(*) from t").fetchone()
    con.create_function("twice", 1, lambda x: 2 * x)
    tw = con.execute("select twice(v) from t where name = 'ç'").fetchone()[0]
    return [rows, list(total), tw, sqlite3.sqlite_version]


@check("ssl")
def _():
    ctx = ssl.create_default_context()
    a, b = socket.socketpair()
    a.close(); b.close()
    return [ssl.OPENSSL_VERSION, ctx.verify_mode == ssl.CERT_REQUIRED,
            ctx.check_hostname, ssl.PROTOCOL_TLS_CLIENT.name,
            ssl.RAND_bytes(16).__len__()]


@check("hashlib")
def _():
    data = b"kiln \xe2\x98\x83" * 100
    return [hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(),
            hashlib.sha1(data).hexdigest(), hashlib.sha3_256(data).hexdigest(),
            hashlib.blake2b(data, digest_size=16).hexdigest(),
            hashlib.new("sha512", data).hexdigest()[:32],
            hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 1000).hex()]


@check("decimal")
def _():
    ctx = decimal.getcontext()
    ctx.prec = 50
    D = decimal.Decimal
    q = D(1) / D(7)
    return [str(q), str(D("0.1") + D("0.2")), str(D(2).sqrt()),
            str(D("1.005").quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP)),
            type(decimal.Context()).__module__]


@check("ctypes")
def _():
    libc = ctypes.CDLL(None)
    libc.strlen.argtypes = [ctypes.c_char_p]
    libc.strlen.restype = ctypes.c_size_t
    arr = (ctypes.c_int * 5)(5, 1, 4, 2, 3)
    CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                           ctypes.POINTER(ctypes.c_int))
    libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int),
               CMP(lambda a, b: a[0] - b[0]))

    class Point(ctypes.Structure):
        _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_double)]
    p = Point(3, 4.5)
    return [libc.strlen(b"hello kiln"), list(arr), ctypes.sizeof(Point), p.y]


@check("asyncio")
def _():
    async def worker(q, out):
        while True:
            item = await q.get()
            if item is None:
                return
            await asyncio.sleep(0.001)
            out.append(item * item)

    async def main():
        q = asyncio.Queue()
        out = []
        w = asyncio.create_task(worker(q, out))
        for i in range(5):
            await q.put(i)
        await q.put(None)
        await w
        gathered = await asyncio.gather(*(asyncio.sleep(0, result=i) for i in range(3)))
        loop = asyncio.get_running_loop()
        in_thread = await loop.run_in_executor(None, sum, [1, 2, 3])
        try:
            await asyncio.wait_for(asyncio.sleep(10), 0.01)
            timed_out = False
        except asyncio.TimeoutError:
            timed_out = True
        return [out, gathered, in_thread, timed_out]
    return asyncio.run(main())


@check("email")
def _():
    msg = email.message.EmailMessage()
    msg["From"] = "Kiln <kiln@example.com>"
    msg["To"] = "you@example.com"
    msg["Subject"] = "Grüße ☃"
    msg.set_content("Hello, wörld!\n")
    msg.add_attachment(b"\x00\x01binary", maintype="application",
                       subtype="octet-stream", filename="blob.bin")
    raw = msg.as_bytes()
    back = email.message_from_bytes(raw, policy=email.policy.default)
    att = next(back.iter_attachments())
    return [str(back["Subject"]), back.get_body().get_content(),
            att.get_filename(), att.get_content(), back.is_multipart()]


@check("xml.etree")
def _():
    root = ET.fromstring("<r a='1'><i n='x'>one</i><i n='y'>two</i><j/></r>")
    items = [(i.get("n"), i.text) for i in root.findall("i")]
    ET.SubElement(root, "k", z="ü").text = "new"
    out = ET.tostring(root, encoding="unicode")
    parsed = [e.tag for e in ET.parse(io.StringIO(out)).getroot().iter()]
    return [items, out, parsed, type(root).__module__]


@check("zipfile")
def _():
    buf = io.BytesIO()
    methods = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
               zipfile.ZIP_LZMA]
    with zipfile.ZipFile(buf, "w") as z:
        for m in methods:
            z.writestr(f"f{m}.txt", ("data %d " % m) * 200, compress_type=m)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        names = z.namelist()
        ok = all(z.read(n) == (("data %s " % n[1:-4]) * 200).encode() for n in names)
        bad = z.testzip()
    return [names, ok, bad]


@check("lzma")
def _():
    data = b"lzma payload " * 1000
    c = lzma.compress(data)
    x = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_SHA256)
    return [lzma.decompress(c) == data, lzma.decompress(x) == data,
            len(c) < len(data)]


@check("bz2")
def _():
    data = b"bz2 payload " * 1000
    c = bz2.compress(data, 9)
    d = bz2.BZ2Decompressor()
    return [bz2.decompress(c) == data, d.decompress(c) == data, len(c) < len(data)]


@check("csv")
def _():
    s = io.StringIO()
    w = csv.writer(s, quoting=csv.QUOTE_MINIMAL)
    w.writerow(["name", "note"])
    w.writerow(["a,b", 'say "hi"'])
    w.writerow(["ü", "line\nbreak"])
    text = s.getvalue()
    rows = list(csv.DictReader(io.StringIO(text)))
    return [text, rows, csv.Sniffer().sniff("a;b;c\n1;2;3\n").delimiter]


@check("logging")
def _():
    stream = io.StringIO()
    log = logging.getLogger("kiln.test")
    h = logging.StreamHandler(stream)
    h.setFormatter(logging.Formatter("%(levelname)s|%(name)s|%(message)s"))
    log.addHandler(h)
    log.setLevel(logging.INFO)
    log.info("info %d", 1)
    log.debug("hidden")
    log.warning("wärning %s", "x")
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    return [lines[:3], lines[-1]]


@check("argparse")
def _():
    p = argparse.ArgumentParser(prog="tool", description="A tool.")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("-v", action="count", default=0)
    sub = p.add_subparsers(dest="cmd", required=True)
    go = sub.add_parser("go")
    go.add_argument("target")
    ns = p.parse_args(["--count", "3", "-vv", "go", "x"])
    err = io.StringIO()
    try:
        sys.stderr, saved = err, sys.stderr
        p.parse_args(["--count", "notint", "go", "x"])
    except SystemExit as e:
        code = e.code
    finally:
        sys.stderr = saved
    return [vars(ns), code, "invalid int value" in err.getvalue(),
            p.format_usage()]


@check("datetime")
def _():
    tz = datetime.timezone(datetime.timedelta(hours=2), "X")
    d = datetime.datetime(2024, 2, 29, 12, 30, 15, tzinfo=tz)
    parsed = datetime.datetime.strptime("2024-03-01 10:11:12", "%Y-%m-%d %H:%M:%S")
    st = time.strptime("07/04/2021", "%m/%d/%Y")
    return [d.isoformat(), (d + datetime.timedelta(days=1)).date().isoformat(),
            parsed.isoformat(), st.tm_yday, d.astimezone(datetime.timezone.utc).isoformat(),
            datetime.date.fromisoformat("2020-01-31").strftime("%A %d %B %Y"),
            type(d).__module__]


@check("misc")
def _():
    a, b = socket.socketpair()
    a.sendall(b"ping")
    ready, _, _ = select.select([b], [], [], 5)
    got = b.recv(4)
    a.close(); b.close()
    box = []
    t = threading.Thread(target=lambda: box.append(threading.current_thread().name),
                         name="worker-1")
    t.start(); t.join()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        squares = list(ex.map(lambda x: x * x, range(5)))
    return [unicodedata.name("é"), unicodedata.normalize("NFD", "é").__len__(),
            zlib.crc32(b"kiln"), base64.b64encode(b"\xff\x00kiln").decode(),
            struct.pack("<IhQ", 1, -2, 3).hex(), random.Random(42).random(),
            statistics.median([5, 1, 4, 2]), str(fractions.Fraction(3, 12)),
            str(uuid.uuid5(uuid.NAMESPACE_DNS, "kiln.example")),
            pickle.loads(pickle.dumps(collections.OrderedDict(a=1, b=[2, 3]))),
            re.findall(r"(\w)(\d)", "a1 b2 c3"), got, ready == [b], box,
            squares]


modules = {}
for name, mod in sorted(sys.modules.items()):
    spec = getattr(mod, "__spec__", None)
    modules[name] = [getattr(mod, "__file__", None),
                     getattr(spec, "origin", None) if spec else None]
print(json.dumps({"results": results, "modules": modules}, default=repr))
'''

# Modules that are extension modules in most CPython builds and that the app
# above loads. Each one that python loads from a shared object must come
# from the program instead.
EXPECTED_EXTENSIONS = [
    "_sqlite3", "_ssl", "_hashlib", "_decimal", "_ctypes", "_asyncio",
    "_lzma", "_bz2", "_csv", "_json", "pyexpat", "_elementtree", "zlib",
    "_datetime", "select", "_socket", "unicodedata", "_blake2",
    "_pickle", "_struct", "math", "binascii", "_random", "_queue",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    d = tmp_path_factory.mktemp("stdlib")
    write_tree(d, {"app.py": APP})
    return d


@pytest.fixture(scope="module")
def prog(app):
    return build_program(app, "app.py", output=app / "dist" / "app")


@pytest.fixture(scope="module")
def kiln_out(prog):
    r = run([prog], cwd="/")
    assert r.returncode == 0, describe(r)
    assert r.stderr == "", describe(r)
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def python_out(app):
    # -S: without site, python imports only what the app needs.
    r = run([KILN_PYTHON, "-I", "-S", app / "app.py"], cwd="/")
    assert r.returncode == 0, describe(r)
    return json.loads(r.stdout)


CHECKS = ["json", "sqlite3", "ssl", "hashlib", "decimal", "ctypes", "asyncio",
          "email", "xml.etree", "zipfile", "lzma", "bz2", "csv", "logging",
          "argparse", "datetime", "misc"]


@pytest.mark.parametrize("name", CHECKS)
def test_same_result_as_python(name, kiln_out, python_out):
    assert kiln_out["results"][name] == python_out["results"][name]


def test_results_are_sensible(kiln_out):
    """Guard against both sides being wrong the same way."""
    r = kiln_out["results"]
    assert r["sqlite3"][2] == 6.0
    assert r["ctypes"][:2] == [10, [1, 2, 3, 4, 5]]
    assert r["asyncio"][:3] == [[0, 1, 4, 9, 16], [0, 1, 2], 6]
    assert r["email"][0] == "Grüße ☃"
    assert r["zipfile"][1:] == [True, None]
    assert r["datetime"][0] == "2024-02-29T12:30:15+02:00"
    import hashlib
    assert r["hashlib"][0] == hashlib.sha256(b"kiln \xe2\x98\x83" * 100).hexdigest()


def test_extension_modules_load_from_the_program(kiln_out, python_out, prog,
                                                 pyinfo):
    suffixes = tuple(pyinfo["ext_suffixes"])
    py_exts = {name: f for name, (f, _o) in python_out["modules"].items()
               if f and f.endswith(suffixes)}
    assert len(py_exts) >= 5, f"python loaded few extension modules: {py_exts}"
    for name in EXPECTED_EXTENSIONS:
        if name in pyinfo["builtins"]:
            continue
        assert name in py_exts, f"{name} is neither built in nor loaded"
    problems = []
    for name, py_file in sorted(py_exts.items()):
        got = kiln_out["modules"].get(name)
        if got is None:
            problems.append(f"{name}: not loaded by the program")
            continue
        file, origin = got
        want = f"{prog}/{os.path.basename(py_file)}"
        if "." in name:
            want = f"{prog}/{name.rpartition('.')[0].replace('.', '/')}/" \
                   f"{os.path.basename(py_file)}"
        if file != want or origin != want:
            problems.append(f"{name}: __file__={file!r} origin={origin!r}, "
                            f"expected {want!r}")
    assert not problems, "\n".join(problems)


def test_no_module_comes_from_disk(kiln_out, prog):
    outside = {name: v for name, v in kiln_out["modules"].items()
               if v[0] is not None and not v[0].startswith(f"{prog}/")}
    assert not outside, outside


def test_same_modules_loaded_as_python(kiln_out, python_out):
    """The program imports what python imports (nothing missing), apart from
    the few modules kiln's runtime may add, and zipimport: a program that
    looks nothing up on disk does not set up the zip importer while it
    starts (docs/runtime.md); `import zipimport` still works."""
    missing = set(python_out["modules"]) - set(kiln_out["modules"])
    assert "zipimport" in python_out["modules"]
    assert not missing - {"zipimport"}, sorted(missing)
