"""Imports inside another module's `if __name__ == "__main__":` block are
not followed (they run only when that module is the program); imports
around it, in its `else:` branch and in other tests of __name__ are."""
from conftest import build_program, describe, inspect_names, run, write_tree

LIB = """
    import a_always
    if __name__ == "__main__":
        try:
            import b_main_only
        except ImportError:
            import c_main_only
        def f():
            import d_main_only
        f()
    else:
        import e_else
    import g_after
    if __name__ != "__main__":
        import i_not_main
    if '__main__' == __name__:
        import h_main_only
"""

TAIL = """
    import j_always
    if __name__ == '__main__':
        import k_main_only
        print(k_main_only.X)
"""

FOLLOWED = ["a_always", "e_else", "g_after", "i_not_main", "j_always"]
LEFT_OUT = ["b_main_only", "c_main_only", "d_main_only", "h_main_only",
            "k_main_only"]


def test_other_modules_main_blocks_are_not_followed(tmp_path):
    files = {"lib.py": LIB, "tail.py": TAIL,
             "app.py": "import lib, tail\nprint('ok', lib.g_after.X)\n"}
    for name in FOLLOWED + LEFT_OUT:
        files[f"{name}.py"] = "X = 1\n"
    write_tree(tmp_path, files)
    prog = build_program(tmp_path, "app.py", output=tmp_path / "prog")
    names = inspect_names(prog)
    assert [n for n in FOLLOWED if n not in names] == [], names
    assert [n for n in LEFT_OUT if n in names] == [], names
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, "ok 1\n"), describe(r)


def test_run_module_main_block_is_followed(tmp_path):
    """The same module run as the program keeps its main block's imports."""
    files = {"tail.py": TAIL, "j_always.py": "X = 1\n",
             "k_main_only.py": "X = 2\n"}
    write_tree(tmp_path, files)
    prog = build_program(tmp_path, "tail.py", output=tmp_path / "prog")
    assert "k_main_only" in inspect_names(prog)
    r = run([prog])
    assert (r.returncode, r.stdout) == (0, "2\n"), describe(r)
