"""pkg_resources (setuptools' run-time half): the working set of
distributions the program carries (versions, requirements, entry points)
and the resource API on the app's own package data."""
import warnings

warnings.filterwarnings("ignore", "pkg_resources is deprecated")
import babel  # noqa: E402,F401  (a distribution with entry points)
import jinja2  # noqa: E402,F401
import pkg_resources  # noqa: E402

import pkgres_app  # noqa: E402,F401

print(pkg_resources.get_distribution("setuptools").version)
print(pkg_resources.get_distribution("jinja2").project_name,
      [str(r) for r in pkg_resources.get_distribution("jinja2").requires()])
print(sorted(d.project_name for d in pkg_resources.require("jinja2")))
print(pkg_resources.parse_version("1.0.post1") > pkg_resources.parse_version("1.0"),
      pkg_resources.Requirement.parse("foo[bar]>=2").extras)
eps = {ep.name: ep.module_name for ep in
       pkg_resources.iter_entry_points("babel.extractors")}
print(sorted(eps.items()))
print(pkg_resources.resource_string("pkgres_app", "greeting.txt"))
print(pkg_resources.resource_exists("pkgres_app", "sub/lines.txt"),
      pkg_resources.resource_isdir("pkgres_app", "sub"),
      sorted(pkg_resources.resource_listdir("pkgres_app", "sub")))
with pkg_resources.resource_stream("pkgres_app", "sub/lines.txt") as f:
    print(f.read().split())
try:
    pkg_resources.get_distribution("no-such-distribution")
except pkg_resources.DistributionNotFound as e:
    print("DistributionNotFound", e)
