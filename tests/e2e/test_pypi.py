"""Real PyPI packages, pinned (conftest.PYPI_PINS), collected without hooks
from what their distributions declare: each small app is built with kiln
against a venv holding the pins and must print what the venv's own python
prints. The rich app must not carry the optional imports rich does not
require (IPython and what it drags in), and every app carries its
distributions' metadata."""
import pytest

from conftest import (KILN_BUILD, Bundle, build_program, describe, dist_key,
                      kiln_build, make_venv, run, venv_run, write_tree)

APPS = {
    "click": """
        import click
        from click.testing import CliRunner

        @click.command()
        @click.option("--count", default=1, type=int)
        @click.option("--name", required=True)
        @click.option("--shout/--no-shout", default=False)
        def hello(count, name, shout):
            for _ in range(count):
                text = f"Hello {name}!"
                click.echo(text.upper() if shout else text)

        hello(["--count", "2", "--name", "kiln"], standalone_mode=False)
        r = CliRunner().invoke(hello, ["--name", "runner", "--shout"])
        print(r.exit_code, repr(r.output))
        r = CliRunner().invoke(hello, ["--count", "x", "--name", "n"])
        print(r.exit_code, r.output.splitlines()[-1])
    """,
    "yaml": """
        import yaml
        print(yaml.__with_libyaml__, yaml.CSafeLoader.__module__)
        data = yaml.load("a: [1, 2.5, true]\\nb: {c: d}\\n",
                         Loader=yaml.CSafeLoader)
        print(data)
        print(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=True), end="")
        print(yaml.safe_load("- x\\n- y\\n"))
    """,
    "attrs": """
        import attr
        import attrs

        @attrs.define(order=True)
        class Point:
            x: int
            y: int = attrs.field(default=0, validator=attrs.validators.ge(0))

        p = Point(1, 2)
        print(p, attrs.asdict(p), attrs.evolve(p, y=5), Point(1) < p)
        try:
            Point(1, -1)
        except ValueError as e:
            print("invalid:", e.args[0])

        @attr.s(frozen=True)
        class Old:
            a = attr.ib()
        print(Old(3), attr.asdict(Old(4)), attr.has(Old))
        print(attr.__version__, attrs.__version_info__)
    """,
    "rich": """
        import io
        from rich.console import Console
        from rich.table import Table

        out = io.StringIO()
        console = Console(file=out, width=50, color_system=None,
                          force_terminal=False, legacy_windows=False)
        table = Table(title="Fruit")
        table.add_column("name")
        table.add_column("count", justify="right")
        table.add_row("apple", "3")
        table.add_row("pear", "12")
        console.print(table)
        console.print("[bold]bold[/bold] and plain", highlight=False)
        print(out.getvalue(), end="")
    """,
    "packaging": """
        from packaging.markers import Marker
        from packaging.requirements import Requirement
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        print(Version("1.2.3rc1") < Version("1.2.3"), Version("2.0.post1"))
        spec = SpecifierSet(">=1.0,<2")
        print(list(spec.filter(["0.9", "1.5", "1.9.9", "2.0"])))
        req = Requirement('name[extra]>=1.0; python_version >= "3.8"')
        print(req.name, sorted(req.extras), req.specifier, req.marker)
        print(Marker('python_version >= "3.8"').evaluate())
    """,
    "idna": """
        import idna
        print(idna.encode("ドメイン.テスト"))
        print(idna.decode("xn--eckwd4c7c.xn--zckzah"))
        print(idna.encode("Königsgäßchen", uts46=True))
    """,
    "cryptography": """
        import base64
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives import hashes

        f = Fernet(base64.urlsafe_b64encode(bytes(range(32))))
        token = f.encrypt(b"secret message")
        print(f.decrypt(token))
        h = hashes.Hash(hashes.SHA256())
        h.update(b"kiln")
        print(h.finalize().hex())
    """,
    "charset_normalizer": """
        import importlib.machinery
        import sys
        from charset_normalizer import from_bytes
        import charset_normalizer.md as md

        text = "Bonjour, ça va? Très bien, merci. Où est la bibliothèque? "
        best = from_bytes((text * 4).encode("cp1252")).best()
        print(best.encoding, str(best)[:20])
        print(md.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)))
        print("charset_normalizer.md__mypyc" in sys.modules)
    """,
    "pygments": """
        from pygments import highlight
        from pygments.formatters import get_formatter_by_name
        from pygments.lexers import get_lexer_by_name

        code = 'def f(x):\\n    return "hi" + x\\n'
        fmt = get_formatter_by_name("html", nowrap=True)
        print(highlight(code, get_lexer_by_name("python"), fmt), end="")
        print(type(fmt).__module__)
    """,
    "docutils": """
        import pkgutil
        from docutils.core import publish_parts

        # The HTML writer opens its template and stylesheets as files; a
        # program serves package data through get_data.
        template = pkgutil.get_data("docutils.writers.html5_polyglot",
                                    "template.txt")
        css = pkgutil.get_data("docutils.writers.html5_polyglot",
                               "minimal.css")
        print(b"%(body)s" in template, css.splitlines()[0].decode())
        src = "Title\\n=====\\n\\nHello *world*, ``code``.\\n\\n- a\\n- b\\n"
        parts = publish_parts(src, writer_name="html5", settings_overrides={
            "report_level": 5, "embed_stylesheet": False,
            "stylesheet_path": "", "template": "docutils_template.txt"})
        print(parts["title"])
        print(parts["body"], end="")
    """,
    "sqlalchemy": """
        from sqlalchemy import (Column, Integer, MetaData, String, Table,
                                create_engine, insert, select)

        engine = create_engine("sqlite://")
        meta = MetaData()
        fruit = Table("fruit", meta, Column("id", Integer, primary_key=True),
                      Column("name", String(20)))
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(fruit), [{"name": "apple"}, {"name": "pear"}])
        with engine.connect() as conn:
            print(conn.execute(select(fruit).order_by(fruit.c.id)).all())
        print(engine.dialect.name)
    """,
}

# The distribution of each app's package: its metadata must be bundled.
DISTS = {"click": "click", "yaml": "PyYAML", "attrs": "attrs", "rich": "rich",
         "packaging": "packaging", "idna": "idna",
         "cryptography": "cryptography",
         "charset_normalizer": "charset-normalizer", "pygments": "Pygments",
         "docutils": "docutils", "sqlalchemy": "SQLAlchemy"}


def site_packages(venv, pyinfo):
    major, minor = pyinfo["version_info"]
    return venv / "lib" / f"python{major}.{minor}" / "site-packages"


def dist_info(venv, pyinfo, name):
    """The .dist-info directory name of the venv's distribution `name`,
    as its installer spelled it."""
    found = [d.name for d in site_packages(venv, pyinfo).glob("*.dist-info")
             if dist_key(d.stem.rsplit("-", 1)[0]) == dist_key(name)]
    assert len(found) == 1, (name, found)
    return found[0]


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    d = tmp_path_factory.mktemp("pypi")
    write_tree(d, {f"{name}_app.py": text for name, text in APPS.items()})
    (d / "docutils_template.txt").write_text("%(body)s\n")
    return d


def build_app(apps, venv, pyinfo, name, *extra):
    return build_program(apps, f"{name}_app.py", "--venv", venv, *extra,
                         output=apps / "dist" / f"{name}{len(extra)}")


@pytest.mark.parametrize("name", sorted(APPS))
def test_folder_program_prints_what_the_venv_prints(apps, pypi_venv, pyinfo,
                                                    name):
    want = venv_run(pypi_venv, apps / f"{name}_app.py", cwd=apps)
    assert want.returncode == 0, describe(want)
    out = apps / "dist-onedir" / name
    kiln_build(f"{name}_app.py", "--venv", pypi_venv, "--onedir", "-o", out,
               cwd=apps)
    got = run([out / name], cwd=apps)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout == want.stdout, describe(got)
    # Native code and data are files beside the program, metadata too.
    info = dist_info(pypi_venv, pyinfo, DISTS[name])
    assert (out / "_internal" / info / "METADATA").is_file()


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_prints_what_the_venv_prints(apps, pypi_venv, pyinfo, name):
    want = venv_run(pypi_venv, apps / f"{name}_app.py", cwd=apps)
    assert want.returncode == 0, describe(want)
    prog = build_app(apps, pypi_venv, pyinfo, name)
    got = run([prog], cwd=apps)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout == want.stdout, describe(got)
    entries = Bundle.read(prog).entries
    info = dist_info(pypi_venv, pyinfo, DISTS[name])
    assert entries.get(f"{info}/METADATA", {}).get("kind") == "metadata", \
        sorted(n for n, e in entries.items() if e["kind"] == "metadata")
    assert f"{info}/INSTALLER" not in entries


def test_charset_normalizer_carries_its_mypyc_helper(apps, pypi_venv, pyinfo):
    entries = Bundle.read(build_app(apps, pypi_venv, pyinfo,
                                    "charset_normalizer")).entries
    assert entries["charset_normalizer.md"]["kind"] == "extension"
    assert entries["charset_normalizer.md__mypyc"]["kind"] == "extension"


def test_cryptography_carries_the_module_only_rust_imports(apps, pypi_venv,
                                                           pyinfo):
    entries = Bundle.read(build_app(apps, pypi_venv, pyinfo,
                                    "cryptography")).entries
    assert entries["_cffi_backend"]["kind"] == "extension"
    assert "cffi-" in " ".join(n for n in entries if n.endswith("/METADATA"))


def test_plugins_loaded_by_name_are_all_there(apps, pypi_venv, pyinfo):
    entries = Bundle.read(build_app(apps, pypi_venv, pyinfo,
                                    "docutils")).entries
    for name in ("docutils.readers.standalone", "docutils.parsers.rst",
                 "docutils.writers.html5_polyglot", "docutils.languages.en",
                 "docutils.parsers.rst.languages.en"):
        assert name in entries, name
    # Package data: the writer's stylesheets, at their package path.
    css = "docutils/writers/html5_polyglot/minimal.css"
    assert entries[css]["kind"] == "pkgdata"


# What IPython drags into a program that carries it.
IPYTHON_AND_FRIENDS = ("IPython", "jedi", "pytest", "_pytest", "parso",
                       "prompt_toolkit")

# An environment where IPython, jedi and pytest are installed (stand-ins
# with their own distribution metadata), searched after the venv. Its
# directory is a site-packages, so that kiln does not take it for the
# app's own modules.
FAKE_SITE = {
    "IPython/__init__.py": "import jedi, pytest\n",
    "IPython/display.py": "def display(*a): pass\n",
    "IPython/core/__init__.py": "",
    "IPython/core/formatters.py": "class BaseFormatter: pass\n",
    "ipython-8.0.dist-info/METADATA":
        "Metadata-Version: 2.1\nName: ipython\nVersion: 8.0\n"
        "Requires-Dist: jedi\nRequires-Dist: pytest\n",
    "ipython-8.0.dist-info/RECORD":
        "IPython/__init__.py,,\nIPython/display.py,,\n"
        "IPython/core/__init__.py,,\nIPython/core/formatters.py,,\n",
    "jedi/__init__.py": "",
    "jedi-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: jedi\n",
    "jedi-0.1.dist-info/RECORD": "jedi/__init__.py,,\n",
    "pytest.py": "",
    "pytest-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: pytest\n",
    "pytest-1.0.dist-info/RECORD": "pytest.py,,\n",
}


@pytest.fixture(scope="module")
def ipython_venv():
    """A venv with the real IPython, jedi and pytest."""
    return make_venv(KILN_BUILD / "e2e-venv-ipython",
                     ("ipython==8.30.0", "pytest==8.3.4"))


@pytest.mark.parametrize("where", ["stand-ins", "real IPython"])
def test_rich_app_leaves_out_what_rich_does_not_require(apps, pypi_venv,
                                                         pyinfo, where,
                                                         request):
    if where == "stand-ins":
        # The venv, and an environment beside it that has IPython.
        write_tree(apps / "env" / "site-packages", FAKE_SITE)
        prog = build_app(apps, pypi_venv, pyinfo, "rich", "--paths",
                         apps / "env" / "site-packages")
    else:
        # The venv's packages, then a site-packages where the real IPython,
        # jedi and pytest are installed.
        other = site_packages(request.getfixturevalue("ipython_venv"), pyinfo)
        prog = build_app(apps, pypi_venv, pyinfo, "rich", "--paths", other,
                         "--name", "rich-ipython")
    entries = Bundle.read(prog).entries
    leaked = sorted(n for n in entries
                    if n.split(".")[0] in IPYTHON_AND_FRIENDS)
    assert leaked == [], leaked
    assert "rich.console" in entries and "pygments" in entries
    assert entries["rich-13.9.4.dist-info/METADATA"]["kind"] == "metadata"
    r = run([prog], cwd=apps)
    assert r.returncode == 0 and "apple" in r.stdout, describe(r)


def test_build_says_which_optional_packages_it_left_out(apps, pypi_venv):
    """python would import IPython from the environment, so kiln says in
    one line that it left it out, and how to bring it in."""
    write_tree(apps / "env" / "site-packages", FAKE_SITE)
    r = kiln_build("rich_app.py", "--venv", pypi_venv, "--paths",
                   apps / "env" / "site-packages", "-o",
                   apps / "dist" / "rich-note", cwd=apps)
    line = [x for x in r.stderr.splitlines() if "left out" in x]
    assert len(line) == 1, describe(r)
    assert line[0].startswith("kiln: left out "), describe(r)
    assert ("installed package(s) only imported optionally by packages that "
            "do not require them: ") in line[0], describe(r)
    assert "IPython (rich does not require ipython)" in line[0], describe(r)
    assert line[0].endswith("pass --hidden-import NAME"), describe(r)


def test_rich_app_carries_ipython_when_the_app_imports_it(apps, pypi_venv,
                                                          pyinfo):
    write_tree(apps / "env" / "site-packages", FAKE_SITE)
    write_tree(apps, {"rich_ipy_app.py": """
        import IPython
        import rich.pretty
        print(IPython.__name__)
    """})
    prog = build_program(apps, "rich_ipy_app.py", "--venv", pypi_venv,
                         "--paths", apps / "env" / "site-packages",
                         output=apps / "dist" / "rich_ipy")
    entries = Bundle.read(prog).entries
    for name in ("IPython", "IPython.display", "jedi", "pytest"):
        assert name in entries, name
    assert "ipython-8.0.dist-info/METADATA" in entries


def test_modules_loaded_only_by_name_are_stored_compressed(apps, pypi_venv,
                                                           pyinfo):
    entries = Bundle.read(build_app(apps, pypi_venv, pyinfo,
                                    "pygments")).entries
    zstd = 0x01  # the data part is zstd-compressed (docs/format.md)
    # Lexers come in because pygments loads them by computed name; codecs
    # because codecs are looked up by name: both compressed.
    for name in ("pygments.lexers.rust", "encodings.cp1252"):
        assert entries[name]["flags"] & zstd, name
    # What the program imports, and the codecs the interpreter starts
    # with, stay as they are: read in place at start-up.
    for name in ("pygments.lexer", "pygments.token",
                 "encodings.utf_8", "encodings.aliases"):
        assert not entries[name]["flags"] & zstd, name
