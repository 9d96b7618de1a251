"""examples/hello.py: build, run, inspect, verify, reproducibility."""
import os
import shutil

from conftest import (Bundle, build_program, describe, inspect_names, kiln,
                      kiln_build, run)


def expected_hello(pyinfo):
    return f"Hello from kiln! {pyinfo['version']}\n"


def test_hello_runs(hello, pyinfo):
    r = run([hello])
    assert r.returncode == 0, describe(r)
    assert r.stdout == expected_hello(pyinfo)
    assert r.stderr == ""


def test_default_output_is_dist_name_under_cwd(tmp_path, hello_src):
    r = kiln_build(hello_src, cwd=tmp_path)
    prog = tmp_path / "dist" / "hello"
    assert prog.is_file(), describe(r)
    assert "kiln: wrote dist/hello" in r.stderr
    r = run([prog])
    assert r.returncode == 0, describe(r)


def test_name_option_sets_default_output(tmp_path, hello_src, pyinfo):
    kiln_build(hello_src, "--name", "greeter", cwd=tmp_path)
    prog = tmp_path / "dist" / "greeter"
    assert prog.is_file()
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, expected_hello(pyinfo)), describe(r)


def test_inspect_lists_entries(hello, pyinfo):
    r = kiln("inspect", hello)
    assert r.returncode == 0, describe(r)
    header = r.stdout.splitlines()[0]
    major, minor = pyinfo["version_info"]
    assert f"Python {major}.{minor}" in header, header
    assert "runs script" in header, header
    names = inspect_names(hello)
    assert names.get("__main__") == "module"
    assert names.get("encodings") == "package"
    assert names.get("encodings.utf_8") == "module"
    assert names.get("encodings.aliases") == "module"
    # The listing is the bundle's index, entry for entry.
    b = Bundle.read(hello)
    assert set(names) == set(b.entries)
    assert len(names) == b.entry_count


def test_verify_passes(hello):
    r = kiln("inspect", hello, "--verify")
    assert r.returncode == 0, describe(r)
    assert "ok" in r.stdout and "checksums match" in r.stdout, describe(r)


def test_build_is_reproducible(tmp_path, hello_src):
    """Same input, different cwd and output path: byte-identical programs."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = build_program(tmp_path / "a", hello_src, output=tmp_path / "a" / "hello")
    b = build_program(tmp_path / "b", hello_src,
                      output=tmp_path / "b" / "out" / "hello")
    da, db = a.read_bytes(), b.read_bytes()
    assert len(da) == len(db)
    if da != db:
        first = next(i for i in range(len(da)) if da[i] != db[i])
        raise AssertionError(f"builds differ, first at byte {first} of {len(da)}")


def test_build_of_copied_script_is_reproducible(tmp_path, hello_src):
    """The script's directory does not leak into the program."""
    for d in ("x", "y/z"):
        (tmp_path / d).mkdir(parents=True)
        shutil.copy(hello_src, tmp_path / d / "hello.py")
        build_program(tmp_path / d, "hello.py", output=tmp_path / d / "prog")
    assert (tmp_path / "x" / "prog").read_bytes() == \
        (tmp_path / "y/z" / "prog").read_bytes()


def test_compressed_build(tmp_path, hello_src, hello, pyinfo):
    prog = build_program(tmp_path, hello_src, "--compress",
                         output=tmp_path / "hello-z")
    assert prog.stat().st_size < hello.stat().st_size
    b = Bundle.read(prog)
    assert any(e["flags"] for e in b.entries.values()), "nothing compressed"
    r = run([prog])
    assert (r.returncode, r.stdout, r.stderr) == (0, expected_hello(pyinfo), ""), \
        describe(r)
    r = kiln("inspect", prog, "--verify")
    assert r.returncode == 0, describe(r)


def test_program_is_relocatable(tmp_path, hello, pyinfo):
    """A copy in another directory, under another name, runs the same."""
    (tmp_path / "bin").mkdir()
    copy = tmp_path / "bin" / "hi"
    shutil.copy2(hello, copy)
    r = run([copy])
    assert (r.returncode, r.stdout) == (0, expected_hello(pyinfo)), describe(r)
    # Run through a relative path and through PATH lookup.
    r = run(["./hi"], cwd=tmp_path / "bin")
    assert (r.returncode, r.stdout) == (0, expected_hello(pyinfo)), describe(r)
    env = dict(os.environ, PATH=f"{tmp_path / 'bin'}:{os.environ.get('PATH', '')}")
    r = run(["hi"], cwd="/", env=env)
    assert (r.returncode, r.stdout) == (0, expected_hello(pyinfo)), describe(r)


def test_python_environment_variables_are_ignored(tmp_path, hello, pyinfo):
    """A built program is isolated from PYTHON* variables."""
    env = dict(os.environ, PYTHONHOME="/nonexistent-home",
               PYTHONPATH="/nonexistent-path", PYTHONVERBOSE="1",
               PYTHONINSPECT="1", PYTHONWARNINGS="error",
               PYTHONSTARTUP="/nonexistent-startup.py", PYTHONDEVMODE="1")
    r = run([hello], env=env, input="")
    assert r.returncode == 0, describe(r)
    assert r.stdout == expected_hello(pyinfo)
    assert r.stderr == "", describe(r)


def test_build_does_not_depend_on_environment(tmp_path, hello_src):
    """Hash seed, locale, time zone and umask of the build do not change
    the program."""
    import subprocess
    from conftest import KILN
    outs = []
    for i, (seed, loc, tz, mask) in enumerate([("0", "C.UTF-8", "UTC", 0o022),
                                               ("12345", "C", "Asia/Tokyo", 0o077),
                                               ("random", "POSIX", "EST5EDT", 0o002)]):
        env = dict(os.environ, PYTHONHASHSEED=seed, LC_ALL=loc, TZ=tz,
                   SOURCE_DATE_EPOCH=str(1000000 * (i + 1)))
        out = tmp_path / f"hello{i}"
        r = subprocess.run([str(KILN), "build", str(hello_src), "-o", str(out)],
                           env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=180,
                           preexec_fn=lambda m=mask: os.umask(m))
        assert r.returncode == 0, r.stderr
        assert os.stat(out).st_mode & 0o777 == 0o755
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_build_does_not_depend_on_bytecode_cache(tmp_path):
    """A library's __pycache__ (written when python imports it, or by
    compileall) does not change the program kiln builds from it."""
    from conftest import KILN_PYTHON, write_tree
    write_tree(tmp_path, {
        "lib/tp/__init__.py": """
            VALUES = {"a", "b", "c", "d"}

            def f(x):
                return x in {"alpha", "beta", "gamma"} and len(VALUES) == 4

            class K:
                def m(self, y):
                    return [i * 2 for i in range(y)]
        """,
        "app/app.py": """
            import tp
            print(tp.f("beta"), tp.K().m(3))
        """,
    })
    app = tmp_path / "app"
    first = build_program(app, "app.py", "--paths", tmp_path / "lib",
                          output=tmp_path / "p1")
    r = run([KILN_PYTHON, "-m", "compileall", "-q", tmp_path / "lib"])
    assert r.returncode == 0, describe(r)
    assert list((tmp_path / "lib" / "tp" / "__pycache__").iterdir())
    second = build_program(app, "app.py", "--paths", tmp_path / "lib",
                           output=tmp_path / "p2")
    for p in (first, second):
        r = run([p])
        assert (r.returncode, r.stdout) == (0, "True [0, 2, 4]\n"), describe(r)
    a, b = first.read_bytes(), second.read_bytes()
    if a != b:
        ea, eb = Bundle(a).entries, Bundle(b).entries

        def payload(data, e):
            return data[e["data_abs"]:e["data_abs"] + e["data_size"]]
        diff = [n for n in ea
                if n not in eb or payload(a, ea[n]) != payload(b, eb[n])]
        raise AssertionError(f"programs differ; entries whose bytecode "
                             f"differs: {diff}")
