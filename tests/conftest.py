"""Shared pytest wiring: each testbed component brings its own fixtures module."""

pytest_plugins = [
    "tests.testbed.postgres",
    "tests.testbed.fixtures",
]
