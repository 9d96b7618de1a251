"""A run writes nothing to disk: one-file programs of packages with native
code and libraries of their own (numpy and OpenBLAS, Pillow and
pillow.libs, lxml, cryptography with cffi; the corpus's smoke apps and
pins) run with HOME, XDG_CACHE_HOME, TMPDIR and the working directory set
to fresh empty directories and a /tmp and /dev/shm of their own (empty
tmpfs, in a mount namespace), traced with strace -f. Afterwards the four
directories, /tmp and /dev/shm are still empty, and no process of the run
made a call that creates or writes a file anywhere; the program printed
what the venv's python prints."""
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import (KILN_BUILD, PRIVATE_TMP, REPO, build_program,
                      describe, tmp_entries, venv_run)

CORPUS_APPS = REPO / "tests" / "corpus" / "apps"
APPS = ("numpy", "pillow", "lxml", "cryptography")
# The fresh directories a run gets, and what points it at each.
EMPTY_DIRS = {"home": "HOME", "cache": "XDG_CACHE_HOME", "tmpdir": "TMPDIR",
              "cwd": "the working directory"}

# The calls that create, rename or link a file, or open one for writing.
CREATING = ("open,openat,openat2,creat,mkdir,mkdirat,mknod,mknodat,link,"
            "linkat,symlink,symlinkat,rename,renameat,renameat2,truncate,"
            "bind")
_CALL = re.compile(r"^(?:\[pid\s+)?\d+\]?\s+(\w+)\((.*)$")
_WRITE_FLAGS = re.compile(r"O_(?:CREAT|WRONLY|RDWR|TRUNC|APPEND)\b")
_PATH = re.compile(r'"((?:[^"\\]|\\.)*)"')

# Run the program ($5...) under strace ($2, tracing the calls $3) into
# $1/trace.log, from $1/cwd, with the environment pointing into $1 and an
# empty /tmp and /dev/shm; then list what is in those two after a marker
# line. $4 names the entries of /tmp the run needs (where the build folder
# lies, if it lies there), one a line: each is mounted back into the new
# /tmp. Exit status: the program's.
RUN = r"""
work=$1 strace=$2 calls=$3 keep=$4; shift 4
""" + PRIVATE_TMP + r"""
cd "$work/cwd" || exit 125
HOME=$work/home XDG_CACHE_HOME=$work/cache TMPDIR=$work/tmpdir \
	"$strace" -f -qq -s 4096 -e trace="$calls" -o "$work/trace.log" "$@"
status=$?
echo "--- left behind"
find /tmp /dev/shm -mindepth 1 -maxdepth 1
exit $status
"""


@pytest.fixture(scope="module")
def work():
    """A folder outside /tmp (which the runs get a tmpfs of their own
    for), in the build folder; removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="no-writes-", dir=KILN_BUILD))
    yield d
    shutil.rmtree(d)


def creating_calls(log):
    """The lines of an strace log that create or write a file, or try
    to: any call of CREATING but open* and bind, open* with a flag that
    creates or writes (but of a device, /dev/null, or a /proc file), and
    bind to a socket path."""
    bad = []
    for line in log.read_text(errors="replace").splitlines():
        m = _CALL.match(line)
        if not m:
            continue
        call, rest = m.groups()
        if call in ("open", "openat", "openat2"):
            path = _PATH.search(rest)
            device = path and re.match(r"/proc/|/dev/(?!shm/)", path.group(1))
            if _WRITE_FLAGS.search(rest) and not device:
                bad.append(line)
        elif call == "bind":
            if "sun_path=" in rest:
                bad.append(line)
        else:
            bad.append(line)
    return bad


@pytest.mark.parametrize("name", APPS)
def test_a_run_leaves_nothing_behind(name, work, natives_venv, namespaces,
                                     strace_exe):
    src = work / "src" / name
    src.mkdir(parents=True)
    shutil.copy(CORPUS_APPS / f"{name}_app.py", src)
    want = venv_run(natives_venv, src / f"{name}_app.py", cwd=src)
    assert want.returncode == 0, describe(want)
    prog = build_program(src, f"{name}_app.py", "-q", "--venv", natives_venv,
                         output=work / "programs" / name)
    run_dir = work / "runs" / name
    for d in EMPTY_DIRS:
        (run_dir / d).mkdir(parents=True)
    keep = tmp_entries(work, shutil.which(strace_exe) or strace_exe)
    r = namespaces(RUN, run_dir, strace_exe, CREATING, "\n".join(keep), prog)
    out, marker, left = r.stdout.partition("--- left behind\n")
    assert marker, describe(r)
    assert (r.returncode, out) == (0, want.stdout), describe(r)
    left = sorted(set(left.splitlines()) - set(keep))
    assert not left, f"the run left files in /tmp or /dev/shm: {left}"
    for d, what in EMPTY_DIRS.items():
        left = sorted(p.name for p in (run_dir / d).iterdir())
        assert not left, f"the run wrote into {what}: {left}"
    bad = creating_calls(run_dir / "trace.log")
    assert not bad, "calls that create or write files:\n" + "\n".join(bad)
