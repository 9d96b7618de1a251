"""jinja2: templates read from the app's own package with PackageLoader
(inheritance, macros imported from another template, filters,
autoescaping), a sandboxed template and the template compiler's output."""
import jinja2
from jinja2.sandbox import SandboxedEnvironment

import jinja_app

env = jinja_app.environment()
print(sorted(env.list_templates()))
page = env.get_template("page.html")
print(page.render(title="fruit list", note="<script>&</script>",
                  fruits=[{"name": "pear", "count": 12},
                          {"name": "apple", "count": 3}]))
print(env.get_template("mail.txt").render(name="kiln", lines=["one", "two"]),
      end="")
sandbox = SandboxedEnvironment()
print(sandbox.from_string("{{ 6 * 7 }} {{ x.__class__ }}").render(x=1))
try:
    sandbox.from_string("{{ x.__class__.__mro__ }}").render(x=1)
except jinja2.exceptions.SecurityError as e:
    print("SecurityError", e)
print(env.compile("{{ a + b }}", raw=True).count("\n") > 5)
print(jinja2.__version__)
