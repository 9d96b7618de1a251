"""docutils: reStructuredText to HTML5 with the writer's defaults (it
embeds its stylesheets, read from its package directory), to LaTeX and
to a document tree; directives, roles and system messages."""
import re

import docutils
from docutils.core import publish_doctree, publish_parts, publish_string

src = """\
=======
 Title
=======

Hello *world*, ``code`` and a link_.

.. _link: https://example.org

- a
- b

.. note:: A note with **strong** text.

.. code:: python

   x = 1

=====  =====
col 1  col 2
=====  =====
1      2
=====  =====

Unknown :foo:`role`.
"""
settings = {"report_level": 5, "halt_level": 5, "warning_stream": False,
            "output_encoding": "unicode", "syntax_highlight": "none"}
html = publish_string(src, writer_name="html5", settings_overrides=settings)
# The generator line names docutils' version; the stylesheet is embedded.
print(len(html) > 5000, "<style" in html, "Docutils " + docutils.__version__ in html)
body = html[html.index("<body>"):]
print(re.sub(r"\n+", "\n", body))
parts = publish_parts(src, writer_name="latex", settings_overrides=settings)
print(parts["title"], parts["body"].count("\\item"))
tree = publish_doctree(src, settings_overrides=settings)
print([n.tagname for n in tree.children])
print(tree.children[-1].astext())
print(docutils.__version__)
