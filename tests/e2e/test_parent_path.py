"""A submodule is found where its parent's __path__ says, as importlib's
path finder finds it: a package installed in sys.modules under another
name (setuptools' _distutils_hack makes setuptools._distutils the module
named distutils) and a package that points its __path__ at another
bundled directory get their submodules from that directory, with
__file__, __name__, source lines and tracebacks as under python."""
import pytest

from conftest import KILN_PYTHON, describe, kiln_build, run, write_tree

APP = {
    "app.py": """
        import sys, traceback
        import vendor._impl
        # Installed under another name, as _distutils_hack does; the
        # bundle also holds a top-level `shadow` whose submodule `core`
        # must not be the one imported.
        sys.modules["shadow"] = vendor._impl
        import shadow.core
        import shadow.deep.leaf
        print(shadow.core.__name__, shadow.core.WHERE, shadow.deep.leaf.WHERE)
        print(shadow.core.__file__.rsplit("/", 3)[-3:])
        print(shadow.core is not vendor._impl.__dict__.get("core"))
        import redirect.thing
        print(redirect.thing.__name__, redirect.thing.WHERE)
        import shadow_real.core  # the real one, by its own name
        print(shadow_real.core.WHERE)
        try:
            shadow.core.boom()
        except ZeroDivisionError:
            tb = traceback.format_exc().splitlines()
            print(tb[-3].strip(), tb[-2].strip())
        import importlib.util
        print(importlib.util.find_spec("shadow.core").origin.rsplit("/", 3)[-3:])
    """,
    "vendor/__init__.py": "",
    "vendor/_impl/__init__.py": "",
    "vendor/_impl/core.py": """
        WHERE = "vendor/_impl/core"
        def boom():
            return 1 / 0  # the vendored line
    """,
    "vendor/_impl/deep/__init__.py": "",
    "vendor/_impl/deep/leaf.py": "WHERE = 'vendor/_impl/deep/leaf'\n",
    "shadow/__init__.py": "",
    "shadow/core.py": "WHERE = 'shadow/core (wrong)'\n",
    "shadow_real/__init__.py": "",
    "shadow_real/core.py": "WHERE = 'shadow_real/core'\n",
    "redirect/__init__.py": """
        import os
        __path__ = [os.path.join(os.path.dirname(os.path.dirname(__file__)),
                                 "elsewhere")]
    """,
    "elsewhere/__init__.py": "",
    "elsewhere/thing.py": "WHERE = 'elsewhere/thing'\n",
}


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_submodules_follow_the_parents_path(tmp_path, mode):
    write_tree(tmp_path, APP)
    args = ["app.py", "-q", "-o", "prog", "--hidden-import", "shadow.core",
            "--hidden-import", "elsewhere.thing",
            "--hidden-import", "vendor._impl.deep.leaf",
            "--hidden-import", "vendor._impl.core"]
    kiln_build(*args, *(["--onedir"] if mode == "onedir" else []),
               cwd=tmp_path)
    exe = tmp_path / "prog" / "prog" if mode == "onedir" else \
        tmp_path / "prog"
    want = run([KILN_PYTHON, "-E", "-s", tmp_path / "app.py"], cwd=tmp_path)
    got = run([exe], cwd=tmp_path)
    assert want.returncode == 0, describe(want)
    assert "vendor/_impl/core vendor/_impl/deep/leaf" in want.stdout
    assert (got.returncode, got.stdout) == (0, want.stdout), \
        describe(got) + describe(want)
