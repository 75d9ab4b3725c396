"""Restore planning: Velero's order, filters on restore, namespace mapping, claims without their volume."""

from __future__ import annotations

import json

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.backup.archive import VerifiedArchive, member_name_for
from ansible_collections.gpve.cluster.plugins.module_utils.backup.filters import Filters
from ansible_collections.gpve.cluster.plugins.module_utils.backup.planner import RESTORED_LABEL, plan_restore, priority

pytestmark = pytest.mark.backup

TYPES = {
    "deployments.apps": ("apps", "v1", "deployments", "Deployment", True),
    "configmaps": ("", "v1", "configmaps", "ConfigMap", True),
    "customresourcedefinitions.apiextensions.k8s.io": (
        "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False),
    "namespaces": ("", "v1", "namespaces", "Namespace", False),
    "persistentvolumeclaims": ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True),
    "persistentvolumes": ("", "v1", "persistentvolumes", "PersistentVolume", False),
    "pods": ("", "v1", "pods", "Pod", True),
    "serviceaccounts": ("", "v1", "serviceaccounts", "ServiceAccount", True),
    "secrets": ("", "v1", "secrets", "Secret", True),
    "rolebindings.rbac.authorization.k8s.io": ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
    "widgets.example.com": ("example.com", "v1", "widgets", "Widget", True),
    "storageclasses.storage.k8s.io": ("storage.k8s.io", "v1", "storageclasses", "StorageClass", False),
    "limitranges": ("", "v1", "limitranges", "LimitRange", True),
    "replicasets.apps": ("apps", "v1", "replicasets", "ReplicaSet", True),
    "services": ("", "v1", "services", "Service", True),
}


def _archive(objects_by_type):
    """A VerifiedArchive holding the given objects: {(qualified, namespace): [objects]}."""
    resources, members = [], {}
    for (qualified, namespace), objects in objects_by_type.items():
        group, version, resource, kind, namespaced = TYPES[qualified]
        name = member_name_for(group, version, resource, namespace)
        members[name] = json.dumps(objects).encode()
        resources.append({"group": group, "version": version, "resource": resource, "kind": kind,
                          "namespaced": namespaced, "namespace": namespace, "member": name, "count": len(objects),
                          "sealed": False})
    return VerifiedArchive(manifest={"backup_id": "b1", "resources": resources}, members=members)


def _obj(kind, name, namespace=None, **fields):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return dict({"kind": kind, "metadata": metadata}, **fields)


def test_velero_priorities_come_first_then_the_rest_alphabetically():
    qualified = list(TYPES)
    ordered = sorted(qualified, key=priority)
    assert ordered == ["customresourcedefinitions.apiextensions.k8s.io", "namespaces", "storageclasses.storage.k8s.io",
                       "persistentvolumes", "persistentvolumeclaims", "secrets", "configmaps", "serviceaccounts",
                       "limitranges", "pods", "replicasets.apps", "deployments.apps",
                       "rolebindings.rbac.authorization.k8s.io", "services", "widgets.example.com"]


def test_plan_orders_steps_and_labels_objects_with_the_backup():
    archive = _archive({
        ("widgets.example.com", "app"): [_obj("Widget", "w", "app")],
        ("deployments.apps", "app"): [_obj("Deployment", "d", "app")],
        ("customresourcedefinitions.apiextensions.k8s.io", None): [_obj("CustomResourceDefinition", "widgets.example.com")],
        ("namespaces", None): [_obj("Namespace", "app")],
        ("configmaps", "app"): [_obj("ConfigMap", "c", "app")],
    })
    plan = plan_restore(archive, Filters())
    assert [step.rtype.qualified for step in plan.steps] == [
        "customresourcedefinitions.apiextensions.k8s.io", "namespaces", "configmaps", "deployments.apps",
        "widgets.example.com"]
    assert plan.namespaces == ["app"]
    assert all(obj["metadata"]["labels"][RESTORED_LABEL] == "b1" for step in plan.steps for obj in step.objects)


def test_namespace_mapping_moves_objects_namespaces_claim_refs_and_subjects():
    archive = _archive({
        ("namespaces", None): [_obj("Namespace", "old")],
        ("configmaps", "old"): [_obj("ConfigMap", "c", "old")],
        ("persistentvolumes", None): [_obj("PersistentVolume", "pv1", spec={"claimRef": {"namespace": "old", "name": "data"}})],
        ("rolebindings.rbac.authorization.k8s.io", "old"): [_obj("RoleBinding", "rb", "old", subjects=[
            {"kind": "ServiceAccount", "name": "app", "namespace": "old"}, {"kind": "User", "name": "jane"}])],
    })
    plan = plan_restore(archive, Filters(), namespace_mapping={"old": "new"})
    objects = {step.rtype.qualified: step.objects[0] for step in plan.steps}
    assert objects["namespaces"]["metadata"]["name"] == "new"
    assert objects["configmaps"]["metadata"]["namespace"] == "new"
    assert objects["persistentvolumes"]["spec"]["claimRef"]["namespace"] == "new"
    assert objects["rolebindings.rbac.authorization.k8s.io"]["subjects"][0]["namespace"] == "new"
    assert plan.namespaces == ["new"]


def test_restore_filters_apply_to_backed_up_namespaces_and_resources():
    archive = _archive({
        ("configmaps", "a"): [_obj("ConfigMap", "c", "a")],
        ("configmaps", "b"): [_obj("ConfigMap", "c", "b")],
        ("secrets", "a"): [_obj("Secret", "s", "a")],
    })
    plan = plan_restore(archive, Filters(include_namespaces=["a"], exclude_resources=["secrets"]))
    assert plan.counts() == {"configmaps": 1}
    assert plan.namespaces == ["a"]


def test_a_claim_keeps_its_volume_only_when_the_volume_is_restored_too():
    claim = _obj("PersistentVolumeClaim", "data", "app", spec={"volumeName": "pv1"})
    alone = plan_restore(_archive({("persistentvolumeclaims", "app"): [claim]}), Filters())
    assert "volumeName" not in alone.steps[0].objects[0]["spec"]
    together = plan_restore(_archive({("persistentvolumeclaims", "app"): [claim],
                                      ("persistentvolumes", None): [_obj("PersistentVolume", "pv1", spec={})]}), Filters())
    claims = [step for step in together.steps if step.rtype.qualified == "persistentvolumeclaims"][0]
    assert claims.objects[0]["spec"]["volumeName"] == "pv1"
