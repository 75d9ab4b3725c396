"""Schema migrations: a database left by schema version 1 is migrated in place, data kept."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import psycopg
import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import crypto, lifecycle, registry
from ansible_collections.gpve.cluster.plugins.module_utils.registry import schema
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import SchemaTooNew

pytestmark = pytest.mark.registry

DATA = Path(__file__).with_name("data")
V1_KEY = "dGVzdC1rZXktZm9yLXRoZS12MS1maXh0dXJlLW9ubHk="  # seals the fixture's credentials; a test key only
C1, C2, C3 = ("c1" + "0" * 30), ("c2" + "0" * 30), ("c3" + "0" * 30)
UTC = datetime.timezone.utc


def load_v1(backend, location):
    script = (DATA / f"registry_v1.{backend}.sql").read_text()
    if backend == "sqlite":
        Path(location).parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(location) as conn:
            conn.executescript(script)
        conn.close()
    else:
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute(script)


def structure(backend, location):
    """{table: sorted columns} and the set of index names, from the database's catalog."""
    if backend == "sqlite":
        conn = sqlite3.connect(location)
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        columns = {table: sorted(row[1] for row in conn.execute(f"PRAGMA table_info({table})")) for table in tables}
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        conn.close()
        return columns, indexes
    with psycopg.connect(location) as conn:
        columns = {}
        for table, column in conn.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"):
            columns.setdefault(table, []).append(column)
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    return {table: sorted(names) for table, names in columns.items()}, indexes


def _template_names(backend, location):
    query = ("SELECT name FROM vm_templates", "SELECT name FROM cluster_templates")
    if backend == "sqlite":
        conn = sqlite3.connect(location)
        names = tuple({row[0] for row in conn.execute(sql)} for sql in query)
        conn.close()
        return names
    with psycopg.connect(location) as conn:
        return tuple({row[0] for row in conn.execute(sql)} for sql in query)


@pytest.fixture
def v1_store(backend, location, open_store):
    load_v1(backend, location)
    return open_store(encryption_key=V1_KEY)


def test_v1_database_is_migrated_in_place_with_its_data(backend, location, v1_store):
    assert v1_store.schema_version() == schema.LATEST_VERSION == 3
    vm = v1_store.get_cluster_by_name("legacy-vm")
    assert (vm.id, vm.type, vm.provider, vm.labels, vm.annotations) == (C1, "k8s-vm", "proxmox", {"env": "prod"}, {"owner": "ops"})
    assert vm.spec == {"distribution": "k3s", "kubernetes_version": "1.28.4", "control_plane": {"count": 3},
                       "workers": [{"count": 2, "name": "general"}], "proxmox": {"node": "pve1"}}
    assert vm.updated_at == datetime.datetime(2025, 3, 1, 12, tzinfo=UTC)
    assert (vm.status.phase, vm.status.version, vm.status.ready_nodes, vm.status.conditions) == (
        "Running", "v1.28.4+k3s1", 3, [{"type": "Ready", "status": "True"}])
    assert [(n.name, n.ip_address, n.vmid, n.resource_version) for n in v1_store.list_nodes(C1)] == [
        ("cp-1", "10.0.0.11", "201", 1), ("w-1", "10.0.0.12", "202", 1), ("w-2", "10.0.0.13", "203", 1)]
    assert [e.reason for e in v1_store.list_events(C1)] == ["Ready", "Created"]
    assert v1_store.get_cluster_by_name("legacy-ext").spec == {"endpoint": "https://10.9.0.1:6443", "connection_config": {"timeout": 10}}
    assert v1_store.get_cluster(C3, include_deleted=True).status.phase == "Deleted"
    backup = v1_store.list_backups(cluster_id=C1)[0]
    assert (backup.size_bytes, backup.metadata, backup.resource_version) == (123456789, {"snapshot": "etcd-1"}, 1)
    # The v1 template tables are kept (migrations never drop data) but no code reads them any more: their rows
    # survive, as a raw read shows.
    assert _template_names(backend, location) == ({"ubuntu-22.04-k8s"}, {"small"})


def test_v1_credentials_keep_the_newest_per_type_with_their_key_id(v1_store):
    credentials = v1_store.list_credentials()
    assert [(c.cluster_id, c.type) for c in credentials] == [(C1, "kubeconfig"), (C2, "token")]
    assert {c.key_id for c in credentials} == {crypto.key_id_of(crypto.parse_key(V1_KEY, "test"))}
    assert v1_store.get_credential(C1, "kubeconfig").text == "kubeconfig-v2"
    assert v1_store.get_credential(C2, "token").text == "token-of-legacy-ext"


def test_migrated_rows_take_part_in_compare_and_swap_and_name_reuse(v1_store):
    updated = v1_store.update_cluster(C1, 1, labels={"env": "staging"})
    assert updated.resource_version == 2
    reused = v1_store.create_cluster("legacy-gone", "vcluster", spec={"kubernetes_version": "1.30.0", "isolation_mode": "namespace"})
    assert reused.id != C3
    lifecycle.transition(v1_store, C1, "Upgrading", "UpgradeRequested")
    assert [e.action for e in v1_store.list_audit()] == ["transition", "create", "update"]


def test_migrated_schema_matches_a_new_database(backend, location, v1_store, tmp_path, request):
    assert v1_store.schema_version() == schema.LATEST_VERSION  # the store connects (and migrates) lazily
    fresh_location = str(tmp_path / "fresh" / "registry.db") if backend == "sqlite" else request.getfixturevalue("pg_database")
    if fresh_location == location:  # pg_database is per test: make a second one
        from tests.testbed.postgres import create_database, drop_database
        admin = request.getfixturevalue("pg_dsn")
        fresh_location = create_database(admin)
        request.addfinalizer(lambda: drop_database(admin, fresh_location))
    fresh = registry.open_registry(fresh_location, encryption_key=V1_KEY, environ={})
    fresh.schema_version()
    fresh.close()
    assert structure(backend, location) == structure(backend, fresh_location)


def test_a_newer_schema_is_refused(backend, location, open_store):
    open_store().schema_version()
    if backend == "sqlite":
        with sqlite3.connect(location) as conn:
            conn.execute("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', '2099-01-01')")
        conn.close()
    else:
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("INSERT INTO schema_version (version, description) VALUES (99, 'future')")
    with pytest.raises(SchemaTooNew) as caught:
        open_store().schema_version()
    assert caught.value.found == 99
