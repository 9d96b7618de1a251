"""--report FILE: JSON with every entry of the program (kind, sizes as
stored and as loaded, group, why, importers) and every module left out;
FILE.html: the same data drawn on one self-contained page. And the
console: one summary line, -q, progress only on a terminal."""
import json
import os
import pty
import re
import subprocess

import pytest

from conftest import (KILN, build_extension, describe, kiln, kiln_build,
                      write_tree)

APP = {
    "app.py": """
        import json
        import helper
        import shop.prices
        import vendored
        try:
            import not_installed_xyz
        except ImportError:
            pass
        print(helper.X, shop.prices.P)
    """,
    "helper.py": "import fastmath\nX = fastmath.twice(2)\n",
    "shop/__init__.py": "",
    "shop/prices.py": "P = 3\n",
    "lib/site-packages/vendored.py": "V = 1\n",
    "assets/a.txt": "alpha",
    'assets/we"ird\\ é\t.txt': "odd name",
    "assets/x</script>.txt": "tag in a name",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, pyinfo):
    """The app built once with a JSON and once with an HTML report."""
    d = tmp_path_factory.mktemp("report")
    write_tree(d, APP)
    build_extension(d, "fastmath", pyinfo)
    args = ["app.py", "--add-data", "assets:res", "--hidden-import", "colorsys",
            "-p", d / "lib" / "site-packages", "-o", d / "prog"]
    r = kiln_build(*args, "--report", d / "report.json", cwd=d)
    kiln_build(*args, "--report", d / "report.html", cwd=d)
    return d, r


@pytest.fixture(scope="module")
def report(built):
    d, _ = built
    return json.loads((d / "report.json").read_text(encoding="utf-8"))


def _inspect(prog):
    """{name: (kind, stored, original)} from `kiln inspect`."""
    r = kiln("inspect", prog)
    assert r.returncode == 0, describe(r)
    out = {}
    for line in r.stdout.splitlines()[2:]:
        kind, _where, stored, raw, name = line.split(None, 4)
        out[name] = (kind, int(stored), int(raw))
    return out


def test_every_entry_with_kind_and_sizes(built, report):
    d, _ = built
    listed = _inspect(d / "prog")
    entries = {e["name"]: e for e in report["entries"]}
    assert len(entries) == len(report["entries"]), "an entry twice"
    assert set(entries) == set(listed)
    for name, (kind, stored, raw) in listed.items():
        e = entries[name]
        assert (e["kind"], e["stored"], e["raw"]) == (kind, stored, raw), e
        parts = [p for p in (e["data"], e["source"]) if p]
        assert sum(p["stored"] for p in parts) == stored, e
        assert sum(p["raw"] for p in parts) == raw, e
    assert report["counts"]["entries"] == len(listed)
    assert report["counts"]["modules"] == sum(
        1 for k, _, _ in listed.values()
        if k in ("module", "package", "namespace", "extension"))


def test_program_parts_add_up(built, report):
    d, _ = built
    size = report["size"]
    assert size["program"] == (d / "prog").stat().st_size
    assert (size["runtime"] + size["index"] + size["payload"] +
            size["trailer"]) == size["program"]
    assert sum(e["stored"] for e in report["entries"]) <= size["payload"]
    assert report["program"] == str(d / "prog")
    assert report["kiln_report"] == 1
    assert report["run"] == {"mode": "script", "target": ""}


def test_why_group_and_importers(report):
    e = {x["name"]: x for x in report["entries"]}
    assert (e["__main__"]["why"], e["__main__"]["group"]) == ("run", "application")
    assert e["helper"]["why"] == "import"
    assert e["helper"]["importers"] == ["__main__"]
    assert e["helper"]["group"] == "application"
    assert e["fastmath"]["kind"] == "extension"
    assert e["fastmath"]["importers"] == ["helper"]
    assert e["fastmath"]["data"]["stored"] > 0 and e["fastmath"]["source"] is None
    assert e["shop.prices"]["group"] == "application"
    assert e["vendored"]["group"] == "site-packages"
    assert e["json"]["group"] == "standard library"
    assert e["json"]["source"]["compressed"] is True
    assert e["colorsys"]["why"] == "hidden"
    assert e["encodings"]["why"] == "always"
    data = e["res/a.txt"]
    assert (data["kind"], data["why"], data["group"]) == ("data", "data", "data")
    assert data["origin"].endswith("assets/a.txt")


def test_names_of_any_characters(report):
    names = {e["name"] for e in report["entries"]}
    assert 'res/we"ird\\ é\t.txt' in names
    assert "res/x</script>.txt" in names


def test_missing_import_is_omitted_with_importers(report):
    left = {o["name"]: o for o in report["omitted"]}
    o = left.get("not_installed_xyz")
    assert o is not None, report["omitted"]
    assert (o["why"], o["importers"]) == ("missing", ["__main__"])
    assert report["counts"]["omitted"] == len(report["omitted"])
    for o in report["omitted"]:
        assert len(o["importers"]) == len(set(o["importers"])), o


def test_warnings_counted(built, report):
    _, r = built
    warned = [l for l in r.stderr.splitlines() if l.startswith("kiln: warning:")]
    assert report["warnings"] == len(warned) == 1, describe(r)


def test_html_is_one_self_contained_page(built, report):
    d, _ = built
    page = (d / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    low = page.lower()
    for external in ("http:", "https:", "src=", "<link", "@import", "url("):
        assert external not in low, external
    # The data: the same report, inside one script element that a name
    # holding "</script>" cannot end early.
    m = re.search(r'<script type="application/json" id="kiln-data">(.*?)</script>',
                  page, re.S)
    assert m, "no data element"
    data = json.loads(m.group(1))
    assert data["entries"] == report["entries"]
    assert data["omitted"] == report["omitted"]
    assert "x</script>" not in m.group(1)
    assert page.count("</script>") == 2


def test_bad_utf8_name_is_replaced(tmp_path):
    (tmp_path / "app.py").write_text("print(1)\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / os.fsdecode(b"bad\xffname")).write_text("x")
    kiln_build("app.py", "--add-data", "d:d", "-o", "prog", "--report",
               "r.json", cwd=tmp_path)
    raw = (tmp_path / "r.json").read_bytes()
    report = json.loads(raw.decode("utf-8"))
    assert "d/bad\ufffdname" in {e["name"] for e in report["entries"]}


# ---- the console ----------------------------------------------------------

SUMMARY = re.compile(r"kiln: wrote (\S+)(?: and (\S+))? \((\d+) modules"
                     r"(?:, (\d+) other files?)?, ([\d.]+ (?:B|KiB|MiB|GiB)), "
                     r"(no warnings|\d+ warnings?)\)")


def test_summary_line(built, report):
    d, r = built
    lines = r.stderr.splitlines()
    m = SUMMARY.fullmatch(lines[-1])
    assert m, describe(r)
    assert m.group(1) == str(d / "prog")
    assert m.group(2) == str(d / "report.json")
    assert int(m.group(3)) == report["counts"]["modules"]
    assert int(m.group(4)) == report["counts"]["entries"] - report["counts"]["modules"]
    assert m.group(6) == "1 warning"
    others = [l for l in lines[:-1] if not l.startswith("kiln: warning:")]
    assert [l for l in others if "not found" not in l] == [], describe(r)


def test_quiet_prints_nothing(built):
    d, _ = built
    r = kiln("build", "app.py", "--add-data", "assets:res", "-p",
             "lib/site-packages", "-q", "-o", d / "prog-q", cwd=d)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), describe(r)
    assert (d / "prog-q").is_file()
    r = kiln("build", "nope.py", "-q", cwd=d)
    assert r.returncode == 1 and r.stderr.startswith("kiln: error:"), describe(r)
    r = kiln("build", "app.py", "-q", "-v", cwd=d)
    assert r.returncode == 2, describe(r)


def test_verbose_lists_entries(built):
    d, _ = built
    r = kiln_build("app.py", "-p", "lib/site-packages", "-v", "-o",
                   d / "prog-v", cwd=d)
    assert re.search(r"^kiln: module +helper ", r.stderr, re.M), describe(r)
    assert SUMMARY.fullmatch(r.stderr.splitlines()[-1]), describe(r)


def _on_terminal(args, cwd):
    """Run kiln with stderr on a pseudo-terminal; returns (status, text)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([str(KILN), *map(str, args)], cwd=cwd,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    os.close(master)
    return p.wait(timeout=180), b"".join(chunks).decode("utf-8", "replace")


def test_progress_only_on_a_terminal(built):
    d, _ = built
    args = ["build", "app.py", "-p", "lib/site-packages", "-o", d / "prog-t"]
    status, text = _on_terminal(args, d)
    assert status == 0, text
    assert "\rkiln: collecting modules " in text, repr(text)
    lines = [l for l in text.replace("\r\n", "\n").split("\n") if l.strip()]
    assert SUMMARY.search(lines[-1]), repr(text)
    # Quiet: nothing, terminal or not.
    status, text = _on_terminal([*args, "-q"], d)
    assert (status, text) == (0, ""), repr(text)
    # Not a terminal: no progress.
    r = kiln_build(*args[1:], cwd=d)
    assert "\r" not in r.stderr and "collecting" not in r.stderr, describe(r)


def test_progress_line_is_cleared_before_an_error(tmp_path):
    write_tree(tmp_path, {"app.py": "import json\nimport bad\n",
                          "bad.py": "def broken(:\n"})
    status, text = _on_terminal(["build", "app.py", "-o", "prog"], tmp_path)
    assert status == 1, repr(text)
    assert "\rkiln: collecting modules " in text, repr(text)
    lines = re.split(r"[\r\n]+", text)
    errors = [l for l in lines if "kiln: error:" in l]
    assert len(errors) == 1 and errors[0].startswith("kiln: error: "), repr(text)
    assert not (tmp_path / "prog").exists()
