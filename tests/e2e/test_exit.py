"""Exit statuses, tracebacks, --no-source, KeyboardInterrupt and SIGINT:
a built program ends the way `python app.py` ends."""
import signal
import subprocess
import time

import pytest

from conftest import (KILN_PYTHON, build_program, describe, python_run, run,
                      write_tree)

APP = """
import sys
import time


def fail(value):
    raise ValueError(f"bad value {value}")


def main(cmd):
    if cmd == "exit3":
        sys.exit(3)
    if cmd == "exitmsg":
        sys.exit("fatal: something went wrong")
    if cmd == "systemexit0":
        print("before exit")
        raise SystemExit(0)
    if cmd == "exitnone":
        sys.exit(None)
    if cmd == "exit300":
        sys.exit(300)
    if cmd == "raise":
        fail(42)
    if cmd == "kbint":
        raise KeyboardInterrupt
    if cmd == "sleep":
        print("ready", flush=True)
        time.sleep(60)
        print("not interrupted")
        return
    if cmd == "chained":
        try:
            {}["missing"]
        except KeyError as e:
            raise RuntimeError("while handling") from e
    if cmd == "importtime":
        import boom_on_import
    if cmd == "stdlibtb":
        import json
        json.loads('{"unterminated": ')
    if cmd == "exitlist":
        sys.exit([1, 2])
    if cmd == "atexit":
        import atexit
        atexit.register(lambda: print("atexit ran", flush=True))
        print("main done")
        sys.exit(5)
    if cmd == "thread":
        import threading
        def late():
            time.sleep(0.3)
            print("thread done", flush=True)
        threading.Thread(target=late).start()
        print("main done", flush=True)
        return
    if cmd == "os_exit":
        import os
        print("lost in the buffer")
        os._exit(7)
    print("ok", cmd)


main(sys.argv[1] if len(sys.argv) > 1 else "")
"""
BOOM = """
X = 1
raise RuntimeError("failed while importing")
"""
RAISE_LINE = 'raise ValueError(f"bad value {value}")'
_LINES = APP.lstrip("\n").splitlines()
FAIL_LINENO = next(i for i, l in enumerate(_LINES, 1) if l.strip() == RAISE_LINE)
CALL_LINENO = next(i for i, l in enumerate(_LINES, 1) if l.strip() == "fail(42)")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    d = tmp_path_factory.mktemp("exit")
    write_tree(d, {"app.py": APP, "boom_on_import.py": BOOM})
    lines = (d / "app.py").read_text().splitlines()
    assert lines[FAIL_LINENO - 1].strip() == RAISE_LINE
    assert lines[CALL_LINENO - 1].strip() == "fail(42)"
    return d


@pytest.fixture(scope="module")
def prog(app):
    return build_program(app, "app.py", output=app / "dist" / "app")


@pytest.fixture(scope="module")
def prog_nosrc(app):
    return build_program(app, "app.py", "--no-source",
                         output=app / "dist" / "app-nosrc")


def both(prog, app, *args):
    """Run the program and python on the same script with the same args."""
    return run([prog, *args]), python_run(app / "app.py", *args)


@pytest.mark.parametrize("cmd,status", [
    ("", 0), ("exit3", 3), ("systemexit0", 0), ("exitnone", 0),
    ("exit300", None), ("exitmsg", 1), ("raise", 1), ("chained", 1),
    ("exitlist", 1), ("atexit", 5), ("thread", 0), ("os_exit", 7),
    ("stdlibtb", 1), ("importtime", 1),
])
def test_exit_status_matches_python(prog, app, cmd, status):
    k, p = both(prog, app, cmd)
    if status is not None:
        assert p.returncode == status, describe(p)
    assert k.returncode == p.returncode, describe(k)
    assert k.stdout == p.stdout, describe(k)


def test_sys_exit_message_goes_to_stderr(prog):
    r = run([prog, "exitmsg"])
    assert r.returncode == 1, describe(r)
    assert r.stderr == "fatal: something went wrong\n"
    assert r.stdout == ""


def test_uncaught_exception_traceback(prog):
    r = run([prog, "raise"])
    assert r.returncode == 1, describe(r)
    err = r.stderr
    assert err.startswith("Traceback (most recent call last):\n"), describe(r)
    assert f'File "{prog}/app.py", line {FAIL_LINENO}, in fail' in err, describe(r)
    assert f'File "{prog}/app.py", line {CALL_LINENO}, in main' in err, describe(r)
    assert RAISE_LINE in err, describe(r)
    assert "fail(42)" in err, describe(r)
    assert err.rstrip().endswith("ValueError: bad value 42"), describe(r)
    assert r.stdout == ""


def test_traceback_matches_python(prog, app):
    """Same traceback text as python, with the program path for the script's
    directory."""
    k, p = both(prog, app, "chained")
    expected = p.stderr.replace(str(app / "app.py"), f"{prog}/app.py")
    assert k.stderr == expected


def test_traceback_through_stdlib_matches_python(prog, app, pyinfo):
    """Frames in bundled standard library modules are shown at their path
    inside the program, with source lines, as python shows them on disk."""
    k, p = both(prog, app, "stdlibtb")
    assert k.returncode == p.returncode == 1, describe(k)
    expected = p.stderr.replace(str(app / "app.py"), f"{prog}/app.py")
    for d in sorted({pyinfo["stdlib"], pyinfo["platstdlib"]}, key=len,
                    reverse=True):
        expected = expected.replace(d + "/", f"{prog}/")
    assert f'File "{prog}/json/decoder.py", line ' in k.stderr, describe(k)
    assert k.stderr == expected


def test_traceback_from_module_import_matches_python(prog, app):
    """An exception raised while a bundled module is being imported: python
    hides the importlib machinery frames from the traceback."""
    k, p = both(prog, app, "importtime")
    assert k.returncode == p.returncode == 1, describe(k)
    assert f'File "{prog}/boom_on_import.py", line 2, in <module>' in k.stderr
    assert k.stderr == p.stderr.replace(str(app), str(prog))


def test_no_source_build_has_no_source_lines(prog_nosrc):
    r = run([prog_nosrc, "raise"])
    assert r.returncode == 1, describe(r)
    assert f'File "{prog_nosrc}/app.py", line {FAIL_LINENO}, in fail' in r.stderr, \
        describe(r)
    assert RAISE_LINE not in r.stderr, describe(r)
    assert "fail(42)" not in r.stderr, describe(r)
    assert r.stderr.rstrip().endswith("ValueError: bad value 42"), describe(r)


def test_no_source_build_runs_and_carries_no_source(prog_nosrc, prog):
    from conftest import Bundle
    r = run([prog_nosrc, "exit3"])
    assert r.returncode == 3, describe(r)
    b = Bundle.read(prog_nosrc)
    assert b.entries["__main__"]["aux_size"] == 0
    assert all(e["aux_size"] == 0 for e in b.entries.values())
    assert Bundle.read(prog).entries["__main__"]["aux_size"] > 0
    data = prog_nosrc.read_bytes()
    assert RAISE_LINE.encode() not in data


def test_uncaught_keyboard_interrupt_matches_python(prog, app):
    k, p = both(prog, app, "kbint")
    assert p.returncode == -signal.SIGINT, describe(p)
    assert k.returncode == p.returncode, describe(k)
    assert "KeyboardInterrupt" in k.stderr, describe(k)
    assert k.stderr.startswith("Traceback (most recent call last):"), describe(k)


def _interrupt(cmd):
    """Start cmd, wait for 'ready', send SIGINT; return (status, out, err).
    SIGINT is set back to its default in the child: a suite started in the
    background by a shell inherits it ignored, and python then installs
    no handler."""
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                          signal.SIG_DFL))
    try:
        line = p.stdout.readline()
        assert line == "ready\n", (line, p.stderr.read() if p.poll() is not None else "")
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out, err


def test_sigint_while_sleeping_matches_python(prog, app):
    k = _interrupt([prog, "sleep"])
    p = _interrupt([KILN_PYTHON, "-I", app / "app.py", "sleep"])
    assert p[0] == -signal.SIGINT, p
    assert k[0] == p[0], k
    assert "not interrupted" not in k[1]
    assert "KeyboardInterrupt" in k[2], k
    assert k[2].replace(f"{prog}/app.py", str(app / "app.py")) == p[2]


def test_sigterm_kills_like_python(prog, app):
    """SIGTERM is not handled by Python: both die by the signal."""
    def term(cmd):
        p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=30)
        return p.returncode
    assert term([prog, "sleep"]) == term([KILN_PYTHON, "-I", app / "app.py",
                                          "sleep"]) == -signal.SIGTERM
