"""Where memory is refused, native code comes from the per-user cache.

A one-file program loads its extension modules and the libraries they
bring from memfds. Where that is refused (memfd_create filtered by seccomp,
no /proc) or KILN_NATIVE=cache asks for it, it writes each object once to
$XDG_CACHE_HOME/kiln/natives/<digest>/<name> and loads it from there; the
program gives python's answers either way, writes nothing else, and never
loads a cache file that differs from its own bytes. KILN_NATIVE=memory
writes nothing anywhere."""
import os
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from conftest import (RUN_TIMEOUT, build_shlibs_app, cc, describe,
                      kiln_build, python_run, run, write_tree)

STRACE = shutil.which("strace") or "/usr/bin/strace"

# Runs a program with memfd_create refused (EPERM) by a seccomp filter, as
# a sandbox would.
NOMEMFD_C = r"""
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "x86_64 or aarch64 only"
#endif

int main(int argc, char **argv)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_memfd_create, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};

    if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
        perror("nomemfd");
        return 125;
    }
    execv(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
"""

# libkla.so.1 as a program must never run it: the same soname, another
# answer.
EVIL_A = ("int klb_base(void);\n"
          "int kla_value(int x) { return klb_base() + x + 1000; }\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory, pyinfo):
    """The shlibs app, python's answers, and its one-file program with the
    build's libraries moved away."""
    d = tmp_path_factory.mktemp("natives")
    app = build_shlibs_app(d / "app", pyinfo)
    want = python_run(app / "app.py", cwd=app)
    assert (want.returncode, want.stdout) == (0, "42\n"), describe(want)
    prog = d / "prog"
    kiln_build("app.py", "-q", "-o", prog, cwd=app)
    folder = d / "folder" / "prog"
    kiln_build("app.py", "-q", "--onedir", "-o", folder, cwd=app)
    shutil.move(str(app / "mypkg.libs"), str(d / "moved.libs"))
    return SimpleNamespace(dir=d, app=app, prog=prog, folder=folder,
                           want=want.stdout,
                           ext=f"_native{pyinfo['ext_suffixes'][0]}")


@pytest.fixture(scope="module")
def nomemfd(tmp_path_factory):
    d = tmp_path_factory.mktemp("nomemfd")
    (d / "nomemfd.c").write_text(NOMEMFD_C)
    cc("-o", d / "nomemfd", d / "nomemfd.c")
    return d / "nomemfd"


def user_env(tmp_path, **extra):
    """The environment of a user whose cache and home are empty
    directories of the test's own."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KILN_NATIVE", "KILN_VERBOSE")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"),
               HOME=str(tmp_path / "home"), LD_LIBRARY_PATH="")
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(extra)
    return env


def natives_dir(tmp_path):
    return tmp_path / "cache" / "kiln" / "natives"


def cached_objects(tmp_path):
    """{name: [paths]} of the files in the natives cache, and the other
    entries found there (temporary or damaged copies left behind)."""
    objects, other = {}, []
    base = natives_dir(tmp_path)
    for entry in sorted(base.iterdir()) if base.is_dir() else []:
        if not re.fullmatch(r"[0-9a-f]{16}", entry.name):
            other.append(entry.name)
            continue
        for f in entry.iterdir():
            objects.setdefault(f.name, []).append(f)
    return objects, other


def writes(cmd, tmp_path, env):
    """Run cmd under strace; return (CompletedProcess, the paths it made,
    changed or removed: files opened for writing or created, directories
    made, names renamed, linked or removed)."""
    log = tmp_path / f"writes-{len(list(tmp_path.glob('writes-*')))}.log"
    r = run([STRACE, "-f", "-qq", "-s", "4096", "-o", log, "-e",
             "trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,"
             "renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,rmdir,"
             "truncate,chmod,fchmodat",
             *cmd], env=env, cwd=tmp_path)
    changed = []
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r'^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)', line)
        if not m or int(m.group(3)) < 0:
            continue
        call, args = m.group(1), m.group(2)
        names = re.findall(r'"((?:[^"\\]|\\.)*)"', args)
        if call.startswith("open") and not re.search(
                r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_TMPFILE", args):
            continue
        changed.extend(names)
    return r, changed


@pytest.fixture(scope="module", autouse=True)
def _strace_is_installed():
    assert os.access(STRACE, os.X_OK), (
        f"{STRACE} is missing: these tests need strace (.ci/run installs it)")


def test_cache_mode_loads_from_the_cache(built, tmp_path):
    env = user_env(tmp_path, KILN_NATIVE="cache")
    r, changed = writes([built.prog, "natives", "file"], tmp_path, env)
    assert r.returncode == 0 and r.stderr == "", describe(r)
    value, mapped, file = r.stdout.splitlines()
    assert value + "\n" == built.want
    objects, other = cached_objects(tmp_path)
    assert sorted(objects) == [built.ext, "libkla.so.1", "libklb.so.2"]
    assert other == []
    # What the loader mapped are the cache's files, one per object.
    assert eval(mapped) == sorted(str(p) for ps in objects.values()
                                  for p in ps), mapped
    # __file__ is the module's path in the program, as in memory.
    assert file == f"{built.prog}/mypkg/{built.ext}"
    cache = str(tmp_path / "cache")
    outside = [p for p in changed
               if p != cache and not p.startswith(cache + "/")]
    assert outside == [], outside
    assert oct(natives_dir(tmp_path).stat().st_mode & 0o777) == "0o700"
    # A second run uses the copies as they are.
    before = {p: p.stat().st_mtime_ns for ps in objects.values() for p in ps}
    again, changed = writes([built.prog], tmp_path, env)
    assert (again.returncode, again.stdout) == (0, built.want), describe(again)
    assert changed == [] and cached_objects(tmp_path)[0] == objects
    assert {p: p.stat().st_mtime_ns for p in before} == before


@pytest.mark.parametrize("native", ["", "memory"])
def test_memory_mode_writes_nothing(built, tmp_path, native):
    env = user_env(tmp_path, KILN_NATIVE=native)
    r, changed = writes([built.prog, "maps", "file"], tmp_path, env)
    assert r.returncode == 0 and r.stderr == "", describe(r)
    assert r.stdout.splitlines() == [
        "42", "['/memfd:libkla.so.1 (deleted)', '/memfd:libklb.so.2 "
        "(deleted)']", f"{built.prog}/mypkg/{built.ext}"], describe(r)
    assert changed == []
    assert not (tmp_path / "cache").exists()
    assert list((tmp_path / "home").iterdir()) == []


def test_refused_memfd_falls_back_to_the_cache(built, nomemfd, tmp_path):
    """memfd_create refused by seccomp: the program says nothing unless
    asked, and works from the cache."""
    env = user_env(tmp_path)
    r = run([nomemfd, built.prog, "natives", "file"], env=env, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", describe(r)
    value, mapped, file = r.stdout.splitlines()
    assert value + "\n" == built.want
    objects, other = cached_objects(tmp_path)
    assert sorted(objects) == [built.ext, "libkla.so.1", "libklb.so.2"]
    assert eval(mapped) == sorted(str(p) for ps in objects.values()
                                  for p in ps), mapped
    assert file == f"{built.prog}/mypkg/{built.ext}"
    # Asked (KILN_VERBOSE), it says why in one line.
    r = run([nomemfd, built.prog], env=dict(env, KILN_VERBOSE="1"),
            cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, built.want), describe(r)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, describe(r)
    assert lines[0].startswith(f"{built.prog}: loading native code from "
                               f"files in {natives_dir(tmp_path)}"), lines
    assert "memfd_create: Operation not permitted" in lines[0], lines
    # KILN_NATIVE=memory: no fallback, an ImportError that says so.
    r = run([nomemfd, built.prog], env=dict(env, KILN_NATIVE="memory"),
            cwd=tmp_path)
    assert r.returncode == 1, describe(r)
    assert "ImportError: cannot load extension module mypkg._native" in \
        r.stderr and "KILN_NATIVE=memory" in r.stderr, describe(r)
    # A cache others may write is not used: the ImportError says both why
    # memory and why the cache would not do.
    shared = tmp_path / "shared"
    (shared / "kiln" / "natives").mkdir(parents=True)
    (shared / "kiln" / "natives").chmod(0o777)
    r = run([nomemfd, built.prog], env=dict(env, XDG_CACHE_HOME=str(shared)),
            cwd=tmp_path)
    assert r.returncode == 1, describe(r)
    last = r.stderr.splitlines()[-1]
    assert last.startswith("ImportError: cannot load extension module "
                           "mypkg._native: ") and \
        "memory is refused (memfd_create: Operation not permitted)" in last \
        and "is not private to this user" in last, describe(r)
    assert list((shared / "kiln" / "natives").iterdir()) == []


def test_refused_memfd_serves_data_files_from_the_cache(nomemfd, tmp_path):
    """Paths under the program read from copies in the cache too, so open()
    next to __file__ and tracebacks' source lines still work."""
    write_tree(tmp_path / "src", {
        "pkg/__init__.py": "",
        "pkg/data.txt": "some data\n",
        "app.py": """
import os, pkg
print(open(os.path.join(os.path.dirname(pkg.__file__), "data.txt")).read(),
      end="")
print(open(__file__).readline(), end="")
""",
    })
    kiln_build("app.py", "-q", "-o", tmp_path / "prog", cwd=tmp_path / "src")
    env = user_env(tmp_path)
    r = run([nomemfd, tmp_path / "prog"], env=env, cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (
        0, "some data\nimport os, pkg\n", ""), describe(r)
    files = tmp_path / "cache" / "kiln" / "files"
    assert sorted(p.name for p in files.glob("*/*")) == ["app.py", "data.txt"]


@pytest.mark.sanitizers_change("no /proc: ASan and LSan read the process's "
                               "maps and threads there")
def test_no_proc_falls_back_to_the_cache(built, tmp_path):
    """Without /proc (a tmpfs over it in a namespace of the test's own),
    the program finds itself and loads native code from the cache."""
    env = user_env(tmp_path)
    r = run(["unshare", "-rm", "sh", "-c",
             'mount -t tmpfs none /proc && exec "$0" file', built.prog],
            env=env, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", describe(r)
    assert r.stdout == built.want + f"{built.prog}/mypkg/{built.ext}\n"
    objects, other = cached_objects(tmp_path)
    assert sorted(objects) == [built.ext, "libkla.so.1", "libklb.so.2"]


def test_first_starts_at_once_share_one_copy(built, tmp_path):
    """Processes that find the cache empty at the same moment all run, and
    leave one copy of each object and nothing else."""
    env = user_env(tmp_path, KILN_NATIVE="cache")
    procs = [subprocess.Popen([built.prog], env=env, cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=RUN_TIMEOUT)
        assert (p.returncode, out, err) == (0, built.want, ""), (out, err)
    objects, other = cached_objects(tmp_path)
    assert other == []
    assert {name: len(paths) for name, paths in objects.items()} == {
        built.ext: 1, "libkla.so.1": 1, "libklb.so.2": 1}


def test_a_changed_cache_file_is_replaced_not_loaded(built, tmp_path):
    """A cache file changed after it was written (here: another valid
    library of the same soname, which would make value(2) 1042) is found
    out before use and written again."""
    env = user_env(tmp_path, KILN_NATIVE="cache")
    r = run([built.prog], env=env, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, built.want), describe(r)
    (kla,) = cached_objects(tmp_path)[0]["libkla.so.1"]
    good = kla.read_bytes()
    (tmp_path / "evil.c").write_text(EVIL_A)
    cc("-shared", "-fPIC", "-o", tmp_path / "evil.so", tmp_path / "evil.c",
       "-Wl,-soname,libkla.so.1", built.dir / "moved.libs" / "libklb.so.2")
    kla.chmod(0o700)
    shutil.copyfile(tmp_path / "evil.so", kla)
    r = run([built.prog, "natives"], env=env, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", describe(r)
    assert r.stdout.splitlines()[0] == "42", describe(r)
    assert kla.read_bytes() == good
    assert str(kla) in eval(r.stdout.splitlines()[1])
    assert cached_objects(tmp_path)[1] == []


def test_a_bad_kiln_native_is_one_line_before_the_program_runs(built,
                                                                tmp_path):
    r = run([built.prog], env=user_env(tmp_path, KILN_NATIVE="bogus"),
            cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, ""), describe(r)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, describe(r)
    assert lines[0].startswith(f"{built.prog}: KILN_NATIVE=bogus: "), lines
    assert "memory" in lines[0] and "cache" in lines[0], lines
    assert not (tmp_path / "cache").exists()


def test_a_folder_program_loads_its_files_in_every_mode(built, tmp_path):
    out = built.folder
    for native in ("", "memory", "cache"):
        r = run([out / "prog", "maps"], env=user_env(tmp_path,
                                                      KILN_NATIVE=native),
                cwd=tmp_path)
        assert r.returncode == 0 and r.stderr == "", describe(r)
        assert r.stdout.splitlines()[1] == str(sorted(
            str(out / "_internal" / "mypkg.libs" / n)
            for n in ("libkla.so.1", "libklb.so.2"))), describe(r)
    assert not (tmp_path / "cache").exists()
