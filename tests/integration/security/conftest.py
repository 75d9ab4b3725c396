"""Fixtures of the hostile-input tables: a sandbox directory whose writes are watched, and a SQLite registry
holding one external cluster named lab."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.integration.security.hostile_support import make_sandbox


@pytest.fixture
def sandbox(tmp_path):
    return make_sandbox(tmp_path)


@pytest.fixture
def registry(tmp_path):
    path = str(tmp_path / "registry.db")
    with open_registry(path, environ={}) as store:
        store.create_cluster("lab", "external", spec={"endpoint": "https://127.0.0.1:6443"})
    return path
