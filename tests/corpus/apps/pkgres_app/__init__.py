"""Package data for the setuptools smoke app, read back with
pkg_resources' resource API."""
