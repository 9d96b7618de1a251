"""Shared libraries an extension module brings with it, as auditwheel
lays them out: the module finds libkla.so.1 in ../mypkg.libs through its
RPATH ($ORIGIN), and libkla needs libklb.so.2 beside it, found through the
module's RPATH too (an RPATH is inherited by what the object loads). kiln
bundles both and the program loads them from memory (or, in a folder
program, from its folder) before the module, in dependency order, without
the build directory; python gives the same answers from the files. A
library without a DT_SONAME, which the loader cannot match by name, works
too."""
import re
import os
import shutil

import pytest

from conftest import (KILN_PYTHON, Bundle, build_extensions,
                      build_shlibs_app, cc, describe, kiln_build,
                      python_cflags, python_run, run, write_tree)


@pytest.fixture
def app(tmp_path, pyinfo):
    return build_shlibs_app(tmp_path, pyinfo)


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_libraries_come_with_the_module(app, mode, tmp_path):
    want = python_run(app / "app.py", cwd=app)
    assert (want.returncode, want.stdout) == (0, "42\n"), describe(want)
    out = tmp_path / "out" / "prog"
    kiln_build("app.py", "-q", f"--{mode}", "-o", out, cwd=app)
    prog = out / "prog" if mode == "onedir" else out
    entries = Bundle.read(prog).entries
    assert entries["libkla.so.1"]["kind"] == "shlib"
    assert entries["libklb.so.2"]["kind"] == "shlib"
    # The build directory is gone: only what the program carries is left.
    shutil.move(str(app / "mypkg.libs"), str(tmp_path / "moved.libs"))
    env = dict(os.environ, LD_LIBRARY_PATH="")
    got = run([prog], cwd=tmp_path, env=env)
    assert (got.returncode, got.stdout, got.stderr) == (0, "42\n", ""), \
        describe(got)
    maps = run([prog, "maps"], cwd=tmp_path, env=env)
    if mode == "onedir":
        assert (out / "_internal" / "mypkg.libs" / "libkla.so.1").is_file()
        assert str(out / "_internal" / "mypkg.libs" / "libkla.so.1") in \
            maps.stdout, describe(maps)
    else:
        # From memory: the loader shows the memfds, named after them.
        assert "['/memfd:libkla.so.1 (deleted)', '/memfd:libklb.so.2 " \
            "(deleted)']" in maps.stdout, describe(maps)


def test_two_hundred_extension_modules_at_a_low_ulimit(tmp_path, pyinfo):
    """Loaded extension modules hold no descriptor: a program imports 200
    of them with `ulimit -n 16`, as python3 does."""
    import resource

    names = [f"_kl{i:03d}" for i in range(200)]
    pkg = tmp_path / "many"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    build_extensions(pkg, names, pyinfo)
    write_tree(tmp_path, {"app.py": (
        "import importlib\n"
        f"names = {names!r}\n"
        "mods = [importlib.import_module('many.' + n) for n in names]\n"
        "print(len(mods), sum(m.twice(i) for i, m in enumerate(mods)))\n")})

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))

    want = run_limited([KILN_PYTHON, "-E", "-s", tmp_path / "app.py"], low,
                       cwd=tmp_path)
    assert (want.returncode, want.stdout) == (0, "200 39800\n"), describe(want)
    kiln_build("app.py", "-q", "--collect", "many", "-o", "prog", cwd=tmp_path)
    got = run_limited([tmp_path / "prog"], low, cwd=tmp_path)
    assert (got.returncode, got.stdout) == (0, "200 39800\n"), describe(got)


def run_limited(cmd, preexec, cwd):
    """Run cmd (as conftest.run) with preexec applied in the child."""
    import subprocess
    return subprocess.run([str(c) for c in cmd], cwd=cwd, text=True,
                          capture_output=True, preexec_fn=preexec,
                          timeout=120)


# libklc.so has no DT_SONAME (linked without -soname, as many build
# systems do) and two versions of klc_value: the old KLC_0 (x + 1) and the
# default KLC_1 (x + 100). libkld.so.1 (KLC_1) and the module (KLC_0, on
# purpose) name it as -L mypkg.libs -lklc gives it, a bare DT_NEEDED
# "libklc.so". value(2) = kld_value(2) + klc_value@KLC_0(2) = 204 + 3 =
# 207; a loader that lost the versions would bind the oldest and say 9.
LIB_C = r"""
int klc_value_0(int x) { return x + 1; }
int klc_value_1(int x) { return x + 100; }
__asm__(".symver klc_value_0, klc_value@KLC_0");
__asm__(".symver klc_value_1, klc_value@@KLC_1");
"""
LIB_C_MAP = """
KLC_0 { global: klc_value; local: *; };
KLC_1 { global: klc_value; } KLC_0;
"""
LIB_D = ("int klc_value(int x);\n"
         "int kld_value(int x) { return klc_value(x) * 2; }\n")
EXT_PLAIN = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
int klc_old(int x);
__asm__(".symver klc_old, klc_value@KLC_0");
int kld_value(int x);
static PyObject *value(PyObject *self, PyObject *arg)
{
    int x = (int)PyLong_AsLong(arg);
    return PyLong_FromLong(kld_value(x) + klc_old(x));
}
static PyMethodDef methods[] = {{"value", value, METH_O, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_plain", NULL, -1,
                                 methods};
PyMODINIT_FUNC PyInit__plain(void) { return PyModule_Create(&def); }
"""


@pytest.fixture
def app_nosoname(tmp_path, pyinfo):
    root = tmp_path / "app"
    write_tree(root, {
        "mypkg/__init__.py": "from mypkg._plain import value\n",
        "app.py": """
import mypkg
print(mypkg.value(2))
print(sorted({l.split(None, 5)[-1].strip() for l in open("/proc/self/maps")
              if "libkl" in l}))
""",
        "src/c.c": LIB_C, "src/c.map": LIB_C_MAP, "src/d.c": LIB_D,
        "src/ext.c": EXT_PLAIN,
    })
    libs, src = root / "mypkg.libs", root / "src"
    libs.mkdir()
    cc("-shared", "-fPIC", "-o", libs / "libklc.so", src / "c.c",
       f"-Wl,--version-script={src / 'c.map'}")
    cc("-shared", "-fPIC", "-o", libs / "libkld.so.1", src / "d.c",
       "-Wl,-soname,libkld.so.1", f"-L{libs}", "-lklc")
    cc("-shared", "-fPIC", *python_cflags(), "-o",
       root / "mypkg" / f"_plain{pyinfo['ext_suffixes'][0]}", src / "ext.c",
       libs / "libkld.so.1", f"-L{libs}", "-lklc", "-Wl,--disable-new-dtags",
       "-Wl,-rpath,$ORIGIN/../mypkg.libs")
    shutil.rmtree(src)
    return root


@pytest.mark.parametrize("mode", ["onefile", "onefile-cache", "onedir"])
def test_a_library_without_soname(app_nosoname, mode, tmp_path):
    app = app_nosoname
    want = python_run(app / "app.py", cwd=app)
    assert (want.returncode, want.stdout.splitlines()[0]) == (0, "207"), \
        describe(want)
    out = tmp_path / "out" / "prog"
    onedir = mode == "onedir"
    kiln_build("app.py", "-q", "--onedir" if onedir else "--onefile", "-o",
               out, cwd=app)
    prog = out / "prog" if onedir else out
    entries = Bundle.read(prog).entries
    assert entries["libklc.so"]["kind"] == "shlib"
    assert entries["libkld.so.1"]["kind"] == "shlib"
    shutil.move(str(app / "mypkg.libs"), str(tmp_path / "moved.libs"))
    env = dict(os.environ, LD_LIBRARY_PATH="",
               XDG_CACHE_HOME=str(tmp_path / "cache"),
               KILN_NATIVE="cache" if mode == "onefile-cache" else "")
    got = run([prog], cwd=tmp_path, env=env)
    assert got.returncode == 0 and got.stderr == "", describe(got)
    value, maps = got.stdout.splitlines()
    assert value == "207", describe(got)
    if onedir:
        where = [str(out / "_internal" / "mypkg.libs" / n)
                 for n in ("libklc.so", "libkld.so.1")]
    elif mode == "onefile-cache":
        where = sorted(str(p) for p in (tmp_path / "cache").glob(
            "kiln/natives/*/libkl*"))
        assert len(where) == 2, where
    else:
        where = ["/memfd:libklc.so (deleted)", "/memfd:libkld.so.1 (deleted)"]
    assert maps == str(sorted(where)), describe(got)


LINK_MAP_APP = """
import ctypes, os, mypkg
class Info(ctypes.Structure):
    _fields_ = [("addr", ctypes.c_void_p), ("name", ctypes.c_char_p)]
names = []
@ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Info), ctypes.c_size_t,
                  ctypes.c_void_p)
def each(info, size, data):
    names.append((info.contents.name or b"").decode())
    return 0
ctypes.CDLL(None).dl_iterate_phdr(each, None)
print(os.getpid())
print("\\n".join(n for n in names if "/fd/" in n))
"""


def test_loaded_objects_are_named_by_the_process_id(app, tmp_path):
    """The loader knows memfd-loaded objects as /proc/PID/fd/N, a name that
    means the same object to a debugger attached to the process (gdb opens
    each name in its own process, where /proc/self/fd/N is its own
    descriptor), never used twice."""
    (app / "app.py").write_text(LINK_MAP_APP)
    kiln_build("app.py", "-q", "-o", tmp_path / "prog", cwd=app)
    got = run([tmp_path / "prog"], cwd=tmp_path)
    assert got.returncode == 0, describe(got)
    pid, *names = got.stdout.splitlines()
    assert len(names) >= 4 and len(set(names)) == len(names), names
    assert all(re.fullmatch(rf"/proc/{pid}/fd/+\d+", n) for n in names), names
