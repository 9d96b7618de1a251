# hatch_build.py: the wheel's build hook. It builds kiln with the Makefile
# (`make install` into a staging prefix, in a build folder of its own) for
# the Python that the environment being installed into was made from, and
# hands the wheel what that installs: bin/kiln as a script, lib/kiln/ (the
# runtime stub and the extension-module template) as data. pip, pipx and uv
# then lay out exactly what `make install PREFIX=<the environment>` does.
"""Build hook of kiln's wheel (README.md, "Install with pip")."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# What the chosen interpreter says about itself.
_ABOUT = """
import json, sys, sysconfig
print(json.dumps({"venv": sys.prefix != sys.base_prefix,
                  "impl": sys.implementation.name,
                  "version": list(sys.version_info[:2]),
                  "abiflags": getattr(sys, "abiflags", ""),
                  "platform": sysconfig.get_platform()}))
"""


def _clean_env():
    """The environment for make and the interpreter: without the outer
    make's flags and variables (a pip run under make), and without the
    PYTHON* variables of pip's build environment (its PYTHONPATH), which
    are no business of the interpreter kiln embeds."""
    drop = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES")
    return {k: v for k, v in os.environ.items()
            if k not in drop and not k.startswith("PYTHON")}


def _about(python):
    """What python says about itself (_ABOUT), or None if it does not run."""
    try:
        r = subprocess.run([python, "-I", "-c", _ABOUT], capture_output=True,
                           text=True, env=_clean_env(), timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def _versioned(python, xy):
    """python named pythonX.Y when that name in its folder is the same
    file: the name a later `python3` of another version does not take."""
    named = os.path.join(os.path.dirname(python), "python%d.%d" % xy)
    try:
        if os.path.samefile(named, python):
            return named
    except OSError:
        pass
    return python


def embedded_python():
    """The interpreter kiln is built for: the one the environment being
    installed into was made from (pip runs this hook with that
    environment's python, `python -m build` and uv with a venv of their
    own made from the same one), never a venv, which may be a throwaway
    build environment. Returns (path, what it says about itself)."""
    xy = tuple(sys.version_info[:2])
    tried = []
    for python in (getattr(sys, "_base_executable", ""),
                   os.path.join(sys.base_prefix, "bin", "python%d.%d" % xy),
                   sys.executable):
        if not python or not os.path.isabs(python) or python in tried:
            continue
        tried.append(python)
        if not os.access(python, os.X_OK):
            continue
        python = _versioned(python, xy)
        about = _about(python)
        if (about and not about["venv"] and about["impl"] == "cpython" and
                tuple(about["version"]) == xy):
            return python, about
    raise SystemExit("kiln: cannot find the Python %d.%d this environment "
                     "was made from (tried %s); build kiln with make "
                     "PYTHON=/path/to/python%d.%d instead"
                     % (xy + (", ".join(tried) or "nothing") + xy))


def _jobs():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class KilnBuildHook(BuildHookInterface):
    """`make install` into a temporary prefix; the wheel gets its files."""

    def initialize(self, version, build_data):
        if version == "editable":
            raise SystemExit("kiln: kiln is a C program and has no editable "
                             "install: run make in the checkout (build/kiln "
                             "runs from there), or pip install . without -e")
        if shutil.which("make") is None:
            raise SystemExit("kiln: building kiln needs GNU make (Debian: "
                             "sudo apt-get install make build-essential)")
        python, about = embedded_python()
        self._tmp = tempfile.mkdtemp(prefix="kiln-wheel-")
        build = os.path.join(self._tmp, "build")
        prefix = os.path.join(self._tmp, "prefix")
        cmd = ["make", "-C", self.root, "--no-print-directory",
               "-j%d" % _jobs(), "install", "PYTHON=" + python,
               "BUILD=" + build, "PREFIX=" + prefix, "DESTDIR="]
        self.app.display_info("kiln: building for %s: %s"
                              % (python, " ".join(cmd)))
        r = subprocess.run(cmd, env=_clean_env())
        if r.returncode != 0:
            raise SystemExit("kiln: `%s` failed (status %d): its output is "
                             "above" % (" ".join(cmd), r.returncode))
        for folder, _dirs, files in os.walk(prefix):
            for name in files:
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, prefix)
                if os.path.dirname(rel) == "bin":
                    build_data["shared_scripts"][path] = name
                else:
                    build_data["shared_data"][path] = rel
        # A wheel for this Python only: the kiln in it embeds that X.Y
        # (and names that interpreter).
        cp = "cp%d%d" % tuple(about["version"])
        platform = about["platform"].replace("-", "_").replace(".", "_")
        build_data["pure_python"] = False
        build_data["tag"] = "%s-%s%s-%s" % (cp, cp, about["abiflags"],
                                            platform)

    def finalize(self, version, build_data, artifact_path):
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
