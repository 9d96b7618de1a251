"""`kiln analyze` and the build's choice of libraries: the stdlib's
extension modules bring the machine's libssl, libsqlite3, libffi, ...
(found through the ld.so cache) and the program loads them from memory;
base-system libraries stay the machine's; --system-lib and --bundle-lib
move a library across that line; a library found nowhere is a warning at
build time and `missing` in the analysis. The glibc floor `kiln analyze`
reports is checked against readelf's reading of the very bytes the
program carries."""
import json
import os
import platform
import re
import shutil
import subprocess

import pytest

from conftest import (SHLIB_A as LIB_A, SHLIB_B as LIB_B, SHLIB_EXT as EXT,
                      KILN_PYTHON, SHARED_LIBPYTHON, Bundle, cc, describe,
                      kiln, kiln_build, python_cflags, python_run, run,
                      stub_links_libpython, write_tree)

SSL_APP = """
import ssl, sqlite3, ctypes, lzma, bz2, zlib
print(ssl.OPENSSL_VERSION, sqlite3.sqlite_version, lzma.compress(b"x")[:4])
maps = {l.split(None, 5)[-1].strip() for l in open("/proc/self/maps")}
for name in ("libssl.so", "libcrypto.so", "libsqlite3.so", "libffi.so",
             "liblzma.so", "libz.so", "libc.so"):
    print(name, sorted(m.startswith("/memfd:") for m in maps if name in m))
"""


def readelf_glibc(path):
    """The highest GLIBC_x.y version the object at path needs, as readelf
    reads its version-needs section: a tuple, or () when none."""
    r = subprocess.run(["readelf", "-V", "-W", str(path)], text=True,
                       capture_output=True, check=True)
    found = [tuple(map(int, v.split(".")))
             for v in re.findall(r"Name: GLIBC_([0-9.]+)", r.stdout)]
    return max(found, default=())


@pytest.fixture(scope="module")
def ssl_prog(tmp_path_factory):
    d = tmp_path_factory.mktemp("ssl")
    write_tree(d, {"app.py": SSL_APP})
    kiln_build("app.py", "-q", "-o", "prog", cwd=d)
    return d


@pytest.mark.xfail(stub_links_libpython(), strict=True, reason=SHARED_LIBPYTHON)
def test_stdlib_libraries_are_bundled_and_loaded_from_memory(ssl_prog,
                                                            pyinfo):
    want = python_run(ssl_prog / "app.py", cwd=ssl_prog)
    assert want.returncode == 0, describe(want)
    entries = Bundle.read(ssl_prog / "prog").entries
    # An interpreter with zlib built in (Debian's) has it linked into the
    # program itself: no extension module needs libz then.
    zlib_builtin = "zlib" in pyinfo["builtins"]
    for lib in ("libssl.so.3", "libcrypto.so.3", "libsqlite3.so.0",
                "libffi.so.8", "liblzma.so.5", "libbz2.so.1.0") + \
            (() if zlib_builtin else ("libz.so.1",)):
        assert entries[lib]["kind"] == "shlib", lib
    assert not any(n.startswith(("libc.so", "libm.so", "ld-linux"))
                   for n in entries)
    got = run([ssl_prog / "prog"], cwd=ssl_prog)
    assert got.returncode == 0, describe(got)
    first, *maps = got.stdout.splitlines()
    assert first == want.stdout.splitlines()[0]
    # python maps them from /usr/lib; the program only from its memfds,
    # while libc stays the machine's.
    assert maps[:-2] == [f"{n} [True]" for n in (
        "libssl.so", "libcrypto.so", "libsqlite3.so", "libffi.so",
        "liblzma.so")], describe(got)
    assert maps[-2] == ("libz.so []" if zlib_builtin else "libz.so [True]"), \
        describe(got)
    assert maps[-1] == "libc.so [False]", describe(got)


def test_analyze_lists_every_object_and_the_glibc_floor(ssl_prog, tmp_path):
    # Built with --no-strip, the carried objects keep the section headers
    # readelf reads symbol versions through.
    kiln_build("app.py", "-q", "--no-strip", "-o", tmp_path / "prog",
               cwd=ssl_prog)
    prog = tmp_path / "prog"
    r = kiln("analyze", "--json", prog)
    assert r.returncode == 0, describe(r)
    report = json.loads(r.stdout)
    objects = {o["name"]: o for o in report["objects"]}
    assert objects[str(prog)]["kind"] == "executable"
    ssl_ext = next(o for o in report["objects"]
                   if o["kind"] == "extension" and o["name"] == "_ssl")
    needs = {n["name"]: n["status"] for n in ssl_ext["needs"]}
    assert needs["libssl.so.3"] == "bundled"
    assert needs["libcrypto.so.3"] == "bundled"
    assert needs["libc.so.6"] == "base"
    assert objects["libssl.so.3"]["kind"] == "library"
    assert objects["libssl.so.3"]["soname"] == "libssl.so.3"
    assert {n["status"] for o in report["objects"] for n in o["needs"]} <= \
        {"bundled", "base"}

    # The floor is the highest GLIBC_ version readelf finds in the bytes
    # the program carries, the executable's own included.
    bundle = Bundle.read(prog)
    data = prog.read_bytes()
    floors = {str(prog): readelf_glibc(prog)}
    for name, e in bundle.entries.items():
        if e["kind"] not in ("extension", "shlib"):
            continue
        f = tmp_path / f"{name}.bytes"
        f.write_bytes(data[e["data_abs"]:e["data_abs"] + e["data_size"]])
        floors[name] = readelf_glibc(f)
        want = ".".join(map(str, floors[name])) if floors[name] else None
        assert objects[name]["glibc"] == want, name
    top = max(floors.values())
    assert report["glibc"] == ".".join(map(str, top))
    assert floors[report["glibc_needed_by"]] == top

    text = kiln("analyze", ssl_prog / "prog")
    assert text.returncode == 0, describe(text)
    assert f"runs with glibc {report['glibc']} or newer" in \
        text.stdout.splitlines()[0]
    assert re.search(r"^    libssl\.so\.3 +bundled$", text.stdout, re.M)


@pytest.fixture
def libapp(tmp_path, pyinfo):
    """mypkg._native needs libkla.so.1 (in lib/, through the module's
    RUNPATH), which needs libklb.so.2 (beside it, through libkla's own
    RUNPATH) and libgcc_s.so.1 (a base-system library)."""
    write_tree(tmp_path, {
        "mypkg/__init__.py": "from mypkg._native import value\n",
        "app.py": "import mypkg\nprint(mypkg.value(2))\n",
        "src/b.c": LIB_B, "src/a.c": LIB_A, "src/ext.c": EXT,
    })
    lib = tmp_path / "lib"
    lib.mkdir()
    src = tmp_path / "src"
    cc("-shared", "-fPIC", "-o", lib / "libklb.so.2", src / "b.c",
       "-Wl,-soname,libklb.so.2")
    cc("-shared", "-fPIC", "-o", lib / "libkla.so.1", src / "a.c",
       "-Wl,-soname,libkla.so.1", "-L", lib, "-l:libklb.so.2",
       "-Wl,--no-as-needed", "-lgcc_s", "-Wl,-rpath,$ORIGIN")
    ext = tmp_path / "mypkg" / f"_native{pyinfo['ext_suffixes'][0]}"
    cc("-shared", "-fPIC", *python_cflags(), "-o", ext, src / "ext.c",
       "-L", lib, "-l:libkla.so.1", f"-Wl,-rpath,{lib}")
    return tmp_path


def test_analyze_a_library_shows_what_a_build_would_bundle(libapp):
    r = kiln("analyze", "--json", libapp / "lib" / "libkla.so.1")
    assert r.returncode == 0, describe(r)
    report = json.loads(r.stdout)
    first, second = report["objects"]
    assert first["soname"] == "libkla.so.1"
    needs = {n["name"]: (n["status"], n["path"]) for n in first["needs"]}
    assert needs["libklb.so.2"] == ("bundled",
                                    str(libapp / "lib" / "libklb.so.2"))
    assert needs["libgcc_s.so.1"] == ("base", None)
    assert second["name"] == "libklb.so.2"


def test_base_and_system_lists_move_with_the_options(libapp):
    want = python_run(libapp / "app.py", cwd=libapp)
    assert (want.returncode, want.stdout) == (0, "42\n"), describe(want)

    def carried(prog):
        """The test's libraries and libgcc_s among prog's libraries."""
        return {n for n, e in Bundle.read(libapp / prog).entries.items()
                if e["kind"] == "shlib" and n.startswith(("libkl", "libgcc"))}

    kiln_build("app.py", "-q", "-o", "plain", cwd=libapp)
    assert carried("plain") == {"libkla.so.1", "libklb.so.2"}

    kiln_build("app.py", "-q", "-o", "moved", "--system-lib", "libklb.so*",
               "--bundle-lib", "libgcc_s.so.1", cwd=libapp)
    assert carried("moved") == {"libkla.so.1", "libgcc_s.so.1"}
    # libklb is the machine's now: found where the machine's loader looks.
    got = run([libapp / "moved"], cwd=libapp,
              env=dict(os.environ, LD_LIBRARY_PATH=str(libapp / "lib")))
    assert (got.returncode, got.stdout) == (0, "42\n"), describe(got)
    r = kiln("analyze", "--json", libapp / "moved")
    report = json.loads(r.stdout)
    kla = next(o for o in report["objects"] if o["name"] == "libkla.so.1")
    needs = {n["name"]: n["status"] for n in kla["needs"]}
    assert needs == {"libklb.so.2": "missing", "libgcc_s.so.1": "bundled",
                     "libc.so.6": "base"}


def test_a_library_found_nowhere_is_a_warning(libapp):
    (libapp / "lib" / "libklb.so.2").unlink()
    r = kiln_build("app.py", "-o", "prog", cwd=libapp)
    warnings = [l for l in r.stderr.splitlines() if "libklb.so.2" in l]
    assert len(warnings) == 1, describe(r)
    assert warnings[0].startswith("kiln: warning: cannot find libklb.so.2, "
                                  f"which {libapp}/lib/libkla.so.1 needs"), \
        describe(r)
    report = json.loads(kiln("analyze", "--json", libapp / "prog").stdout)
    kla = next(o for o in report["objects"] if o["name"] == "libkla.so.1")
    assert {n["name"]: n["status"] for n in kla["needs"]}["libklb.so.2"] == \
        "missing"


def test_analyze_of_something_else_is_one_error_line(tmp_path):
    (tmp_path / "notes.txt").write_text("not a program\n")
    r = kiln("analyze", tmp_path / "notes.txt")
    assert r.returncode == 1, describe(r)
    assert r.stderr.startswith("kiln: error: ") and \
        "neither a kiln program nor a shared library" in r.stderr and \
        len(r.stderr.splitlines()) == 1, describe(r)
    r = kiln("analyze", tmp_path / "absent")
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, describe(r)
    r = kiln("analyze")
    assert r.returncode == 2, describe(r)


def test_system_libraries_are_found_where_ldconfig_says(ssl_prog):
    """The ld.so cache kiln reads gives the paths `ldconfig -p` lists."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    listing = subprocess.run([ldconfig, "-p"], text=True, check=True,
                             capture_output=True).stdout
    arch = {"x86_64": "x86-64", "aarch64": "AArch64"}[platform.machine()]
    cache = {}
    for line in listing.splitlines()[1:]:
        m = re.match(r"\s+(\S+) \((\S+?)(?:,.*)?\) => (\S+)$", line)
        if m and m.group(2) == "libc6" and arch in line:
            cache.setdefault(m.group(1), os.path.realpath(m.group(3)))
    r = kiln("analyze", "--json", cache["libssl.so.3"])
    assert r.returncode == 0, describe(r)
    found = {n["name"]: n["path"] for o in json.loads(r.stdout)["objects"]
             for n in o["needs"] if n["status"] == "bundled"}
    assert found["libcrypto.so.3"] == cache["libcrypto.so.3"]


def test_analyze_reports_the_glibc_floor_of_a_numpy_program(numpy_venv,
                                                            tmp_path):
    write_tree(tmp_path, {"app.py": "import numpy\n"
                                    "print(numpy.linalg.inv([[2.0]]))\n"})
    r = kiln("build", "app.py", "-q", "--venv", numpy_venv, "-o", "prog",
             cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    report = json.loads(kiln("analyze", "--json", tmp_path / "prog").stdout)
    libs = {o["name"]: o for o in report["objects"] if o["kind"] == "library"}
    openblas = [n for n in libs if n.startswith("libscipy_openblas")]
    assert len(openblas) == 1, sorted(libs)
    assert libs[openblas[0]]["path"].startswith("numpy.libs/")
    assert {n["status"] for o in report["objects"] for n in o["needs"]} <= \
        {"bundled", "base"}
    floor = tuple(map(int, report["glibc"].split(".")))
    assert floor == max(tuple(map(int, o["glibc"].split(".")))
                        for o in report["objects"] if o["glibc"])
    assert (2, 17) <= floor, report["glibc"]
    text = kiln("analyze", tmp_path / "prog").stdout.splitlines()[0]
    assert f"runs with glibc {report['glibc']} or newer" in text


def test_build_machine_search_paths_are_never_searched(tmp_path, pyinfo):
    """An extension module whose RUNPATH names a directory of the build
    machine, and which needs a base-system library the program has not
    loaded yet (libgcc_s), makes python search that directory first; the
    program carries the module with that RUNPATH hidden, so it never looks
    there, and readelf sees no RUNPATH in the bytes it carries."""
    build_dir = tmp_path / "build-machine" / "lib"
    build_dir.mkdir(parents=True)
    write_tree(tmp_path, {
        "mypkg/__init__.py": "from mypkg._native import value\n",
        "app.py": "import mypkg\nprint(mypkg.value(2))\n",
        "ext.c": EXT.replace("int kla_value(int x);",
                             "static int kla_value(int x) { return 40 + x; }"),
    })
    ext = tmp_path / "mypkg" / f"_native{pyinfo['ext_suffixes'][0]}"
    cc("-shared", "-fPIC", *python_cflags(), "-o", ext, tmp_path / "ext.c",
       "-Wl,--no-as-needed", "-lgcc_s", "-Wl,--enable-new-dtags",
       f"-Wl,-rpath,{build_dir}")
    strace = shutil.which("strace") or "/usr/bin/strace"
    trace = ["-f", "-e", "trace=%file", "-o"]
    want = run([strace, *trace, tmp_path / "python.log", KILN_PYTHON, "-E",
                "-s", tmp_path / "app.py"], cwd=tmp_path)
    assert (want.returncode, want.stdout) == (0, "42\n"), describe(want)
    # python looks in the RUNPATH: the test can see a search.
    assert str(build_dir) in (tmp_path / "python.log").read_text()

    kiln_build("app.py", "-q", "-o", "prog", cwd=tmp_path)
    got = run([strace, *trace, tmp_path / "prog.log", tmp_path / "prog"],
              cwd=tmp_path)
    assert (got.returncode, got.stdout) == (0, "42\n"), describe(got)
    searched = [l for l in (tmp_path / "prog.log").read_text().splitlines()
                if str(tmp_path / "build-machine") in l]
    assert searched == []

    data = (tmp_path / "prog").read_bytes()
    e = Bundle(data).entries["mypkg._native"]
    carried = tmp_path / "carried.so"
    carried.write_bytes(data[e["data_abs"]:e["data_abs"] + e["data_size"]])
    dynamic = subprocess.run(["readelf", "-d", "-W", str(carried)], text=True,
                             capture_output=True, check=True).stdout
    assert "RUNPATH" not in dynamic and "RPATH" not in dynamic, dynamic
    assert "RUNPATH" in subprocess.run(["readelf", "-d", "-W", str(ext)],
                                       text=True, capture_output=True,
                                       check=True).stdout
