"""Shared pytest wiring: each testbed component brings its own fixtures module."""

import os

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


@pytest.fixture(autouse=True)
def stdin_stays_blocking():
    """Every test leaves the shared stdin blocking, or the next ansible run refuses to start ("Ansible requires blocking
    IO"): a child given pytest's stdin and killed mid-run (ssh after a timeout) keeps O_NONBLOCK set on it. The test
    that did it fails by name, and stdin is set back so the tests after it are not blamed."""
    yield
    try:
        blocking = os.get_blocking(0)
    except OSError:
        return
    if not blocking:
        os.set_blocking(0, True)
        pytest.fail("stdin was left non-blocking by this test or a fixture torn down before it; "
                    "give the child process that shares it stdin=subprocess.DEVNULL")
