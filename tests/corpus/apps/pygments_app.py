"""pygments: lexers and formatters looked up by name, filename and
content, styles by name, and a guessing lexer."""
from pygments import highlight, lex
from pygments.formatters import (HtmlFormatter, Terminal256Formatter,
                                 get_formatter_by_name)
from pygments.lexers import (get_lexer_by_name, get_lexer_for_filename,
                             guess_lexer)
from pygments.styles import get_all_styles, get_style_by_name

code = 'def f(x):\n    return "hi" + x  # comment\n'
print(highlight(code, get_lexer_by_name("python"),
                get_formatter_by_name("html", nowrap=True)), end="")
print(repr(highlight(code, get_lexer_by_name("py"),
                     Terminal256Formatter(style="monokai"))))
for filename in ("a.rs", "b.go", "Makefile", "c.yaml", "d.ts"):
    print(filename, get_lexer_for_filename(filename).name)
print(guess_lexer("#!/bin/sh\necho hi\n").name)
print(list(lex("SELECT 1;", get_lexer_by_name("sql")))[:3])
print(HtmlFormatter(style="solarized-dark").get_style_defs(".x")
      .splitlines()[5])
print(get_style_by_name("friendly").background_color,
      len(list(get_all_styles())) > 30)
