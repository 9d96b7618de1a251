"""setuptools as a library: a distribution's metadata from keyword
arguments, extension definitions, the distutils it provides (through its
_distutils_hack) and its command classes."""
import setuptools
from setuptools import Extension
from setuptools.dist import Distribution

import distutils.core  # setuptools' own copy, which its import put in place

dist = Distribution({"name": "demo_pkg", "version": "1.0.post1",
                     "install_requires": ["click>=8", "attrs"],
                     "extras_require": {"fast": ["ujson"]},
                     "entry_points": {"console_scripts": ["demo=demo:main"]}})
print(dist.get_name(), dist.get_version(), dist.install_requires,
      dist.extras_require)
print(dist.metadata.get_fullname(), sorted(dist.get_command_list())[:5])
ext = Extension("demo._speedups", ["src/speedups.c"],
                define_macros=[("FAST", "1")], py_limited_api=True)
print(ext.name, ext.sources, ext.define_macros, ext.py_limited_api)
print("_distutils" in distutils.core.__file__,
      distutils.core.Distribution is not None)
cmd = dist.get_command_obj("build_py")
print(type(cmd).__module__, cmd.get_finalized_command("build").build_base)
print(setuptools.__version__)
