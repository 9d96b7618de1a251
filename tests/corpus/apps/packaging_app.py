"""packaging: versions, specifiers, requirements, markers evaluated for
a fixed environment, tags and wheel filenames."""
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

print(Version("1.2.3rc1") < Version("1.2.3"), Version("2.0.post1"),
      sorted(["1.10", "1.9", "1.10a1", "1.0.post2"], key=Version))
print(Version("1!2.3.4.dev5+local.7").epoch, Version("2.3").release)
try:
    Version("not a version")
except InvalidVersion as e:
    print("InvalidVersion", e)
spec = SpecifierSet(">=1.0,<2,!=1.5.*")
print(list(spec.filter(["0.9", "1.5.1", "1.6", "1.9.9", "2.0", "1.7rc1"])))
print(spec.contains("1.7rc1", prereleases=True))
req = Requirement('name[extra,other]>=1.0,<3; python_version >= "3.8"')
print(req.name, sorted(req.extras), req.specifier, req.marker)
env = {"python_version": "3.11", "sys_platform": "linux",
       "platform_machine": "x86_64"}
m = Marker('python_version >= "3.8" and (sys_platform == "win32" or '
           'platform_machine == "x86_64")')
print(m.evaluate(env), Marker('sys_platform == "darwin"').evaluate(env))
name, version, build, tags = parse_wheel_filename(
    "pkg_name-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
print(canonicalize_name("Foo.Bar__baz"), name, version, build,
      sorted(map(str, tags)))
print(sorted(str(t) for t in parse_tag("cp311-abi3-manylinux1_x86_64.manylinux2014_x86_64")),
      Tag("py3", "none", "any"))
