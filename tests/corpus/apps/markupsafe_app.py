"""markupsafe: escaping through its C speedups module, Markup
formatting and striptags."""
import markupsafe
from markupsafe import Markup, escape, escape_silent

print(escape("<a href='x'>&\"</a>"))
print(Markup("<b>%s</b>") % "<i>")
print(Markup("<em>{}</em>").format("&"))
print(Markup("<p>Hello <!-- c --> <b>World</b></p>").striptags())
print(escape_silent(None), repr(Markup("a") + "<"))
print(Markup("&lt;x&gt;").unescape())
# The C speedups, not the pure Python fallback.
print(markupsafe._escape_inner.__module__)
import importlib.metadata
print(importlib.metadata.version("markupsafe"))
