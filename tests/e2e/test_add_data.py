"""--add-data: files and directories land where PyInstaller users expect
them inside the program and read back through the loader's get_data; a
large payload is streamed into the program, so building it takes little
memory."""
import os
import sys

import pytest

from conftest import (KILN, assert_one_error_line, build_program, describe,
                      kiln, run, write_tree)

APP = {
    "app.py": """
        import os, sys
        def read(rel):
            return __loader__.get_data(os.path.join(sys.executable, rel))
        for rel in sys.argv[1:]:
            try:
                print(rel, read(rel).decode())
            except OSError as e:
                print(rel, type(e).__name__)
    """,
    "assets/a.txt": "alpha",
    "assets/img/logo.svg": "<svg/>",
    "conf.ini": "[x]",
}


def test_files_and_directories_land_under_dest(tmp_path):
    write_tree(tmp_path, APP)
    (tmp_path / "assets" / "__pycache__").mkdir()
    (tmp_path / "assets" / "__pycache__" / "x.pyc").write_text("no")
    prog = build_program(tmp_path, "app.py", "--add-data", "assets:res",
                         "--add-data", "conf.ini:.",
                         "--add-data", "assets/a.txt:one/two/",
                         output=tmp_path / "dist" / "app")
    r = run([prog, "res/a.txt", "res/img/logo.svg", "conf.ini",
             "one/two/a.txt", "res/__pycache__/x.pyc", "assets/a.txt"])
    assert r.returncode == 0, describe(r)
    assert r.stdout.splitlines() == [
        "res/a.txt alpha", "res/img/logo.svg <svg/>", "conf.ini [x]",
        "one/two/a.txt alpha", "res/__pycache__/x.pyc FileNotFoundError",
        "assets/a.txt FileNotFoundError"], describe(r)


def test_same_destination_twice_is_one_error_line(tmp_path):
    write_tree(tmp_path, APP)
    r = kiln("build", "app.py", "--add-data", "conf.ini:x",
             "--add-data", "conf.ini:x", "-o", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 1, describe(r)
    assert r.stderr.strip().splitlines()[-1].startswith("kiln: error: "), \
        describe(r)
    assert "x/conf.ini" in r.stderr and "twice" in r.stderr, describe(r)
    assert not (tmp_path / "out").exists()


def test_fifo_source_is_refused_at_once(tmp_path):
    write_tree(tmp_path, APP)
    os.mkfifo(tmp_path / "pipe")
    r = kiln("build", "app.py", "--add-data", "pipe:x", "-o",
             tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 1, describe(r)
    assert "pipe" in r.stderr and "regular file" in r.stderr, describe(r)


_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stderr.write(r.stderr)\n"
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN)"
    ".ru_maxrss)\n")


@pytest.mark.sanitizers_change("peak memory: ASan's shadow and quarantine")
def test_large_data_is_streamed_into_the_program(tmp_path):
    """300 MB of data: kiln's peak resident memory stays far below the
    payload (it used to hold every payload twice). Mostly zeros, it is
    stored compressed, and reads back whole."""
    write_tree(tmp_path, APP)
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(300 << 20)    # sparse: costs no disk to read
        f.seek(123 << 20)
        f.write(b"kiln")
    out = tmp_path / "app"
    r = run([sys.executable, "-c", _PEAK_RSS, KILN, "build", "app.py",
             "--add-data", "big.bin:.", "-o", out], cwd=tmp_path,
            timeout=300)
    try:
        status, peak_kb = (int(x) for x in r.stdout.split())
        assert status == 0, describe(r)
        assert peak_kb < 150 * 1024, f"peak RSS {peak_kb} KiB\n{describe(r)}"
        assert out.stat().st_size < 100 << 20
        v = kiln("inspect", "--verify", out)
        assert v.returncode == 0, describe(v)
        v = kiln("inspect", out)
        line = [x for x in v.stdout.splitlines() if x.endswith(" big.bin")]
        assert line and line[0].split()[3] == str(300 << 20), describe(v)
    finally:
        out.unlink(missing_ok=True)


@pytest.mark.parametrize("spec", ["nope.txt:.", "nope/:data", "assets/gone:x"])
def test_missing_source_is_one_error_line(tmp_path, spec):
    write_tree(tmp_path, {"app.py": "print(1)\n", "assets/a.txt": "a\n"})
    r = kiln("build", "app.py", "--add-data", spec, "-o", tmp_path / "out",
             cwd=tmp_path)
    assert_one_error_line(r)
    assert spec.split(":")[0].rstrip("/") in r.stderr, describe(r)
    assert not (tmp_path / "out").exists()
