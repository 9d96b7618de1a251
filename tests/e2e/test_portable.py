"""Built programs run on a machine that has none of their libraries.

The machine is a minimal Debian 12 root (tests/setup/minbase_root.sh:
debootstrap's minbase package set, without libssl, libcrypto, libsqlite3,
libffi, zlib, liblzma, libbz2, libstdc++, OpenBLAS and without Python),
made once and kept in the build folder. One-file programs built here, on
the build machine, that use sqlite3, ssl (a TLS handshake over loopback
with a certificate made for the run), numpy from its manylinux wheel,
ctypes (libffi calls and a callback) and the compression modules are run
in that root, chrooted with their own /proc and /tmp, and must print what
python prints here for the same script. On this machine the same
programs must map every shared library from memory (memfds named after
the library), except glibc's and libgcc_s: the only ones a program may
take from the machine.
"""
import fnmatch
import os
import re
from pathlib import Path

import pytest

from conftest import (KILN_BUILD, REPO, SHARED_LIBPYTHON, build_program,
                      describe, python_run, run, stub_links_libpython,
                      venv_run, write_tree)

MINBASE = Path(os.environ.get("KILN_MINBASE")
               or KILN_BUILD / "minbase-root").resolve()
MINBASE_SCRIPT = REPO / "tests" / "setup" / "minbase_root.sh"
MAKE_CERTS = REPO / "tests" / "corpus" / "data" / "make_certs.py"
# Where the programs' folder appears in the root.
IN_ROOT = "/tmp/programs"

# What the root must not have: the libraries the programs bring, Python.
NOT_IN_ROOT = ("libssl.so*", "libcrypto.so*", "libsqlite3.so*", "libffi.so*",
               "libz.so*", "liblzma.so*", "libbz2.so*", "libstdc++.so*",
               "libgfortran*.so*", "libquadmath*.so*", "*openblas*",
               "python3*")

# The shared objects a program may map from the machine's files: glibc's
# (its gconv modules included) and libgcc_s.
MACHINE_LIBS = re.compile(
    r"/(ld-linux[-\w.]*\.so\.\d+|lib(c|m|mvec|pthread|dl|rt|util|resolv|anl"
    r"|nss_\w+|BrokenLocale|c_malloc_debug|thread_db|gcc_s)\.so(\.\d+)*"
    r"|gconv/[-\w.]+\.so)$")

# Run in the root: ARGS after ROOT and PROGRAMS are the command. The root
# is not written to: /tmp is a tmpfs, the programs' folder is mounted on
# /tmp/programs, /dev is the machine's; the environment is a login's.
ROOT_RUN = r"""
root=$1 programs=$2; shift 2
mount --rbind /dev "$root/dev" &&
mount -t proc proc "$root/proc" &&
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp" &&
mkdir "$root/tmp/programs" &&
mount --bind "$programs" "$root/tmp/programs" &&
chroot=$(PATH=$PATH:/usr/sbin:/sbin command -v chroot) &&
exec env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
	"$chroot" "$root" "$@"
"""

# Appended to every app: with KILN_TEST_MAPS set, the files it has mapped
# (after a marker line), once its work is done.
MAPS_TAIL = """
import os as _os
if _os.environ.get("KILN_TEST_MAPS"):
    print("--- maps")
    with open("/proc/self/maps") as _f:
        for _path in sorted({l.split(None, 5)[5].strip() for l in _f
                             if len(l.split(None, 5)) == 6}):
            print(_path)
"""

APPS = {
    "sqlite3": """
import sqlite3

con = sqlite3.connect(":memory:")
con.execute("create table fruit (name text, n integer)")
con.executemany("insert into fruit values (?, ?)",
                [("apple", 3), ("pear", 12), ("fig", 7)])
print(sqlite3.sqlite_version)
print(con.execute("select group_concat(name, '+'), sum(n) from fruit "
                  "where n > 5 order by name").fetchone())
print(con.execute("select count(*) from sqlite_master").fetchone())
""",
    # Both ends of a TLS 1.2+ connection over loopback, the client checking
    # the server's certificate against the test CA (files in argv[1]).
    "ssl": """
import socket
import ssl
import sys
import threading
from pathlib import Path

certs = Path(sys.argv[1])
print(ssl.OPENSSL_VERSION)
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(certs / "server.pem", certs / "server-key.pem")
client_ctx = ssl.create_default_context(cafile=certs / "ca.pem")
print(client_ctx.cert_store_stats())
listener = socket.create_server(("127.0.0.1", 0))


def serve():
    conn, _ = listener.accept()
    with server_ctx.wrap_socket(conn, server_side=True) as tls:
        tls.sendall(tls.recv(100).upper())


server = threading.Thread(target=serve)
server.start()
with socket.create_connection(listener.getsockname()) as raw:
    with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"hello over tls")
        print(tls.version(), tls.recv(100),
              dict(x[0] for x in tls.getpeercert()["subject"]))
server.join()
""",
    "numpy": """
import numpy as np

a = np.array([[4.0, 1.0, 2.0], [1.0, 3.0, 0.5], [2.0, 0.5, 5.0]])
b = np.arange(9.0).reshape(3, 3)
print(np.round(a @ b, 6).tolist())
inv = np.linalg.inv(a)
print(np.round(inv, 6).tolist())
print(np.allclose(a @ inv, np.eye(3)), np.__version__)
big = np.random.default_rng(7).standard_normal((120, 120))
print(bool(np.abs(big @ np.linalg.inv(big) - np.eye(120)).max() < 1e-8))
""",
    # libffi: calls into libc, and qsort calling back into Python.
    "ctypes": """
import ctypes

libc = ctypes.CDLL(None)
print(libc.strlen(b"portable"), libc.abs(-42))
buf = ctypes.create_string_buffer(32)
libc.snprintf(buf, 32, b"%d-%.2f-%s", 7, ctypes.c_double(3.14159), b"x")
print(buf.value)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                       ctypes.POINTER(ctypes.c_int))
values = (ctypes.c_int * 6)(5, 1, 4, 2, 6, 3)
libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_int),
           CMP(lambda x, y: x[0] - y[0]))
print(list(values), ctypes.sizeof(ctypes.c_void_p))
""",
    "compression": """
import bz2
import lzma
import zlib

data = b"kiln runs here without the machine's libraries. " * 300
for name, mod in (("zlib", zlib), ("bz2", bz2), ("lzma", lzma)):
    packed = mod.compress(data)
    print(name, len(packed), mod.decompress(packed) == data)
print(zlib.crc32(data), zlib.adler32(data), zlib.ZLIB_RUNTIME_VERSION)
print(lzma.is_check_supported(lzma.CHECK_SHA256))
""",
}

# The apps that take the certificates' folder as their argument.
TAKES_CERTS = {"ssl"}
# The libraries named apps must map from memory (memfds named after them).
FROM_MEMORY = {"ssl": ("libssl", "libcrypto"), "sqlite3": ("libsqlite3",)}


@pytest.fixture(scope="session")
def minbase():
    """The root, made by tests/setup/minbase_root.sh (once; it is kept)."""
    r = run(["sh", MINBASE_SCRIPT, MINBASE], timeout=1200)
    assert r.returncode == 0, (
        "could not make the minimal Debian root these tests run programs "
        f"in ({MINBASE_SCRIPT}):\n{describe(r)}")
    return MINBASE


@pytest.fixture(scope="module")
def folder(tmp_path_factory, pypi_venv):
    """The folder the programs are built into (mounted into the root),
    with the app sources in src/ and a fresh test CA and server
    certificate in certs/ (made with the venv's cryptography)."""
    d = tmp_path_factory.mktemp("portable")
    write_tree(d / "src", {f"{name}_app.py": body + MAPS_TAIL
                           for name, body in APPS.items()})
    (d / "certs").mkdir()
    r = venv_run(pypi_venv, MAKE_CERTS, d / "certs")
    assert r.returncode == 0, describe(r)
    return d


@pytest.fixture(scope="module")
def program(folder, numpy_venv):
    """program(name): the app built once as a one-file program in the
    folder (numpy's from the venv with the corpus's numpy)."""
    built = {}

    def get(name):
        if name not in built:
            venv = ["--venv", numpy_venv] if name == "numpy" else []
            built[name] = build_program(folder / "src", f"{name}_app.py",
                                        "-q", *venv, output=folder / name)
        return built[name]
    return get


def app_args(name, certs):
    """The app's arguments, with certs as the certificates' folder."""
    return [str(certs)] if name in TAKES_CERTS else []


def python_prints(name, folder, numpy_venv, env=None):
    """What python prints for the app on this machine (it must succeed)."""
    script = folder / "src" / f"{name}_app.py"
    args = app_args(name, folder / "certs")
    if name == "numpy":
        r = venv_run(numpy_venv, script, *args, cwd=folder, env=env)
    else:
        r = python_run(script, *args, cwd=folder, env=env)
    assert r.returncode == 0, describe(r)
    return r.stdout


def in_root(namespaces, root, folder, *cmd):
    """Run cmd (paths as the root sees them) in the root."""
    return namespaces(ROOT_RUN, root, folder, *cmd)


def test_the_root_lacks_what_programs_bring(minbase):
    assert list(minbase.glob("lib*/*-linux-gnu/libc.so.6")) or \
        list(minbase.glob("usr/lib*/*-linux-gnu/libc.so.6")), \
        f"{minbase} has no glibc: remove it and its .stamp to make it again"
    found = sorted(str(p.relative_to(minbase)) for p in minbase.rglob("*")
                   if any(fnmatch.fnmatch(p.name, pat) for pat in NOT_IN_ROOT))
    assert not found, (f"{minbase} has what a program must bring: {found} "
                       f"(remove it and its .stamp to make it again)")


def test_the_root_hides_the_machine(minbase, namespaces, tmp_path):
    """In the root its own dash runs, and its apt, whose libstdc++ is gone,
    does not: what is not in the root is not found on this machine."""
    r = in_root(namespaces, minbase, tmp_path, "/bin/sh", "-c", "echo in root")
    assert (r.returncode, r.stdout) == (0, "in root\n"), describe(r)
    r = in_root(namespaces, minbase, tmp_path, "/usr/bin/apt-get", "--version")
    assert r.returncode != 0, describe(r)
    assert "libstdc++.so.6: cannot open shared object file" in r.stderr, \
        describe(r)


@pytest.mark.xfail(stub_links_libpython(), strict=True,
                   reason=SHARED_LIBPYTHON)
@pytest.mark.parametrize("name", sorted(APPS))
def test_runs_where_its_libraries_are_not(name, minbase, namespaces, folder,
                                          program, numpy_venv):
    want = python_prints(name, folder, numpy_venv)
    prog = program(name)
    got = in_root(namespaces, minbase, folder, f"{IN_ROOT}/{prog.name}",
                  *app_args(name, f"{IN_ROOT}/certs"))
    assert (got.returncode, got.stderr) == (0, ""), (
        "the program fails on a machine with only glibc's libraries and "
        "libgcc_s (a library it needs that is not there must come with "
        f"it):\n{describe(got)}")
    assert got.stdout == want, (
        f"the program prints, in the root, what python does not print "
        f"here ({want!r}):\n{describe(got)}")


@pytest.mark.xfail(stub_links_libpython(), strict=True,
                   reason=SHARED_LIBPYTHON)
@pytest.mark.parametrize("name", sorted(APPS))
def test_maps_only_glibc_and_libgcc_from_the_machine(name, folder, program,
                                                     numpy_venv):
    """On this machine, where every library is installed, the program
    still maps its own copies (memfds), all but glibc's and libgcc_s."""
    env = dict(os.environ, KILN_TEST_MAPS="1")
    want = python_prints(name, folder, numpy_venv, env=env)
    prog = program(name)
    got = run([prog, *app_args(name, folder / "certs")], cwd=folder, env=env)
    assert got.returncode == 0, describe(got)
    out, _, maps = got.stdout.partition("--- maps\n")
    assert out == want.partition("--- maps\n")[0], describe(got)
    files = [m for m in maps.splitlines() if m.startswith("/")
             and ".so" in m and m != str(prog)]
    from_machine = [m for m in files if not m.startswith("/memfd:")
                    and not MACHINE_LIBS.search(m)]
    assert not from_machine, (
        f"mapped from this machine's files: {from_machine}\n{describe(got)}")
    for lib in FROM_MEMORY.get(name, ()):
        assert any(re.fullmatch(rf"/memfd:{lib}\.so[.\d]* \(deleted\)", m)
                   for m in files), f"{lib} is not mapped from a memfd:\n{maps}"
