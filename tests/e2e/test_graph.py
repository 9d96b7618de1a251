"""What the import graph leaves out and what it keeps: developer tools the
standard library imports only lazily stay out of a hello program, but an app
that imports them itself gets them."""
import pytest

from conftest import build_program, describe, inspect_names, run, write_tree

LAZY_TOOLS = ["doctest", "pdb", "pydoc", "unittest", "test", "pydoc_data",
              "idlelib", "tkinter"]


def test_hello_leaves_out_lazily_imported_developer_tools(hello):
    names = inspect_names(hello)
    for tool in LAZY_TOOLS:
        assert tool not in names, f"{tool} bundled into hello"
    assert "encodings.utf_8" in names and "traceback" in names


def test_app_that_imports_a_developer_tool_gets_it(tmp_path):
    write_tree(tmp_path, {"app.py": """
        import unittest, pydoc_data.topics, doctest
        print(unittest.TestCase.__name__, len(pydoc_data.topics.topics) > 0,
              doctest.__name__)
    """})
    prog = build_program(tmp_path, "app.py", output=tmp_path / "dist" / "app")
    r = run([prog])
    assert r.returncode == 0, describe(r)
    assert r.stdout.split() == ["TestCase", "True", "doctest"], describe(r)
