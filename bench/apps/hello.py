"""Smallest app: print one line."""
print("hello")
