"""pkg_resources (setuptools) in a built program: it finds the
distributions the program carries (get_distribution, require, requires,
entry points, metadata), reads a package's resources (resource_string,
_exists, _isdir, _listdir, _filename, _stream) through the paths under the
program, and imports the packages setuptools vendors into
setuptools/_vendor and puts on sys.path at run time (kiln looks for
imports the environment lacks in the installation roots a distribution
vendors). Each call prints what the venv's python prints."""
import pytest

from conftest import (KILN_BUILD, describe, kiln_build, make_venv, run,
                      venv_run, write_tree)

# 80.9.0 is of the last setuptools series with pkg_resources.
PINS = ("setuptools==80.9.0", "attrs==24.2.0", "PyYAML==6.0.2",
        "Pygments==2.18.0")

FILES = {
    "mypkg/__init__.py": "",
    "mypkg/data/a.txt": "hello data\n",
    "mypkg/data/sub/b.txt": "bee\n",
    "app.py": """
import warnings
warnings.simplefilter("ignore")
import pkg_resources, attr, yaml, pygments, mypkg

print(pkg_resources.get_distribution("attrs").version)
d = pkg_resources.get_distribution("pyyaml")
print(d.project_name, d.version, d.has_metadata("METADATA"))
print(sorted(str(r) for r in pkg_resources.get_distribution(
    "attrs").requires(extras=("tests-mypy",))))
print(pkg_resources.require("attrs")[0].key)
print(sorted(ep.name for ep in pkg_resources.iter_entry_points(
    "console_scripts") if ep.dist.key == "pygments"))
try:
    pkg_resources.get_distribution("not-installed-dist")
except pkg_resources.DistributionNotFound:
    print("DistributionNotFound")
print(pkg_resources.resource_string("mypkg", "data/a.txt"))
print(pkg_resources.resource_exists("mypkg", "data/sub/b.txt"),
      pkg_resources.resource_exists("mypkg", "data/nope"),
      pkg_resources.resource_isdir("mypkg", "data"))
print(sorted(pkg_resources.resource_listdir("mypkg", "data")))
print(open(pkg_resources.resource_filename("mypkg", "data/sub/b.txt")).read(),
      end="")
with pkg_resources.resource_stream("mypkg", "data/a.txt") as f:
    print(f.read())
import jaraco.text, packaging.version
print(packaging.version.Version("1.2rc1") < packaging.version.Version("1.2"))
print(jaraco.text.__file__.endswith("jaraco/text/__init__.py"),
      len(jaraco.text.lorem_ipsum) > 100)
""",
}


@pytest.fixture(scope="module")
def venv():
    return make_venv(KILN_BUILD / "e2e-venv-pkg-resources", PINS)


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_pkg_resources_as_under_python(tmp_path, venv, mode):
    write_tree(tmp_path, FILES)
    want = venv_run(venv, tmp_path / "app.py", cwd=tmp_path)
    assert want.returncode == 0, describe(want)
    out = tmp_path / "prog"
    kiln_build("app.py", "-q", f"--{mode}", "--venv", venv, "-o", out,
               cwd=tmp_path)
    got = run([out / "prog" if mode == "onedir" else out], cwd=tmp_path)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout == want.stdout, describe(got)
