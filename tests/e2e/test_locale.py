"""UTF-8 mode and the locale in a built program are python3's: under a C
or POSIX locale both switch to UTF-8 mode and coerce LC_CTYPE to C.UTF-8
(PEP 538, PEP 540); under a UTF-8 locale neither does. The program is
compared with the Python it embeds run isolated (-I), as the program
is."""
import pytest

from conftest import KILN_PYTHON, describe, kiln_build, run, write_tree

APP = """
import locale, sys
print(sys.flags.utf8_mode, locale.getpreferredencoding(False),
      sys.getfilesystemencoding(), sys.stdout.encoding, sys.stdout.errors,
      locale.setlocale(locale.LC_CTYPE))
print("caf\\u00e9")
"""


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    d = tmp_path_factory.mktemp("locale")
    write_tree(d, {"app.py": APP})
    kiln_build("app.py", "-q", "-o", "prog", cwd=d)
    return d


@pytest.mark.parametrize("env", [
    {"LANG": "C"}, {"LANG": "POSIX"}, {"LC_ALL": "C"}, {"LANG": "C.UTF-8"},
    {"LC_ALL": "C.UTF-8", "LANG": "C"}, {},
])
def test_locale_and_utf8_mode_as_python(prog, env):
    base = {"PATH": "/usr/bin:/bin"}
    want = run([KILN_PYTHON, "-I", prog / "app.py"], env={**base, **env})
    got = run([prog / "prog"], env={**base, **env})
    assert want.returncode == 0, describe(want)
    assert (got.returncode, got.stdout, got.stderr) == \
        (0, want.stdout, want.stderr), describe(got)
