"""Retention pruning over the registry, and the module as Ansible runs it."""

from __future__ import annotations

import datetime
import os

import pytest
from backup_support import archive_path, local_storage, request
from kubernetes import client

pytestmark = pytest.mark.backup


def test_prune_removes_expired_backups_and_their_archives_only(service, registered, namespaces, backup_dir):
    store, cluster = registered
    namespace = namespaces("prune")
    taken = [service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace],
                                 retention_hours=hours, storage=local_storage(backup_dir)))["backup"]
             for hours in (1, 1, 0)]
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    store.update_backup(taken[0]["id"], expires_at=past)  # as if its hour had passed
    assert taken[2]["expires_at"] is None

    dry = service.run(request(state="absent", prune=True, check_mode=True, storage=local_storage(backup_dir)))
    assert [entry["id"] for entry in dry["deleted"]] == [taken[0]["id"]]
    assert os.path.exists(archive_path(taken[0]))

    pruned = service.run(request(state="absent", prune=True, cluster=cluster.name, storage=local_storage(backup_dir)))
    assert [entry["id"] for entry in pruned["deleted"]] == [taken[0]["id"]]
    assert not os.path.exists(archive_path(taken[0]))
    assert {backup.id for backup in store.list_backups(cluster_id=cluster.id)} == {taken[1]["id"], taken[2]["id"]}
    assert os.path.exists(archive_path(taken[1]))
    again = service.run(request(state="absent", prune=True, storage=local_storage(backup_dir)))
    assert again == {"changed": False, "deleted": []}


def test_module_check_mode_then_backup_restore_and_delete(module, registered, kube_client, namespaces, backup_dir):
    _store, cluster = registered
    namespace = namespaces("module")
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    env = {"GPVE_BACKUP_PATH": str(backup_dir)}

    dry = module.run(check_mode=True, env=env, cluster=cluster.name, type="resources", include_namespaces=[namespace])
    assert dry["changed"] is True and dry["backup"] is None and dry["counts"]["configmaps"] == 1
    assert not backup_dir.exists()

    taken = module.run(env=env, cluster=cluster.name, type="resources", include_namespaces=[namespace])
    assert taken["backup"]["status"] == "Completed", taken
    assert taken["location"].startswith(f"file://{backup_dir}/")

    core.delete_namespaced_config_map("c", namespace)
    restored = module.run(env=env, state="restored", backup_id=taken["backup"]["id"])
    assert restored["changed"] is True and restored["restore"]["resources"]["configmaps"]["created"] == 1
    assert core.read_namespaced_config_map("c", namespace).data == {"a": "1"}
    assert module.run(env=env, state="restored", backup_id=taken["backup"]["id"])["changed"] is False

    deleted = module.run(env=env, state="absent", backup_id=taken["backup"]["id"])
    assert deleted["changed"] is True and not os.path.exists(archive_path(taken["backup"]))
    assert module.run(env=env, state="absent", backup_id=taken["backup"]["id"])["changed"] is False


def test_module_refuses_what_it_cannot_do(module, registered):
    _store, cluster = registered
    no_etcd = module.run(cluster=cluster.name, type="etcd")
    assert no_etcd["failed"] is True and no_etcd["field"] == "etcd"
    unknown = module.run(state="restored", backup_id="nope")
    assert unknown["failed"] is True and "not found" in unknown["msg"]
