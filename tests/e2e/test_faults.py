"""Nothing left behind, under every fault.

Three programs are killed at random moments with SIGINT, SIGTERM and
SIGKILL (sent to their process group, as a terminal's Ctrl-C is): a
one-file program that does real work (stdlib imports, extension modules
and the libraries they bring loaded from memory, package data, a thread,
a child through multiprocessing), the same as a folder program, and a
one-file program that writes the per-user cache (a package given real
files, an importlib.resources.as_file() copy and, with KILN_NATIVE=cache,
its native code) so that kills land while the cache is being written.

Each runs in mount and PID namespaces of its own with an empty /tmp and
/dev/shm, and fresh HOME, XDG_CACHE_HOME, TMPDIR and working directory.
After each kill: the status is the signal's (for SIGINT python's
KeyboardInterrupt, by the rules python itself is held to under the same
SIGINTs), no process of the program is left, /tmp, /dev/shm, HOME,
TMPDIR and the working directory are empty, and the cache holds nothing
but whole entries with the program's bytes, and no temporary name but
the one a SIGTERM or SIGKILL may leave while a copy is written. The next
run then gives the same output, leaves the cache whole and nothing else
(that temporary name removed), and keeps the entries that were already
there as they were. A SIGINT while the interpreter starts is also sent
at fixed moments (strace).

The moments come from a seeded generator: KILN_FAULTS_SEED=N repeats a
run's moments (every failure names its seed), KILN_FAULTS_ROUNDS=N sets
how many kills each program gets per signal."""
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import (KILN_BUILD, KILN_PYTHON, PRIVATE_TMP, build_program,
                      describe, kiln_build, python_run, run, tmp_entries,
                      write_tree)

SEED = int(os.environ.get("KILN_FAULTS_SEED") or
           random.SystemRandom().randrange(2**32))
# Eight kills per program and signal in each run of the suite (every run
# draws new moments); KILN_FAULTS_ROUNDS=50 for a longer look.
ROUNDS = int(os.environ.get("KILN_FAULTS_ROUNDS") or 8)
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM,
           "SIGKILL": signal.SIGKILL}
# A temporary name of the cache (src/runtime/rt_cachedir.c): what a
# process killed while it writes leaves behind, and the next one that
# writes there removes.
TEMPORARY = re.compile(r"kiln/(files|natives)/\.(new|bad)-[A-Za-z0-9]{6}")
# The directories each run gets, empty, and what points it at each.
PRIVATE_DIRS = {"home": "HOME", "cache": "XDG_CACHE_HOME",
                "tmpdir": "TMPDIR", "cwd": "the working directory"}

# A program that works for a while: start-up, imports, extension modules
# and the libraries they need (_decimal, _sqlite3 and libsqlite3, _ctypes
# and libffi, _json, zlib, _hashlib and libcrypto), package data, a
# thread, and a child forked by multiprocessing.
WORK_APP = {
    "workpkg/__init__.py": "",
    "app.py": """
import ctypes, decimal, hashlib, json, multiprocessing, sqlite3, threading
import zlib
from importlib.resources import files
import workpkg

def child(conn):
    conn.send(hashlib.sha256(b"child" * 1000).hexdigest()[:12])
    conn.close()

def work(out):
    table = json.loads(files(workpkg).joinpath("table.json").read_text())
    decimal.getcontext().prec = 50
    out["sum"] = str(sum(decimal.Decimal(1) / v for v in table))[:30]
    db = sqlite3.connect(":memory:")
    db.execute("create table t (v)")
    db.executemany("insert into t values (?)", [(v,) for v in table])
    out["sql"] = db.execute("select sum(v) from t").fetchone()[0]
    out["ctypes"] = ctypes.c_int32(2**31 - 1).value
    out["zlib"] = zlib.crc32(json.dumps(table).encode())

if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    a, b = ctx.Pipe()
    p = ctx.Process(target=child, args=(b,))
    p.start()
    out = {}
    t = threading.Thread(target=work, args=(out,))
    t.start()
    t.join()
    out["child"] = a.recv()
    p.join()
    out["exit"] = p.exitcode
    print(json.dumps(out, sort_keys=True))
""",
}

# A program whose every run needs the cache: the package blobs gets real
# files (--files), a file of assets is given to as_file(), and its native
# code comes from the cache (KILN_NATIVE=cache in its environment).
CACHE_APP = {
    "blobs/__init__.py": "",
    "assets/__init__.py": "",
    "app.py": """
import decimal, hashlib, json, os
from importlib.resources import as_file, files
import assets, blobs

def tree_digest(top):
    files = []
    for d, dirs, names in os.walk(top):
        dirs[:] = [n for n in dirs if n != "__pycache__"]
        files += [os.path.join(d, n) for n in names]
    h = hashlib.sha256()
    for p in sorted(files):
        h.update(os.path.relpath(p, top).encode())
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]

with as_file(files(assets) / "big.bin") as p:
    big = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
print(json.dumps({"blobs": tree_digest(os.path.dirname(blobs.__file__)),
                  "big": big, "decimal": str(decimal.Decimal(1) / 7)}))
""",
}

# Run in the namespaces: an empty /tmp and /dev/shm (the entries of the
# machine's /tmp named by $1 mounted back), a /proc of the new PID
# namespace, then the driver ($2...) as its first process, which so
# reaps whatever the programs leave running.
NS_RUN = r"""
keep=$1; shift
""" + PRIVATE_TMP + r"""
mount -t proc proc /proc || exit 125
exec "$@"
"""

# The driver, run in the namespaces with its configuration (JSON) as
# argv[1]: times a few normal runs, then, for each round, starts the
# program, sends the signal to its group after the round's delay, waits
# for the group to be gone, looks at every directory, runs the program
# normally and looks again. Prints its findings as JSON.
DRIVER = r'''
import hashlib, json, os, shutil, signal, subprocess, sys, time

cfg = json.load(open(sys.argv[1]))
signal.signal(signal.SIGINT, signal.SIG_DFL)   # the programs inherit these
signal.signal(signal.SIGTERM, signal.SIG_DFL)

def look(top):
    """{relative path: [kind, size, sha256, inode, mtime]} below top."""
    found = {}
    for d, dirs, names in os.walk(top):
        for n in dirs + names:
            p = os.path.join(d, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            if os.path.islink(p) or not (os.path.isdir(p) or
                                         os.path.isfile(p)):
                found[rel] = ["other", 0, "", st.st_ino, st.st_mtime_ns]
            elif os.path.isdir(p):
                found[rel] = ["dir", 0, "", st.st_ino, st.st_mtime_ns]
            else:
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                found[rel] = ["file", st.st_size, digest, st.st_ino,
                              st.st_mtime_ns]
    return found

def snapshot():
    dirs = {name: look(path) for name, path in cfg["dirs"].items()}
    dirs["/tmp"] = {k: v for k, v in look("/tmp").items()
                    if "/tmp/" + k.split("/")[0] not in cfg["keep"]}
    dirs["/dev/shm"] = look("/dev/shm")
    return dirs

def empty_cache():
    for name in os.listdir(cfg["dirs"]["cache"]):
        shutil.rmtree(os.path.join(cfg["dirs"]["cache"], name))

def group(pgid):
    """The processes of group pgid."""
    pids = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and os.getpgid(int(p)) == pgid:
                pids.append(int(p))
        except ProcessLookupError:
            pass
    return pids

def reap(pgid):
    """Wait until no process of group pgid is left, reaping what the
    namespace's orphans leave; the stragglers after 10 s, killed."""
    deadline, strays = time.monotonic() + 10, []
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return strays
        if time.monotonic() > deadline and not strays:
            strays = group(pgid)
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.002)

def start(cmd):
    return subprocess.Popen(cmd, env=cfg["env"], cwd=cfg["dirs"]["cwd"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)

def finish(p, t0):
    try:
        out, err = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += b"\n[driver: hung, killed after 60 s]"
    took = time.monotonic() - t0
    strays = reap(p.pid)
    return {"status": p.returncode, "stdout": out.decode(errors="replace"),
            "stderr": err.decode(errors="replace"), "strays": strays,
            "took": took}

def normal(cmd):
    return finish(start(cmd), time.monotonic())

def killed(cmd, delay, sig):
    t0 = time.monotonic()
    p = start(cmd)
    time.sleep(max(0.0, t0 + delay - time.monotonic()))
    sent = p.poll() is None
    if sent:
        os.killpg(p.pid, sig)
    return dict(finish(p, t0), sent=sent)

def rounds(cmd, cold, fractions, modes, with_next):
    times = []
    for _ in range(3):
        if cold:
            empty_cache()
        r = normal(cmd)
        warmup.append(r)
        times.append(r["took"])
    length = sorted(times)[1]
    found = []
    for fraction, mode in zip(fractions, modes):
        if mode == "empty":
            empty_cache()
        r = {"delay": fraction * length, "mode": mode, "before": snapshot()}
        r["kill"] = killed(cmd, r["delay"], cfg["signal"])
        r["after"] = snapshot()
        if with_next:
            r["next"] = normal(cmd)
            r["after_next"] = snapshot()
        found.append(r)
    return length, found

warmup = []
length, found = rounds(cfg["cmd"], cfg["cold"], cfg["fractions"],
                       cfg["modes"], True)
result = {"length": length, "rounds": found, "warmup": warmup}
if cfg.get("python"):
    result["python"] = rounds(cfg["python"], False, cfg["fractions"],
                              ["warm"] * len(cfg["fractions"]), False)[1]
json.dump(result, sys.stdout)
'''


@pytest.fixture(scope="module")
def work():
    """A folder outside /tmp (which the runs get a tmpfs of their own
    for), in the build folder; removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="faults-", dir=KILN_BUILD))
    (d / "driver.py").write_text(DRIVER)
    yield d
    shutil.rmtree(d)


@pytest.fixture(scope="module")
def programs(work):
    """The three programs: how to run each, what it prints, and for the
    cache program the cache a whole run leaves (its reference)."""
    rng = random.Random(13)
    src = write_tree(work / "src" / "work", WORK_APP)
    (src / "workpkg" / "table.json").write_text(json.dumps(
        list(range(1, 2000))))
    want = python_run(src / "app.py", cwd=src)
    assert want.returncode == 0 and want.stderr == "", describe(want)
    onefile = build_program(src, "app.py", "-q",
                            output=work / "programs" / "onefile")
    kiln_build("app.py", "-q", "--onedir", "-o", work / "programs" / "folder",
               cwd=src)
    csrc = write_tree(work / "src" / "cache", CACHE_APP)
    for i in range(160):
        f = csrc / "blobs" / "data" / f"d{i % 8}" / f"f{i:03d}.bin"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(rng.randbytes(8192))
    (csrc / "assets" / "big.bin").write_bytes(rng.randbytes(1 << 20))
    cwant = python_run(csrc / "app.py", cwd=csrc)
    assert cwant.returncode == 0 and cwant.stderr == "", describe(cwant)
    cache = build_program(csrc, "app.py", "-q", "--files", "blobs",
                          output=work / "programs" / "cache")
    # The cache a whole run makes, from nothing.
    ref = work / "reference"
    (ref / "home").mkdir(parents=True)
    env = dict(os.environ, HOME=str(ref / "home"), KILN_NATIVE="cache",
               XDG_CACHE_HOME=str(ref / "cache"))
    got = run([cache], env=env, cwd=ref)
    assert (got.returncode, got.stdout, got.stderr) == (
        0, cwant.stdout, ""), describe(got)
    reference = tree(ref / "cache")
    assert any(p.startswith("kiln/files/blobs-") for p in reference) and \
        any(p.startswith("kiln/natives/") for p in reference), reference
    return {
        "onefile": SimpleNamespace(cmd=[onefile], want=want.stdout, env={},
                                   reference={}, src=src),
        "folder": SimpleNamespace(cmd=[work / "programs" / "folder" /
                                       "folder"], want=want.stdout, env={},
                                  reference={}, src=src),
        "cache": SimpleNamespace(cmd=[cache], want=cwant.stdout,
                                 env={"KILN_NATIVE": "cache"},
                                 reference=reference, src=csrc),
    }


def tree(top):
    """{relative path: ("dir",) or ("file", size, sha256)} below top."""
    import hashlib
    found = {}
    for d, dirs, names in os.walk(top):
        for n in dirs + names:
            p = Path(d) / n
            rel = str(p.relative_to(top))
            found[rel] = (("dir",) if p.is_dir() else
                          ("file", p.stat().st_size,
                           hashlib.sha256(p.read_bytes()).hexdigest()))
    return found


def contents(seen):
    """A driver's look at a directory, as tree() gives it."""
    return {rel: (v[0],) if v[0] != "file" else tuple(v[:3])
            for rel, v in seen.items()}


def entries(paths):
    """The cache entries paths lie in: kiln/KIND/ENTRY."""
    return {"/".join(p.split("/")[:3]) for p in paths
            if len(p.split("/")) >= 3}


def cache_problems(seen, reference, temporary_ok):
    """What in the cache (a driver's look) is not a whole entry of the
    reference: partial or different entries, anything else, and unless
    temporary_ok, temporary names (TEMPORARY) too."""
    got = contents(seen)
    problems = [f"not a cache entry (left behind): {e}" for e in
                sorted({"/".join(rel.split("/")[:3]) for rel in got
                        if rel not in reference})
                if not (temporary_ok and TEMPORARY.fullmatch(e))]
    problems += [f"differs from the program's bytes: {rel}"
                 for rel in sorted(got)
                 if rel in reference and got[rel] != reference[rel]]
    for e in sorted(entries(got) & entries(reference)):
        missing = [rel for rel in reference
                   if rel.startswith(e + "/") and rel not in got]
        if missing:
            problems.append(f"entry {e} is not whole: no {missing[:3]}")
    return problems


def outcome_problems(sig, r, want, python=False):
    """What is wrong with how a killed run ended: the signal's status (or
    a normal end when the program was done first), stdout all or
    nothing, for SIGINT python's KeyboardInterrupt, nothing left
    running. python: the run was python's, which may also end with status
    1 when SIGINT comes while it starts (a program ends by SIGINT then
    too): with a fatal error, or (3.13, once the interpreter is up but
    before the script runs) with the bare exception's name."""
    status, out, err = r["status"], r["stdout"], r["stderr"]
    problems = []
    if python and sig == signal.SIGINT and status == 1 and out == "" and \
            ("Fatal Python error: init_" in err and "KeyboardInterrupt" in err
             or err.strip() == "KeyboardInterrupt"):
        return problems
    if r["strays"]:
        problems.append(f"processes left running: {r['strays']}")
    if status == 0:
        if out != want:
            problems.append("a normal end with other output")
        if err and not (sig == signal.SIGINT and "KeyboardInterrupt" in err):
            problems.append("a normal end with errors")
        return problems
    if out not in ("", want):
        problems.append("part of the output")
    if not r.get("sent", True):
        problems.append("failed before the signal was sent")
    elif sig == signal.SIGINT:
        # python: killed by SIGINT at once before its handler is
        # installed, else KeyboardInterrupt, then SIGINT again (130 where
        # that cannot be done); or status 1 when code turned the
        # KeyboardInterrupt into another exception (3.11 wraps what
        # __set_name__ raises in a RuntimeError), which shows it.
        chained = status == 1 and any(
            c in err for c in ("The above exception was the direct cause",
                               "During handling of the above exception"))
        if status not in (-signal.SIGINT, 128 + signal.SIGINT) and \
                not chained:
            problems.append(f"status {status}, not SIGINT's")
        if err and "KeyboardInterrupt" not in err:
            problems.append("stderr without KeyboardInterrupt")
    elif status != -sig or err:
        problems.append(f"status {status} with stderr, not {sig.name}'s")
    if "Fatal Python error" in err or "damaged" in err:
        problems.append("a crash or damage")
    return problems


def show(i, r, part):
    k = r[part]
    return (f"round {i} ({r['mode']} cache, delay {r['delay'] * 1000:.1f} "
            f"ms), {part}: status {k['status']}\n--- stdout ---\n"
            f"{k['stdout']}--- stderr ---\n{k['stderr']}")


@pytest.mark.parametrize("signame", SIGNALS)
@pytest.mark.parametrize("kind", ["onefile", "folder", "cache"])
def test_killed_at_random_leaves_nothing_behind(kind, signame, programs,
                                                work, namespaces):
    sig = SIGNALS[signame]
    prog = programs[kind]
    rng = random.Random(f"{SEED}-{kind}-{signame}")
    fractions = [rng.uniform(0, 1.1) for _ in range(ROUNDS)]
    # The cache program mostly starts from an empty cache (kills land
    # while it is written), sometimes from a whole one (while it is read).
    modes = [("empty" if kind == "cache" and rng.random() < 0.75 else "warm")
             for _ in range(ROUNDS)]
    run_dir = work / "runs" / f"{kind}-{signame}"
    dirs = {}
    for d in PRIVATE_DIRS:
        dirs[d] = str(run_dir / d)
        (run_dir / d).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    env.update(prog.env, HOME=dirs["home"], XDG_CACHE_HOME=dirs["cache"],
               TMPDIR=dirs["tmpdir"])
    python = shutil.which(KILN_PYTHON) or KILN_PYTHON
    keep = tmp_entries(work, sys.executable, python)
    cfg = {"cmd": [str(c) for c in prog.cmd], "env": env, "dirs": dirs,
           "signal": int(sig), "fractions": fractions, "modes": modes,
           "cold": kind == "cache", "keep": keep}
    if kind == "onefile" and sig == signal.SIGINT:
        # python's own behaviour under the same SIGINTs, by the same rules.
        cfg["python"] = [python, "-E", "-s", "-B", str(prog.src / "app.py")]
    (run_dir / "config.json").write_text(json.dumps(cfg))
    r = namespaces(NS_RUN, "\n".join(keep), sys.executable,
                   work / "driver.py", run_dir / "config.json", timeout=600)
    assert r.returncode == 0, describe(r)
    found = json.loads(r.stdout)

    seed = f"KILN_FAULTS_SEED={SEED} ({kind}, {signame})"
    for w in found["warmup"]:
        assert (w["status"], w["stdout"], w["stderr"], w["strays"]) == (
            0, prog.want, "", []), f"{seed}: a normal run: {w}"
    failures = []
    for i, rnd in enumerate(found["rounds"]):
        problems = [f"killed: {p}" for p in
                    outcome_problems(sig, rnd["kill"], prog.want)]
        for when in ("after", "after_next"):
            seen = rnd[when]
            for d in ("home", "tmpdir", "cwd", "/tmp", "/dev/shm"):
                if seen[d]:
                    problems.append(f"{when}: left in "
                                    f"{PRIVATE_DIRS.get(d, d)}: "
                                    f"{sorted(seen[d])}")
            # SIGTERM and SIGKILL end a process at once, even while it
            # writes a temporary copy; SIGINT waits for the copy.
            problems += [f"{when}: {p}" for p in cache_problems(
                seen["cache"], prog.reference,
                when == "after" and sig != signal.SIGINT)]
        nxt = rnd["next"]
        if (nxt["status"], nxt["stdout"], nxt["stderr"], nxt["strays"]) != (
                0, prog.want, "", []):
            problems.append("the next run failed")
        if contents(rnd["after_next"]["cache"]) != prog.reference:
            problems.append("the next run left the cache not whole")
        # What was there stays as it was: never written again or removed.
        for a, b in (("before", "after"), ("after", "after_next")):
            changed = sorted(
                rel for rel, v in rnd[a]["cache"].items()
                if rel in prog.reference and v[0] == "file" and
                rnd[b]["cache"].get(rel, [None])[3:] != v[3:])
            if changed:
                problems.append(f"rewritten or removed between {a} and {b}: "
                                f"{changed[:3]}")
        if problems:
            failures.append(f"{show(i, rnd, 'kill')}\n" +
                            "".join(f"  - {p}\n" for p in problems) +
                            (show(i, rnd, "next") if "the next run failed"
                             in problems else ""))
    assert not failures, f"{seed}: program run {found['length'] * 1000:.0f}" \
        " ms\n" + "\n".join(failures)
    for i, rnd in enumerate(found.get("python", [])):
        problems = outcome_problems(sig, rnd["kill"], prog.want, python=True)
        assert not problems, (f"{seed}: python itself, by these rules: "
                              f"{problems}\n{show(i, rnd, 'kill')}")


def test_sigint_while_the_interpreter_starts(programs, strace_exe, tmp_path):
    """SIGINT while the interpreter sets up its standard streams: strace
    sends it at each of the first fcntl calls, with which CPython checks
    the standard descriptors once its handler is in. The program prints
    the KeyboardInterrupt and ends by SIGINT, as once it runs, not as a
    program that cannot start (status 126)."""
    prog = programs["onefile"]
    printed = 0
    for when in (1, 2, 3):
        r = run([strace_exe, "-qq", "-o", "/dev/null", "-e", "trace=fcntl",
                 "-e", f"inject=fcntl:signal=SIGINT:when={when}",
                 *prog.cmd], cwd=tmp_path)
        # strace ends itself by the signal that ended the program.
        assert (r.returncode, r.stdout) == (-signal.SIGINT, ""), describe(r)
        assert r.stderr == "" or \
            r.stderr.splitlines()[-1] == "KeyboardInterrupt", describe(r)
        printed += r.stderr != ""
    assert printed, "no SIGINT came once CPython had its handler in"
