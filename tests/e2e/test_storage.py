"""How payloads are stored: extension modules stripped by default (and kept
whole with --no-strip), sources always compressed, --compress for the rest;
each way the program must still behave the same."""
import os
import struct

import pytest

from conftest import Bundle, build_program, describe, run, write_tree

FLAG_DATA_ZSTD = 1
FLAG_AUX_ZSTD = 2

APP = {
    "app.py": """
        import bz2, sys, traceback
        import _bz2
        print(bz2.decompress(bz2.compress(b"ok")).decode(), _bz2.__name__)
        if sys.argv[1:] == ["fail"]:
            def boom():
                raise ValueError("stored source line")
            boom()
    """,
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    d = tmp_path_factory.mktemp("storage")
    write_tree(d, APP)
    return d


@pytest.fixture(scope="module")
def programs(app):
    out = {}
    for name, args in [("default", ()), ("nostrip", ("--no-strip",)),
                       ("compress", ("--compress",))]:
        out[name] = build_program(app, "app.py", *args,
                                  output=app / "dist" / name)
    return out


def _ext_entry(program, pyinfo):
    b = Bundle.read(program)
    e = b.entries.get("_bz2")
    if e is None or e["kind"] != "extension":
        pytest.fail("_bz2 is not an extension module entry in "
                    f"{program}: {e}")
    return e


def _ext_so(pyinfo):
    for sfx in pyinfo["ext_suffixes"]:
        p = os.path.join(pyinfo["lib_dynload"], "_bz2" + sfx)
        if os.path.exists(p):
            return p
    pytest.fail("no _bz2 extension module in lib-dynload of the embedded "
                "Python; this test needs one")


@pytest.mark.parametrize("name", ["default", "nostrip", "compress"])
def test_each_storage_runs_and_shows_source(programs, name):
    prog = programs[name]
    r = run([prog])
    assert r.returncode == 0 and 'ok _bz2' in r.stdout, describe(r)
    r = run([prog, "fail"])
    assert r.returncode == 1, describe(r)
    assert 'raise ValueError("stored source line")' in r.stderr, describe(r)


def test_no_strip_keeps_the_extension_module_whole(programs, pyinfo):
    e = _ext_entry(programs["nostrip"], pyinfo)
    assert e["flags"] & FLAG_DATA_ZSTD == 0
    assert e["data_size"] == os.path.getsize(_ext_so(pyinfo))


def test_default_strip_keeps_only_the_loadable_part(programs, pyinfo):
    e = _ext_entry(programs["default"], pyinfo)
    with open(_ext_so(pyinfo), "rb") as f:
        original = f.read()
    stored = Bundle.read(programs["default"]).data[
        e["data_abs"]:e["data_abs"] + e["data_size"]]
    assert e["data_size"] <= len(original)
    # Everything the loader maps is kept byte for byte after the ELF header,
    # but for the tag of a RUNPATH or RPATH naming fixed directories (the
    # build machine's: pyenv's lib), which the loader must skip.
    kept = original[64:e["data_size"]]
    differ = [i for i in range(len(kept)) if stored[64 + i] != kept[i]]
    for at in sorted({(64 + i) // 8 * 8 for i in differ}):
        tag = struct.unpack_from("<Q", original, at)[0]
        assert tag in (0x0f, 0x1d), f"byte {at} changed"   # DT_RPATH, DT_RUNPATH
        assert struct.unpack_from("<Q", stored, at)[0] == 0x6b6c6e02
    assert stored[:4] == b"\x7fELF"


def test_sources_are_compressed_and_bytecode_is_not(programs):
    b = Bundle.read(programs["default"])
    mod = b.entries["bz2"]
    assert mod["flags"] & FLAG_AUX_ZSTD, mod
    assert not mod["flags"] & FLAG_DATA_ZSTD, mod


def test_compress_compresses_bytecode(programs):
    b = Bundle.read(programs["compress"])
    assert b.entries["bz2"]["flags"] & FLAG_DATA_ZSTD
    assert (os.path.getsize(programs["compress"]) <
            os.path.getsize(programs["default"]))
