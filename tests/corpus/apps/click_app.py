"""click: a command group with options, arguments, choices and prompts,
driven through its test runner, with help and error output."""
import click
from click.testing import CliRunner


@click.group()
@click.option("--verbose", "-v", count=True)
@click.pass_context
def cli(ctx, verbose):
    """Fruit tool."""
    ctx.obj = {"verbose": verbose}


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--count", default=1, type=click.IntRange(1, 5))
@click.option("--color", type=click.Choice(["red", "green"]), default="red")
@click.pass_obj
def add(obj, names, count, color):
    """Add fruit."""
    for name in names:
        click.echo(f"{count} {color} {name} (v={obj['verbose']})")


@cli.command()
@click.option("--name", prompt="Your name")
@click.confirmation_option(prompt="Sure?")
def greet(name):
    click.secho(f"Hello {name}", bold=True)


runner = CliRunner()
for args, stdin in ((["-vv", "add", "apple", "pear", "--count", "3"], None),
                    (["add", "--color", "blue", "x"], None),
                    (["add", "--count", "9", "x"], None),
                    (["greet"], "kiln\ny\n"),
                    (["--help"], None),
                    (["add", "--help"], None)):
    r = runner.invoke(cli, args, input=stdin, color=False)
    print(args, r.exit_code)
    print(r.output, end="")
print(click.style("styled", fg="green"))
import importlib.metadata
print(importlib.metadata.version("click"))
