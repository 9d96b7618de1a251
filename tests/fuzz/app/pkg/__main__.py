# What `python -m pkg` runs.
from pkg import greet

print(greet())
