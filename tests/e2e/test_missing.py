"""Modules that cannot be found, --hidden-import and --exclude-module."""
import pytest

from conftest import (build_program, describe, inspect_names, kiln,
                      kiln_build, run, write_tree)

APP = {
    "app.py": """
        import sys
        try:
            import does_not_exist_xyz
        except ImportError:
            does_not_exist_xyz = None
        import helper
        import json

        if sys.argv[1:] == ["hard"]:
            helper.hard()
        if sys.argv[1:] == ["dynamic"]:
            import importlib
            # A computed name: no import kiln can see.
            mod = importlib.import_module("".join(["colo", "rsys"]))
            print(mod.rgb_to_hsv(1.0, 0.0, 0.0))
            sys.exit(0)
        print("ok", does_not_exist_xyz, helper.VALUE, json.dumps([1]))
    """,
    "helper.py": """
        try:
            import missing_in_helper_xyz
        except ImportError:
            pass
        VALUE = 5

        def hard():
            import also_missing_xyz
    """,
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    d = tmp_path_factory.mktemp("missing")
    write_tree(d, APP)
    return d


@pytest.fixture(scope="module")
def built(app):
    out = app / "dist" / "app"
    r = kiln_build("app.py", "-o", out, cwd=app)
    return out, r


def test_missing_module_is_a_warning_naming_the_importer(built):
    prog, r = built
    assert r.returncode == 0, describe(r)
    assert ("kiln: warning: module 'does_not_exist_xyz' not found "
            "(imported by __main__)") in r.stderr, describe(r)
    assert ("kiln: warning: module 'missing_in_helper_xyz' not found "
            "(imported by helper)") in r.stderr, describe(r)
    assert ("kiln: warning: module 'also_missing_xyz' not found "
            "(imported by helper)") in r.stderr, describe(r)
    assert "error" not in r.stderr
    assert prog.is_file()


def test_program_with_optional_missing_module_runs(built):
    prog, _ = built
    r = run([prog])
    assert (r.returncode, r.stdout, r.stderr) == (0, "ok None 5 [1]\n", ""), \
        describe(r)


def test_missing_module_needed_at_run_time(built):
    prog, _ = built
    r = run([prog, "hard"])
    assert r.returncode == 1, describe(r)
    assert r.stderr.rstrip().endswith(
        "ModuleNotFoundError: No module named 'also_missing_xyz'"), describe(r)
    assert f'File "{prog}/helper.py", line 8, in hard' in r.stderr, describe(r)


def test_stdlib_only_program_builds_without_warnings(tmp_path, hello_src):
    r = kiln_build(hello_src, "-o", tmp_path / "hello", cwd=tmp_path)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, describe(r)
    assert lines[0].startswith(f"kiln: wrote {tmp_path / 'hello'} ("), describe(r)
    assert lines[0].endswith(", no warnings)"), describe(r)


def test_hidden_import_of_missing_module_is_an_error(app, tmp_path):
    out = tmp_path / "out"
    r = kiln("build", "app.py", "--hidden-import", "nope_hidden_xyz", "-o", out,
             cwd=app)
    assert r.returncode == 1, describe(r)
    errors = [l for l in r.stderr.splitlines() if l.startswith("kiln: error:")]
    assert len(errors) == 1, describe(r)
    assert "nope_hidden_xyz" in errors[0]
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_dynamic_import_needs_hidden_import(built, app, tmp_path):
    prog, _ = built
    assert "colorsys" not in inspect_names(prog)
    r = run([prog, "dynamic"])
    assert r.returncode == 1, describe(r)
    assert "ModuleNotFoundError: No module named 'colorsys'" in r.stderr
    with_hidden = build_program(app, "app.py", "--hidden-import", "colorsys",
                                output=tmp_path / "app-hidden")
    assert inspect_names(with_hidden).get("colorsys") == "module"
    r = run([with_hidden, "dynamic"])
    assert (r.returncode, r.stdout) == (0, "(0.0, 1.0, 1.0)\n"), describe(r)


@pytest.fixture(scope="module")
def no_json(app):
    return build_program(app, "app.py", "--exclude-module", "json",
                         output=app / "dist" / "app-nojson")


def test_exclude_module_leaves_it_out(no_json, built):
    names = inspect_names(no_json)
    assert not [n for n in names if n == "json" or n.startswith("json.")], names
    full = inspect_names(built[0])
    assert "json" in full and "json.decoder" in full


def test_excluded_module_is_not_found_at_run_time(no_json):
    r = run([no_json])
    assert r.returncode == 1, describe(r)
    assert r.stderr.rstrip().endswith(
        "ModuleNotFoundError: No module named 'json'"), describe(r)
    assert r.stdout == ""


def test_exclude_submodule_only(app, tmp_path):
    prog = build_program(app, "app.py", "--exclude-module", "json.encoder",
                         output=tmp_path / "app-noenc")
    names = inspect_names(prog)
    assert "json" in names and "json.decoder" in names
    assert "json.encoder" not in names
    r = run([prog])
    assert r.returncode == 1, describe(r)
    assert "No module named 'json.encoder'" in r.stderr, describe(r)
