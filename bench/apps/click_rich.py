"""A click command that prints a rich table."""
import click
from rich.console import Console
from rich.table import Table


@click.command()
@click.option("--rows", default=3, help="number of rows")
def main(rows):
    table = Table(title="kiln bench")
    table.add_column("n", justify="right")
    table.add_column("square")
    for i in range(rows):
        table.add_row(str(i), str(i * i))
    Console(width=60).print(table)


if __name__ == "__main__":
    main()
