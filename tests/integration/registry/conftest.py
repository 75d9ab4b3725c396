"""Fixtures of the registry suite: every test that takes ``store`` runs on both backends."""

from __future__ import annotations

import pytest
from registry_helpers import new_key

from ansible_collections.gpve.cluster.plugins.module_utils import registry


@pytest.fixture
def encryption_key() -> str:
    return new_key()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def location(backend, tmp_path, request) -> str:
    """A fresh, empty registry location of the parametrized backend."""
    if backend == "sqlite":
        return str(tmp_path / "registry" / "registry.db")
    return request.getfixturevalue("pg_database")


@pytest.fixture
def open_store(location, encryption_key):
    """Open stores on the test's location (default: the test key, actor 'tester'); all closed afterwards."""
    opened = []

    def _open(**overrides):
        where = overrides.pop("location", location)
        options = {"encryption_key": encryption_key, "actor": "tester", "environ": {}}
        options.update(overrides)
        store = registry.open_registry(where, **options)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store):
    return open_store()
