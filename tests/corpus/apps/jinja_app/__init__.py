"""The jinja2 smoke app's templates, as a package (templates/) that
jinja2's PackageLoader reads; jinja2_app.py imports it, so kiln collects
it with its package data."""
from jinja2 import Environment, PackageLoader, select_autoescape


def environment():
    return Environment(loader=PackageLoader("jinja_app", "templates"),
                       autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)
