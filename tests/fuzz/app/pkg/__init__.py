"""A package with a data file."""
from importlib.resources import files


def greet():
    return files(__name__).joinpath("greeting.txt").read_text().strip()
