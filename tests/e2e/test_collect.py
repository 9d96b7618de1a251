"""Collection without hooks, on small stand-in packages: package data and
how a program reads it, --collect and --collect-data, imports by literal
and computed name, and what distributions declare deciding optional
imports (Requires-Dist, extras), entry points, and what the report says
about every module left out."""
import pytest

from conftest import (Bundle, assert_one_error_line, build_program, describe,
                      kiln_build, run, write_tree)

APP = {
    "app.py": """
        import importlib
        import importlib.util
        import pkgutil
        import platform
        import sys

        import pkg
        import plugins
        import distapp

        print(pkgutil.get_data("pkg", "templates/page.html").decode())
        print(pkg.__loader__.get_data(
            pkg.__file__.replace("__init__.py", "data/deep/x.txt")).decode())
        print(importlib.import_module("colorsys").rgb_to_hsv(1.0, 0.0, 0.0))
        print(importlib.util.find_spec("html.parser") is not None)
        print(plugins.load("alpha"), plugins.load("beta"))
        print(distapp.summary())
        if sys.argv[1:] == ["collect"]:
            print(pkg.__loader__.get_data(
                pkg.__file__.replace("__init__.py", "sub/own.txt")).decode())
            # A computed name in a top-level module: no package to mark.
            print(importlib.import_module(".".join(["pkg", "sub"])).NAME)
    """,
    "pkg/__init__.py": "from . import rel\n",
    "pkg/rel.py": """
        import importlib
        TWO = importlib.import_module(".two", __package__).VALUE
    """,
    "pkg/two.py": "VALUE = 2\n",
    "pkg/templates/page.html": "<p>page</p>",
    "pkg/data/deep/x.txt": "deep data",
    "pkg/notes.c": "int x;",
    "pkg/types.pyi": "x: int",
    "pkg/sub/__init__.py": "NAME = 'sub'\n",
    "pkg/sub/own.txt": "sub data",
    "plugins/__init__.py": """
        import importlib
        def load(name):
            return importlib.import_module(f"{__name__}.{name}").NAME
    """,
    "plugins/alpha.py": "NAME = 'alpha'\n",
    "plugins/beta.py": "NAME = 'beta'\n",
}

# Installed distributions (in a site-packages of their own):
#   distapp   requires helper (with a platform marker), fast only as an
#             extra; tries helper, fast, other; plugin entry points
#   helper, fast, other: small packages
#   vms_lib   what platform.py tries (OpenVMS's), guarded
SITE = {
    "distapp/__init__.py": """
        try:
            import helper
        except ImportError:
            helper = None
        try:
            import fast
        except ImportError:
            fast = None
        try:
            from distapp import _speedups
        except ImportError:
            _speedups = None
        def later():
            import other
        def summary():
            return (helper.NAME if helper else None, fast)
    """,
    "distapp/plugin.py": "NAME = 'plugin'\n",
    "distapp/cli.py": "import does_not_exist_cli\n",
    "distapp/testing.py": "import does_not_exist_testing\n",
    "distapp/data.json": "{}",
    "distapp-1.0.dist-info/METADATA": (
        "Metadata-Version: 2.1\nName: distapp\nVersion: 1.0\n"
        "Requires-Dist: helper>=1; platform_system != 'Nowhere'\n"
        "Requires-Dist: fast; extra == 'speed'\n"),
    "distapp-1.0.dist-info/RECORD": (
        "distapp/__init__.py,,\ndistapp/plugin.py,,\ndistapp/cli.py,,\n"
        "distapp/testing.py,,\n"
        "distapp/data.json,,\ndistapp-1.0.dist-info/METADATA,,\n"
        "distapp-1.0.dist-info/RECORD,,\n"),
    "distapp-1.0.dist-info/entry_points.txt": (
        "[console_scripts]\ndistapp = distapp.cli:main\n"
        "[distapp.plugins]\nplug = distapp.plugin:NAME\n"
        "[other.plugins]\nx = other:x\n"
        "[pytest11]\ndistapp = distapp.testing\n"),
    "distapp-1.0.dist-info/INSTALLER": "pip\n",
    "helper/__init__.py": "NAME = 'helper'\n",
    "helper-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: helper\n",
    "helper-1.0.dist-info/RECORD": "helper/__init__.py,,\n",
    "fast.py": "",
    "fast-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: fast\n",
    "fast-1.0.dist-info/RECORD": "fast.py,,\n",
    "other/__init__.py": "",
    "other-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: other\n",
    "other-1.0.dist-info/RECORD": "other/__init__.py,,\n",
    "vms_lib.py": "",
    "vms_lib-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: vms_lib\n",
    "vms_lib-1.0.dist-info/RECORD": "vms_lib.py,,\n",
}

EXPECTED = ["<p>page</p>", "deep data", "(0.0, 1.0, 1.0)", "True",
            "alpha beta", "('helper', None)"]



def native_stand_ins(site, suffix):
    """Extension modules of distapp that only kiln reads (they are no ELF
    objects, so importing them fails): _speedups names modules in its
    strings, as C code that imports them does; mypyc helpers are listed in
    RECORD."""
    (site / f"distapp/_speedups{suffix}").write_bytes(
        b"\x7fXXX\0distapp._strings_only\0other\0helper\0")
    (site / "distapp/_strings_only.py").write_text("")
    (site / f"distapp/core__mypyc{suffix}").write_bytes(b"\0")
    (site / f"0abc123__mypyc{suffix}").write_bytes(b"\0")
    with open(site / "distapp-1.0.dist-info/RECORD", "a") as f:
        f.write(f"distapp/_speedups{suffix},,\ndistapp/_strings_only.py,,\n"
                f"distapp/core__mypyc{suffix},,\n0abc123__mypyc{suffix},,\n")


@pytest.fixture(scope="module")
def app(tmp_path_factory, pyinfo):
    d = tmp_path_factory.mktemp("collect")
    write_tree(d, APP)
    write_tree(d / "env" / "site-packages", SITE)
    native_stand_ins(d / "env" / "site-packages", pyinfo["ext_suffixes"][0])
    return d


@pytest.fixture(scope="module")
def built(app):
    out = app / "dist" / "app"
    r = kiln_build("app.py", "--paths", app / "env" / "site-packages",
                   "-v", "-o", out, cwd=app)
    return out, Bundle.read(out).entries, r.stderr


def test_program_runs_and_reads_package_data(built):
    prog, _, _ = built
    r = run([prog])
    assert r.returncode == 0, describe(r)
    assert r.stdout.splitlines() == EXPECTED, describe(r)


def test_package_data_is_where_the_package_is(built):
    _, entries, _ = built
    kinds = {n: e["kind"] for n, e in entries.items()}
    assert kinds["pkg/templates/page.html"] == "pkgdata"
    assert kinds["pkg/data/deep/x.txt"] == "pkgdata"
    assert kinds["distapp/data.json"] == "pkgdata"
    for left_out in ("pkg/notes.c", "pkg/types.pyi", "pkg/sub/own.txt",
                     "pkg/__init__.py"):
        assert left_out not in kinds, left_out
    assert "pkg.sub" not in kinds  # never imported


def test_imports_by_name(built):
    _, entries, _ = built
    for name in ("colorsys", "html.parser", "pkg.two", "plugins.alpha",
                 "plugins.beta"):
        assert name in entries, name


def test_optional_imports_follow_requires_dist(built):
    _, entries, log = built
    assert "helper" in entries                # required (other marker)
    assert "fast" not in entries              # required only by an extra
    assert "other" not in entries             # not required at all
    assert "platform" in entries
    assert "vms_lib" not in entries           # the stdlib's optional import
    assert "left out fast" in log and "distapp does not require fast" in log
    assert "distapp does not require other" in log
    assert "the standard library imports vms_lib only optionally" in log


def test_modules_only_native_code_imports(built):
    _, entries, _ = built
    assert entries["distapp._speedups"]["kind"] == "extension"
    assert "distapp._strings_only" in entries    # named in its strings
    assert entries["distapp.core__mypyc"]["kind"] == "extension"
    assert entries["0abc123__mypyc"]["kind"] == "extension"
    assert "other" not in entries                # not required by distapp


def test_entry_points_whose_host_is_in_but_not_scripts(built):
    _, entries, log = built
    assert "distapp.plugin" in entries          # [distapp.plugins]
    assert "distapp.cli" not in entries         # [console_scripts]
    assert "distapp.testing" not in entries     # [pytest11]: no pytest here
    assert "other" not in entries               # [other.plugins]
    assert "does_not_exist_cli" not in log
    assert "does_not_exist_testing" not in log


def test_metadata_of_collected_distributions(built):
    _, entries, _ = built
    assert entries["distapp-1.0.dist-info/METADATA"]["kind"] == "metadata"
    assert entries["distapp-1.0.dist-info/entry_points.txt"]["kind"] == \
        "metadata"
    assert "distapp-1.0.dist-info/INSTALLER" not in entries
    assert "helper-1.0.dist-info/RECORD" in entries
    assert not [n for n in entries if n.startswith(("fast-", "other-",
                                                    "vms_lib-"))]


def test_report_says_why_and_where_from(built):
    _, _, log = built
    lines = log.splitlines()
    plugin = [l for l in lines if " distapp.plugin " in l]
    assert plugin and "entry point" in plugin[0] and "from distapp" in \
        plugin[0], lines
    alpha = [l for l in lines if " plugins.alpha " in l]
    assert alpha and "computed name" in alpha[0], lines


def test_app_import_brings_in_what_a_library_left_out(app):
    write_tree(app, {"app2.py": """
        import distapp
        import other
        print(distapp.summary(), other.__name__)
    """})
    out = build_program(app, "app2.py", "--paths",
                        app / "env" / "site-packages",
                        output=app / "dist" / "app2")
    entries = Bundle.read(out).entries
    assert "other" in entries and "other-1.0.dist-info/METADATA" in entries
    assert "fast" not in entries


def test_add_data_wins_over_the_package_copy(app):
    write_tree(app, {"override/page.html": "<p>mine</p>"})
    out = build_program(app, "app.py", "--paths",
                        app / "env" / "site-packages", "--add-data",
                        "override/page.html:pkg/templates",
                        output=app / "dist" / "override")
    assert Bundle.read(out).entries["pkg/templates/page.html"]["kind"] == \
        "data"
    r = run([out])
    assert r.returncode == 0, describe(r)
    assert r.stdout.splitlines() == ["<p>mine</p>"] + EXPECTED[1:]


@pytest.mark.parametrize("option", ["--collect", "--collect-data"])
def test_collect_options(app, option):
    out = build_program(app, "app.py", "--paths",
                        app / "env" / "site-packages", option, "pkg",
                        output=app / "dist" / option.strip("-"))
    entries = Bundle.read(out).entries
    assert entries["pkg/sub/own.txt"]["kind"] == "pkgdata"
    assert ("pkg.sub" in entries) == (option == "--collect")
    r = run([out, "collect"])
    if option == "--collect":
        assert r.returncode == 0, describe(r)
        assert r.stdout.splitlines() == EXPECTED + ["sub data", "sub"]
    else:
        assert r.stdout.splitlines()[len(EXPECTED)] == "sub data", \
            describe(r)


def test_collect_of_a_missing_package_is_one_error_line(app):
    r = kiln_build("app.py", "--collect", "no_such_pkg_xyz", "-o",
                   app / "dist" / "never", cwd=app, expect_ok=False)
    assert_one_error_line(r)
    assert r.stderr.startswith("kiln: error: --collect: module "
                               "'no_such_pkg_xyz' not found"), describe(r)
