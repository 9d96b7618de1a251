"""dlopen() and ctypes in a built program, against python.

The program carries libkla.so.1 and libklb.so.2 (an extension module's
libraries, auditwheel's layout). ctypes.CDLL("libkla.so.1") loads the
carried copy, from memory in a one-file program; CDLL of a path under the
program loads its bytes from memory (a library next to the package's
modules, package data like any file that is not a module; a library put
beside the package with --add-data; an extension module's own file), and so
does a library in a package's data directory; an extension module's
dlopen of a bare name finds a library through its $ORIGIN RUNPATH as it
does from files; ctypes.util.find_library names carried libraries. Each
object is loaded once, and what the program prints is what python prints
from the files."""
import os
import shutil

import pytest

from conftest import (build_shlibs_app, cc, describe, kiln_build,
                      python_cflags, python_run, run, write_tree)

PLUG = "int plug_value(int x) { return x + 7; }\n"
PDATA = "int pdata_value(int x) { return x + 70; }\n"
EXTRA = "int extra_value(int x) { return x + 700; }\n"
LOADER = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
static PyObject *load(PyObject *self, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    void *h = name ? dlopen(name, RTLD_NOW) : NULL;
    int (*f)(int);

    if (h == NULL)
        return PyErr_Format(PyExc_OSError, "%s", name ? dlerror() : "?");
    f = (int (*)(int))dlsym(h, "extra_value");
    if (f == NULL)
        return PyErr_Format(PyExc_OSError, "%s", dlerror());
    return PyLong_FromLong(f(1));
}
static PyMethodDef methods[] = {{"load", load, METH_O, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_loader", NULL, -1,
                                 methods};
PyMODINIT_FUNC PyInit__loader(void) { return PyModule_Create(&def); }
"""

APP = """
import ctypes, ctypes.util, os, sys
kla = ctypes.CDLL("libkla.so.1")
print("soname", kla.kla_value(2))
import mypkg, mypkg._loader, plugpkg
print("module", mypkg.value(2))
here = os.path.dirname(mypkg.__file__)
plug = ctypes.CDLL(os.path.join(here, "libplug.so"))
print("path", plug.plug_value(1))
print("same", ctypes.CDLL(os.path.join(here, "libplug.so"))._handle ==
      plug._handle, ctypes.CDLL("libkla.so.1")._handle == kla._handle)
print("ext", ctypes.CDLL(mypkg._native.__file__).kla_value(3))
pdata = os.path.join(os.path.dirname(plugpkg.__file__), "libpdata.so.1")
print("pkgdata", ctypes.CDLL(pdata).pdata_value(1))
print("beside", mypkg._loader.load("libextra.so"))
print("find", ctypes.util.find_library("c"),
      ctypes.util.find_library("kiln_no_such_library"))
for bad in ("missing.so", "__init__.py", ""):
    try:
        ctypes.CDLL(os.path.join(here, bad))
    except OSError as e:
        print("bad", bad, str(e).startswith(os.path.join(here, bad) + ":"))
if sys.argv[1:] == ["carried"]:
    print(ctypes.util.find_library("kla"), ctypes.util.find_library("klb"))
    print(ctypes.CDLL(ctypes.util.find_library("klb")).klb_base())
if sys.argv[1:] == ["maps"]:
    seen = {}
    for line in open("/proc/self/maps"):
        parts = line.split(None, 5)
        if len(parts) == 6 and any(k in parts[5] for k in
                                   ("libkl", "libplug", "libpdata",
                                    "libextra")):
            seen.setdefault(parts[5].strip(), set()).add(parts[4])
    print(sorted((name, len(inodes)) for name, inodes in seen.items()))
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory, pyinfo):
    """The shlibs app with: libplug.so next to mypkg's modules (package
    data: it defines no PyInit_libplug), plugpkg whose package data is libpdata.so.1, libextra.so
    in mypkg.libs (--add-data) that mypkg._loader dlopens by name through
    its RUNPATH, and python's output, with mypkg.libs on LD_LIBRARY_PATH
    (python cannot load libkla.so.1 by name before mypkg is imported
    otherwise)."""
    root = build_shlibs_app(tmp_path_factory.mktemp("dlopen"), pyinfo)
    write_tree(root, {"dlapp.py": APP, "plugpkg/__init__.py": "",
                      "src/plug.c": PLUG, "src/pdata.c": PDATA,
                      "src/extra.c": EXTRA, "src/loader.c": LOADER})
    src = root / "src"
    cc("-shared", "-fPIC", "-o", root / "mypkg" / "libplug.so",
       src / "plug.c")
    cc("-shared", "-fPIC", "-o", root / "plugpkg" / "libpdata.so.1",
       src / "pdata.c", "-Wl,-soname,libpdata.so.1")
    cc("-shared", "-fPIC", "-o", root / "mypkg.libs" / "libextra.so",
       src / "extra.c")
    cc("-shared", "-fPIC", *python_cflags(), "-o",
       root / "mypkg" / f"_loader{pyinfo['ext_suffixes'][0]}",
       src / "loader.c", "-Wl,--enable-new-dtags",
       "-Wl,-rpath,$ORIGIN/../mypkg.libs")
    shutil.rmtree(src)
    env = dict(os.environ, LD_LIBRARY_PATH=str(root / "mypkg.libs"))
    want = python_run(root / "dlapp.py", cwd=root, env=env)
    assert want.returncode == 0 and want.stderr == "", describe(want)
    return root, want.stdout


@pytest.fixture(scope="module")
def programs(app, tmp_path_factory):
    """The app as a one-file and a folder program, built before the build
    directory's libraries are moved away."""
    root, _ = app
    out = tmp_path_factory.mktemp("programs")
    data = ["--add-data", "mypkg.libs/libextra.so:mypkg.libs"]
    kiln_build("dlapp.py", "-q", *data, "-o", out / "onefile", cwd=root)
    kiln_build("dlapp.py", "-q", "--onedir", *data, "-o", out / "onedir",
               cwd=root)
    shutil.move(str(root / "mypkg.libs"), str(out / "moved.libs"))
    return {"onefile": out / "onefile", "onedir": out / "onedir" / "onedir"}


def user_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("KILN_NATIVE", "KILN_VERBOSE")}
    return dict(env, LD_LIBRARY_PATH="", XDG_CACHE_HOME=str(tmp_path / "c"))


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_ctypes_and_dlopen_answer_as_python(app, programs, mode, tmp_path):
    _, want = app
    got = run([programs[mode]], env=user_env(tmp_path), cwd=tmp_path)
    assert got.returncode == 0 and got.stderr == "", describe(got)
    assert got.stdout == want
    assert "soname 42\n" in want and "beside 701\n" in want


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_find_library_names_carried_libraries(programs, mode, tmp_path):
    """python's find_library finds neither (they are in no system
    directory); the program names its copies, and they load."""
    got = run([programs[mode], "carried"], env=user_env(tmp_path),
              cwd=tmp_path)
    assert got.returncode == 0, describe(got)
    assert got.stdout.splitlines()[-2:] == ["libkla.so.1 libklb.so.2", "40"]


def test_one_file_loads_each_library_once_from_memory(programs, tmp_path):
    got = run([programs["onefile"], "maps"], env=user_env(tmp_path),
              cwd=tmp_path)
    assert got.returncode == 0, describe(got)
    maps = eval(got.stdout.splitlines()[-1])
    names = dict(maps)
    for lib in ("libkla.so.1", "libklb.so.2", "libplug.so", "libextra.so",
                "libpdata.so.1"):
        assert names.get(f"/memfd:{lib} (deleted)") == 1, maps
    # A library in a package's data needs no real files: nothing is
    # written.
    assert not (tmp_path / "c").exists()
    assert len(maps) == 5, maps


def test_folder_program_loads_its_files(programs, tmp_path):
    got = run([programs["onedir"], "maps"], env=user_env(tmp_path),
              cwd=tmp_path)
    assert got.returncode == 0, describe(got)
    internal = programs["onedir"].parent / "_internal"
    assert eval(got.stdout.splitlines()[-1]) == sorted(
        (str(internal / p), 1) for p in (
            "mypkg.libs/libkla.so.1", "mypkg.libs/libklb.so.2",
            "mypkg/libplug.so", "mypkg.libs/libextra.so",
            "plugpkg/libpdata.so.1"))


def test_cache_mode_answers_dlopen_from_the_cache(programs, tmp_path):
    env = dict(user_env(tmp_path), KILN_NATIVE="cache")
    got = run([programs["onefile"], "maps"], env=env, cwd=tmp_path)
    assert got.returncode == 0 and got.stderr == "", describe(got)
    natives = str(tmp_path / "c" / "kiln" / "natives")
    names = [n for n, _ in eval(got.stdout.splitlines()[-1])]
    assert sorted(os.path.basename(n) for n in names
                  if n.startswith(natives)) == [
        "libextra.so", "libkla.so.1", "libklb.so.2", "libpdata.so.1",
        "libplug.so"], names
