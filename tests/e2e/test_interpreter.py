"""kiln build --interpreter: a program that behaves like python over what
it carries: -c, -m, SCRIPT, - and stdin, the REPL on a terminal, python's
flags, exit statuses and messages. Compared with the Python kiln embeds
(KILN_PYTHON) run on the same command lines in the same directories."""
import os
import select
import signal
import subprocess
import time

import pytest

from conftest import (KILN_PYTHON, Bundle, assert_one_error_line, describe,
                      inspect_names, kiln, kiln_build, run, write_tree)

PACKAGE = {
    "greet/__init__.py": "def hello(who):\n    return f'hello {who}'\n",
    "greet/__main__.py": """
        import sys
        from greet import hello
        print(__name__, hello(sys.argv[1]), sys.argv[2:])
        """,
    "greet/fail.py": """
        def boom():
            raise ValueError("bad value")
        """,
}

# The environment both run in: no PYTHON* variables, no user site.
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LC_ALL": "C.UTF-8"}


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("interp"), PACKAGE)


@pytest.fixture(scope="module")
def prog(src):
    """The interpreter program carrying greet and multiprocessing, with
    PYTHON* variables honoured, as python honours them."""
    out = src.parent / "interp-prog" / "py"
    kiln_build("--interpreter", "-q", "--collect", "greet", "--hidden-import",
               "multiprocessing", "--python-env", "-o", out, cwd=src)
    return out


@pytest.fixture(scope="module")
def plain(src):
    """The interpreter program built with no other option (and no name:
    dist/python)."""
    kiln_build("--interpreter", "-q", "--hidden-import", "greet", cwd=src)
    return src / "dist" / "python"


def both(prog, args, *, cwd, env=ENV, input=None):
    """Run the program and python on the same command line; both results."""
    got = run([prog, *args], cwd=cwd, env=env, input=input)
    want = run([KILN_PYTHON, "-s", *args], cwd=cwd, env=env, input=input)
    return got, want


def assert_same(got, want):
    assert (got.returncode, got.stdout, got.stderr) == \
        (want.returncode, want.stdout, want.stderr), \
        describe(got) + "\n=== python ===\n" + describe(want)


def test_command(prog, src):
    code = ("import sys, greet; print(greet.hello('c'), sys.argv, "
            "getattr(sys, 'frozen', None), 'site' in sys.modules, "
            "sys.flags.no_user_site)")
    got = run([prog, "-c", code, "x", "y"], cwd=src, env=ENV)
    assert got.returncode == 0, describe(got)
    assert got.stdout == "hello c ['-c', 'x', 'y'] None True 1\n"
    got = run([prog, "-c", "import sys; print(sys.kiln.program)"], cwd=src,
              env=ENV)
    assert got.stdout == f"{prog}\n", describe(got)


def test_bundled_module(prog, src, tmp_path):
    got, want = both(prog, ["-m", "greet", "m", "a", "b"], cwd=src)
    assert_same(got, want)
    assert got.stdout == "__main__ hello m ['a', 'b']\n"
    # the bundled package, from a directory where python has none
    got = run([prog, "-m", "greet", "there"], cwd=tmp_path, env=ENV)
    assert got.stdout == "__main__ hello there []\n", describe(got)


def test_module_in_the_current_directory(prog, tmp_path):
    write_tree(tmp_path, {"local.py": """
        import sys
        print(__name__, sys.argv)
        raise SystemExit(3)
        """})
    got, want = both(prog, ["-m", "local", "q"], cwd=tmp_path)
    assert_same(got, want)
    assert got.returncode == 3


def test_missing_module(prog, tmp_path):
    got = run([prog, "-m", "nowhere"], cwd=tmp_path, env=ENV)
    assert got.returncode == 1, describe(got)
    assert got.stderr == f"{prog}: No module named nowhere\n"


def test_script_imports_its_sibling(prog, tmp_path):
    write_tree(tmp_path, {
        "app/main.py": """
            import os, sys, helper, greet
            print(helper.V, greet.hello('s'), sys.argv,
                  sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
            """,
        "app/helper.py": "V = 7\n"})
    got = run([prog, "app/main.py", "1"], cwd=tmp_path, env=ENV)
    assert got.returncode == 0, describe(got)
    assert got.stdout == "7 hello s ['app/main.py', '1'] True\n"


def test_stdin(prog, tmp_path):
    code = "import sys\nprint('from stdin', sys.argv)\nsys.exit(4)\n"
    for args in (["-", "a"], []):
        got, want = both(prog, args, cwd=tmp_path, input=code)
        assert_same(got, want)
        assert got.returncode == 4


def test_version_and_help(prog, tmp_path):
    for flag in ("--version", "-V"):
        got, want = both(prog, [flag], cwd=tmp_path)
        assert_same(got, want)
    got, want = both(prog, ["-h"], cwd=tmp_path)
    lines = got.stdout.splitlines()
    assert lines[0] == f"usage: {prog} [option] ... [-c cmd | -m mod | " \
                       "file | -] [arg] ...", describe(got)
    assert lines[1:] == want.stdout.splitlines()[1:]
    assert got.returncode == 0


def test_bad_option(prog, tmp_path):
    got, want = both(prog, ["--bogus"], cwd=tmp_path)
    assert got.returncode == want.returncode == 2, describe(got)
    assert got.stderr.replace(str(prog), "PROG") == \
        want.stderr.replace(KILN_PYTHON, "PROG"), describe(got)
    got, want = both(prog, ["-c"], cwd=tmp_path)
    assert got.returncode == 2 and "Argument expected for the -c option" \
        in got.stderr, describe(got)


FLAGS = ("import sys; f = sys.flags; print(f.optimize, f.isolated, "
         "f.no_site, f.ignore_environment, f.dont_write_bytecode, "
         "f.safe_path, f.dev_mode, 'site' in sys.modules, "
         "hasattr(__builtins__, 'exit'), sys.warnoptions, '' in sys.path)")


@pytest.mark.parametrize("flags", [[], ["-O"], ["-OO"], ["-I"], ["-S"],
                                   ["-E"], ["-B"], ["-P"], ["-X", "dev"],
                                   ["-W", "error", "-u"], ["-I", "-S", "-B"]])
def test_flags(prog, tmp_path, flags):
    got, want = both(prog, [*flags, "-c", FLAGS], cwd=tmp_path)
    assert_same(got, want)


def test_optimize_drops_asserts_of_command_line_code(prog, tmp_path):
    got, want = both(prog, ["-O", "-c", "assert False; print('ran')"],
                     cwd=tmp_path)
    assert_same(got, want)
    assert got.stdout == "ran\n"


def test_pythonpath(prog, plain, tmp_path):
    write_tree(tmp_path, {"extra/onpath.py": "print('onpath')\n"})
    env = {**ENV, "PYTHONPATH": "extra"}
    got, want = both(prog, ["-c", "import onpath"], cwd=tmp_path, env=env)
    assert_same(got, want)
    got, want = both(prog, ["-E", "-c", "import onpath"], cwd=tmp_path,
                     env=env)
    assert got.returncode == want.returncode == 1, describe(got)
    # built without --python-env, the program ignores PYTHON* variables
    got = run([plain, "-c", "import sys; print(sys.flags.ignore_environment)"
               "; import onpath"], cwd=tmp_path, env=env)
    assert got.returncode == 1, describe(got)
    assert got.stdout == "1\n"
    assert "No module named 'onpath'" in got.stderr


@pytest.mark.parametrize("code", [
    "exit(5)", "import sys; sys.exit('bye')", "raise SystemExit",
    "1/0", "import greet.fail; greet.fail.boom()"])
def test_exit_status_and_traceback(prog, src, code):
    got, want = both(prog, ["-c", code], cwd=src)
    got.stderr = got.stderr.replace(f"{prog}/", f"{src}/")
    assert_same(got, want)


def test_keyboard_interrupt_ends_by_sigint(prog, tmp_path):
    write_tree(tmp_path, {"ki.py": "raise KeyboardInterrupt\n"})
    for args in (["-c", "raise KeyboardInterrupt"], ["ki.py"],
                 ["-m", "ki"]):
        got, want = both(prog, args, cwd=tmp_path)
        assert_same(got, want)
        assert got.returncode == -signal.SIGINT


MP_SCRIPT = """
import multiprocessing as mp, sys

def square(x):
    return x * x

if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    with mp.Pool(2) as pool:
        print(pool.map(square, range(6)))
    p = mp.Process(target=print, args=("child",))
    p.start()
    p.join()
    print("exit", p.exitcode)
"""


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_multiprocessing_from_a_script(prog, tmp_path, method):
    write_tree(tmp_path, {"mp_app.py": MP_SCRIPT})
    got, want = both(prog, ["mp_app.py", method], cwd=tmp_path)
    assert_same(got, want)
    assert got.stdout == "[0, 1, 4, 9, 16, 25]\nchild\nexit 0\n"


class Terminal:
    """A program on a pseudo-terminal: what it wrote, read with a
    deadline; killed when the with block ends."""

    def __init__(self, cmd, cwd, term="dumb"):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env={**ENV,
                                                        "TERM": term},
                                     stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)
        self.out = b""
        self.seen = 0

    def expect(self, text, timeout=30):
        """Wait for text after what earlier expects matched."""
        end = time.monotonic() + timeout
        while text.encode() not in self.out[self.seen:]:
            left = end - time.monotonic()
            assert left > 0, f"no {text!r} on the terminal: {self.out!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"terminal closed before {text!r}: {self.out!r}"
                self.out += chunk
        self.seen += self.out[self.seen:].index(text.encode()) + len(text)

    def send(self, text):
        os.write(self.master, text.encode())

    def wait(self):
        return self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def converse(cmd, cwd, steps, term="dumb"):
    """Run cmd on a terminal of type term, and for each (text, reply) of
    steps type text (unless None), then wait for reply (unless None); its
    exit status once the last step is done."""
    with Terminal(cmd, cwd, term) as term:
        for text, reply in steps:
            if text is not None:
                term.send(text)
            if reply is not None:
                term.expect(reply)
        return term.wait()


def test_repl_on_a_terminal(prog, tmp_path):
    assert converse([prog], tmp_path, [
        (None, ">>> "),
        ("import sys, greet\rprint(6*7, greet.hello('tty'), 'readline' in "
         "sys.modules, hasattr(sys, '__interactivehook__'))\r",
         "42 hello tty True True"),
        ("x = [1, 2,\r", "... "),
        ("3]\rprint(sum(x))\r", "6\r\n>>> "),
        ("\x04", None)]) == 0


def test_repl_on_a_capable_terminal(prog, tmp_path):
    """TERM=xterm: on 3.13 the _pyrepl REPL (colours, cursor moves), on
    3.11 and 3.12 readline's; Ctrl-D on an empty line ends it with 0, as
    python's."""
    steps = [(None, ">>> "),
             ("print(6*7, 'readline' in __import__('sys').modules)\r",
              "42 True"),
             # Ctrl-D once the next prompt is up: typed earlier, it can
             # reach the terminal before the line editor reads it raw,
             # and python waits on as well.
             (None, ">>> "),
             ("\x04", None)]
    assert converse([KILN_PYTHON, "-s"], tmp_path, steps, "xterm") == 0
    assert converse([prog], tmp_path, steps, "xterm") == 0


def test_repl_after_a_script_with_i(prog, tmp_path):
    write_tree(tmp_path, {"s.py": "value = 'from the script'\n"})
    assert converse([prog, "-i", "s.py"], tmp_path, [
        (None, ">>> "),
        ("print(value)\r", "from the script\r\n>>> "),
        ("raise SystemExit(6)\r", None)]) == 6


def test_the_program(plain, src):
    b = Bundle.read(plain)
    assert b.run_mode == 4 and b.run_target_len == 0
    r = kiln("inspect", plain)
    assert r.stdout.startswith(f"# {plain}: ") and "runs interpreter\n" in \
        r.stdout.splitlines()[0] + "\n", describe(r)
    names = inspect_names(plain)
    # runpy and site are frozen into 3.11's interpreter itself
    for name in ("readline", "rlcompleter", "greet"):
        assert name in names, name
    assert "greet.fail" not in names


@pytest.mark.parametrize("args", [["app.py"], ["-m", "greet"],
                                  ["--entry", "greet:hello"]])
def test_interpreter_and_a_run_target(src, args):
    r = kiln("build", "--interpreter", *args, cwd=src)
    assert_one_error_line(r, status=2)
    assert "give only one of" in r.stderr and "--interpreter" in r.stderr


def test_project_table(tmp_path):
    write_tree(tmp_path, {
        "pyproject.toml": """
            [tool.kiln]
            interpreter = true
            hidden-import = ["projpkg"]
            """,
        "projpkg/__init__.py": "def main():\n    print('project')\n"})
    kiln_build("-q", cwd=tmp_path)
    got = run([tmp_path / "dist" / "python", "-c",
               "import projpkg; projpkg.main()"], cwd="/", env=ENV)
    assert (got.returncode, got.stdout) == (0, "project\n"), describe(got)
    r = kiln("build", "--script", "x", cwd=tmp_path)
    assert_one_error_line(r, status=2)


def test_runtime_hooks_run_before_the_command(tmp_path):
    write_tree(tmp_path, {"hook.py": """
        import os
        os.environ["FROM_HOOK"] = "set"
        """})
    kiln_build("--interpreter", "-q", "--runtime-hook", "hook.py", "-o",
               "py", cwd=tmp_path)
    got = run([tmp_path / "py", "-c",
               "import os; print(os.environ['FROM_HOOK'])"], cwd=tmp_path,
              env=ENV)
    assert (got.returncode, got.stdout) == (0, "set\n"), describe(got)
    write_tree(tmp_path, {"bad.py": "raise SystemExit(9)\n"})
    kiln_build("--interpreter", "-q", "--runtime-hook", "bad.py", "-o",
               "py2", cwd=tmp_path)
    got = run([tmp_path / "py2", "-c", "print('not run')"], cwd=tmp_path,
              env=ENV)
    assert (got.returncode, got.stdout) == (9, ""), describe(got)
