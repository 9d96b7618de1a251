"""rich: tables, markdown, syntax highlighting (through pygments),
pretty-printing, trees and panels, rendered with colour to a fixed-width
console."""
import io

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.pretty import Pretty
from rich.syntax import Syntax
from rich.table import Table
from rich.tree import Tree

out = io.StringIO()
console = Console(file=out, width=60, color_system="truecolor",
                  force_terminal=True, legacy_windows=False, record=True)
table = Table(title="Fruit")
table.add_column("name", style="cyan")
table.add_column("count", justify="right", style="magenta")
table.add_row("apple", "3")
table.add_row("pear", "12")
console.print(table)
console.print(Markdown("# Title\n\nSome *emphasis* and `code`.\n\n"
                       "1. one\n2. two\n\n```python\nx = 1\n```\n"))
console.print(Syntax("def f(x):\n    return x + 1\n", "python",
                     theme="monokai", line_numbers=True))
console.print(Pretty({"a": [1, 2, 3], "b": {"c": None, "d": (True, 1.5)}}))
tree = Tree("root")
tree.add("left").add("leaf")
tree.add("[bold]right")
console.print(tree)
console.print(Panel("inside", title="panel"), ":thumbs_up: emoji")
text = out.getvalue()
print(repr(text))
print(console.export_text(clear=False).count("\n"))
