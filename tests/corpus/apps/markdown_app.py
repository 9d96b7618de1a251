"""Python-Markdown with its extensions named as users name them (loaded
through its markdown.extensions entry points), plus an extension class
passed directly."""
import markdown
from markdown.extensions.toc import TocExtension

text = """\
[TOC]

# Title {#top .main}

Some *text* with a footnote[^1] and `code`.

| a | b |
|---|---|
| 1 | 2 |

```python
x = 1
```

Term
:   Definition

*[HTML]: Hyper Text Markup Language
HTML is abbreviated.

[^1]: The note.
"""
md = markdown.Markdown(extensions=["tables", "fenced_code", "footnotes",
                                   "attr_list", "def_list", "abbr",
                                   "sane_lists", "smarty", "admonition",
                                   TocExtension(permalink=True)])
print(md.convert(text))
print(md.toc_tokens[0]["id"], md.toc_tokens[0]["name"])
print(markdown.markdown("!!! note\n    Admonished.", extensions=["admonition"]))
print(markdown.markdown("'quotes' -- and...", extensions=["smarty"]))
try:
    markdown.markdown("x", extensions=["no_such_extension"])
except (ImportError, AttributeError) as e:
    print(type(e).__name__)
print(markdown.__version__)
