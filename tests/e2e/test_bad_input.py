"""Bad input to kiln and damaged programs: always a one-line message and a
non-zero status, never a crash or a Python traceback."""
import os
import resource
import shutil
import signal
import struct

import pytest

from conftest import (KILN, KILN_BUILD, KILN_PYTHON, STUB, Bundle,
                      TRAILER_SIZE, assert_one_error_line, build_program,
                      describe, in_namespaces, kiln, run, write_tree)

# The Python this kiln embeds, as its build named it (config.mk).
KILN_PYTHON_EXE = next(
    line.split(":=", 1)[1].strip()
    for line in (KILN_BUILD / "config.mk").read_text().splitlines()
    if line.startswith("PY_EXE :="))

# ---- kiln build ----------------------------------------------------------


def test_missing_script(tmp_path):
    r = kiln("build", "no_such_script.py", cwd=tmp_path)
    assert_one_error_line(r)
    assert "no_such_script.py" in r.stderr
    assert "No such file" in r.stderr
    assert not (tmp_path / "dist").exists()


def test_script_is_a_directory(tmp_path):
    (tmp_path / "adir").mkdir()
    r = kiln("build", "adir", "-o", tmp_path / "out", cwd=tmp_path)
    assert_one_error_line(r)
    assert r.stderr == ("kiln: error: adir: is a directory, not a Python file "
                        "(the script to build; a package is built with -m "
                        "PACKAGE)\n"), describe(r)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_script_is_not_a_regular_file(tmp_path, kind):
    """A FIFO (which reading would block on) or a device as the script is
    one line, at once."""
    if kind == "fifo":
        script = tmp_path / "s.py"
        os.mkfifo(script)
    else:
        script = "/dev/null"
    r = kiln("build", script, "-o", tmp_path / "out", cwd=tmp_path, timeout=30)
    assert_one_error_line(r)
    assert r.stderr == (f"kiln: error: {script}: not a regular file (a "
                        "device, FIFO or socket; the script to build)\n"), \
        describe(r)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("module, needed", [
    ("encodings", "encodings"),
    ("encodings.utf_8", "encodings.utf_8"),
])
def test_excluding_what_start_up_needs(tmp_path, module, needed):
    """Leaving out a module the interpreter imports when it starts is an
    error at build time naming it, not a program that dies in a CPython
    dump."""
    (tmp_path / "app.py").write_text("print(1)\n")
    r = kiln("build", "app.py", "--exclude-module", module, "-o",
             tmp_path / "out", cwd=tmp_path)
    assert_one_error_line(r)
    assert r.stderr == (f"kiln: error: --exclude-module {module}: the "
                        f"interpreter imports {needed} when it starts, and a "
                        "program without it cannot start; leave it in\n"), \
        describe(r)
    assert not (tmp_path / "out").exists()


def test_hidden_import_of_what_the_interpreter_has(tmp_path):
    """--hidden-import of a module built into or frozen in the interpreter
    says so (a warning each) instead of doing nothing silently; the build
    goes on."""
    (tmp_path / "app.py").write_text("print(1)\n")
    r = kiln("build", "app.py", "--hidden-import", "sys", "--hidden-import",
             "zipimport", "-o", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    warnings = [line for line in r.stderr.splitlines()
                if line.startswith("kiln: warning: ")]
    assert warnings == [
        "kiln: warning: --hidden-import sys: the interpreter has it built "
        "in, and every program has the interpreter: nothing to add",
        "kiln: warning: --hidden-import zipimport: the interpreter has it "
        "frozen, and every program has the interpreter: nothing to add"], \
        describe(r)


def test_embedded_stdlib_unreadable(tmp_path, namespaces, pyinfo):
    """kiln whose embedded Python's standard library cannot be read (here
    hidden under an empty tmpfs) says so in one line naming the path,
    instead of CPython's many-line path configuration dump."""
    (tmp_path / "app.py").write_text("print(1)\n")
    r = in_namespaces('mount -t tmpfs none "$1" && cd "$2" && '
                      'exec "$3" build app.py -o out', pyinfo["stdlib"],
                      tmp_path, KILN)
    assert r.returncode == 1, describe(r)
    assert r.stderr == (
        f"kiln: error: cannot read the standard library of the Python kiln "
        f"embeds: {pyinfo['stdlib']}/encodings/__init__.py: No such file or "
        f"directory (reinstall {KILN_PYTHON_EXE}, or build kiln against "
        "another Python)\n"), describe(r)


def _syntax_error(path):
    """(lineno, offset, msg, type name) that KILN_PYTHON reports for path."""
    code = ("import sys\n"
            "p = sys.argv[1]\n"
            "try:\n"
            "    compile(open(p, 'rb').read(), p, 'exec')\n"
            "except SyntaxError as e:\n"
            "    print(e.lineno, e.offset, type(e).__name__, e.msg, sep='\\n')\n")
    r = run([KILN_PYTHON, "-I", "-c", code, path])
    lineno, offset, name, msg = r.stdout.split("\n", 3)
    return int(lineno), int(offset), name, msg.rstrip("\n")


@pytest.mark.parametrize("source", [
    "import sys\n\ndef broken(:\n    pass\n",
    "x = 1\nif x:\nprint(x)\n",
    "print('unterminated)\n",
    "a = (1,\n     2\nb = 3\n",
])
def test_syntax_error_in_script(tmp_path, source):
    (tmp_path / "app.py").write_text(source)
    lineno, offset, name, msg = _syntax_error(tmp_path / "app.py")
    r = kiln("build", "app.py", "-o", tmp_path / "out", cwd=tmp_path)
    assert_one_error_line(r)
    assert f"app.py:{lineno}:{offset}: {name}: {msg}" in r.stderr, describe(r)
    assert not (tmp_path / "out").exists()


def test_syntax_error_in_imported_app_module(tmp_path):
    write_tree(tmp_path, {"app.py": "import helper\nhelper.go()\n",
                          "helper.py": "def go():\n    return 1 +\n"})
    lineno, offset, name, msg = _syntax_error(tmp_path / "helper.py")
    r = kiln("build", "app.py", "-o", tmp_path / "out", cwd=tmp_path)
    assert_one_error_line(r)
    assert f"helper.py:{lineno}:{offset}: {name}: {msg}" in r.stderr, describe(r)
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    write_tree(d, {"tiny.py": "print('tiny')\n"})
    return d


def _no_leftovers(directory, name):
    """No temporary files for `name` left in directory."""
    if not directory.is_dir():
        return []
    return [p.name for p in directory.iterdir() if name in p.name and
            p.name != name]


def test_output_under_a_regular_file(tiny, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("keep me")
    r = kiln("build", tiny / "tiny.py", "-o", f / "app", cwd=tmp_path)
    assert_one_error_line(r)
    assert str(f) in r.stderr or "file.txt" in r.stderr, describe(r)
    assert f.read_text() == "keep me"
    assert not os.path.lexists(f / "app")


def test_output_under_proc(tiny, tmp_path):
    r = kiln("build", tiny / "tiny.py", "-o", "/proc/kiln-no-such-dir/app",
             cwd=tmp_path)
    assert_one_error_line(r)
    assert not os.path.lexists("/proc/kiln-no-such-dir/app")


def test_output_is_a_directory(tiny, tmp_path):
    (tmp_path / "out").mkdir()
    r = kiln("build", tiny / "tiny.py", "-o", tmp_path / "out", cwd=tmp_path)
    assert_one_error_line(r)
    assert (tmp_path / "out").is_dir()
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("target", [[], ["--target", "extension"]])
def test_output_ending_in_a_slash(tiny, tmp_path, target):
    """-o new/ names a folder that is not there: one line saying -o wants
    the file's path, and no folder made on the way."""
    r = kiln("build", tiny / "tiny.py", *target, "-o", "new/", cwd=tmp_path)
    assert_one_error_line(r)
    assert "-o new/: names a directory" in r.stderr, describe(r)
    assert not (tmp_path / "new").exists()


def _limit_file_size():
    """In the child: writes beyond 1 MiB fail with EFBIG (no SIGXFSZ)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def _kiln_limited(*args, cwd):
    from conftest import KILN
    import subprocess
    return subprocess.run([str(a) for a in (KILN, *args)], cwd=cwd,
                          capture_output=True, text=True, timeout=180,
                          preexec_fn=_limit_file_size)


def test_write_failure_leaves_nothing(tiny, tmp_path):
    """The disk 'fills up' while writing: an error, no program and no
    temporary file left behind."""
    out = tmp_path / "out" / "app"
    r = _kiln_limited("build", tiny / "tiny.py", "-o", out, cwd=tmp_path)
    assert_one_error_line(r)
    assert not os.path.lexists(out)
    assert _no_leftovers(tmp_path / "out", "app") == []


def test_write_failure_keeps_the_previous_program(tiny, tmp_path):
    out = tmp_path / "app"
    out.write_bytes(b"previous program")
    r = _kiln_limited("build", tiny / "tiny.py", "-o", out, "--force",
                      cwd=tmp_path)
    assert_one_error_line(r)
    assert "File too large" in r.stderr, describe(r)
    assert out.read_bytes() == b"previous program"
    assert _no_leftovers(tmp_path, "app") == []


def test_successful_build_replaces_existing_file(tiny, tmp_path):
    out = tmp_path / "app"
    out.write_bytes(b"previous program")
    build_program(tiny, "tiny.py", "--force", output=out)
    r = run([out])
    assert (r.returncode, r.stdout) == (0, "tiny\n"), describe(r)
    assert _no_leftovers(tmp_path, "app") == []


@pytest.mark.parametrize("args", [
    ["build", "--bogus", "app.py"],
    ["build", "app.py", "--no-such-option"],
    ["build", "-x", "app.py"],
    ["build", "-o"],
    ["build"],
    ["build", "app.py", "-m", "app"],
    ["build", "app.py", "other.py"],
    ["build", "-m", "not a module"],
    ["build", "--entry", "nocolon"],
    ["build", "--entry", "mod:"],
    ["build", "app.py", "--name", "a/b"],
    ["inspect", "--bogus", "x"],
    ["inspect"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(tmp_path, args):
    (tmp_path / "app.py").write_text("print(1)\n")
    r = kiln(*args, cwd=tmp_path)
    assert_one_error_line(r, status=2)
    assert r.stdout == ""
    assert not (tmp_path / "dist").exists()


def test_no_command_prints_usage_and_exits_2(tmp_path):
    r = kiln(cwd=tmp_path)
    assert r.returncode == 2, describe(r)
    assert "usage:" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_option_names_it(tmp_path):
    r = kiln("build", "--bogus", "app.py", cwd=tmp_path)
    assert r.stderr.startswith("kiln: error: unknown option --bogus"), describe(r)


# ---- kiln inspect on things that are not kiln programs --------------------


@pytest.mark.parametrize("verify", [False, True])
def test_inspect_non_kiln_file(tmp_path, verify):
    target = shutil.which("true") or "/bin/true"
    r = kiln("inspect", target, *(["--verify"] if verify else []))
    assert_one_error_line(r)
    assert "no kiln bundle" in r.stderr, describe(r)


@pytest.mark.parametrize("verify", [False, True])
def test_inspect_empty_file(tmp_path, verify):
    (tmp_path / "empty").write_bytes(b"")
    r = kiln("inspect", tmp_path / "empty", *(["--verify"] if verify else []))
    assert_one_error_line(r)
    assert "empty" in r.stderr


@pytest.mark.parametrize("content", [b"x", b"KILN\0BDL", b"\0" * 47,
                                     b"\xff" * 48, b"\0" * 40 + b"KILN\0BDL"])
def test_inspect_tiny_files(tmp_path, content):
    (tmp_path / "f").write_bytes(content)
    r = kiln("inspect", tmp_path / "f", "--verify")
    assert_one_error_line(r)


def test_inspect_missing_file_and_directory(tmp_path):
    r = kiln("inspect", tmp_path / "nope")
    assert_one_error_line(r)
    assert "No such file" in r.stderr
    r = kiln("inspect", tmp_path)
    assert_one_error_line(r)


def test_stub_without_bundle_exits_126():
    r = run([STUB])
    assert r.returncode == 126, describe(r)
    assert len(r.stderr.strip().splitlines()) == 1, describe(r)
    assert "no kiln bundle" in r.stderr


# ---- damaged programs -----------------------------------------------------

LAZY_APP = """
import sys

cmd = sys.argv[1] if len(sys.argv) > 1 else ""
if cmd == "json":
    import json
    print(json.dumps({"ok": 1}))
elif cmd == "bz2":
    import bz2
    print(len(bz2.decompress(bz2.compress(b"abc"))))
elif cmd == "raise":
    raise ValueError("lazy failure")
elif cmd == "catch":
    try:
        __import__(sys.argv[2])
    except ImportError:
        print("fell back")
elif cmd == "resource":
    import importlib.resources, lazydata
    try:
        print(importlib.resources.files(lazydata).joinpath("data.txt")
              .read_text().strip())
    except OSError:
        print("fell back")
elif cmd == "open":
    import os, lazydata
    try:
        with open(os.path.join(os.path.dirname(lazydata.__file__),
                               "data.txt")) as f:
            print(f.read().strip())
    except OSError:
        print("fell back")
else:
    print("fine")
"""


@pytest.fixture(scope="module")
def lazy(tmp_path_factory):
    d = tmp_path_factory.mktemp("lazy")
    write_tree(d, {"lazy.py": LAZY_APP, "lazydata/__init__.py": "",
                   "lazydata/data.txt": "payload\n"})
    prog = build_program(d, "lazy.py", output=d / "lazy")
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, "fine\n"), describe(r)
    return prog


@pytest.fixture(scope="module")
def pristine(lazy):
    return lazy.read_bytes()


@pytest.fixture(scope="module")
def layout(pristine):
    return Bundle(pristine)


@pytest.fixture
def damaged(tmp_path):
    """Write damaged bytes as an executable program; returns its path. The
    copy is removed after the test (each is as big as a whole program)."""
    made = []

    def make(data, name="program"):
        p = tmp_path / name
        p.write_bytes(data)
        p.chmod(0o755)
        made.append(p)
        return p
    yield make
    for p in made:
        p.unlink(missing_ok=True)


def flip(data, offset):
    b = bytearray(data)
    b[offset] ^= 0xFF
    return bytes(b)


def assert_damaged_run(prog, *args, status=126):
    r = run([prog, *args])
    assert r.returncode >= 0, f"killed by signal {-r.returncode}\n" + describe(r)
    assert r.returncode == status, describe(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, "expected one line\n" + describe(r)
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    m = message(r, prog)
    assert "damaged" in m or "no kiln bundle" in m or "version" in m, describe(r)
    return r


def message(r, prog):
    """stderr of r without the program's path (which must not count as the
    word the message is checked for)."""
    return r.stderr.replace(str(prog), "<program>")


def assert_verify_fails(prog):
    r = kiln("inspect", prog, "--verify")
    assert_one_error_line(r)
    m = message(r, prog)
    assert "damaged" in m or "no kiln bundle" in m or "version" in m, describe(r)
    return r


@pytest.mark.parametrize("cut", [1, 7, 47, 48, 49, 100, 4096, 65536, "half",
                                 "bundle", "bundle+1", "payload"])
def test_truncated_program(pristine, layout, damaged, cut):
    n = {"half": (len(pristine) - layout.bundle_offset) // 2,
         "bundle": len(pristine) - layout.bundle_offset,
         "bundle+1": len(pristine) - layout.bundle_offset - 1,
         "payload": len(pristine) - layout.index_end}.get(cut, cut)
    prog = damaged(pristine[:-n])
    r = assert_damaged_run(prog)
    assert str(prog) in r.stderr
    assert_verify_fails(prog)
    r = kiln("inspect", prog)
    assert_one_error_line(r)


@pytest.mark.xfail(strict=True, reason=(
    "a file cut inside the runtime stub itself is a broken ELF executable: "
    "the dynamic loader faults on the missing .dynamic/data segment before "
    "any of kiln's code runs; kiln inspect still reports it"))
def test_program_cut_inside_the_stub(pristine, layout, damaged):
    # Inside the stub's last loaded segment (its data), whatever lies
    # after it (debugging sections, in a build that keeps them).
    phoff, = struct.unpack_from("<Q", pristine, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", pristine, 0x36)
    loads = [struct.unpack_from("<IIQQQQ", pristine, phoff + i * phentsize)
             for i in range(phnum)]
    last = [h for h in loads if h[0] == 1][-1]   # PT_LOAD
    cut = last[2] + last[5] // 2                 # p_offset + p_filesz / 2
    assert 0 < cut < layout.bundle_offset
    prog = damaged(pristine[:cut])
    r = assert_verify_fails(prog)
    assert_damaged_run(prog)


# (field name, offset inside the trailer)
TRAILER_FIELDS = [("bundle_offset", 0), ("bundle_offset.hi", 7),
                  ("bundle_size", 8), ("index_checksum", 16),
                  ("bundle_checksum", 24), ("version", 32),
                  ("trailer_size", 36), ("magic", 40), ("magic.end", 47)]


@pytest.mark.parametrize("field,offset", TRAILER_FIELDS,
                         ids=[f for f, _ in TRAILER_FIELDS])
def test_flipped_byte_in_trailer(pristine, damaged, field, offset):
    prog = damaged(flip(pristine, len(pristine) - TRAILER_SIZE + offset))
    assert_verify_fails(prog)
    if field in ("bundle_checksum", "index_checksum"):
        # Only `kiln inspect --verify` reads the whole-bundle and whole-
        # index checksums (docs/format.md); the program checks its index
        # page by page as it reads it, so it may run normally, or refuse
        # in one line.
        r = run([prog])
        if r.returncode == 0:
            assert (r.stdout, r.stderr) == ("fine\n", ""), describe(r)
            return
    assert_damaged_run(prog)


HEADER_FIELDS = [("magic", 0), ("version", 8), ("header_size", 12),
                 ("entry_count", 16), ("hash_slots", 20), ("entries_off", 24),
                 ("hash_off", 32), ("strings_off", 40), ("strings_size", 48),
                 ("payload_off", 56), ("payload_size", 64), ("python_hex", 74),
                 ("run_mode", 76), ("run_target_off", 80),
                 ("options_off", 108), ("pagesum_off", 116),
                 ("pagesum_check", 120)]


@pytest.mark.parametrize("field,offset", HEADER_FIELDS,
                         ids=[f for f, _ in HEADER_FIELDS])
def test_flipped_byte_in_header(pristine, layout, damaged, field, offset):
    prog = damaged(flip(pristine, layout.bundle_offset + offset))
    assert_damaged_run(prog)
    assert_verify_fails(prog)


@pytest.mark.parametrize("where", ["first_entry", "entry_kind", "entry_data_off",
                                   "hash_table", "strings", "index_end"])
def test_flipped_byte_in_index(pristine, layout, damaged, where):
    e = layout.entries["__main__"]
    off = {"first_entry": layout.bundle_offset + layout.entries_off,
           "entry_kind": e["entry_abs"] + 16,
           "entry_data_off": e["entry_abs"] + 24,
           "hash_table": layout.bundle_offset + layout.hash_off + 4,
           "strings": layout.bundle_offset + layout.strings_off + 3,
           "index_end": layout.index_end - 1}[where]
    prog = damaged(flip(pristine, off))
    if where in ("hash_table", "strings", "index_end"):
        # A page of the index the run never reads (or padding nothing
        # reads) is not checked by the run, which then gives its normal
        # output; a page it reads is checked first.
        r = run([prog])
        if r.returncode == 0:
            assert (r.stdout, r.stderr) == ("fine\n", ""), describe(r)
            assert_verify_fails(prog)
            return
    assert_damaged_run(prog)
    assert_verify_fails(prog)


def test_damaged_index_page_is_found_when_a_lookup_reads_it(
        pristine, layout, damaged):
    """The entry of json, which only `prog json` imports: the program
    starts without reading that page, or refuses; `prog json` is refused
    in one line before json runs."""
    e = layout.entries["json"]
    prog = damaged(flip(pristine, e["entry_abs"] + 48))
    r = run([prog])
    if r.returncode == 0:
        assert (r.stdout, r.stderr) == ("fine\n", ""), describe(r)
    else:
        # A later lookup (another name probing the same page, even at
        # exit) may read the page: one line, 126, whatever was printed.
        assert r.returncode == 126, describe(r)
        assert r.stdout in ("", "fine\n"), describe(r)
        assert len(r.stderr.strip().splitlines()) == 1, describe(r)
        assert "damaged" in message(r, prog), describe(r)
    r = assert_damaged_run(prog, "json")
    assert "damaged" in message(r, prog), describe(r)
    assert_verify_fails(prog)


@pytest.mark.parametrize("module,at", [("encodings", "start"),
                                       ("encodings.aliases", "middle"),
                                       ("encodings.utf_8", "end")])
def test_flipped_byte_in_startup_module(pristine, layout, damaged, module, at):
    """A module that start-up imports is damaged: one line, status 126."""
    e = layout.entries[module]
    off = e["data_abs"] + {"start": 0, "middle": e["data_size"] // 2,
                           "end": e["data_size"] - 1}[at]
    prog = damaged(flip(pristine, off))
    r = assert_damaged_run(prog, status=126)
    assert "damaged" in message(r, prog), describe(r)
    assert_verify_fails(prog)


def test_flipped_byte_in_main_module(pristine, layout, damaged):
    e = layout.entries["__main__"]
    prog = damaged(flip(pristine, e["data_abs"] + e["data_size"] // 2))
    r = assert_damaged_run(prog, status=126)
    assert "damaged" in message(r, prog), describe(r)
    assert r.stdout == ""
    assert_verify_fails(prog)


@pytest.mark.parametrize("module,cmd,expected", [
    ("json", "json", '{"ok": 1}\n'),
    ("json.decoder", "json", '{"ok": 1}\n'),
    ("bz2", "bz2", "3\n"),
    ("_bz2", "bz2", "3\n"),
])
def test_flipped_byte_in_lazy_module(lazy, pristine, layout, damaged, module,
                                     cmd, expected):
    """A damaged module that is imported later, bytecode or extension
    module: the program runs until it imports it, then ends with one line
    naming it and status 126, as for any damage to the program; a program
    that catches ImportError does not go on without it either."""
    if module not in layout.entries:
        pytest.fail(f"{module} is not bundled")
    e = layout.entries[module]
    prog = damaged(flip(pristine, e["data_abs"] + e["data_size"] // 2))
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, "fine\n"), describe(r)
    for args in ([cmd], ["catch", cmd]):
        r = assert_damaged_run(prog, *args, status=126)
        assert r.stdout == "", describe(r)
        assert "damaged" in message(r, prog), describe(r)
        assert module in message(r, prog), describe(r)
    assert_verify_fails(prog)
    r = run([lazy, cmd])
    assert (r.returncode, r.stdout) == (0, expected), describe(r)
    r = run([lazy, "catch", cmd])
    assert (r.returncode, r.stdout) == (0, ""), describe(r)


@pytest.mark.parametrize("at", ["start", "middle", "end"])
def test_flipped_byte_in_carried_library(lazy, pristine, layout, damaged, at):
    """A library the program carries is damaged (checked as it is copied
    into memory): the program runs until a module needs it, then ends
    with one line and status 126, as for any damage to the program."""
    e = layout.entries["libbz2.so.1.0"]
    assert e["kind"] == "shlib"
    off = e["data_abs"] + {"start": 0, "middle": e["data_size"] // 2,
                           "end": e["data_size"] - 1}[at]
    prog = damaged(flip(pristine, off))
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, "fine\n"), describe(r)
    r = run([prog, "bz2"])
    assert r.returncode == 126 and r.stdout == "", describe(r)
    assert "libbz2.so.1.0" in message(r, prog), describe(r)
    assert "damaged" in message(r, prog), describe(r)
    assert_verify_fails(prog)


def test_flipped_byte_in_source_of_main(pristine, layout, damaged):
    """Damaged source text is damage when it is read (a traceback's source
    lines): one line, status 126; a run that reads none goes on."""
    e = layout.entries["__main__"]
    assert e["aux_size"] > 0
    prog = damaged(flip(pristine, e["aux_abs"] + e["aux_size"] // 2))
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, "fine\n"), describe(r)
    r = assert_damaged_run(prog, "raise", status=126)
    assert "__main__" in message(r, prog), describe(r)
    assert_verify_fails(prog)


@pytest.mark.parametrize("cmd", ["resource", "open"])
def test_flipped_byte_in_package_data(lazy, pristine, layout, damaged, cmd):
    """A damaged data file read through importlib.resources or open(): one
    line naming it and status 126, never an OSError the program could
    catch and go on after."""
    e = layout.entries["lazydata/data.txt"]
    prog = damaged(flip(pristine, e["data_abs"] + e["data_size"] // 2))
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, "fine\n"), describe(r)
    r = assert_damaged_run(prog, cmd, status=126)
    assert "lazydata/data.txt" in message(r, prog), describe(r)
    assert_verify_fails(prog)
    r = run([lazy, cmd])
    assert (r.returncode, r.stdout) == (0, "payload\n"), describe(r)


def test_zeroed_bundle(pristine, layout, damaged):
    """The whole bundle zeroed, trailer intact."""
    data = (pristine[:layout.bundle_offset] +
            bytes(layout.bundle_size) + pristine[-TRAILER_SIZE:])
    prog = damaged(data)
    assert_damaged_run(prog)
    assert_verify_fails(prog)


def test_trailer_pointing_past_the_file(pristine, layout, damaged):
    t = bytearray(pristine[-TRAILER_SIZE:])
    struct.pack_into("<Q", t, 0, layout.bundle_offset + (1 << 40))
    prog = damaged(pristine[:-TRAILER_SIZE] + bytes(t))
    assert_damaged_run(prog)
    assert_verify_fails(prog)


def test_huge_entry_count(pristine, layout, damaged):
    """entry_count far beyond the index: rejected, not read out of bounds."""
    d = bytearray(pristine)
    struct.pack_into("<I", d, layout.bundle_offset + 16, 0x7FFFFFFF)
    prog = damaged(bytes(d))
    assert_damaged_run(prog)
    assert_verify_fails(prog)


@pytest.mark.parametrize("opt,name", [("--system-lib", ""),
                                      ("--bundle-lib", "libnope.so.9")])
def test_library_option_that_matches_nothing_says_so(tiny, tmp_path, opt,
                                                      name):
    """--system-lib or --bundle-lib naming no library the program needs
    changes nothing: a warning says so, and the build goes on."""
    r = kiln("build", tiny / "tiny.py", opt, name, "-o", tmp_path / "p",
             cwd=tmp_path)
    assert r.returncode == 0, describe(r)
    assert (f"kiln: warning: {opt} '{name}': no library the program's "
            "native code needs has that name") in r.stderr, describe(r)
    # Every extension module needs libc: a name that matches it warns
    # of nothing (and leaves it to the machine, as ever).
    r = kiln("build", tiny / "tiny.py", "--system-lib", "libc.so*", "-o",
             tmp_path / "q", cwd=tmp_path)
    assert (r.returncode, "kiln: warning" in r.stderr) == (0, False), \
        describe(r)


@pytest.mark.parametrize("order", ["after", "before"])
def test_optimize_level_given_apart(tiny, tmp_path, order):
    """`--optimize 2` (python's -O takes no separate value): one line
    saying how to give it, whichever side of the script it is on."""
    args = (["tiny.py", "--optimize", "2"] if order == "after"
            else ["--optimize", "2", "tiny.py"])
    r = kiln("build", *args, "-o", tmp_path / "p", cwd=tiny)
    assert_one_error_line(r, status=2)
    assert "--optimize takes its value attached: --optimize=2" in r.stderr
    assert not (tmp_path / "p").exists()
