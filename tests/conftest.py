"""Shared pytest wiring: each testbed component brings its own fixtures module."""

import pytest

pytest_plugins = [
    "tests.testbed.postgres",
    "tests.testbed.fixtures",
]

CAPABILITY_MARKERS = frozenset((
    "registry", "testbed", "k8s_vm", "roles", "vcluster", "inventory", "external", "health", "backup", "bench",
    "ecosystem",
))


def pytest_collection_modifyitems(items):
    """Every test belongs to a capability: a test without its marker would hide from `-m` selections."""
    unmarked = [item.nodeid for item in items if not CAPABILITY_MARKERS.intersection(m.name for m in item.iter_markers())]
    if unmarked:
        raise pytest.UsageError("tests without a capability marker (see pytest.ini): " + ", ".join(unmarked[:10]))
