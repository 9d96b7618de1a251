"""The module objects and specs the bundle importer makes (rt_importer_spec.c
builds them in C instead of through importlib's Python code) are the ones
importlib makes from python's own finders: the same attributes in the same
order, the same values once paths are taken relative to where the modules
are, the same objects shared between a module and its spec."""
import json

import pytest

from conftest import KILN_PYTHON, describe, kiln_build, run, write_tree

APP = {
    "app.py": """
        import json, os, sys
        import json.decoder, email.mime, _bz2
        import mypkg, mypkg.sub, mypkg.sub.leaf, mypkg.plain

        if getattr(sys, "frozen", False):
            roots = [sys.kiln.files]
        else:
            roots = [os.path.dirname(os.path.abspath(__file__)),
                     os.path.dirname(os.path.dirname(json.__file__)),
                     os.path.dirname(_bz2.__file__)]

        def rel(v):
            if isinstance(v, str):
                for r in roots:
                    if v.startswith(r + "/"):
                        return "<root>/" + v[len(r) + 1:].replace(
                            "lib-dynload/", "")
            if isinstance(v, list):
                return [rel(x) for x in v]
            return v

        out = {}
        for name in ("json", "json.decoder", "email.mime", "_bz2", "mypkg",
                     "mypkg.sub", "mypkg.sub.leaf", "mypkg.plain"):
            m = sys.modules[name]
            d = vars(m)
            keys = list(d)
            keys = keys[:keys.index("__builtins__")] if "__builtins__" in d \\
                else [k for k in keys if k.startswith("__")]
            spec = {k: ("<loader>" if k == "loader" else rel(v))
                    for k, v in vars(m.__spec__).items()}
            out[name] = {
                "module": keys,
                "values": {k: rel(d[k]) for k in keys
                           if k not in ("__loader__", "__spec__", "__doc__")},
                "spec": spec,
                "loader is": d["__loader__"] is m.__spec__.loader,
                "spec is": d["__spec__"] is m.__spec__,
                "path is": ("__path__" not in d or
                            d["__path__"] is m.__spec__.submodule_search_locations),
                "cached": rel(m.__spec__.cached),
                "parent": m.__spec__.parent,
                "has_location": m.__spec__.has_location,
            }
        print(json.dumps(out, sort_keys=True))
    """,
    "mypkg/__init__.py": "X = 1\n",
    "mypkg/plain.py": "Y = 2\n",
    "mypkg/sub/__init__.py": "",
    "mypkg/sub/leaf.py": "from .. import plain\n",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("module-attrs")
    write_tree(d, APP)
    kiln_build("app.py", "-q", "-o", "app", cwd=d)
    want = run([KILN_PYTHON, "-E", "-s", "-S", "-B", d / "app.py"])
    got = run([d / "app"])
    assert want.returncode == 0, describe(want)
    assert got.returncode == 0, describe(got)
    return json.loads(got.stdout), json.loads(want.stdout)


@pytest.mark.parametrize("name", ["json", "json.decoder", "email.mime",
                                  "_bz2", "mypkg", "mypkg.sub",
                                  "mypkg.sub.leaf", "mypkg.plain"])
def test_module_and_spec_are_importlibs(results, name):
    got, want = results
    assert got[name] == want[name]
