"""Output that never destroys input: -o (and --report) never replace a
file the build reads, a directory or anything but a regular file; a file
kiln did not write only with --force; a program kiln built before is
replaced without asking. A refusal is one line, status 1, and leaves
nothing behind."""
import os
import shutil
import stat

import pytest

from conftest import (KILN, STUB, assert_one_error_line, build_program,
                      describe, kiln, kiln_build, run, write_tree)

APP = {
    "app.py": """
        import helper
        from shop import prices
        print("ok", helper.X, prices.P)
    """,
    "helper.py": "X = 1\n",
    "shop/__init__.py": "NAME = 'shop'\n",
    "shop/prices.py": "P = 2\n",
    "notes.txt": "notes\n",
}


@pytest.fixture
def app(tmp_path):
    write_tree(tmp_path, APP)
    return tmp_path


def _snapshot(directory):
    """{relative path: bytes or 'dir'} of everything under directory."""
    out = {}
    for root, dirs, files in os.walk(directory):
        for n in dirs + files:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, directory)
            if os.path.islink(p) or not os.path.isfile(p):
                out[rel] = "dir" if os.path.isdir(p) else "other"
            else:
                with open(p, "rb") as f:
                    out[rel] = f.read()
    return out


def _refused(app, out, *extra, words=(), force_too=True, names=None):
    """kiln build app.py -o out refuses with one line naming out (or
    `names`), leaves every file as it was, and (force_too) does so with
    --force as well."""
    before = _snapshot(app)
    for force in ([], ["--force"]) if force_too else ([],):
        r = kiln("build", "app.py", "-o", out, *extra, *force, cwd=app)
        assert_one_error_line(r)
        assert str(names or out) in r.stderr, describe(r)
        for w in words:
            assert w in r.stderr, describe(r)
        assert _snapshot(app) == before, describe(r)
    return r


def test_output_onto_the_script(app):
    _refused(app, "app.py", words=["script being built", "never writes over"])
    _refused(app, app / "app.py")


def test_output_onto_a_package_init(app):
    _refused(app, "shop/__init__.py", words=["package 'shop'"])


def test_output_onto_an_imported_module(app):
    _refused(app, "helper.py", words=["helper"])
    _refused(app, "shop/prices.py", words=["shop.prices"])


def test_output_onto_an_add_data_file(app):
    _refused(app, "notes.txt", "--add-data", "notes.txt:.",
             words=["data 'notes.txt' comes from"])


def test_output_onto_a_link_to_the_script(app):
    os.symlink("app.py", app / "link")
    os.link(app / "app.py", app / "hard")
    _refused(app, "link", words=["script being built"])
    _refused(app, "hard", words=["script being built"])


def test_output_onto_kiln_and_its_stub(tmp_path, app):
    """A copy of kiln with its stub beside it: neither may become the
    output (a copy, so that a failure cannot break the real ones)."""
    bindir = tmp_path / "kiln-copy"
    bindir.mkdir()
    shutil.copy2(KILN, bindir / "kiln")
    shutil.copy2(STUB, bindir / "kiln-stub")
    before = _snapshot(bindir)
    for target, words in [("kiln-stub", "runtime stub"),
                          ("kiln", "kiln command itself")]:
        for force in ([], ["--force"]):
            r = run([bindir / "kiln", "build", "app.py", "-o",
                     bindir / target, *force], cwd=app, timeout=180)
            assert_one_error_line(r)
            assert words in r.stderr, describe(r)
    assert _snapshot(bindir) == before


def test_output_onto_a_fifo(app):
    os.mkfifo(app / "pipe")
    _refused(app, "pipe", words=["FIFO", "regular files"])
    assert stat.S_ISFIFO(os.lstat(app / "pipe").st_mode)


def test_output_onto_a_device_node(app):
    """A device node like /dev/null: as root one made in the test's own
    directory (a wrong rename could replace the machine's), otherwise
    /dev/null itself, which a user cannot replace."""
    if os.geteuid() == 0:
        node = app / "null"
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    else:
        node = "/dev/null"
    _refused(app, node, words=["character device"])
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_output_onto_a_directory(app):
    (app / "outdir").mkdir()
    (app / "outdir" / "keep").write_text("keep")
    _refused(app, "outdir", words=["directory"])
    _refused(app, "outdir/", words=["directory"])


def test_output_onto_a_plain_file_needs_force(app):
    target = app / "plain.txt"
    target.write_text("someone's text\n")
    r = _refused(app, target, words=["--force", "not a program kiln built"],
                 force_too=False)
    assert len(r.stderr.splitlines()) == 1
    r = kiln_build("app.py", "-o", target, "--force", cwd=app)
    out = run([target])
    assert (out.returncode, out.stdout) == (0, "ok 1 2\n"), describe(out)
    assert [p for p in os.listdir(app) if ".kiln-" in p] == []


def test_output_onto_a_dangling_link_needs_force(app):
    os.symlink("nowhere", app / "dangling")
    _refused(app, "dangling", words=["--force"], force_too=False)
    kiln_build("app.py", "-o", "dangling", "--force", cwd=app)
    assert (app / "dangling").is_file() and not (app / "dangling").is_symlink()


def test_rebuild_over_a_previous_program(app):
    prog = build_program(app, "app.py", output=app / "dist" / "app")
    (app / "helper.py").write_text("X = 5\n")
    r = kiln_build("app.py", "-o", prog, cwd=app)
    assert "error" not in r.stderr and "--force" not in r.stderr, describe(r)
    out = run([prog])
    assert (out.returncode, out.stdout) == (0, "ok 5 2\n"), describe(out)
    # The default output path follows the same rule.
    r = kiln_build("app.py", cwd=app)
    assert (app / "dist" / "app").is_file(), describe(r)


def test_default_output_onto_a_plain_file(app):
    (app / "dist").mkdir()
    (app / "dist" / "app").write_text("not a program")
    r = kiln("build", "app.py", cwd=app)
    assert_one_error_line(r)
    assert "dist/app" in r.stderr and "--force" in r.stderr, describe(r)
    assert (app / "dist" / "app").read_text() == "not a program"


# ---- --report follows the same rule ---------------------------------------

def test_report_onto_the_script(app):
    _refused(app, "out", "--report", "app.py", words=["--report", "script"],
             names="app.py")
    assert not (app / "out").exists()


def test_report_onto_a_plain_file_needs_force(app):
    (app / "r.json").write_text("mine")
    r = kiln("build", "app.py", "-o", "out", "--report", "r.json", cwd=app)
    assert_one_error_line(r)
    assert "--force" in r.stderr, describe(r)
    assert (app / "r.json").read_text() == "mine"
    assert not (app / "out").exists(), "refused before building"
    kiln_build("app.py", "-o", "out", "--report", "r.json", "--force", cwd=app)
    assert (app / "r.json").read_text().startswith('{"kiln_report":')
    # A report kiln wrote is replaced without asking, JSON or HTML.
    kiln_build("app.py", "-o", "out", "--report", "r.json", cwd=app)
    kiln_build("app.py", "-o", "out", "--report", "r.html", cwd=app)
    kiln_build("app.py", "-o", "out", "--report", "r.html", cwd=app)


def test_report_onto_the_program_itself(app):
    r = kiln("build", "app.py", "-o", "out", "--report", "./out", cwd=app)
    assert_one_error_line(r, status=2)
    assert not (app / "out").exists()


def test_report_into_missing_directories(app):
    kiln_build("app.py", "-o", "out/app", "--report", "reports/html/r.html",
               cwd=app)
    assert (app / "reports" / "html" / "r.html").is_file()
    assert [p for p in os.listdir(app / "reports" / "html") if ".kiln-" in p] == []
