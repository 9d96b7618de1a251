"""Import tracing and pruning: a program run with KILN_TRACE_IMPORTS=FILE
appends the names of the bundled modules it imported to FILE when it
exits (SystemExit and multiprocessing children included); `kiln build
--keep-only FILE` leaves out every module the file does not name, except
what start-up needs, with the shared libraries only those needed, and
says so in its summary and report. The pruned program runs as the full
one did; a module left out is gone (ImportError at run time)."""
import json

import pytest

from conftest import (assert_one_error_line, describe, inspect_names,
                      kiln_build, run, write_tree)

APP = """
    import importlib, json, os, sys
    import pkg.mod

    def never_called():
        import xml.dom.minidom

    print(json.dumps({"pkg": pkg.mod.VALUE}))
    if os.environ.get("DUMP_MODULES"):
        with open(os.environ["DUMP_MODULES"], "w") as f:
            for name, m in sorted(sys.modules.items()):
                loader = getattr(getattr(m, "__spec__", None), "loader", 0)
                if type(loader).__name__ == "BundleImporter":
                    print(name, file=f)
    for arg in sys.argv[1:]:
        if arg.startswith("exit"):
            sys.exit(int(arg[4:]))
        importlib.import_module(arg)
        print("imported", arg)
"""

TREE = {"app.py": APP, "pkg/__init__.py": "", "pkg/mod.py": "VALUE = 3\n"}

def traced(prog, trace, *args, env=None):
    """Run prog with KILN_TRACE_IMPORTS=trace; the CompletedProcess."""
    return run([prog, *args], env={"PATH": "/usr/bin:/bin",
                                   "KILN_TRACE_IMPORTS": str(trace),
                                   **(env or {})})


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    root = tmp_path_factory.mktemp("keep")
    write_tree(root, TREE)
    prog = root / "out" / "app"
    kiln_build("app.py", "-q", "-o", prog, cwd=root)
    return root, prog


def test_trace_names_what_was_imported(full, tmp_path):
    root, prog = full
    trace, dump = tmp_path / "trace.txt", tmp_path / "modules.txt"
    r = traced(prog, trace, env={"DUMP_MODULES": str(dump)})
    assert (r.returncode, r.stderr) == (0, ""), describe(r)
    names = trace.read_text().splitlines()
    assert {"json", "json.decoder", "pkg", "pkg.mod"} <= set(names)
    assert "xml.dom.minidom" not in names
    # Exactly the modules in sys.modules the bundle importer loaded.
    loaded = dump.read_text().split()
    assert sorted(names) == loaded
    assert len(names) == len(set(names))
    # A second run appends.
    r = traced(prog, trace)
    assert r.returncode == 0, describe(r)
    assert trace.read_text().splitlines() == names + names
    # No trace without the variable.
    r = run([prog], env={"PATH": "/usr/bin:/bin", "KILN_TRACE_IMPORTS": ""})
    assert r.returncode == 0, describe(r)


def test_trace_written_on_system_exit(full, tmp_path):
    root, prog = full
    trace = tmp_path / "trace.txt"
    r = traced(prog, trace, "exit3")
    assert (r.returncode, r.stderr) == (3, ""), describe(r)
    assert "pkg.mod" in trace.read_text().splitlines()


def test_trace_relative_to_the_start_directory(full, tmp_path):
    root, prog = full
    r = run([prog], cwd=tmp_path, env={"PATH": "/usr/bin:/bin",
                                       "KILN_TRACE_IMPORTS": "t.txt"})
    assert r.returncode == 0, describe(r)
    assert "json" in (tmp_path / "t.txt").read_text().splitlines()


@pytest.mark.parametrize("status", [0, 5])
def test_unwritable_trace_is_one_line(full, tmp_path, status):
    root, prog = full
    trace = tmp_path / "no" / "such" / "dir" / "trace.txt"
    r = traced(prog, trace, f"exit{status}")
    assert r.returncode == status, describe(r)
    assert r.stdout.startswith('{"pkg": 3}'), describe(r)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, describe(r)
    assert lines[0].startswith(f"{prog}: KILN_TRACE_IMPORTS={trace}: "
                               "cannot write the import trace: "), describe(r)


MP_APP = """
    import multiprocessing as mp

    def child(q):
        import csv
        q.put(csv.__name__)

    if __name__ == "__main__":
        mp.set_start_method("spawn")
        q = mp.Queue()
        p = mp.Process(target=child, args=(q,))
        p.start()
        print(q.get())
        p.join()
"""


def test_children_add_to_the_trace(tmp_path):
    write_tree(tmp_path, {"mp_app.py": MP_APP})
    prog = tmp_path / "out" / "mp_app"
    kiln_build("mp_app.py", "-q", "-o", prog, cwd=tmp_path)
    trace = tmp_path / "trace.txt"
    r = traced(prog, trace, env={})
    assert (r.returncode, r.stdout) == (0, "csv\n"), describe(r)
    names = trace.read_text().splitlines()
    assert "csv" in names                    # only the child imported it
    assert names.count("multiprocessing") >= 2  # parent and child


@pytest.fixture(scope="module")
def pruned(full, tmp_path_factory):
    root, prog = full
    d = tmp_path_factory.mktemp("pruned")
    trace = d / "trace.txt"
    r = traced(prog, trace)
    assert r.returncode == 0, describe(r)
    small = d / "out" / "app"
    report = d / "report.json"
    b = kiln_build("app.py", "--keep-only", trace, "--report", report,
                   "-o", small, cwd=root)
    return small, trace, report, b


def test_pruned_program_runs_the_same(full, pruned):
    root, prog = full
    small, trace, report, build = pruned
    for args in ([], ["base64"], ["exit4"]):
        want = run([prog, *args])
        got = run([small, *args])
        assert (got.returncode, got.stdout, got.stderr) == \
            (want.returncode, want.stdout, want.stderr), describe(got)


def test_pruned_program_is_smaller(full, pruned):
    root, prog = full
    small, trace, report, build = pruned
    before, after = inspect_names(prog), inspect_names(small)
    assert set(after) < set(before)
    assert small.stat().st_size < prog.stat().st_size
    for name in ("xml.dom.minidom", "xml", "urllib.request", "_ssl"):
        assert name in before and name not in after, name
    # Shared libraries only the modules left out needed go with them.
    assert before.get("libssl.so.3") == "shlib"
    assert "libssl.so.3" not in after
    # What the trace names and what start-up needs stay.
    for name in ("__main__", "json", "pkg", "pkg.mod", "encodings.idna",
                 "encodings.cp1252", "traceback"):
        assert name in after, name


def test_module_left_out_is_gone(full, pruned):
    root, prog = full
    small, trace, report, build = pruned
    r = run([prog, "xml.dom.minidom"])
    assert r.returncode == 0 and "imported xml.dom.minidom" in r.stdout, \
        describe(r)
    r = run([small, "xml.dom.minidom"])
    assert r.returncode == 1, describe(r)
    assert r.stderr.splitlines()[-1] == \
        "ModuleNotFoundError: No module named 'xml'", describe(r)


def test_pruning_is_reported(full, pruned):
    root, prog = full
    small, trace, report, build = pruned
    line = [x for x in build.stderr.splitlines() if "--keep-only" in x]
    assert len(line) == 1, describe(build)
    assert line[0].startswith(f"kiln: --keep-only {trace}: left out "), \
        describe(build)
    data = json.loads(report.read_text())
    left = {o["name"]: o for o in data["omitted"] if o["why"] == "keep-only"}
    assert left["xml.dom.minidom"]["detail"] == f"not in --keep-only {trace}"
    assert f"left out {len(left)} modules" in line[0]
    assert not {e["name"] for e in data["entries"]} & set(left)


def test_keep_only_verbose_lists_the_names(full, pruned, tmp_path):
    root, prog = full
    small, trace, report, build = pruned
    r = kiln_build("app.py", "-v", "--keep-only", trace, "-o",
                   tmp_path / "app", cwd=root)
    assert "kiln: left out xml.dom.minidom" in r.stderr, describe(r)
    assert "(keep-only: not in --keep-only" in r.stderr, describe(r)


def test_missing_keep_only_file(full, tmp_path):
    root, prog = full
    r = kiln_build("app.py", "--keep-only", tmp_path / "none.txt", "-o",
                   tmp_path / "app", cwd=root, expect_ok=False)
    assert_one_error_line(r)
    assert f"--keep-only {tmp_path}/none.txt: No such file" in r.stderr, \
        describe(r)


def test_bad_line_in_keep_only_file(full, tmp_path):
    root, prog = full
    bad = tmp_path / "bad.txt"
    bad.write_text("# a comment\njson\n\npkg..mod\n")
    r = kiln_build("app.py", "--keep-only", bad, "-o", tmp_path / "app",
                   cwd=root, expect_ok=False)
    assert_one_error_line(r)
    assert f"{bad}:4: 'pkg..mod' is not a module name" in r.stderr, \
        describe(r)
    assert not (tmp_path / "app").exists()


def test_trace_of_another_program_is_a_warning(full, tmp_path):
    root, prog = full
    other = tmp_path / "other.txt"
    other.write_text("not_a_module_here\nnor_this.one\n")
    r = kiln_build("app.py", "--keep-only", other, "-o", tmp_path / "app",
                   cwd=root)
    assert f"kiln: warning: --keep-only {other} names none of this " \
        "program's modules" in r.stderr, describe(r)
    # Start-up still works; the app's own imports are gone.
    r = run([tmp_path / "app"])
    assert r.returncode == 1, describe(r)
    # The first of `import importlib, json, ...` the interpreter does not
    # hold itself (3.13 has importlib from start-up on).
    assert r.stderr.splitlines()[-1] in (
        "ModuleNotFoundError: No module named 'importlib'",
        "ModuleNotFoundError: No module named 'json'"), describe(r)
