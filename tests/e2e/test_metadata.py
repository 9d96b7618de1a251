"""importlib.metadata in a built program: the distributions it carries,
served from their bundled .dist-info, call by call as the venv's python
answers; a distribution that is not carried raises PackageNotFoundError."""
import pytest

from conftest import describe, kiln_build, run, venv_run, write_tree

APP = """
import importlib.metadata as md
import click, yaml, charset_normalizer, pygments, attr, attrs

print(md.version("click"), md.version("PyYAML"), md.version("pyyaml"),
      md.version("Charset_Normalizer"))
d = md.distribution("charset-normalizer")
print(d.metadata["Name"], d.metadata["Summary"], d.version)
print(md.metadata("attrs")["Name"], md.requires("attrs")[:2])
print(sorted(e.name for e in md.entry_points(group="console_scripts")
             if e.name in ("normalizer", "pygmentize")))
print([e.value for e in md.entry_points(group="console_scripts",
                                         name="normalizer")])
print(sorted(f.name for f in md.files("click") if f.name.endswith("core.py")))
print([f.read_text().splitlines()[0] for f in md.files("click")
       if f.name == "__init__.py" and f.parent.name == "click"])
print(md.distribution("click").read_text("METADATA").splitlines()[0])
print(sorted(md.packages_distributions().get("yaml", [])))
for name in ("not-a-package-zz", "pytest"):
    try:
        md.version(name)
    except md.PackageNotFoundError as e:
        print("PackageNotFoundError", e)
print(attr.__version__, attrs.__version__)
print(sorted(d.metadata["Name"] for d in md.distributions()
             if d.metadata["Name"].lower() in ("click", "pyyaml", "pygments")))
"""


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_metadata_as_the_venv_answers(tmp_path, pypi_venv, mode):
    write_tree(tmp_path, {"app.py": APP})
    want = venv_run(pypi_venv, tmp_path / "app.py", cwd=tmp_path)
    assert want.returncode == 0, describe(want)
    out = tmp_path / "prog"
    kiln_build("app.py", "-q", "--venv", pypi_venv, f"--{mode}", "-o", out,
               cwd=tmp_path)
    got = run([out / "prog" if mode == "onedir" else out], cwd=tmp_path)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout == want.stdout, describe(got)
    assert "PackageNotFoundError No package metadata was found for pytest" \
        in got.stdout
