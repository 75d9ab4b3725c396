"""include/exclude filters on namespaces and resources, and namespace mapping on restore."""

from __future__ import annotations

import pytest
from backup_support import archive_members, archive_path, local_storage, request
from kubernetes import client
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.backup


def _fill(core, namespace):
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"ns": namespace}})
    core.create_namespaced_secret(namespace, {"metadata": {"name": "token"}, "stringData": {"t": namespace}})
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})


def test_include_and_exclude_namespaces_and_resources(service, registered, kube_client, namespaces, backup_dir):
    _store, cluster = registered
    core = client.CoreV1Api(kube_client)
    prefix = namespaces("flt", create=False)
    kept, dropped = namespaces(prefix + "-keep"), namespaces(prefix + "-drop")
    for namespace in (kept, dropped):
        _fill(core, namespace)

    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[prefix + "-*"],
                                exclude_namespaces=[dropped], exclude_resources=["secrets", "ServiceAccount"],
                                storage=local_storage(backup_dir)))
    assert taken["namespaces"] == [kept]
    assert taken["counts"] == {"configmaps": 1, "namespaces": 1}
    names = set(archive_members(archive_path(taken["backup"])))
    assert f"resources/core/v1/configmaps/{kept}.json" in names
    assert not any(dropped in name for name in names)
    assert not any("/secrets/" in name or "/serviceaccounts/" in name for name in names)

    only = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[kept],
                               include_resources=["serviceaccounts"], storage=local_storage(backup_dir)))
    # "default" is there too; the namespaces filter still brings the Namespace object along only if asked.
    assert set(only["counts"]) == {"serviceaccounts"} and only["counts"]["serviceaccounts"] >= 1


def test_system_namespaces_stay_out_unless_asked(service, registered, backup_dir):
    _store, cluster = registered
    plain = service.run(request(cluster=cluster.name, type="resources", include_resources=["configmaps"],
                                include_cluster_resources=False, check_mode=True, storage=local_storage(backup_dir)))
    assert "kube-system" not in plain["namespaces"]
    assert plain["backup"] is None and not backup_dir.exists()
    system = service.run(request(cluster=cluster.name, type="resources", include_resources=["configmaps"],
                                 include_system_namespaces=True, include_cluster_resources=False, check_mode=True,
                                 storage=local_storage(backup_dir)))
    assert "kube-system" in system["namespaces"]


def test_namespace_mapping_restores_into_another_namespace_and_leaves_the_source(
        service, registered, kube_client, namespaces, backup_dir):
    _store, cluster = registered
    core = client.CoreV1Api(kube_client)
    source = namespaces("from")
    _fill(core, source)
    target = namespaces("to", create=False)
    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[source],
                                storage=local_storage(backup_dir)))
    before = core.read_namespaced_config_map("settings", source).metadata.resource_version

    restored = service.run(request(state="restored", backup_id=taken["backup"]["id"],
                                   namespace_mapping={source: target}, storage=local_storage(backup_dir)))
    assert restored["restore"]["namespaces"] == [target]
    assert restored["restore"]["resources"]["namespaces"]["created"] == 1
    assert core.read_namespaced_config_map("settings", target).data == {"ns": source}
    assert core.read_namespaced_secret("token", target).data["t"]
    assert core.read_namespaced_service_account("robot", target).metadata.name == "robot"
    assert core.read_namespaced_config_map("settings", source).metadata.resource_version == before


def test_check_mode_restore_predicts_and_writes_nothing(service, registered, kube_client, namespaces, backup_dir):
    _store, cluster = registered
    core = client.CoreV1Api(kube_client)
    source = namespaces("dry")
    _fill(core, source)
    target = namespaces("dryto", create=False)
    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[source],
                                storage=local_storage(backup_dir)))
    predicted = service.run(request(state="restored", backup_id=taken["backup"]["id"], check_mode=True,
                                    namespace_mapping={source: target}, storage=local_storage(backup_dir)))
    assert predicted["restore"]["resources"]["configmaps"] == {"created": 1, "skipped": 0, "updated": 0, "failed": 0}
    assert predicted["restore"]["planned"]["secrets"] == 1
    with pytest.raises(ApiException) as missing:
        core.read_namespace(target)
    assert missing.value.status == 404
    same = service.run(request(state="restored", backup_id=taken["backup"]["id"], check_mode=True,
                               storage=local_storage(backup_dir)))
    assert same["restore"]["resources"]["configmaps"]["skipped"] == 1
