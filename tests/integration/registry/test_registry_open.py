"""Choosing and reaching the registry: location resolution, actors, unreachable databases."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from registry_helpers import k8s_spec

from ansible_collections.gpve.cluster.plugins.module_utils import registry
from ansible_collections.gpve.cluster.plugins.module_utils.registry import audit
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import RegistryUnavailable
from ansible_collections.gpve.cluster.plugins.module_utils.registry.postgres_backend import PostgresBackend, redact
from ansible_collections.gpve.cluster.plugins.module_utils.registry.sqlite_backend import SQLiteBackend

pytestmark = pytest.mark.registry


def test_location_comes_from_argument_then_env_then_xdg_then_home(tmp_path, monkeypatch):
    home = str(tmp_path / "home")
    monkeypatch.setenv("HOME", home)
    assert registry.resolve_location("/x/r.db", {"GPVE_REGISTRY": "/y/r.db"}) == "/x/r.db"
    assert registry.resolve_location(None, {"GPVE_REGISTRY": "postgresql://db/gpve"}) == "postgresql://db/gpve"
    assert registry.resolve_location(None, {"XDG_DATA_HOME": "/data"}) == "/data/gpve/registry.db"
    assert registry.resolve_location(None, {}) == f"{home}/.local/share/gpve/registry.db"


def test_default_location_is_created_private_under_xdg_data_home(tmp_path):
    environ = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    with registry.open_registry(environ=environ, actor="t") as store:
        assert isinstance(store._backend, SQLiteBackend)  # pylint: disable=protected-access
        store.create_cluster("here", "k8s-vm", spec=k8s_spec())
    assert oct(Path(tmp_path / "xdg" / "gpve").stat().st_mode & 0o777) == "0o700"
    with registry.open_registry(environ={"GPVE_REGISTRY": str(tmp_path / "xdg" / "gpve" / "registry.db")}) as again:
        assert again.get_cluster_by_name("here").name == "here"


def test_a_dsn_selects_postgresql_and_hides_its_password(pg_database):
    with registry.open_registry(pg_database, environ={}) as store:
        assert isinstance(store._backend, PostgresBackend) and store.dialect == "postgresql"  # pylint: disable=protected-access
        assert store.schema_version() == 3
    assert redact("postgresql://gpve:hunter2@db.example:5432/gpve") == "postgresql://gpve:***@db.example:5432/gpve"


def test_unreachable_postgresql_is_registry_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connection refused
        store = registry.open_registry(f"postgresql://gpve:pw@127.0.0.1:{port}/gpve", environ={})
        with pytest.raises(RegistryUnavailable) as caught:
            store.query_clusters()
    assert "pw" not in str(caught.value) and str(port) in str(caught.value)


def test_unusable_sqlite_path_is_registry_unavailable(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(RegistryUnavailable):
        registry.open_registry(str(blocker / "registry.db"), environ={}).query_clusters()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    garbage.chmod(0o600)
    with pytest.raises(RegistryUnavailable):
        registry.open_registry(str(garbage), environ={}).query_clusters()


@pytest.mark.parametrize("environ, expected", [
    ({"GPVE_ACTOR": "alice via awx", "JOB_ID": "7", "AWX_HOST": "https://awx"}, "alice via awx"),
    ({"JOB_ID": "7", "AWX_HOST": "https://awx.example"}, "awx:job/7@https://awx.example"),
])
def test_actor_from_the_environment(environ, expected):
    assert audit.detect_actor(environ) == expected


def test_actor_falls_back_to_the_local_user():
    assert audit.detect_actor({"JOB_ID": "7"}).endswith("@" + socket.gethostname())
