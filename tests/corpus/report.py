"""Writes tests/corpus/README.md from the results of a corpus run.

    python3 tests/corpus/report.py RESULTS.json [README.md]

RESULTS.json is what `pytest tests/corpus --corpus-results FILE` wrote
(tests/corpus/conftest.py): one record per test with the app, its
packages, the tool (kiln-onefile, kiln-onedir, pyinstaller-onefile), the
test's outcome, the size of what was built and the line that shows a
failure. `make corpus` runs both. The README is wholly generated: edit
the text here, not there.
"""
import json
import sys
from pathlib import Path

TOOLS = ("kiln-onefile", "kiln-onedir", "pyinstaller-onefile")
HEADINGS = ("kiln one-file", "kiln folder", "PyInstaller one-file")

INTRO = """\
# The compatibility corpus

Real PyPI packages, each used for real by a small smoke app in
[apps/](apps/) that prints a deterministic result (computed values and
versions; no paths, times or addresses). Every app is built from one venv
holding [pins.txt](pins.txt) (`$KILN_BUILD/corpus-venv`, made again when
the pins change) and run as a user runs it, from an empty directory with
no venv active; its stdout and exit status must be what the venv's own
python prints for the same script.

- **kiln one-file**: `kiln build NAME_app.py --venv VENV`.
- **kiln folder**: the same with `--onedir`.
- **PyInstaller one-file**: `pyinstaller --onefile NAME_app.py` with the
  venv active, as its user would first type it (no hooks or options of
  our own; PyInstaller {pyinstaller} and its hooks-contrib from the pins).

`make test` runs the cheap apps ({fast}) in both kiln modes;
`make corpus` runs them all, builds each with PyInstaller too and writes
this file ([report.py](report.py), from the run's JSON results). A known
kiln failure is a strict xfail in [test_corpus.py](test_corpus.py) naming
its issue and the error line it shows: when it is fixed, or fails
differently, the test fails and says so. PyInstaller's results are
recorded, not asserted.

The local HTTPS server of the requests and urllib3 apps
([apps/corpus_server.py](apps/corpus_server.py)) listens on 127.0.0.1
with a certificate of the corpus's own test CA ([data/](data/),
made by data/make_certs.py, valid until 2124).

To add a package: pin it (and its dependencies) in pins.txt, write
apps/NAME_app.py, add NAME to `APPS` in test_corpus.py, run `make corpus`.
"""


def mib(n):
    return f"{n / (1 << 20):.1f} MiB"


def short(reason):
    """The issue part of an xfail reason: 'issue 8: pkg_resources: ...' ->
    'issue 8: pkg_resources'; 'collection: ...' -> 'collection'."""
    parts = (reason or "").split(": ")
    if parts[0].startswith("issue"):
        return ": ".join(parts[:2])
    return parts[0]


def cell(rec):
    if rec is None:
        return "not run"
    size = f" ({mib(rec['size'])})" if rec.get("size") and \
        rec["tool"] != "kiln-onedir" else ""
    if rec["tool"].startswith("pyinstaller"):
        return ("pass" + size) if rec.get("ok") else "**fail**"
    status = rec["status"]
    if status == "pass":
        return "pass" + size
    if status == "xfail":
        return f"fail: {short(rec.get('xfail'))}"
    if status == "xpass":
        return "pass, but marked xfail: flip it"
    return "**fail** (not known)"


def failures(apps):
    """One line per app and reason: the tools it fails with, the reason
    (a kiln xfail's) and the line each failure shows (once when the same)."""
    out = []
    for name, by_tool in sorted(apps.items()):
        groups = {}
        for tool, heading in zip(TOOLS, HEADINGS):
            rec = by_tool.get(tool)
            if rec is None:
                continue
            if tool.startswith("pyinstaller"):
                bad = not rec.get("ok")
            else:
                bad = rec["status"] != "pass"
            if bad:
                groups.setdefault(rec.get("xfail") or "", []).append(
                    (heading, rec.get("detail") or ""))
        for reason, fails in groups.items():
            line = f"- **{name}**, " + " and ".join(h for h, _ in fails)
            if reason:
                line += f" ({reason})"
            details = list(dict.fromkeys(d for _, d in fails if d))
            if details:
                line += ": " + "; ".join(f"`{d}`" for d in details)
            out.append(line)
    return out


def main(argv):
    results = json.loads(Path(argv[1]).read_text())
    readme = Path(argv[2]) if len(argv) > 2 else \
        Path(__file__).resolve().parent / "README.md"
    apps = {}
    for rec in results["results"]:
        apps.setdefault(rec["app"], {})[rec["tool"]] = rec
    pins = dict(line.split("==") for line in
                (Path(__file__).resolve().parent / "pins.txt")
                .read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    fast = [rec["app"] for rec in results["results"]
            if rec.get("fast") and rec["tool"] == "kiln-onefile"]

    lines = [INTRO.format(pyinstaller=pins.get("pyinstaller", "?"),
                          fast=", ".join(sorted(fast)) or "none")]
    lines.append(f"## Results (CPython {results['python']}, x86_64)")
    lines.append("")
    lines.append("| app | packages | " + " | ".join(HEADINGS) + " |")
    lines.append("| --- | --- | " + " | ".join("---" for _ in TOOLS) + " |")
    totals = dict.fromkeys(TOOLS, 0)
    for name, by_tool in sorted(apps.items()):
        package = next(iter(by_tool.values()))["package"]
        cells = [cell(by_tool.get(t)) for t in TOOLS]
        for t, c in zip(TOOLS, cells):
            totals[t] += c.startswith("pass")
        lines.append(f"| [{name}](apps/{name}_app.py) | {package} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Passing: " + ", ".join(
        f"{heading} {totals[t]} of {len(apps)}"
        for t, heading in zip(TOOLS, HEADINGS)) + ". Sizes are of the "
        "one-file programs.")
    lines.append("")
    lines.append("## What fails, and the line it shows")
    lines.append("")
    lines.extend(failures(apps) or ["Nothing."])
    readme.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
