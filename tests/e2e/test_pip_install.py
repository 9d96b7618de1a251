"""kiln installed as Python developers install tools (README.md, "Install").

`python -m pip install <checkout>` into a fresh venv of the Python kiln
embeds builds kiln with the Makefile (hatch_build.py runs `make install`
into a prefix of its own) and installs bin/kiln and lib/kiln/ into the venv,
as `make install PREFIX=<venv>` would; that kiln embeds the Python the venv
was made from and builds hello. `python -m build` makes the sdist (the
source tree) and, from it in a throwaway environment, the wheel; installed
into another venv, its kiln works once everything it was built in is gone.
`make install PREFIX=` installs a kiln that works from there and through a
symlink elsewhere (as pipx and uv link theirs).

The checkout is copied first (git's files, tracked and new), so nothing is
written into the source tree. Each of the three builds is kiln's whole
build into a temporary folder (seconds on two cores); pip gets hatchling,
and the sdist test `build`, from PyPI.
"""
import os
import platform
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import KILN_PYTHON, REPO, describe, new_venv, python_run, run

# A whole build of kiln, and what pip downloads.
BUILD_TIMEOUT = 900

# The version in the single place it is written down.
KILN_VERSION = next(
    line.split('"')[1]
    for line in (REPO / "src" / "common" / "kl_common.h").read_text().splitlines()
    if line.startswith("#define KILN_VERSION "))

# The folders `make`, the tests and the benchmarks write: no part of the
# source tree (.gitignore).
WRITTEN = {"build", "dist", "__pycache__", ".pytest_cache", ".git"}


def tree_files():
    """The source tree's files, relative to REPO: git's (tracked, and new
    ones it does not ignore), or, outside a git checkout (an unpacked
    sdist, or a machine without git), every file but those in folders
    make and the tests write."""
    r = shutil.which("git") and run(
        ["git", "-C", REPO, "ls-files", "-z", "--cached", "--others",
         "--exclude-standard"])
    if r and r.returncode == 0:
        return sorted(n for n in set(r.stdout.split("\0"))
                      if n and (REPO / n).is_file())
    names = []
    for folder, dirs, files in os.walk(REPO):
        rel = Path(folder).relative_to(REPO)
        dirs[:] = [d for d in dirs if d not in WRITTEN and not
                   (rel == Path(".") and d.startswith("build-")) and not
                   (rel == Path("bench") and d in ("venv", "work"))]
        names += [str(rel / f) if rel != Path(".") else f for f in files]
    return sorted(names)


def tool_env(tmp):
    """pip's environment: no active venv, a TMPDIR of the test's own. An
    outer make's MAKEFLAGS (`make e2e`) stays: the build hook must not
    pass it on."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(TMPDIR=str(tmp), PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1")
    return env


def mkdir(path):
    path = Path(path)
    path.mkdir(parents=True)
    return path


def installed_files(venv):
    """The files pip installed for kiln, relative to the venv, from its
    RECORD (kiln's .dist-info left out)."""
    info = list(venv.glob("lib/python*/site-packages/kiln-*.dist-info"))
    assert len(info) == 1, info
    out = set()
    for line in (info[0] / "RECORD").read_text().splitlines():
        path = Path(os.path.normpath(info[0].parent / line.rsplit(",", 2)[0]))
        if info[0] not in path.parents:
            out.add(str(path.relative_to(venv)))
    return out


def embedded_python(kiln_exe, cwd):
    """The interpreter a kiln embeds, as it names it when a module is not
    found."""
    r = run([kiln_exe, "build", "-m", "kiln_no_such_module_here"], cwd=cwd,
            env=tool_env(cwd))
    assert r.returncode != 0, describe(r)
    head = "searched the app's directory and "
    assert head in r.stderr and "'s sys.path" in r.stderr, describe(r)
    return r.stderr.split(head, 1)[1].split("'s sys.path", 1)[0]


def assert_embeds_kiln_python(kiln_exe, cwd):
    """kiln_exe embeds KILN_PYTHON's interpreter itself, not a venv."""
    named = embedded_python(kiln_exe, cwd)
    assert os.path.realpath(named) == os.path.realpath(KILN_PYTHON), named
    r = run([named, "-I", "-c", "import sys; print(sys.prefix == sys.base_prefix)"])
    assert r.returncode == 0 and r.stdout == "True\n", describe(r)


def assert_builds_hello(kiln_exe, hello_src, pyinfo, work):
    """kiln_exe --version names this kiln and KILN_PYTHON's version, and
    kiln_exe builds hello, which prints what python prints."""
    r = run([kiln_exe, "--version"])
    assert r.returncode == 0, describe(r)
    assert r.stdout == f"kiln {KILN_VERSION} (Python {pyinfo['version']})\n", describe(r)
    want = python_run(hello_src)
    r = run([kiln_exe, "build", hello_src, "-o", work / "hello"], cwd=work,
            env=tool_env(work))
    assert r.returncode == 0, describe(r)
    r = run([work / "hello"])
    assert (r.returncode, r.stdout, r.stderr) == (0, want.stdout, ""), describe(r)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of the source tree."""
    dst = tmp_path_factory.mktemp("checkout") / "kiln"
    for name in tree_files():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, dst / name)
    return dst


@pytest.fixture(scope="module")
def installed(tmp_path_factory, checkout):
    """(venv, TMPDIR): a fresh venv of KILN_PYTHON where `python -m pip
    install <checkout>` ran with that TMPDIR."""
    base = tmp_path_factory.mktemp("pip-install")
    venv = new_venv(base / "venv")
    tmp = mkdir(base / "tmp")
    r = run([venv / "bin" / "python", "-m", "pip", "install", checkout],
            env=tool_env(tmp), timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, describe(r)
    return venv, tmp


# The files `make install` installs, relative to PREFIX.
INSTALLED = {"bin/kiln", "lib/kiln/kiln-stub", "lib/kiln/kiln-ext.so"}


def test_pip_install_lays_out_make_install(installed):
    venv, _tmp = installed
    assert installed_files(venv) == INSTALLED
    for rel in INSTALLED:
        assert os.access(venv / rel, os.X_OK), rel
    r = run([venv / "bin" / "python", "-c",
             "import importlib.metadata as m; print(m.version('kiln'))"])
    assert r.stdout.strip() == KILN_VERSION, describe(r)


def test_pip_installed_kiln_builds_hello(installed, hello_src, pyinfo,
                                        tmp_path):
    venv, _tmp = installed
    assert_builds_hello(venv / "bin" / "kiln", hello_src, pyinfo, tmp_path)


def test_pip_installed_kiln_embeds_the_venvs_python(installed, tmp_path):
    venv, _tmp = installed
    assert_embeds_kiln_python(venv / "bin" / "kiln", tmp_path)


def test_pip_build_leaves_nothing_behind(installed):
    """The build happened in TMPDIR (pip's build environment, the hook's
    build folder and any packages configure unpacked there), is gone, and
    nothing installed names it."""
    venv, tmp = installed
    assert not list(tmp.glob("kiln-wheel-*"))
    for rel in INSTALLED:
        assert os.fsencode(tmp) not in (venv / rel).read_bytes(), rel


# ---- the sdist, and a wheel built from it by `python -m build` --------------

@pytest.fixture(scope="module")
def from_sdist(tmp_path_factory, checkout):
    """`python -m build` of the checkout (the sdist, then the wheel from it
    in a throwaway venv), in a venv that is deleted afterwards; the wheel
    pip-installed into a fresh venv. Returns (sdist, wheel, venv)."""
    base = tmp_path_factory.mktemp("sdist")
    tools = new_venv(base / "tools")
    tmp = mkdir(base / "tmp")
    out = mkdir(base / "out")
    r = run([tools / "bin" / "python", "-m", "pip", "install", "-q", "build"],
            env=tool_env(tmp), timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, describe(r)
    r = run([tools / "bin" / "python", "-m", "build", "-o", out, checkout],
            env=tool_env(tmp), timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, describe(r)
    shutil.rmtree(tools)
    sdists, wheels = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, describe(r)
    venv = new_venv(base / "venv")
    r = run([venv / "bin" / "python", "-m", "pip", "install", wheels[0]],
            env=tool_env(tmp), timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, describe(r)
    return sdists[0], wheels[0], venv


def test_sdist_is_the_source_tree(from_sdist):
    sdist, _wheel, _venv = from_sdist
    top = f"kiln-{KILN_VERSION}/"
    assert sdist.name == f"kiln-{KILN_VERSION}.tar.gz"
    with tarfile.open(sdist) as t:
        names = {m.name for m in t.getmembers() if m.isfile()}
    assert all(n.startswith(top) for n in names), sorted(names)[:5]
    assert {n[len(top):] for n in names} == set(tree_files()) | {"PKG-INFO"}


def test_wheel_is_for_the_embedded_python(from_sdist):
    """Tagged for the X.Y kiln embeds and this machine; it holds bin/kiln
    as a script (executable) and lib/kiln/ as data, and no Python."""
    _sdist, wheel, _venv = from_sdist
    r = run([KILN_PYTHON, "-I", "-c",
             "import sys, sysconfig; print('cp%d%d' % sys.version_info[:2], "
             "sys.abiflags, sysconfig.get_platform(), sep='|')"])
    assert r.returncode == 0, describe(r)
    cp, abi, plat = r.stdout.strip().split("|")
    plat = plat.replace("-", "_").replace(".", "_")
    assert wheel.name == f"kiln-{KILN_VERSION}-{cp}-{cp}{abi}-{plat}.whl"
    assert plat.endswith(platform.machine())
    data = f"kiln-{KILN_VERSION}.data/"
    info = f"kiln-{KILN_VERSION}.dist-info/"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert names == {data + "scripts/kiln",
                         data + "data/lib/kiln/kiln-stub",
                         data + "data/lib/kiln/kiln-ext.so",
                         info + "METADATA", info + "WHEEL", info + "RECORD"}
        mode = z.getinfo(data + "scripts/kiln").external_attr >> 16
        assert mode & 0o111 == 0o111, oct(mode)
        assert "Root-Is-Purelib: false" in z.read(info + "WHEEL").decode()


def test_pip_keeps_the_wheels_files(from_sdist):
    """pip installs the kiln binary as it is in the wheel, executable."""
    _sdist, wheel, venv = from_sdist
    data = f"kiln-{KILN_VERSION}.data/"
    with zipfile.ZipFile(wheel) as z:
        pairs = [(z.read(data + "scripts/kiln"), venv / "bin" / "kiln")] + [
            (z.read(data + "data/" + rel), venv / rel)
            for rel in ("lib/kiln/kiln-stub", "lib/kiln/kiln-ext.so")]
    for want, path in pairs:
        assert path.read_bytes() == want, path
        assert os.access(path, os.X_OK), path


def test_wheel_from_sdist_works_without_its_build_environment(
        from_sdist, hello_src, pyinfo, tmp_path):
    """The wheel was built in a venv of `build` made from a venv that is
    deleted now; its kiln embeds the Python both were made from."""
    _sdist, _wheel, venv = from_sdist
    kiln_exe = venv / "bin" / "kiln"
    assert_embeds_kiln_python(kiln_exe, tmp_path)
    assert_builds_hello(kiln_exe, hello_src, pyinfo, tmp_path)


# ---- make install PREFIX= ---------------------------------------------------

def test_make_install_prefix(checkout, hello_src, pyinfo, tmp_path):
    """`make install PREFIX=` into an empty prefix, the build folder then
    removed; the kiln there, and a symlink to it from another folder, build
    hello with the stub from PREFIX/lib/kiln."""
    prefix, build = tmp_path / "prefix", tmp_path / "build"
    env = {k: v for k, v in tool_env(mkdir(tmp_path / "tmp")).items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    jobs = len(os.sched_getaffinity(0))
    r = run(["make", "-C", checkout, "--no-print-directory", f"-j{jobs}",
             "install", f"PYTHON={KILN_PYTHON}", f"BUILD={build}",
             f"PREFIX={prefix}"], env=env, timeout=BUILD_TIMEOUT)
    assert r.returncode == 0, describe(r)
    shutil.rmtree(build)
    found = {str(p.relative_to(prefix)) for p in prefix.rglob("*")
             if p.is_file()}
    assert found == INSTALLED
    assert_builds_hello(prefix / "bin" / "kiln", hello_src, pyinfo,
                        mkdir(tmp_path / "a"))
    link = mkdir(tmp_path / "links") / "kiln"
    link.symlink_to(prefix / "bin" / "kiln")
    assert_builds_hello(link, hello_src, pyinfo, mkdir(tmp_path / "b"))
