"""Fixtures of the inventory tests: a seeded registry and an inventory file pointing at it."""

from __future__ import annotations

import pytest

from tests.as_a_user.seed import seed_three_types


@pytest.fixture
def registry_path(tmp_path):
    return tmp_path / "registry" / "registry.db"


@pytest.fixture
def seeded(registry_path):
    """{cluster name: id} of the three-type registry."""
    return seed_three_types(str(registry_path))


@pytest.fixture
def inventory_file(tmp_path, registry_path, seeded):
    """Write a gpve.yml with extra options (YAML text) after plugin and registry; returns its path."""

    def write(extra="", name="gpve.yml"):
        path = tmp_path / name
        path.write_text(f"plugin: gpve.cluster.gpve\nregistry: {registry_path}\n{extra}")
        return path

    return write
