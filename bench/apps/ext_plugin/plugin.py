"""A plugin built as an extension module by the bench (bench/run.py,
extension_import): jinja2 with templates of its own package, PyYAML with
libyaml's C loader, its dependencies' versions from their metadata, all
at import."""
import importlib.metadata

import jinja2
import yaml

ENV = jinja2.Environment(loader=jinja2.PackageLoader("plugin_templates"))
LOADER = yaml.CSafeLoader
VERSIONS = {d: importlib.metadata.version(d) for d in ("Jinja2", "PyYAML")}


def render(**kw):
    return ENV.get_template("hello.txt").render(**kw)
