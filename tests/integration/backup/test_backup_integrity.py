"""A damaged archive is refused before anything is written to the cluster."""

from __future__ import annotations

import os

import pytest
from backup_support import archive_path, flip_byte, local_storage, request
from kubernetes import client

from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import ArchiveCorrupt

pytestmark = pytest.mark.backup


@pytest.mark.parametrize("where", ["middle", "gzip header"])
def test_one_flipped_byte_is_refused_and_nothing_is_restored(service, registered, kube_client, namespaces, backup_dir,
                                                             where):
    _store, cluster = registered
    namespace = namespaces("flip")
    core = client.CoreV1Api(kube_client)
    for name in ("one", "two"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}, "data": {"n": name}})
    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace],
                                storage=local_storage(backup_dir)))
    for name in ("one", "two"):
        core.delete_namespaced_config_map(name, namespace)
    path = archive_path(taken["backup"])
    flip_byte(path, os.path.getsize(path) // 2 if where == "middle" else 4)

    with pytest.raises(ArchiveCorrupt):
        service.run(request(state="restored", backup_id=taken["backup"]["id"], storage=local_storage(backup_dir)))
    assert [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items
            if cm.metadata.name in ("one", "two")] == []


def test_the_module_reports_the_damage(module, registered, kube_client, namespaces, backup_dir):
    _store, cluster = registered
    namespace = namespaces("flipmod")
    client.CoreV1Api(kube_client).create_namespaced_config_map(namespace, {"metadata": {"name": "c"}, "data": {"a": "b"}})
    storage = {"type": "local", "path": str(backup_dir)}
    taken = module.run(cluster=cluster.name, type="resources", include_namespaces=[namespace], storage=storage)
    path = archive_path(taken["backup"])
    flip_byte(path, os.path.getsize(path) - 10)
    failed = module.run(state="restored", backup_id=taken["backup"]["id"], storage=storage)
    assert failed["failed"] is True and failed["error_type"] == "ArchiveCorrupt"
    assert "nothing was restored" in failed["msg"]
