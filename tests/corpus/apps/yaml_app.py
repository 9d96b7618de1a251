"""PyYAML with its libyaml C extension: safe and full loading, dumping,
custom tags."""
import yaml


class Point(yaml.YAMLObject):
    yaml_tag = "!point"
    yaml_loader = yaml.SafeLoader

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Point({self.x}, {self.y})"


doc = """
name: kiln
date: 2024-03-01
list: [1, 2.5, true, null, "s"]
nested: {a: {b: [x, y]}}
anchors:
  base: &b {k: 1}
  copy: *b
"""
print(yaml.__with_libyaml__, yaml.CSafeLoader.__module__)
data = yaml.load(doc, Loader=yaml.CSafeLoader)
print(data)
print(yaml.dump(data, Dumper=yaml.CDumper, sort_keys=True), end="")
print(yaml.load("!point {x: 1, y: 2}", Loader=yaml.SafeLoader))
print(list(yaml.safe_load_all("--- 1\n--- [2]\n")))
try:
    yaml.safe_load("a: [1, 2")
except yaml.YAMLError as e:
    print(type(e).__name__, str(e).splitlines()[0])
print(yaml.__version__)
