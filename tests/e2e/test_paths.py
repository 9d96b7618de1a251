"""Paths under a built program: a bundled package's files are read through
the paths its modules' __file__ and __path__ give, as if it were installed
as files. In a one-file program <program>/pkg/... is served from the bundle
(open, os.stat, os.listdir, os.scandir, os.walk, glob, pathlib, shutil,
and C code through libc's fopen); in a folder program they are real files.
Each call prints what plain python prints for the same package installed
as files; writing is refused as on a read-only file system."""
import pytest

from conftest import describe, kiln_build, python_run, run, write_tree

FILES = {
    "mypkg/__init__.py": "",
    "mypkg/mod.py": "def f():\n    return 42\n",
    "mypkg/sub/__init__.py": "",
    "mypkg/sub/leaf.py": "LEAF = 'leaf'\n",
    "mypkg/data/a.txt": "hello data\n",
    "mypkg/data/bin.dat": "\x00\x01\x02\xff",
    "mypkg/data/sub/deeper/c.json": '{"k": [1, 2]}\n',
    "mypkg/data/sub/b.txt": "bee\n",
    "mypkg/templates/page.html": "<p>{{ x }}</p>\n",
}

APP = r"""
import ctypes, glob, inspect, io, linecache, os, pathlib, pkgutil, shutil
import stat, sys, tempfile
import mypkg, mypkg.mod, mypkg.sub.leaf

# A folder program's folder holds data files, not modules' sources.
SOURCES = sys.argv[1] != "onedir"
here = os.path.dirname(mypkg.__file__)
data = os.path.join(here, "data")

def rel(p):
    return os.path.relpath(p, here)

def ls(d):
    return sorted(n for n in os.listdir(d) if n != "__pycache__")

if SOURCES:
    print(ls(here))
print(sorted(os.listdir(data)), sorted(os.listdir(data + "/sub/")))
print(sorted((e.name, e.is_dir(), e.is_file(), e.is_symlink())
             for e in os.scandir(data)))
for p in (here, data, data + "/a.txt", data + "/sub/deeper/c.json",
          here + "/nope", data + "/./sub/../a.txt"):
    print(rel(p), os.path.exists(p), os.path.isfile(p), os.path.isdir(p),
          os.path.islink(p))
st = os.stat(data + "/bin.dat")
print(st.st_size, stat.S_ISREG(st.st_mode), stat.S_ISDIR(os.stat(data).st_mode))
print(os.path.getsize(data + "/a.txt"), os.access(data + "/a.txt", os.R_OK))
with open(os.path.join(data, "a.txt")) as f:
    print(repr(f.read()), f.name == os.path.join(data, "a.txt"))
with open(os.path.join(data, "bin.dat"), "rb") as f:
    print(f.read(), f.seek(1), f.read(2), f.tell())
with io.open(data + "/sub/b.txt", encoding="utf-8") as f:
    print(f.readlines())
fd = os.open(data + "/a.txt", os.O_RDONLY)
print(os.read(fd, 5), os.fstat(fd).st_size)
os.close(fd)
if SOURCES:
    print(open(mypkg.mod.__file__).read(), end="")
    print(os.path.isfile(mypkg.mod.__file__), os.stat(mypkg.__file__).st_size)
print(sorted(rel(p) for p in glob.glob(here + "/**/*.txt", recursive=True)))
for top, dirs, files in sorted(os.walk(data)):
    print(rel(top), sorted(dirs), sorted(files))
p = pathlib.Path(mypkg.__file__).parent
if SOURCES:
    print(sorted(x.name for x in p.iterdir() if x.name != "__pycache__"))
print(p.is_dir(), (p / "data").exists())
print((p / "data" / "a.txt").read_text(), end="")
print((p / "data" / "sub" / "deeper" / "c.json").read_bytes())
print(sorted(str(x.relative_to(p)) for x in p.rglob("*.txt")))
print(sorted(str(x.relative_to(p)) for x in (p / "data").glob("*")))
print(pkgutil.get_data("mypkg", "data/a.txt"))
print(inspect.getsource(mypkg.mod.f), end="")
print(linecache.getline(mypkg.sub.leaf.__file__, 1), end="")
with tempfile.TemporaryDirectory() as t:
    shutil.copytree(data, t + "/copy")
    shutil.copy2(data + "/a.txt", t + "/a2.txt")
    print(sorted(os.listdir(t + "/copy")), open(t + "/a2.txt").read(),
          end="")
    print(sorted(os.listdir(t + "/copy/sub")))
    if SOURCES:
        shutil.copy(mypkg.mod.__file__, t + "/mod.py")
        print(len(open(t + "/mod.py").read()))
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fread.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                       ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
fp = libc.fopen(os.fsencode(data + "/a.txt"), b"r")
buf = ctypes.create_string_buffer(64)
n = libc.fread(buf, 1, 64, fp)
libc.fclose(fp)
print("C fopen:", buf.raw[:n])
libc.statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                       ctypes.c_uint, ctypes.c_char_p]
stx = ctypes.create_string_buffer(256)
r = libc.statx(-100, os.fsencode(data + "/bin.dat"), 0, 0x7ff, stx)
print("C statx:", r, int.from_bytes(stx.raw[40:48], "little"),
      stat.S_ISREG(int.from_bytes(stx.raw[28:30], "little")))
# A NULL path is libc's to refuse (EFAULT), as Rust's std probes statx.
libe = ctypes.CDLL(None, use_errno=True)
for fn, args in (("statx", (-100, None, 0, 0x7ff, None)),
                 ("stat", (None, stx)), ("open", (None, 0)),
                 ("access", (None, 0))):
    ctypes.set_errno(0)
    getattr(libe, fn).restype = ctypes.c_long
    print("NULL", fn, getattr(libe, fn)(*args), ctypes.get_errno())
for bad in (lambda: open(data + "/nope.txt"),
            lambda: open(data),
            lambda: open(data + "/a.txt/x"),
            lambda: os.listdir(data + "/a.txt"),
            lambda: os.listdir(data + "/nope"),
            lambda: os.stat(data + "/nope"),
            lambda: pathlib.Path(data, "nope.txt").read_text()):
    try:
        bad()
        print("no error")
    except OSError as e:
        print(type(e).__name__, e.errno, rel(e.filename))
"""

# Only for the program: under python the same calls would write.
WRITE = r"""
import ctypes, os, shutil, mypkg
data = os.path.join(os.path.dirname(mypkg.__file__), "data")
for call in (lambda: open(data + "/a.txt", "w"),
             lambda: open(data + "/a.txt", "a"),
             lambda: open(data + "/a.txt", "r+"),
             lambda: open(data + "/new.txt", "x"),
             lambda: os.open(data + "/a.txt", os.O_RDONLY | os.O_TRUNC),
             lambda: os.mkdir(data + "/newdir"),
             lambda: os.mkdir(data + "/sub"),
             lambda: os.makedirs(data + "/x/y"),
             lambda: os.remove(data + "/a.txt"),
             lambda: os.remove(data + "/nope.txt"),
             lambda: os.rename(data + "/a.txt", data + "/b.txt"),
             lambda: os.rmdir(data + "/sub"),
             lambda: os.access(data + "/a.txt", os.W_OK) or 1 / 0):
    try:
        call()
        print("no error")
    except (OSError, ZeroDivisionError) as e:
        print(type(e).__name__, getattr(e, "errno", None))
os.makedirs(data + "/sub", exist_ok=True)
libc = ctypes.CDLL(None, use_errno=True)
print("creat", libc.creat(os.fsencode(data + "/c.txt"), 0o644),
      ctypes.get_errno())
print(open(data + "/a.txt").read(), end="")
"""


@pytest.mark.parametrize("mode", ["onefile", "onedir"])
def test_paths_as_under_python(tmp_path, mode):
    """Every call gives what python gives for the package as files."""
    write_tree(tmp_path, FILES)
    write_tree(tmp_path, {"app.py": APP})
    want = python_run(tmp_path / "app.py", mode, cwd=tmp_path)
    assert want.returncode == 0, describe(want)
    out = tmp_path / "prog"
    kiln_build("app.py", "-q", f"--{mode}", "--collect", "mypkg",
               "-o", out, cwd=tmp_path)
    got = run([out / "prog" if mode == "onedir" else out, mode],
              cwd=tmp_path)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout == want.stdout, describe(got)


def test_writing_under_program_is_refused(tmp_path):
    """Writing, truncating, creating and removing under a one-file
    program fail as on a read-only file system and change nothing."""
    write_tree(tmp_path, FILES)
    write_tree(tmp_path, {"app.py": WRITE})
    out = tmp_path / "prog"
    kiln_build("app.py", "-q", "--collect", "mypkg", "-o", out, cwd=tmp_path)
    before = out.read_bytes()
    got = run([out], cwd=tmp_path)
    assert (got.returncode, got.stderr) == (0, ""), describe(got)
    assert got.stdout.splitlines() == [
        "OSError 30", "OSError 30", "OSError 30", "OSError 30",
        "OSError 30", "OSError 30", "FileExistsError 17", "OSError 30",
        "OSError 30", "FileNotFoundError 2", "OSError 30", "OSError 30",
        "ZeroDivisionError None", "creat -1 30", "hello data"]
    assert out.read_bytes() == before
