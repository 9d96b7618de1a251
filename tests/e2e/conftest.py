"""Shared helpers for kiln's end-to-end tests.

Environment:
  KILN_BUILD   directory holding kiln and kiln-stub (default <repo>/build)
  KILN_PYTHON  the Python that kiln embeds (default python3); used to learn
               "what python does" and where its standard library lives.
  KILN_SANITIZED  1 when KILN_BUILD's kiln and stub carry AddressSanitizer
               and UBSan (`make asan`): the tests marked
               `sanitizers_change`, which hold what the sanitizers change
               by design (peak memory) or need what they cannot run
               without (/proc), are left out of that run and named at its
               end.

Every test builds real programs with the kiln command and runs them as a user
would. Programs shared by several tests are built once per module by
module-scoped fixtures.
"""
import fcntl
import functools
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SANITIZED = os.environ.get("KILN_SANITIZED") == "1"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sanitizers_change(what): the test holds what sanitizers "
        "change by design (peak memory) or needs what they cannot run "
        "without (/proc); `make asan` leaves it out")


def pytest_collection_modifyitems(config, items):
    """Under sanitizers, leave out the tests marked sanitizers_change, and
    remember them for the summary."""
    if not SANITIZED:
        return
    kept, left = [], []
    for item in items:
        (left if item.get_closest_marker("sanitizers_change") else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
        config._kiln_left_out = left


def pytest_terminal_summary(terminalreporter, config):
    left = getattr(config, "_kiln_left_out", [])
    if left:
        terminalreporter.write_line(
            f"left out under sanitizers ({len(left)}): the sanitizers "
            "change what they hold")
        for item in left:
            what = item.get_closest_marker("sanitizers_change").args[0]
            terminalreporter.write_line(f"  {item.nodeid}: {what}")

REPO = Path(__file__).resolve().parents[2]
KILN_BUILD = Path(os.environ.get("KILN_BUILD") or REPO / "build").resolve()
KILN = KILN_BUILD / "kiln"
STUB = KILN_BUILD / "kiln-stub"
KILN_PYTHON = os.environ.get("KILN_PYTHON") or "python3"

# strace, from PATH (`make e2e` puts the one mk/testenv unpacked first).
STRACE = shutil.which("strace") or "/usr/bin/strace"

# Generous limits: a hang is a failure, not a stuck suite.
BUILD_TIMEOUT = 180
RUN_TIMEOUT = 60

# ---- bundle layout (src/bundle/bundle.h) ------------------------------------

TRAILER_FMT = "<QQQQII8s"
TRAILER_SIZE = struct.calcsize(TRAILER_FMT)  # 48
TRAILER_MAGIC = b"KILN\0BDL"
HEADER_FMT = "<8sIIII" + "QQQQQQ" + "IIIIIII" + "5I" + "Q"
HEADER_SIZE = struct.calcsize(HEADER_FMT)  # 128
HEADER_MAGIC = b"KILNHDR\0"
ENTRY_FMT = "<IIIIBBHI" + "8Q"
ENTRY_SIZE = struct.calcsize(ENTRY_FMT)  # 88
KIND_NAMES = {1: "module", 2: "package", 3: "namespace", 4: "extension",
              5: "shlib", 6: "data", 7: "pkgdata", 8: "metadata"}
FLAG_EXTERNAL = 0x04  # the data is the file <folder>/<path> next to it

assert (TRAILER_SIZE, HEADER_SIZE, ENTRY_SIZE) == (48, 128, 88)


class Bundle:
    """A parsed view of the bundle at the end of a built program."""

    def __init__(self, data: bytes):
        self.data = data
        (self.bundle_offset, self.bundle_size, self.index_checksum,
         self.bundle_checksum, self.version, self.trailer_size,
         self.magic) = struct.unpack_from(TRAILER_FMT, data,
                                          len(data) - TRAILER_SIZE)
        assert self.magic == TRAILER_MAGIC, "no kiln trailer"
        self.trailer_offset = len(data) - TRAILER_SIZE
        h = struct.unpack_from(HEADER_FMT, data, self.bundle_offset)
        (self.header_magic, self.header_version, self.header_size,
         self.entry_count, self.hash_slots, self.entries_off, self.hash_off,
         self.strings_off, self.strings_size, self.payload_off,
         self.payload_size, self.python_hex, self.run_mode,
         self.run_target_off, self.run_target_len, self.flags,
         folder_off, folder_len, runtime_path_off,
         runtime_path_len, options_off, options_len, self.pagesum_off,
         self.pagesum_check) = h
        assert self.header_magic == HEADER_MAGIC, "no kiln header"
        strings = self.bundle_offset + self.strings_off
        # A folder program's folder, relative to the executable ("" for
        # a one-file program).
        self.folder = data[strings + folder_off:
                           strings + folder_off + folder_len].decode()
        # --runtime-path's directories, ':'-separated ("" for none).
        self.runtime_path = data[strings + runtime_path_off:
                                 strings + runtime_path_off +
                                 runtime_path_len].decode()
        # The interpreter options: one "NAME" or "NAME VALUE" per line.
        self.options = data[strings + options_off:
                            strings + options_off + options_len].decode()
        self.entries = {}
        for i in range(self.entry_count):
            f = struct.unpack_from(ENTRY_FMT, data, self.bundle_offset +
                                   self.entries_off + i * ENTRY_SIZE)
            (name_off, name_len, path_off, path_len, kind, flags, _r0, _r1,
             data_off, data_size, data_raw, data_check, aux_off, aux_size,
             aux_raw, aux_check) = f
            name = data[strings + name_off:strings + name_off + name_len]
            path = data[strings + path_off:strings + path_off + path_len]
            payload = self.bundle_offset + self.payload_off
            self.entries[name.decode()] = dict(
                index=i, kind=KIND_NAMES.get(kind, kind), flags=flags,
                path=path.decode(), external=bool(flags & FLAG_EXTERNAL),
                data_check=data_check,
                data_abs=payload + data_off, data_size=data_size,
                aux_abs=payload + aux_off, aux_size=aux_size,
                entry_abs=self.bundle_offset + self.entries_off +
                i * ENTRY_SIZE)

    @classmethod
    def read(cls, path):
        return cls(Path(path).read_bytes())

    @property
    def index_end(self):
        """Absolute file offset where the index (header..strings) ends."""
        return self.bundle_offset + self.payload_off


# ---- running things ---------------------------------------------------------

def _text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


def _arg(c):
    return c if isinstance(c, (str, bytes)) else os.fspath(c)


def run(cmd, *, cwd=None, env=None, input=None, timeout=RUN_TIMEOUT,
        text=True, **kw):
    """Run cmd and return the CompletedProcess (never raises on status)."""
    if isinstance(input, str) and not text:
        input = input.encode()
    try:
        return subprocess.run([_arg(c) for c in cmd], cwd=cwd, env=env,
                              input=input, capture_output=True, text=text,
                              timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"timed out after {timeout}s: {cmd}\n"
                    f"stdout: {_text(e.stdout)}\nstderr: {_text(e.stderr)}")


def run_json(cmd, **kw):
    """Run cmd, which must succeed and print nothing on stderr; its stdout
    parsed as JSON."""
    r = run(cmd, **kw)
    assert r.returncode == 0, describe(r)
    assert r.stderr == "", describe(r)
    return json.loads(r.stdout)


def describe(r):
    """Text describing a CompletedProcess, for assertion messages."""
    return (f"command: {r.args}\nreturncode: {r.returncode}\n"
            f"--- stdout ---\n{_text(r.stdout)}\n--- stderr ---\n"
            f"{_text(r.stderr)}")


def kiln(*args, cwd=None, env=None, timeout=BUILD_TIMEOUT):
    """Run the kiln command (with no VIRTUAL_ENV unless env gives one: an
    active venv chooses what kiln collects from)."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return run([KILN, *args], cwd=cwd, env=env, timeout=timeout)


def kiln_build(*args, cwd, expect_ok=True):
    """`kiln build ARGS` in cwd; asserts success unless expect_ok is False."""
    r = kiln("build", *args, cwd=cwd)
    if expect_ok:
        assert r.returncode == 0, describe(r)
        assert "Traceback" not in r.stderr, describe(r)
    return r


def build_program(src_dir, *args, output):
    """Build into `output` (absolute) from src_dir; returns the Path."""
    output = Path(output)
    kiln_build(*args, "-o", output, cwd=src_dir)
    assert output.is_file(), f"kiln build did not write {output}"
    assert os.access(output, os.X_OK), f"{output} is not executable"
    return output


def write_tree(root, files):
    """Create files {relative path: text} under root (text is dedented)."""
    root = Path(root)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def inspect_entries(program):
    """{name: (kind, where)} listed by `kiln inspect PROGRAM`; where is
    "program" (inside the executable) or "file" (in its folder)."""
    r = kiln("inspect", program)
    assert r.returncode == 0, describe(r)
    lines = r.stdout.splitlines()
    assert lines and lines[0].startswith("# "), describe(r)
    assert lines[1].split() == ["kind", "where", "stored", "original",
                                "name"], describe(r)
    entries = {}
    for line in lines[2:]:
        parts = line.split()
        assert len(parts) == 5, f"odd inspect line: {line!r}"
        assert parts[1] in ("program", "file"), f"odd inspect line: {line!r}"
        entries[parts[4]] = (parts[0], parts[1])
    return entries


def inspect_names(program):
    """Entry names listed by `kiln inspect PROGRAM`: {name: kind}."""
    return {name: kind for name, (kind, _where)
            in inspect_entries(program).items()}


def assert_one_error_line(r, *, status=1):
    """r failed with `status` and a single 'kiln: error:' line, no traceback."""
    assert r.returncode == status, describe(r)
    lines = r.stderr.strip().splitlines()
    assert lines, describe(r)
    assert lines[0].startswith("kiln: error: "), describe(r)
    assert len(lines) == 1, describe(r)
    assert "Traceback" not in r.stderr, describe(r)


@pytest.fixture(scope="session")
def strace_exe():
    """STRACE, which must be installed."""
    assert os.access(STRACE, os.X_OK), (
        f"{STRACE} is missing: these tests trace programs with strace "
        "(Debian package strace; `make test` gets it, mk/testenv)")
    return STRACE


def in_namespaces(script, *args, **kw):
    """Run the sh SCRIPT, with ARGS as $1..., in mount and PID namespaces
    of its own (as tests/setup/fresh_machine.sh runs commands), where it
    may mount (a /proc, a tmpfs) and chroot: as root, directly; as a user,
    in a user namespace that maps the user to root (unshare
    --map-root-user). Nothing it mounts or starts outlives it. Returns
    the CompletedProcess, as run does."""
    cmd = ["unshare", "--mount", "--pid", "--fork", "--propagation",
           "private"]
    if os.geteuid() != 0:
        cmd.insert(1, "--map-root-user")
    return run([*cmd, "sh", "-c", script, "sh", *args], **kw)


# A sh fragment for in_namespaces scripts: an empty /tmp and /dev/shm of
# the namespace's own (tmpfs), with the entries of the machine's /tmp
# that $keep names (one a line; tmp_entries) mounted back in, so that
# what the test needs there stays reachable. Exits 125 when it cannot.
PRIVATE_TMP = r"""
IFS='
'
fd=3
for k in $keep; do eval "exec $fd<\"\$k\"" || exit 125; fd=$((fd + 1)); done
mount -t tmpfs -o mode=1777 tmpfs /tmp &&
mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 125
fd=3
for k in $keep; do
	mkdir "$k" && mount --no-canonicalize --bind "/proc/self/fd/$fd" "$k" &&
		eval "exec $fd<&-" || exit 125
	fd=$((fd + 1))
done
unset IFS
"""


def tmp_entries(*paths):
    """The entries of /tmp that hold these paths (real paths), for
    PRIVATE_TMP's $keep."""
    tmp = Path("/tmp").resolve()
    return sorted({str(tmp / Path(p).resolve().relative_to(tmp).parts[0])
                   for p in paths if Path(p).resolve().is_relative_to(tmp)})


@pytest.fixture(scope="session")
def namespaces():
    """in_namespaces, once it is known to work here."""
    r = in_namespaces("mount -t proc proc /proc && mount -t tmpfs tmpfs /tmp")
    assert r.returncode == 0, (
        "these tests run programs in mount and PID namespaces of their own "
        "(unshare, util-linux), as root or through a user namespace; this "
        "machine refuses them: run as root, or allow user namespaces "
        "(sysctl kernel.unprivileged_userns_clone=1, "
        "user.max_user_namespaces > 0); a chrooted process may not make "
        "one (enter the root with pivot_root)\n" + describe(r))
    return in_namespaces


# ---- the Python kiln embeds -------------------------------------------------

_PYINFO_CODE = r"""
import json, os, sys, sysconfig, platform, importlib.machinery
paths = sysconfig.get_paths()
dyn = sysconfig.get_config_var("DESTSHARED") or os.path.join(paths["platstdlib"], "lib-dynload")
print(json.dumps({
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:2]),
    "executable": sys.executable,
    "stdlib": paths["stdlib"],
    "platstdlib": paths["platstdlib"],
    "lib_dynload": dyn,
    "realpaths": sorted({os.path.realpath(p) for p in (paths["stdlib"], paths["platstdlib"], dyn)}),
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "ext_suffixes": importlib.machinery.EXTENSION_SUFFIXES,
    "builtins": sorted(sys.builtin_module_names),
}))
"""


@pytest.fixture(scope="session")
def pyinfo():
    r = run([KILN_PYTHON, "-I", "-c", _PYINFO_CODE])
    assert r.returncode == 0, describe(r)
    return json.loads(r.stdout)


def python_run(script, *args, **kw):
    """Run script under KILN_PYTHON, ignoring PYTHON* variables and the user
    site like a built program (not -I: the script's directory must stay on
    sys.path)."""
    return run([KILN_PYTHON, "-E", "-s", script, *args], **kw)


@pytest.fixture(scope="session", autouse=True)
def _kiln_is_built():
    if not KILN.is_file() or not STUB.is_file():
        pytest.exit(f"kiln is not built in {KILN_BUILD} (run `make`)",
                    returncode=2)


@pytest.fixture(scope="session")
def hello_src():
    return REPO / "examples" / "hello.py"


@pytest.fixture(scope="module")
def hello(tmp_path_factory, hello_src):
    """examples/hello.py built once per test module."""
    d = tmp_path_factory.mktemp("hello")
    return build_program(d, hello_src, output=d / "dist" / "hello")



# ---- a virtual environment with real PyPI packages ---------------------------

# What the real-package tests install, pinned so that every run sees the same
# code (their own dependencies are left to pip).
PYPI_PINS = (
    "click==8.1.7", "PyYAML==6.0.2", "attrs==24.2.0", "rich==13.9.4",
    "packaging==24.2", "idna==3.10", "cryptography==44.0.0",
    "charset-normalizer==3.4.0", "Pygments==2.18.0", "docutils==0.21.2",
    "SQLAlchemy==2.0.36",
)


# The first releases with wheels for CPython 3.14 of the pinned
# distributions that have none in the versions pinned (pip would build
# them from source); a KILN_PYTHON of 3.14 or later gets these.
PINS_314 = {"numpy": "2.3.4", "pyyaml": "6.0.3", "charset-normalizer": "3.4.4",
            "lxml": "6.0.2", "pillow": "12.0.0", "cffi": "2.0.0"}


@functools.lru_cache(maxsize=None)
def kiln_python_version():
    """(major, minor) of KILN_PYTHON."""
    r = run([KILN_PYTHON, "-I", "-c", "import sys; print(*sys.version_info[:2])"])
    assert r.returncode == 0, describe(r)
    return tuple(int(x) for x in r.stdout.split())


@functools.lru_cache(maxsize=None)
def stub_links_libpython():
    """Whether the runtime stub links a shared libpython (mk/configure
    falls back to it when the static archive does not link): its programs
    then map the machine's libpython and the libraries it needs."""
    r = subprocess.run(["readelf", "-d", str(STUB)], capture_output=True,
                       text=True)
    return any("NEEDED" in line and "[libpython" in line
               for line in r.stdout.splitlines())


# The reason of a strict xfail for what a stub linking a shared libpython
# cannot do.
SHARED_LIBPYTHON = ("the runtime stub links the machine's shared libpython "
                    "(the static archive does not link): programs map it "
                    "and what it needs from the machine")


def pin_for_kiln_python(pin):
    """pin ("name==version"), or its PINS_314 version when KILN_PYTHON is
    3.14 or later."""
    name = pin.split("==")[0]
    if kiln_python_version() >= (3, 14) and dist_key(name) in PINS_314:
        return f"{name}=={PINS_314[dist_key(name)]}"
    return pin


def new_venv(path):
    """A new venv of KILN_PYTHON at path (emptied if it was there) with
    pip in it. Returns the venv's Path."""
    path = Path(path)
    r = run([KILN_PYTHON, "-m", "venv", "--clear", path], timeout=300)
    if r.returncode != 0:
        # No ensurepip (Debian's Python without python3.X-venv, and no root
        # to install it): a venv without pip, given pip by the pip this
        # test run has.
        r = run([KILN_PYTHON, "-m", "venv", "--clear", "--without-pip", path],
                timeout=300)
        assert r.returncode == 0, describe(r)
        r = run([sys.executable, "-m", "pip", "--python",
                 path / "bin" / "python", "install", "-q",
                 "--disable-pip-version-check", "pip"], timeout=900)
        assert r.returncode == 0, describe(r)
    return path


def make_venv(path, pins):
    """A venv of KILN_PYTHON at path with pins (pin_for_kiln_python)
    installed by its pip; reused while the pins are the same. Returns the
    venv's Path."""
    pins = tuple(pin_for_kiln_python(p) for p in pins)
    path = Path(path)
    stamp = path / "kiln-pins.txt"
    want = "\n".join(pins) + "\n"
    # pytest-xdist's workers may ask for the same venv at once: one makes
    # it, the others wait for it (the lock goes with the file's close).
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == want:
            return path
        new_venv(path)
        r = run([path / "bin" / "python", "-m", "pip", "install", "-q",
                 "--disable-pip-version-check", *pins], timeout=900)
        assert r.returncode == 0, describe(r)
        stamp.write_text(want)
    return path


@pytest.fixture(scope="session")
def pypi_venv():
    """A venv with PYPI_PINS, kept in KILN_BUILD between runs."""
    return make_venv(KILN_BUILD / "e2e-venv", PYPI_PINS)


# The corpus's pins (tests/corpus/pins.txt), for end-to-end tests of its
# packages that carry native code: the same versions, so pip's cache
# already holds their wheels.
CORPUS_PINS_FILE = REPO / "tests" / "corpus" / "pins.txt"


def dist_key(name):
    """A distribution's name as pip compares them."""
    return name.lower().replace("_", "-")


def corpus_pins(*names):
    """The lines of tests/corpus/pins.txt that pin the named
    distributions, in the file's order; every name must have one."""
    pins = [line.strip() for line in CORPUS_PINS_FILE.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    want = {dist_key(n) for n in names}
    found = [p for p in pins if dist_key(p.split("==")[0]) in want]
    missing = want - {dist_key(p.split("==")[0]) for p in found}
    assert not missing, f"{CORPUS_PINS_FILE} pins no {sorted(missing)}"
    return tuple(found)


@pytest.fixture(scope="session")
def natives_venv():
    """A venv with the corpus's packages whose wheels bring native
    libraries: numpy (OpenBLAS in numpy.libs), Pillow (pillow.libs), lxml
    and cryptography (with cffi), kept in KILN_BUILD between runs."""
    return make_venv(KILN_BUILD / "e2e-venv-natives",
                     corpus_pins("numpy", "pillow", "lxml", "cryptography",
                                 "cffi", "pycparser"))


# numpy from its manylinux wheel: extension modules that bring their own
# libraries (numpy.libs: OpenBLAS, libgfortran, libquadmath).
NUMPY_PINS = corpus_pins("numpy")


@pytest.fixture(scope="session")
def numpy_venv():
    """A venv with NUMPY_PINS, kept in KILN_BUILD between runs."""
    return make_venv(KILN_BUILD / "e2e-venv-numpy", NUMPY_PINS)


def venv_run(venv, script, *args, **kw):
    """Run script with the venv's python, as a user of the venv would."""
    return run([Path(venv) / "bin" / "python", "-E", "-s", script, *args],
               **kw)


# ---- a C extension module of the test's own ---------------------------------

# The tiny extension modules' shared part (compiled once per call of
# build_extensions) and each module's own entry point, which needs no
# header: its object links with the shared one into the module's file.
_EXT_C = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *twice(PyObject *self, PyObject *arg)
{
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(2 * v);
}
static PyMethodDef methods[] = {{"twice", twice, METH_O, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, NULL, NULL, -1,
                                 methods};
__attribute__((visibility("hidden"))) PyObject *kl_module(const char *name)
{
    def.m_name = name;
    return PyModule_Create(&def);
}
"""
_EXT_INIT_C = """
void *kl_module(const char *name);
__attribute__((visibility("default"))) void *PyInit_@NAME@(void)
{
    return kl_module("@NAME@");
}
"""


def python_cflags():
    """The flags kiln's build compiled against the embedded Python with
    (PY_CFLAGS in KILN_BUILD/config.mk: its headers may have been unpacked
    into the build folder rather than installed)."""
    for line in (KILN_BUILD / "config.mk").read_text().splitlines():
        name, sep, value = line.partition(":=")
        if sep and name.strip() == "PY_CFLAGS":
            return shlex.split(value)
    pytest.fail(f"no PY_CFLAGS in {KILN_BUILD / 'config.mk'}")


def build_extensions(directory, names, pyinfo):
    """Compile tiny extension modules, one per name (each with one
    function, twice(n)), for the embedded Python into directory: the
    Python-facing code once, each module's entry point apart. Returns
    their Paths."""
    directory = Path(directory)
    work = directory / ".ext-src"
    work.mkdir()
    (work / "common.c").write_text(_EXT_C)
    for name in names:
        (work / f"{name}.c").write_text(_EXT_INIT_C.replace("@NAME@", name))
    r = run(["cc", "-c", "-fPIC", "-O1", *python_cflags(), "-o",
             work / "common.o", work / "common.c"])
    assert r.returncode == 0, describe(r)
    r = run(["cc", "-c", "-fPIC", *(f"{name}.c" for name in names)],
            cwd=work)
    assert r.returncode == 0, describe(r)
    outs = []
    for name in names:
        out = directory / f"{name}{pyinfo['ext_suffixes'][0]}"
        r = run(["cc", "-shared", "-o", out, work / "common.o",
                 work / f"{name}.o"])
        assert r.returncode == 0, describe(r)
        outs.append(out)
    shutil.rmtree(work)
    return outs


def build_extension(directory, name, pyinfo):
    """build_extensions of one name; returns its Path."""
    return build_extensions(directory, [name], pyinfo)[0]


# ---- shared libraries an extension module brings with it -------------------

SHLIB_B = "int klb_base(void) { return 40; }\n"
SHLIB_A = ("int klb_base(void);\n"
           "int kla_value(int x) { return klb_base() + x; }\n")
SHLIB_EXT = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
int kla_value(int x);
static PyObject *value(PyObject *self, PyObject *arg)
{
    return PyLong_FromLong(kla_value((int)PyLong_AsLong(arg)));
}
static PyMethodDef methods[] = {{"value", value, METH_O, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_native", NULL, -1,
                                 methods};
PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&def); }
"""

# What the app prints: value(2), then for "maps" the libraries' mappings,
# for "natives" every native object's mapping of its own, for "file" the
# extension module's __file__.
SHLIBS_APP = """
import sys, mypkg, mypkg._native
print(mypkg.value(2))
def mapped(*keys):
    return sorted({l.split(None, 5)[-1].strip() for l in open("/proc/self/maps")
                   if any(k in l for k in keys)})
if "maps" in sys.argv[1:]:
    print(mapped("libkl"))
if "natives" in sys.argv[1:]:
    print(mapped("libkl", "_native"))
if "file" in sys.argv[1:]:
    print(mypkg._native.__file__)
"""


def cc(*args):
    """Run cc in the test run's directory: python_cflags() may name the
    Python headers by a path relative to it (unpacked into the build)."""
    r = run(["cc", *map(str, args)])
    assert r.returncode == 0, describe(r)


def build_shlibs_app(root, pyinfo):
    """Under root: an app whose extension module mypkg._native finds
    libkla.so.1 in ../mypkg.libs through its RPATH ($ORIGIN), as
    auditwheel lays them out, and libkla needs libklb.so.2 beside it,
    found through the module's RPATH too (an RPATH is inherited by what
    the object loads). value(2) is 42. Returns root."""
    root = Path(root)
    write_tree(root, {
        "mypkg/__init__.py": "from mypkg._native import value\n",
        "app.py": SHLIBS_APP,
        "src/b.c": SHLIB_B, "src/a.c": SHLIB_A, "src/ext.c": SHLIB_EXT,
    })
    libs = root / "mypkg.libs"
    libs.mkdir()
    src = root / "src"
    cc("-shared", "-fPIC", "-o", libs / "libklb.so.2", src / "b.c",
       "-Wl,-soname,libklb.so.2")
    cc("-shared", "-fPIC", "-o", libs / "libkla.so.1", src / "a.c",
       "-Wl,-soname,libkla.so.1", libs / "libklb.so.2")
    ext = root / "mypkg" / f"_native{pyinfo['ext_suffixes'][0]}"
    cc("-shared", "-fPIC", *python_cflags(), "-o", ext, src / "ext.c",
       libs / "libkla.so.1", "-Wl,--disable-new-dtags",
       "-Wl,-rpath,$ORIGIN/../mypkg.libs")
    shutil.rmtree(src)
    return root
