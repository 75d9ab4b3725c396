"""The k3s project's model on the testbed: workload A, back up, create B, delete A, restore: A is back."""

from __future__ import annotations

import base64
import json

import pytest
from backup_support import Workload, archive_members, archive_path, local_storage, request

from ansible_collections.gpve.cluster.plugins.module_utils.backup.planner import RESTORED_LABEL

pytestmark = pytest.mark.backup


def _spec(obj, kind):
    """What 'the same object' means per kind: its spec, or its data for ConfigMaps and Secrets."""
    if kind in ("config", "secret"):
        return json.dumps(obj.get("data"), sort_keys=True)
    return json.dumps(obj["spec"], sort_keys=True)


def test_workload_comes_back_byte_equal_and_b_stays_untouched(service, registered, kube_client, namespaces,
                                                              crd_groups, backup_dir):
    _store, cluster = registered
    namespace = namespaces("roundtrip")
    workload_a = Workload(kube_client, namespace, "a", crd_groups()).create()
    before = workload_a.read()

    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace],
                                storage=local_storage(backup_dir)))
    assert taken["backup"]["status"] == "Completed"
    assert taken["counts"]["secrets"] == 1 and taken["counts"]["configmaps"] == 1
    assert taken["counts"][f"widgets.{workload_a.group}"] == 1
    assert taken["counts"]["customresourcedefinitions.apiextensions.k8s.io"] == 1

    workload_b = Workload(kube_client, namespace, "b", crd_groups()).create()
    b_before = workload_b.read()
    workload_a.delete()

    restored = service.run(request(state="restored", backup_id=taken["backup"]["id"], storage=local_storage(backup_dir)))

    after = workload_a.read()
    for kind, obj in before.items():
        assert after[kind] is not None, f"{kind} of A was not restored"
        assert _spec(after[kind], kind) == _spec(obj, kind), kind
    b_after = workload_b.read()
    for kind, obj in b_before.items():
        assert _spec(b_after[kind], kind) == _spec(obj, kind), f"B's {kind} changed"
        assert RESTORED_LABEL not in (b_after[kind]["metadata"].get("labels") or {})
        if kind == "deploy":  # its controllers keep writing status; the spec's generation tells a write to the spec
            assert b_after[kind]["metadata"]["generation"] == obj["metadata"]["generation"]
        else:
            assert b_after[kind]["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"], f"B's {kind} written"
    assert after["config"]["metadata"]["labels"][RESTORED_LABEL] == taken["backup"]["id"]
    report = restored["restore"]["resources"]
    assert report["deployments.apps"]["created"] == 1
    assert report[f"widgets.{workload_a.group}"]["created"] == 1
    assert report["customresourcedefinitions.apiextensions.k8s.io"]["created"] == 1
    assert restored["restore"]["totals"]["failed"] == 0, restored["restore"]["failures"]
    assert restored["changed"] is True


def test_secret_plaintext_never_appears_in_the_archive(service, registered, kube_client, namespaces, crd_groups,
                                                       backup_dir):
    _store, cluster = registered
    namespace = namespaces("sealed")
    workload = Workload(kube_client, namespace, "s", crd_groups()).create()
    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace],
                                storage=local_storage(backup_dir)))
    members = archive_members(archive_path(taken["backup"]))
    plaintext = workload.secret_value.encode()
    encoded = base64.b64encode(plaintext)
    for name, data in members.items():
        assert plaintext not in data and encoded not in data, f"the secret's value shows in {name}"
    sealed = [name for name in members if name.startswith("resources/core/v1/secrets/")]
    assert sealed == [f"resources/core/v1/secrets/{namespace}.json.sealed"]
    # Other members stay readable JSON: the configmap is there in clear.
    configmaps = json.loads(members[f"resources/core/v1/configmaps/{namespace}.json"])
    assert [item["metadata"]["name"] for item in configmaps] == ["s-config"]


def test_restore_is_non_destructive_by_default_and_update_brings_back_the_backup(
        service, registered, kube_client, namespaces, backup_dir):
    from kubernetes import client

    _store, cluster = registered
    namespace = namespaces("policy")
    core = client.CoreV1Api(kube_client)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "settings"}, "data": {"level": "1"}})
    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace],
                                storage=local_storage(backup_dir)))
    core.patch_namespaced_config_map("settings", namespace, {"data": {"level": "2"}})

    kept = service.run(request(state="restored", backup_id=taken["backup"]["id"], include_resources=["configmaps"],
                               storage=local_storage(backup_dir)))
    assert kept["restore"]["resources"]["configmaps"]["skipped"] == 1
    assert kept["changed"] is False
    assert core.read_namespaced_config_map("settings", namespace).data == {"level": "2"}

    updated = service.run(request(state="restored", backup_id=taken["backup"]["id"], include_resources=["configmaps"],
                                  existing_resource_policy="update", storage=local_storage(backup_dir)))
    assert updated["restore"]["resources"]["configmaps"]["updated"] == 1
    assert core.read_namespaced_config_map("settings", namespace).data == {"level": "1"}


def test_check_mode_with_update_policy_tells_changed_from_unchanged(
        service, registered, kube_client, namespaces, backup_dir):
    from kubernetes import client

    _store, cluster = registered
    namespace = namespaces("predict")
    core = client.CoreV1Api(kube_client)
    for name in ("same", "edited"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}, "data": {"v": "1"}})
    taken = service.run(request(cluster=cluster.name, type="resources", include_namespaces=[namespace],
                                include_resources=["configmaps"], storage=local_storage(backup_dir)))
    service.run(request(state="restored", backup_id=taken["backup"]["id"], existing_resource_policy="update",
                        storage=local_storage(backup_dir)))  # both now carry the restore label
    core.patch_namespaced_config_map("edited", namespace, {"data": {"v": "2"}})
    predicted = service.run(request(state="restored", backup_id=taken["backup"]["id"], check_mode=True,
                                    existing_resource_policy="update", storage=local_storage(backup_dir)))
    assert predicted["restore"]["resources"]["configmaps"] == {"created": 0, "skipped": 1, "updated": 1, "failed": 0}
    assert core.read_namespaced_config_map("edited", namespace).data == {"v": "2"}
