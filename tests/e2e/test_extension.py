"""kiln build --target extension: a Python extension module that carries its
dependencies (pure Python with data files, an extension module with its C
library, distribution metadata) and serves them from its own file when a
host Python imports it: a venv with nothing installed, Debian's python, a C
program embedding Python, a program kiln built. Each is compared with the
same code run by python with the dependencies installed."""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import (KILN_BUILD, KILN_PYTHON, build_program, cc,
                      corpus_pins, describe, inspect_names, kiln, kiln_build,
                      kiln_python_version, make_venv, python_cflags, run,
                      write_tree)

# The module: templates of a package of its own through jinja2's
# PackageLoader (which opens and lists them by path), YAML through
# libyaml's C loader, and its dependencies' versions from their metadata.
PLUGIN = {
    "plugin.py": '''
        """A plugin kiln builds as an extension module."""
        import importlib.metadata
        import json
        import jinja2
        import markupsafe
        import yaml

        def render(**kw):
            env = jinja2.Environment(loader=jinja2.PackageLoader("tplpkg"))
            return env.get_template("hello.txt").render(**kw)

        def load(text):
            return yaml.load(text, Loader=yaml.CSafeLoader)

        def versions():
            return {d: importlib.metadata.version(d)
                    for d in ("Jinja2", "MarkupSafe", "PyYAML")}

        def report():
            env = jinja2.Environment(loader=jinja2.PackageLoader("tplpkg"))
            return {"render": render(name="<world>"),
                    "templates": env.list_templates(),
                    "yaml": load("a: [1, 2.5, true]\\nb: {c: d}\\n"),
                    "libyaml": yaml.__with_libyaml__,
                    "loader": yaml.CSafeLoader.__module__,
                    "escape": str(markupsafe.escape("<&>")),
                    "versions": versions(),
                    "name": __name__, "doc": __doc__}

        if __name__ == "__main__":
            print("the module's main block never runs on import")
        ''',
    "tplpkg/__init__.py": "",
    "tplpkg/templates/hello.txt": "Hello {{ name|e }}!\n",
    "unused_helper.py": "X = 1\n",
}

# What the host runs: the directory holding the module first on sys.path.
USE = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import plugin
print(json.dumps(plugin.report(), sort_keys=True))
'''

PINS = ("Jinja2", "MarkupSafe", "PyYAML")


@pytest.fixture(scope="module")
def ext_venv():
    """A venv with the dependencies, which the module is built from and
    which python runs the same code in for comparison."""
    return make_venv(KILN_BUILD / "e2e-venv-extension", corpus_pins(*PINS))


@pytest.fixture(scope="module")
def plugin_src(tmp_path_factory):
    src = write_tree(tmp_path_factory.mktemp("plugin-src"), PLUGIN)
    (src / "use.py").write_text(USE)
    return src


def build_plugin(src, venv, out, *args):
    """plugin.py of src built as an extension module into directory out
    (created) with args; returns its Path."""
    out.mkdir(parents=True, exist_ok=True)
    r = kiln_build("plugin.py", "--target", "extension", "--venv", venv,
                   "--paths", ".", "--collect-data", "tplpkg",
                   "--hidden-import", "unused_helper", *args, cwd=src)
    made = [p for p in (src / "dist").iterdir() if p.name.startswith("plugin")]
    assert len(made) == 1, describe(r)
    return Path(shutil.move(str(made[0]), out / made[0].name))


@pytest.fixture(scope="module")
def plugin(plugin_src, ext_venv, tmp_path_factory):
    """The module, built once, alone in a directory of its own."""
    return build_plugin(plugin_src, ext_venv,
                        tmp_path_factory.mktemp("plugin-out"))


@pytest.fixture(scope="module")
def expected(plugin_src, ext_venv):
    """What python prints running USE over the sources with the
    dependencies installed."""
    r = run([ext_venv / "bin" / "python", "-I", plugin_src / "use.py",
             plugin_src])
    assert r.returncode == 0, describe(r)
    got = json.loads(r.stdout)
    assert got["libyaml"] and got["render"] == "Hello &lt;world&gt;!", got
    return got


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory):
    """A venv of KILN_PYTHON with nothing installed, not even pip."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    r = run([KILN_PYTHON, "-m", "venv", "--without-pip", venv], timeout=300)
    assert r.returncode == 0, describe(r)
    return venv


def same_python_hosts():
    """Other builds of KILN_PYTHON's X.Y on this machine (Debian's
    /usr/bin/python3.X, pyenv's X.Y.Z): each must import the module too."""
    major, minor = kiln_python_version()
    own = os.path.realpath(shutil.which(KILN_PYTHON) or KILN_PYTHON)
    pats = [f"/usr/bin/python{major}.{minor}"]
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True) \
        if shutil.which("pyenv") else None
    if root is not None and root.returncode == 0:
        pats.append(os.path.join(root.stdout.strip(), "versions",
                                 f"{major}.{minor}.*", "bin", "python3"))
    found = []
    for pat in pats:
        for p in sorted(glob.glob(pat)):
            if os.access(p, os.X_OK) and os.path.realpath(p) != own:
                found.append(p)
    return found


def other_version_pythons():
    """CPythons of another X.Y installed on this machine (pyenv's,
    /usr/bin's), for the version check."""
    major, minor = kiln_python_version()
    pats = ["/usr/bin/python3.[0-9]*"]
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True) \
        if shutil.which("pyenv") else None
    if root is not None and root.returncode == 0:
        pats.append(os.path.join(root.stdout.strip(), "versions", "*", "bin",
                                 "python3"))
    found = {}
    for pat in pats:
        for p in sorted(glob.glob(pat)):
            r = subprocess.run([p, "-I", "-c", "import sys; print(*sys."
                                "version_info[:2])"], capture_output=True,
                               text=True)
            if r.returncode != 0 or not p[-1].isdigit() and "versions" not in p:
                continue
            v = tuple(int(x) for x in r.stdout.split())
            if v != (major, minor) and v >= (3, 8):
                found.setdefault(v, p)
    return sorted(found.values())


def build_config():
    """KILN_BUILD/config.mk's settings: how kiln compiled and linked
    against the Python it embeds."""
    conf = {}
    for line in (KILN_BUILD / "config.mk").read_text().splitlines():
        name, sep, value = line.partition(":=")
        if sep:
            conf[name.strip()] = value.strip()
    return conf


def run_host(python, plugin_dir, src, *flags):
    r = run([python, *flags, src / "use.py", plugin_dir])
    assert r.returncode == 0, describe(r)
    return json.loads(r.stdout)


def test_file_name_and_symbol(plugin, pyinfo):
    """Named as the host's extension modules are, exporting PyInit_plugin
    and nothing else; kiln inspect lists it as an extension module."""
    assert plugin.name == "plugin" + pyinfo["ext_suffixes"][0]
    r = run(["nm", "-D", "--defined-only", plugin])
    assert r.returncode == 0, describe(r)
    assert [line.split()[-1] for line in r.stdout.splitlines()] == \
        ["PyInit_plugin"], r.stdout
    r = kiln("inspect", plugin)
    assert r.returncode == 0, describe(r)
    assert "runs extension __main__" in r.stdout.splitlines()[0], r.stdout
    names = {line.split()[-1]: line.split()[0]
             for line in r.stdout.splitlines()[2:]}
    assert names["yaml._yaml"] == "extension"
    assert names["jinja2"] == "package"
    assert any(n.lower().startswith("pyyaml-") for n in names)
    # The standard library's extension modules are the host's.
    assert "_json" not in names and "_ssl" not in names
    r = kiln("analyze", plugin)
    assert r.returncode == 0, describe(r)
    lines = r.stdout.splitlines()
    assert "native objects; runs with glibc" in lines[0], r.stdout
    assert lines[1].startswith(f"module {plugin}"), r.stdout
    assert any(line.startswith("extension yaml._yaml ") for line in lines), \
        describe(r)


def test_bare_venv(plugin, plugin_src, bare_venv, expected):
    """A venv with nothing installed imports it and gets what python with
    the dependencies installed gives."""
    assert run_host(bare_venv / "bin" / "python", plugin.parent,
                    plugin_src) == expected


def test_other_builds_of_same_version(plugin, plugin_src, bare_venv,
                                      expected):
    """Every other build of the same X.Y here (Debian's statically linked
    python, pyenv's), isolated from its own site-packages, and
    KILN_PYTHON's own isolated too."""
    for python in [bare_venv / "bin" / "python", *same_python_hosts()]:
        assert run_host(python, plugin.parent, plugin_src, "-I") == \
            expected, python


def test_module_attributes(plugin, bare_venv, tmp_path):
    """The module's namespace is plugin.py's, at a path inside the file;
    its dependencies' __file__ are inside the file too; the host's
    sys.meta_path gets the module's importers, first and last."""
    script = tmp_path / "attrs.py"
    script.write_text(f'''
import sys
sys.path.insert(0, {str(plugin.parent)!r})
import plugin, jinja2, yaml._yaml
so = {str(plugin)!r}
assert plugin.__file__ == so + "/plugin.py", plugin.__file__
assert plugin.__spec__.name == "plugin" and plugin.__package__ == ""
assert jinja2.__file__ == so + "/jinja2/__init__.py", jinja2.__file__
assert yaml._yaml.__file__.startswith(so + "/yaml/_yaml."), yaml._yaml.__file__
assert type(sys.meta_path[0]).__name__ == "BundleImporter", sys.meta_path
assert type(sys.meta_path[-1]).__name__ == "BundleImporter", sys.meta_path
import inspect
assert "def render" in inspect.getsource(plugin.render)
print("ok")
''')
    r = run([bare_venv / "bin" / "python", "-I", script])
    assert r.returncode == 0 and r.stdout == "ok\n", describe(r)


# A C program embedding the same Python (linked as kiln links it): it
# runs USE with DIR on sys.argv, TIMES times (default once), each time in
# a Python it starts and ends.
C_HOST = r'''
#include <Python.h>
#include <stdlib.h>
static int run_once(const char *use, const char *dir)
{
    wchar_t *args[] = {Py_DecodeLocale(use, NULL), Py_DecodeLocale(dir, NULL)};
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    PyConfig_SetArgv(&config, 2, args);
    Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    FILE *f = fopen(use, "r");
    int r = PyRun_SimpleFile(f, use);
    fclose(f);
    PyMem_RawFree(args[0]);
    PyMem_RawFree(args[1]);
    return Py_FinalizeEx() < 0 ? 120 : r ? 1 : 0;
}
int main(int argc, char **argv)
{
    int times = argc > 3 ? atoi(argv[3]) : 1, r = argc < 3 ? 2 : 0;
    while (r == 0 && times-- > 0)
        r = run_once(argv[1], argv[2]);
    return r;
}
'''


def c_host(tmp_path):
    """C_HOST compiled into tmp_path/host."""
    conf = build_config()
    main = tmp_path / "host.c"
    main.write_text(C_HOST)
    exe = tmp_path / "host"
    cc(*shlex.split(conf["PIE_LDFLAGS"]), "-o", exe, main, *python_cflags(),
       *shlex.split(conf["PY_LINK"]))
    return exe


def test_embedded_in_c_host(plugin, plugin_src, expected, tmp_path):
    """A C program embedding the same Python imports the module."""
    r = run([c_host(tmp_path), plugin_src / "use.py", plugin.parent])
    assert r.returncode == 0, describe(r)
    assert json.loads(r.stdout) == expected


def test_c_host_starts_python_twice(plugin, plugin_src, expected, tmp_path):
    """A C host that ends its Python (Py_FinalizeEx) and starts another:
    the module, set up once per process, is refused by the second with
    one clear ImportError (docs/extension.md), not a crash or a traceback
    from inside it."""
    r = run([c_host(tmp_path), plugin_src / "use.py", plugin.parent, "2"])
    assert r.returncode == 1, describe(r)
    assert [json.loads(line) for line in r.stdout.splitlines()] == [expected]
    assert r.stderr.splitlines()[-1] == (
        "ImportError: plugin: a module kiln built is set up once per "
        "process, and the Python that first imported it has ended "
        "(Py_FinalizeEx); import it in a new process"), describe(r)


def test_kiln_program_host(plugin, plugin_src, expected, tmp_path):
    """A program kiln built finds the module on its --runtime-path and
    imports it: the module serves the standard library's Python modules the
    program does not carry, and its paths (PackageLoader's templates) pass
    through the program's own libc layer to the module's."""
    dist = tmp_path / "dist"
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy2(plugin_src / "use.py", app)
    prog = build_program(app, "use.py", "--runtime-path", "$ORIGIN/plugins",
                         output=dist / "host")
    assert "plugin" not in inspect_names(prog)
    (dist / "plugins").mkdir()
    shutil.copy2(plugin, dist / "plugins" / plugin.name)
    r = run([prog, dist / "plugins"])
    assert r.returncode == 0, describe(r)
    assert json.loads(r.stdout) == expected


def test_import_twice_reload_subinterpreter(plugin, bare_venv, tmp_path):
    """As an extension module: a second import after removing it from
    sys.modules makes a new module, importlib.reload runs plugin.py again
    in the same module, and a subinterpreter is refused with one clear
    ImportError."""
    script = tmp_path / "twice.py"
    script.write_text(f'''
import importlib, sys
sys.path.insert(0, {str(plugin.parent)!r})
import plugin
first = plugin
first.marker = 1
assert importlib.reload(plugin) is first and plugin.render(name="a") == "Hello a!"
del sys.modules["plugin"]
import plugin
assert plugin is not first and plugin.render(name="b") == "Hello b!"
assert not hasattr(plugin, "marker")
try:
    import _xxsubinterpreters as interpreters
except ImportError:
    import _interpreters as interpreters
i = interpreters.create()
try:
    failed = interpreters.run_string(
        i, "import sys; sys.path.insert(0, %r); import plugin"
        % {str(plugin.parent)!r})
except Exception as e:
    failed = e
print(getattr(failed, "msg", failed))
''')
    r = run([bare_venv / "bin" / "python", "-I", script])
    assert r.returncode == 0, describe(r)
    # 3.11 hears it from the module; 3.12 and later refuse a module that
    # says it supports no subinterpreter themselves.
    assert ("main interpreter only" in r.stdout or
            "does not support loading in subinterpreters" in r.stdout), \
        describe(r)


LEAK = '''
import gc, resource, sys
sys.path.insert(0, sys.argv[1])
def again(n):
    for _ in range(n):
        sys.modules.pop("plugin", None)
        import plugin
        plugin.render(name="x")
    gc.collect()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
base = again(20)
print(again(300) - base)
'''


def test_no_leak_per_import(plugin, plugin_src, bare_venv, ext_venv,
                            tmp_path):
    """Importing the module again and again (its code run each time, as a
    plain module's would be) grows the process no more than the same loop
    over plugin.py from source in a venv, give or take a MiB."""
    script = tmp_path / "leak.py"
    script.write_text(LEAK)
    grown = {}
    for who, python, where in (("kiln", bare_venv, plugin.parent),
                               ("python", ext_venv, plugin_src)):
        r = run([python / "bin" / "python", "-I", script, where], timeout=300)
        assert r.returncode == 0, describe(r)
        grown[who] = int(r.stdout)
    assert grown["kiln"] <= grown["python"] + 1024, grown


def test_host_imports_left_alone(plugin, bare_venv, tmp_path):
    """The host's own imports go past the module's importer: a module the
    module carries but has not imported is not found by the host, and the
    host's importlib.metadata does not see the module's distributions."""
    script = tmp_path / "host_side.py"
    script.write_text(f'''
import importlib.metadata, sys
sys.path.insert(0, {str(plugin.parent)!r})
import plugin
assert plugin.versions()["Jinja2"] == "3.1.4"
try:
    import unused_helper
except ModuleNotFoundError as e:
    print("host:", e)
try:
    importlib.metadata.version("Jinja2")
except importlib.metadata.PackageNotFoundError:
    print("host: no Jinja2 distribution")
''')
    r = run([bare_venv / "bin" / "python", "-I", script])
    assert r.returncode == 0, describe(r)
    assert r.stdout == ("host: No module named 'unused_helper'\n"
                        "host: no Jinja2 distribution\n"), describe(r)


@pytest.fixture(scope="module")
def old_jinja_venv():
    """A host venv with another Jinja2 than the module carries."""
    return make_venv(KILN_BUILD / "e2e-venv-extension-host",
                     ("Jinja2==3.1.2", *corpus_pins("MarkupSafe")))


POLICY = '''
import importlib.metadata, sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("always")
if sys.argv[2] == "host-first":
    import jinja2
with warnings.catch_warnings(record=True) as caught:
    import plugin
import jinja2
print(plugin.jinja2.__version__, jinja2 is plugin.jinja2,
      importlib.metadata.version("Jinja2"), plugin.versions()["Jinja2"],
      plugin.yaml.__with_libyaml__)
for w in caught:
    print(w.category.__name__, w.message)
'''


@pytest.mark.parametrize("order", ["plugin-first", "host-first"])
def test_dependencies_bundled(plugin, old_jinja_venv, tmp_path, order):
    """--dependencies bundled (the default), with the host having Jinja2
    3.1.2 installed: imported first, the module gets the Jinja2 it carries
    (3.1.4), which the host then shares (sys.modules is one per
    interpreter) while its metadata stays the host's; when the host
    imported its own first, the module gets that one, with a
    RuntimeWarning saying so."""
    script = tmp_path / "policy.py"
    script.write_text(POLICY)
    r = run([old_jinja_venv / "bin" / "python", "-I", script, plugin.parent,
             order])
    assert r.returncode == 0, describe(r)
    lines = r.stdout.splitlines()
    if order == "plugin-first":
        assert lines == ["3.1.4 True 3.1.2 3.1.4 True"], describe(r)
    else:
        assert lines[0] == "3.1.2 True 3.1.2 3.1.4 True", describe(r)
        assert lines[1:] == [
            f"RuntimeWarning plugin: the host imported {m} before it, so "
            f"plugin uses the host's {m}, not the one it carries "
            "(sys.modules is one per interpreter)"
            for m in ("jinja2", "markupsafe")], describe(r)


def test_dependencies_host(plugin_src, ext_venv, old_jinja_venv, tmp_path):
    """--dependencies host: the host's installed modules first (Jinja2
    3.1.2, and its metadata), what the module carries only for what the
    host lacks (PyYAML)."""
    so = build_plugin(plugin_src, ext_venv, tmp_path / "out",
                      "--dependencies", "host")
    script = tmp_path / "policy.py"
    script.write_text(POLICY)
    r = run([old_jinja_venv / "bin" / "python", "-I", script, so.parent,
             "plugin-first"])
    assert r.returncode == 0, describe(r)
    assert r.stdout == "3.1.2 True 3.1.2 3.1.2 True\n", describe(r)


def test_nothing_written(plugin, plugin_src, bare_venv, strace_exe, tmp_path):
    """Importing and using the module writes nothing anywhere (native code
    goes to memory files) and leaves its directory as it was."""
    before = sorted(os.listdir(plugin.parent))
    log = tmp_path / "trace"
    r = run([strace_exe, "-f", "-qq", "-o", log, "-e",
             "trace=open,openat,creat,mkdir,mkdirat,rename,renameat,"
             "renameat2,unlink,unlinkat,memfd_create",
             bare_venv / "bin" / "python", "-I", plugin_src / "use.py",
             plugin.parent])
    assert r.returncode == 0, describe(r)
    writes = [line for line in log.read_text().splitlines()
              if re.search(r"O_WRONLY|O_RDWR|O_CREAT|creat\(|mkdir|rename|"
                           r"unlink", line) and "/dev/" not in line]
    assert writes == [], "\n".join(writes)
    assert "memfd_create" in log.read_text()
    assert sorted(os.listdir(plugin.parent)) == before


def test_plain_suffix_and_version_check(plugin_src, ext_venv, tmp_path):
    """--suffix .so gives plugin.so, which any Python finds; a Python of
    another version gets one ImportError naming both versions, from a C
    host that says it is 3.99 and from every other CPython installed
    here."""
    so = build_plugin(plugin_src, ext_venv, tmp_path / "out",
                      "--suffix", ".so")
    assert so.name == "plugin.so"
    major, minor = kiln_python_version()
    want = (f"ImportError: this module was built by kiln for Python "
            f"{major}.{minor} and cannot be imported by Python {{}}; build it "
            f"again with a kiln for that Python")
    conf = build_config()
    main = tmp_path / "fake.c"
    main.write_text(r'''
#include <Python.h>
const char *Py_GetVersion(void) { return "3.99.0 (a fake host)"; }
int main(int argc, char **argv)
{
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    PyObject *path = PySys_GetObject("path");
    PyList_Insert(path, 0, PyUnicode_DecodeFSDefault(argv[1]));
    if (PyImport_ImportModule("plugin") == NULL)
        PyErr_Print();
    return 0;
}
''')
    exe = tmp_path / "fake"
    cc(*shlex.split(conf["PIE_LDFLAGS"]), "-o", exe, main, *python_cflags(),
       *shlex.split(conf["PY_LINK"]), "-Wl,--allow-multiple-definition")
    r = run([exe, so.parent])
    assert r.returncode == 0, describe(r)
    assert r.stderr.strip().splitlines()[-1] == want.format("3.99.0"), \
        describe(r)
    for python in other_version_pythons():
        r = run([python, "-I", "-c", "import sys; sys.path.insert(0, "
                 f"{str(so.parent)!r}); import plugin"])
        version = run([python, "-I", "-c", "import platform; "
                       "print(platform.python_version())"]).stdout.strip()
        assert r.returncode == 1, describe(r)
        assert r.stderr.strip().splitlines()[-1] == want.format(version), \
            describe(r)


def test_from_package(tmp_path, bare_venv):
    """-m PKG: the module is the package, its submodules and data served
    from the file (relative imports, importlib.resources)."""
    src = write_tree(tmp_path / "src", {
        "mypkg/__init__.py": '''
            from . import sub
            from importlib.resources import files
            def data():
                return files(__name__).joinpath("data.txt").read_text()
            ''',
        "mypkg/sub.py": "VALUE = 'sub'\n",
        "mypkg/later.py": "VALUE = 'later'\n",
        "mypkg/data.txt": "payload\n",
    })
    kiln_build("-m", "mypkg", "--target", "extension", "--suffix", ".so",
               "--collect", "mypkg", "-o", tmp_path / "out" / "mypkg.so",
               cwd=src)
    script = tmp_path / "use.py"
    script.write_text(f'''
import sys
sys.path.insert(0, {str(tmp_path / "out")!r})
import mypkg, mypkg.later
print(mypkg.sub.VALUE, mypkg.later.VALUE, mypkg.data().strip(), mypkg.__path__)
''')
    r = run([bare_venv / "bin" / "python", "-I", script])
    assert r.returncode == 0, describe(r)
    assert r.stdout == (f"sub later payload "
                        f"['{tmp_path / 'out' / 'mypkg.so'}/mypkg']\n"), \
        describe(r)


@pytest.mark.parametrize("args, message", [
    (["--target", "library"], "--target library: the targets are program "
                              "and extension"),
    (["--suffix", ".so"], "--suffix only applies with --target extension"),
    (["--target", "extension", "--suffix", "x"],
     "--suffix x: an extension module's file name ends in .so"),
    (["--target", "extension", "--dependencies", "mine"],
     "--dependencies mine: it is bundled or host"),
    (["--target", "extension", "--onedir"],
     "--onedir does not apply to an extension module"),
    (["--target", "extension", "--runtime-hook", "h.py"],
     "--runtime-hook does not apply to an extension module"),
    (["-m", "pkg.sub", "--target", "extension"],
     "-m pkg.sub: an extension module is built from a top-level module"),
    (["-m", "pkg", "--target", "extension", "--name", "other"],
     "--name other: an extension module built from -m MODULE has MODULE's "
     "name"),
])
def test_usage_errors(tmp_path, args, message):
    """Options that make no sense for an extension module are refused in
    one line, status 2."""
    (tmp_path / "m.py").write_text("X = 1\n")
    r = kiln("build", *([] if "-m" in args else ["m.py"]), *args,
             cwd=tmp_path)
    assert r.returncode == 2, describe(r)
    assert message in r.stderr and len(r.stderr.strip().splitlines()) <= 2, \
        describe(r)
    assert not (tmp_path / "dist").exists()


def test_name_must_be_an_identifier(tmp_path):
    """A module name no PyInit_ symbol can carry is one error line."""
    (tmp_path / "m.py").write_text("X = 1\n")
    r = kiln("build", "m.py", "--target", "extension", "--name", "my-mod",
             cwd=tmp_path)
    assert r.returncode == 1, describe(r)
    assert r.stderr.strip().splitlines() == [
        "kiln: error: my-mod is not a module name an extension module can "
        "have (letters, digits and _, not starting with a digit): give "
        "another with --name"], describe(r)


def test_project_table(tmp_path, bare_venv):
    """[tool.kiln] target = "extension" with module = ...: a project's
    extension module; without module, one line saying to set it."""
    src = write_tree(tmp_path / "proj", {
        "pyproject.toml": '''
            [tool.kiln]
            target = "extension"
            module = "tool"
            suffix = ".so"
            ''',
        "tool.py": "def answer():\n    return 42\n",
    })
    kiln_build(cwd=src)
    r = run([bare_venv / "bin" / "python", "-I", "-c",
             f"import sys; sys.path.insert(0, {str(src / 'dist')!r}); "
             "import tool; print(tool.answer())"])
    assert (r.returncode, r.stdout) == (0, "42\n"), describe(r)
    (src / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\n'
        '[project.scripts]\np = "tool:answer"\n'
        '[tool.kiln]\ntarget = "extension"\n')
    r = kiln("build", cwd=src)
    assert r.returncode == 1, describe(r)
    assert r.stderr.strip().splitlines() == [
        "kiln: error: pyproject.toml: an extension module is built from a "
        "module: set module in [tool.kiln] (the project's scripts are "
        "programs)"], describe(r)
