"""Standard streams: piped stdin (bytes and text), stdout to a pipe,
encodings, and buffered output flushed at exit."""
import json
import os

import pytest

from conftest import (KILN_PYTHON, build_program, describe, python_run, run,
                      write_tree)

APP = r"""
import json
import sys

mode = sys.argv[1]
if mode == "bytes":
    data = sys.stdin.buffer.read()
    sys.stdout.buffer.write(b"len=%d\n" % len(data))
    sys.stdout.buffer.write(data[::-1])
elif mode == "text":
    text = sys.stdin.read()
    print(json.dumps({"chars": len(text), "upper": text.upper(),
                      "lines": text.splitlines()}, ensure_ascii=False))
elif mode == "lines":
    for n, line in enumerate(sys.stdin, 1):
        print(n, line.rstrip("\n")[::-1])
elif mode == "info":
    print(json.dumps({
        name: {"encoding": s.encoding, "errors": s.errors,
               "line_buffering": s.line_buffering, "isatty": s.isatty(),
               "write_through": getattr(s, "write_through", None)}
        for name, s in (("stdin", sys.stdin), ("stdout", sys.stdout),
                        ("stderr", sys.stderr))
    } | {"fs": sys.getfilesystemencoding(), "utf8_mode": sys.flags.utf8_mode,
         "default": sys.getdefaultencoding()}))
elif mode == "many":
    # Never flushed explicitly: everything must still arrive at exit.
    for i in range(20000):
        print(f"line {i} ünïcode ☃")
    sys.stderr.write("err tail")
elif mode == "many-exit":
    for i in range(5000):
        print(f"line {i}")
    sys.stdout.write("no newline at the end")
    sys.exit(4)
elif mode == "unencodable":
    print("snowman ☃")
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    d = tmp_path_factory.mktemp("stdio")
    write_tree(d, {"app.py": APP})
    return d


@pytest.fixture(scope="module")
def prog(app):
    return build_program(app, "app.py", output=app / "dist" / "app")


def both(prog, app, *args, **kw):
    return run([prog, *args], **kw), python_run(app / "app.py", *args, **kw)


def test_piped_stdin_bytes(prog):
    data = "héllo wörld ☃ \U0001F600\n".encode() + bytes(range(256)) + b"\r\n\x00end"
    r = run([prog, "bytes"], input=data, text=False)
    assert r.returncode == 0, describe(r)
    assert r.stdout == b"len=%d\n" % len(data) + data[::-1]
    assert r.stderr == b""


def test_piped_stdin_text_utf8(prog, app):
    text = "grüße ☃\nzweite Zeile \U0001F600\nlast"
    env = dict(os.environ, LC_ALL="C.UTF-8")
    k, p = both(prog, app, "text", input=text.encode(), text=False, env=env)
    assert k.returncode == 0, describe(k)
    assert json.loads(k.stdout.decode()) == {
        "chars": len(text), "upper": text.upper(), "lines": text.splitlines()}
    assert k.stdout == p.stdout


def test_stdin_line_iteration(prog):
    r = run([prog, "lines"], input="abc\nünï\n\nxyz")
    assert r.returncode == 0, describe(r)
    assert r.stdout == "1 cba\n2 ïnü\n3 \n4 zyx\n"


@pytest.mark.parametrize("locale", ["C.UTF-8", "C", "POSIX", None])
def test_stream_settings_match_python(prog, app, locale):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LC_", "LANG", "PYTHON"))}
    if locale:
        env["LC_ALL"] = locale
    k, p = both(prog, app, "info", env=env, input="")
    assert k.returncode == 0, describe(k)
    assert json.loads(k.stdout) == json.loads(p.stdout)


def test_stdout_encoding_to_pipe_is_utf8(prog):
    env = dict(os.environ, LC_ALL="C.UTF-8")
    r = run([prog, "info"], env=env, input="")
    info = json.loads(r.stdout)
    assert info["stdout"]["encoding"].lower().replace("-", "") == "utf8"
    assert info["stdout"]["isatty"] is False
    assert info["stdout"]["line_buffering"] is False


def test_buffered_output_is_flushed_at_exit(prog):
    r = run([prog, "many"], text=False)
    assert r.returncode == 0, describe(r)
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 20000
    assert lines[0] == "line 0 ünïcode ☃"
    assert lines[-1] == "line 19999 ünïcode ☃"
    assert r.stderr == b"err tail"


def test_buffered_output_is_flushed_on_sys_exit(prog, app):
    k, p = both(prog, app, "many-exit", text=False)
    assert k.returncode == 4, describe(k)
    assert k.stdout == p.stdout
    assert k.stdout.endswith(b"line 4999\nno newline at the end")


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_non_ascii_output_matches_python(prog, app, locale):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LC_", "LANG", "PYTHON"))}
    env["LC_ALL"] = locale
    k, p = both(prog, app, "unencodable", env=env, text=False)
    assert (k.returncode, k.stdout, k.stderr) == (p.returncode, p.stdout, p.stderr)


def test_output_to_closed_pipe_matches_python(prog, app):
    """Writing a lot to a pipe whose reader went away: same ending as
    python (no crash)."""
    import subprocess

    def go(cmd):
        p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.read(10)
        p.stdout.close()
        err = p.stderr.read()
        p.wait(timeout=30)
        return p.returncode, b"BrokenPipeError" in err
    k = go([prog, "many"])
    p = go([KILN_PYTHON, "-I", app / "app.py",
            "many"])
    assert k == p
