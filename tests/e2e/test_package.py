"""A package application: subpackages, relative imports, __main__.py (-m),
--entry MOD:FUNC, argv, module dunders, a namespace package, and the
introspection that needs bundled source (inspect, linecache, find_spec)."""
import json
import os

import pytest

from conftest import (build_program, describe, inspect_names, kiln, run,
                      write_tree)

APP = {
    "mypkg/__init__.py": """
        VERSION = "1.2"
        from .core import greet
    """,
    "mypkg/__main__.py": """
        import json
        import sys
        from . import core
        from .sub import helper
        from .sub.deep import leaf
        import nsdata.nsmod
        import nsdata

        def _try(f):
            try:
                return f()
            except Exception as e:
                return f"{type(e).__name__}: {e}"

        def report():
            import importlib.util
            import inspect
            import linecache
            import mypkg
            spec = importlib.util.find_spec("mypkg.sub.helper")
            src = inspect.getsource(helper.twice)
            return {
                "argv": sys.argv,
                "name": __name__,
                "spec_name": __spec__.name if __spec__ else None,
                "file": __file__,
                "package": __package__,
                "frozen": getattr(sys, "frozen", None),
                "executable": sys.executable,
                "pkg_file": mypkg.__file__,
                "pkg_path": list(mypkg.__path__),
                "core_file": core.__file__,
                "core_name": core.__name__,
                "core_spec_name": core.__spec__.name,
                "helper_file": helper.__file__,
                "leaf_file": leaf.__file__,
                "greet": core.greet("kiln"),
                "twice": helper.twice(21),
                "leaf": leaf.value(),
                "ns_file": getattr(nsdata, "__file__", None),
                "ns_path": list(nsdata.__path__),
                "nsmod_file": nsdata.nsmod.__file__,
                "nsmod_value": nsdata.nsmod.VALUE,
                "spec_origin": spec.origin,
                "spec_locations": spec.submodule_search_locations,
                "pkg_spec_locations": list(importlib.util.find_spec("mypkg").submodule_search_locations),
                "getsource": src,
                "linecache": linecache.getline(helper.__file__, 3),
                "main_getsource": _try(lambda: inspect.getsource(report).splitlines()[0]),
                "main_linecache": linecache.getline(__file__, 1),
                "getsourcefile": inspect.getsourcefile(helper.twice),
            }

        if __name__ == "__main__":
            if sys.argv[1:] == ["crash"]:
                raise ValueError("crash in main")
            if sys.argv[1:] == ["crash-core"]:
                core.crash()
            print(json.dumps(report()))
    """,
    "mypkg/core.py": """
        from .sub.helper import twice

        def greet(who):
            return f"hello {who} {twice(1)}"

        def crash():
            raise KeyError("crash in core")
    """,
    "mypkg/sub/__init__.py": "",
    "mypkg/sub/helper.py": """
        # helper module: line 1
        # line 2
        def twice(x):
            \"\"\"Return two times x.\"\"\"
            return 2 * x
    """,
    "mypkg/sub/deep/__init__.py": "",
    "mypkg/sub/deep/leaf.py": """
        from ..helper import twice
        from ... import core
        from .. import helper

        def value():
            return [twice(5), helper.twice(1), core.greet("leaf")]
    """,
    "mypkg/cli.py": """
        import sys

        def ret_int():
            print("args", sys.argv[1:])
            return 7

        def ret_none():
            print("none here")

        def ret_str():
            return "a message from ret_str"

        def ret_zero():
            return 0

        class Tool:
            @staticmethod
            def run():
                return 5
    """,
    "nsdata/nsmod.py": """
        VALUE = "namespace ok"
    """,
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    d = tmp_path_factory.mktemp("pkgapp")
    write_tree(d / "src", APP)
    return d


@pytest.fixture(scope="module")
def prog(app):
    return build_program(app / "src", "-m", "mypkg", output=app / "out" / "mypkg")


@pytest.fixture(scope="module")
def report(prog):
    r = run([prog, "one", "two words", "", "ünï ☃", "--flag"])
    assert r.returncode == 0, describe(r)
    assert r.stderr == "", describe(r)
    return json.loads(r.stdout)


def test_runs_as_module(report):
    assert report["name"] == "__main__"
    assert report["spec_name"] == "mypkg.__main__"
    assert report["package"] == "mypkg"
    assert report["frozen"] is True


def test_argv_passthrough(report, prog):
    assert report["argv"][1:] == ["one", "two words", "", "ünï ☃", "--flag"]
    assert report["argv"][0] == str(prog)


def test_sys_executable_is_the_program(report, prog):
    assert report["executable"] == str(prog)


def test_file_values(report, prog):
    p = str(prog)
    assert report["file"] == f"{p}/mypkg/__main__.py"
    assert report["pkg_file"] == f"{p}/mypkg/__init__.py"
    assert report["pkg_path"] == [f"{p}/mypkg"]
    assert report["core_file"] == f"{p}/mypkg/core.py"
    assert report["core_name"] == "mypkg.core"
    assert report["core_spec_name"] == "mypkg.core"
    assert report["helper_file"] == f"{p}/mypkg/sub/helper.py"
    assert report["leaf_file"] == f"{p}/mypkg/sub/deep/leaf.py"


def test_relative_imports(report):
    assert report["greet"] == "hello kiln 2"
    assert report["twice"] == 42
    assert report["leaf"] == [10, 2, "hello leaf 2"]


def test_namespace_package(report, prog):
    assert report["ns_file"] is None
    assert report["ns_path"] == [f"{prog}/nsdata"]
    assert report["nsmod_file"] == f"{prog}/nsdata/nsmod.py"
    assert report["nsmod_value"] == "namespace ok"
    assert inspect_names(prog).get("nsdata") == "namespace"


def test_find_spec_origin_is_inside_program(report, prog):
    assert report["spec_origin"] == f"{prog}/mypkg/sub/helper.py"
    assert report["spec_locations"] is None
    assert report["pkg_spec_locations"] == [f"{prog}/mypkg"]


def test_inspect_getsource_and_linecache(report, prog):
    assert report["getsource"] == (
        "def twice(x):\n"
        '    """Return two times x."""\n'
        "    return 2 * x\n")
    assert report["linecache"] == "def twice(x):\n"
    assert report["main_getsource"] == "def report():"
    assert report["main_linecache"] == "import json\n"
    assert report["getsourcefile"] == f"{prog}/mypkg/sub/helper.py"


def test_traceback_source_lines_in_module_mode(prog):
    """A traceback through __main__.py (run with -m) and through another
    module of the package shows their source lines."""
    r = run([prog, "crash"])
    assert r.returncode == 1, describe(r)
    assert f'File "{prog}/mypkg/__main__.py", line ' in r.stderr, describe(r)
    assert 'raise ValueError("crash in main")' in r.stderr, describe(r)
    assert r.stderr.rstrip().endswith("ValueError: crash in main")
    r = run([prog, "crash-core"])
    assert r.returncode == 1, describe(r)
    assert f'File "{prog}/mypkg/core.py", line 7, in crash' in r.stderr
    assert 'raise KeyError("crash in core")' in r.stderr, describe(r)
    assert 'core.crash()' in r.stderr, describe(r)


def test_inspect_header_says_module_mode(prog):
    r = kiln("inspect", prog)
    assert r.returncode == 0, describe(r)
    assert "runs module mypkg" in r.stdout.splitlines()[0], describe(r)


def test_default_output_name_for_module(app, tmp_path):
    r = kiln("build", "-m", "mypkg", cwd=app / "src")
    try:
        assert r.returncode == 0, describe(r)
        assert (app / "src" / "dist" / "mypkg").is_file()
    finally:
        import shutil
        shutil.rmtree(app / "src" / "dist", ignore_errors=True)


# ---- --entry -------------------------------------------------------------


@pytest.fixture(scope="module")
def entry(app):
    """Build once per entry function (lazily) and cache."""
    built = {}

    def get(func):
        if func not in built:
            built[func] = build_program(
                app / "src", "--entry", f"mypkg.cli:{func}",
                output=app / "out" / f"entry-{func.replace('.', '_')}")
        return built[func]
    return get


def test_entry_returning_int_is_exit_status(entry):
    r = run([entry("ret_int"), "a", "b c"])
    assert r.returncode == 7, describe(r)
    assert r.stdout == "args ['a', 'b c']\n"
    assert r.stderr == ""


def test_entry_returning_none_exits_0(entry):
    r = run([entry("ret_none")])
    assert (r.returncode, r.stdout, r.stderr) == (0, "none here\n", ""), describe(r)


def test_entry_returning_str_prints_it_and_exits_1(entry):
    r = run([entry("ret_str")])
    assert r.returncode == 1, describe(r)
    assert r.stderr == "a message from ret_str\n", describe(r)
    assert r.stdout == ""


def test_entry_dotted_attribute(entry):
    r = run([entry("Tool.run")])
    assert r.returncode == 5, describe(r)


def test_entry_header(entry):
    r = kiln("inspect", entry("ret_int"))
    assert "runs entry mypkg.cli:ret_int" in r.stdout.splitlines()[0], describe(r)


def test_entry_missing_function_fails_cleanly(app, tmp_path):
    """A function that does not exist: a build error or a clean run-time
    AttributeError, never a crash."""
    out = tmp_path / "nofunc"
    r = kiln("build", "--entry", "mypkg.cli:no_such_func", "-o", out,
             cwd=app / "src")
    if r.returncode != 0:
        assert r.stderr.startswith("kiln: error:"), describe(r)
        return
    r = run([out])
    assert r.returncode == 1, describe(r)
    assert "AttributeError" in r.stderr and "no_such_func" in r.stderr


def test_module_without_main_is_an_error(tmp_path):
    write_tree(tmp_path, {"nomain/__init__.py": "X = 1\n"})
    r = kiln("build", "-m", "nomain", "-o", tmp_path / "p", cwd=tmp_path)
    assert r.returncode == 1, describe(r)
    assert r.stderr.startswith("kiln: error:") and "__main__" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, describe(r)
    assert not (tmp_path / "p").exists()


def test_env_pythonpath_does_not_shadow_bundled_modules(prog, report, tmp_path):
    """PYTHONPATH with a fake mypkg/json is ignored by a built program."""
    evil = tmp_path / "evil"
    write_tree(evil, {"json/__init__.py": "raise SystemExit('evil json')\n",
                      "mypkg/__init__.py": "raise SystemExit('evil mypkg')\n"})
    env = dict(os.environ, PYTHONPATH=str(evil), PYTHONSAFEPATH="")
    r = run([prog, "x"], env=env, cwd=evil)
    assert r.returncode == 0, describe(r)
    assert json.loads(r.stdout)["greet"] == "hello kiln 2"


def test_report_matches_python(app, prog, report):
    """`python -m mypkg` from the source tree gives the same report, with
    the source directory in place of the program path."""
    from conftest import KILN_PYTHON
    src = app / "src"
    r = run([KILN_PYTHON, "-m", "mypkg", "one", "two words", "", "ünï ☃",
             "--flag"], cwd=src)
    assert r.returncode == 0, describe(r)
    expected = json.loads(r.stdout.replace(str(src), str(prog)))
    # main_* are checked by test_inspect_getsource_and_linecache
    for key in ("argv", "executable", "frozen", "main_getsource",
                "main_linecache"):
        expected.pop(key)
    got = {k: v for k, v in report.items() if k in expected}
    assert got == expected


# ---- imports inside the run module's `if __name__ == "__main__":` block ----

MAINBLOCK_APP = {
    "mbpkg/__init__.py": "",
    "mbpkg/__main__.py": """
        import sys
        if __name__ == "__main__":
            from . import only_in_main
            print("main", only_in_main.VALUE)
    """,
    "mbpkg/tool.py": """
        if __name__ == "__main__":
            from . import only_in_tool
            print("tool", only_in_tool.VALUE)
    """,
    "mbpkg/only_in_main.py": "VALUE = 'm'\n",
    "mbpkg/only_in_tool.py": "VALUE = 't'\n",
    "script.py": """
        if __name__ == "__main__":
            from mbpkg import only_in_tool
            print("script", only_in_tool.VALUE)
    """,
}


@pytest.mark.parametrize("args,expected", [
    (["-m", "mbpkg"], "main m\n"),
    (["-m", "mbpkg.tool"], "tool t\n"),
    (["script.py"], "script t\n"),
], ids=["package", "module", "script"])
def test_imports_in_main_block_of_the_run_module(tmp_path, args, expected):
    """The module the program runs as __main__ has its main block run, so
    the imports there must be bundled (kiln skips only *other* modules'
    main blocks)."""
    write_tree(tmp_path, MAINBLOCK_APP)
    prog = build_program(tmp_path, *args, output=tmp_path / "prog")
    r = run([prog])
    assert (r.returncode, r.stdout, r.stderr) == (0, expected, ""), describe(r)


# ---- submodules reached without an explicit import statement ------------

STAR_APP = {
    "starpkg/__init__.py": "from .mods import *\n",
    "starpkg/mods/__init__.py": '__all__ = ["alpha", "beta"]\n',
    "starpkg/mods/alpha.py": "A = 1\n",
    "starpkg/mods/beta.py": "B = 2\n",
    "app.py": """
        import pkgutil
        import sys
        import starpkg
        if sys.argv[1:] == ["iter"]:
            import starpkg.mods
            print(sorted(m.name for m in pkgutil.iter_modules(starpkg.mods.__path__)))
        else:
            print(starpkg.alpha.A, starpkg.beta.B)
    """,
}


@pytest.fixture(scope="module")
def star(tmp_path_factory):
    d = tmp_path_factory.mktemp("star")
    write_tree(d, STAR_APP)
    out = d / "prog"
    r = kiln("build", "app.py", "-o", out, cwd=d)
    assert r.returncode == 0, describe(r)
    return d, out, r


def test_star_import_of_submodules_named_in_all(star):
    """`from .mods import *` imports the submodules that mods.__all__ names
    (python's import semantics); they must be bundled, or at least the
    build must warn."""
    d, prog, build = star
    from conftest import python_run
    p = python_run(d / "app.py")
    assert (p.returncode, p.stdout) == (0, "1 2\n"), describe(p)
    r = run([prog])
    assert (r.returncode, r.stdout, r.stderr) == (0, "1 2\n", ""), \
        describe(r) + "\n--- build stderr ---\n" + build.stderr


def test_pkgutil_iter_modules_lists_bundled_submodules(star, tmp_path):
    d, _prog, _build = star
    # A build that bundles the submodules explicitly, so only iter_modules
    # is tested here.
    prog = build_program(d, "app.py", "--hidden-import", "starpkg.mods.alpha",
                         "--hidden-import", "starpkg.mods.beta",
                         output=tmp_path / "prog")
    r = run([prog, "iter"])
    assert (r.returncode, r.stdout) == (0, "['alpha', 'beta']\n"), describe(r)
