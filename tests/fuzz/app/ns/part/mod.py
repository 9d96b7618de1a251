# A module of the namespace package ns.part (no __init__.py above it).
VALUE = "namespace"
