"""Resource and namespace filters, and what a backup strips or leaves out."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.backup import sanitize
from ansible_collections.gpve.cluster.plugins.module_utils.backup.discovery import Discovery, ResourceType
from ansible_collections.gpve.cluster.plugins.module_utils.backup.filters import Filters

pytestmark = pytest.mark.backup

CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True, ("list", "create"))
DEPLOYMENTS = ResourceType("apps", "v1", "deployments", "Deployment", True, ("list", "create"))
EVENTS = ResourceType("", "v1", "events", "Event", True, ("list", "create"))


def test_namespaces_by_name_and_glob_exclusion_wins_system_namespaces_need_asking():
    filters = Filters(include_namespaces=["team-*", "kube-system"], exclude_namespaces=["team-b"])
    assert filters.namespace_included("team-a")
    assert not filters.namespace_included("team-b")
    assert filters.namespace_included("kube-system")
    assert not filters.namespace_included("default")
    everything = Filters()
    assert everything.namespace_included("default") and not everything.namespace_included("kube-system")
    assert Filters(include_system_namespaces=True).namespace_included("kube-public")


def test_resources_by_plural_qualified_or_kind_and_rebuilt_ones_only_by_name():
    assert Filters(include_resources=["Deployment"]).resource_included(DEPLOYMENTS)
    assert Filters(include_resources=["deployments.apps"]).resource_included(DEPLOYMENTS)
    assert not Filters(include_resources=["configmaps"]).resource_included(DEPLOYMENTS)
    assert not Filters(exclude_resources=["ConfigMap"]).resource_included(CONFIGMAPS)
    assert not Filters().resource_included(EVENTS)
    assert Filters(include_resources=["events"]).resource_included(EVENTS)


def test_cluster_resources_follow_the_namespace_scope_unless_told():
    assert Filters().all_cluster_resources() is True
    assert Filters(include_namespaces=["a"]).all_cluster_resources() is False
    assert Filters(include_namespaces=["a"], include_cluster_resources=True).all_cluster_resources() is True
    assert Filters(include_cluster_resources=False).all_cluster_resources() is False


def test_legacy_extensions_duplicates_are_dropped_and_unlistable_kinds_too():
    modern = ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("list", "create"))
    legacy = ResourceType("extensions", "v1beta1", "ingresses", "Ingress", True, ("list", "create"))
    review = ResourceType("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False, ("create",))
    assert Discovery(types=[legacy, modern, review], unavailable=[]).backupable() == [modern]


def test_clean_strips_server_fields_owner_references_and_status():
    obj = {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "uid": "u", "resourceVersion": "5",
                                             "creationTimestamp": "t", "managedFields": [], "labels": {"a": "b"},
                                             "ownerReferences": [{"kind": "X", "name": "y", "uid": "z"}]},
           "data": {"k": "v"}, "status": {}}
    assert sanitize.clean(obj) == {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "labels": {"a": "b"}},
                                   "data": {"k": "v"}}


def test_clean_pod_drops_node_and_token_volume():
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "nodeName": "node-1", "serviceAccountName": "app",
        "volumes": [{"name": "app-token-x1", "secret": {"secretName": "app-token-x1"}}, {"name": "data", "emptyDir": {}}],
        "containers": [{"name": "c", "volumeMounts": [{"name": "app-token-x1", "mountPath": "/var/run"},
                                                      {"name": "data", "mountPath": "/data"}]}]}}
    spec = sanitize.clean(pod)["spec"]
    assert "nodeName" not in spec
    assert [volume["name"] for volume in spec["volumes"]] == ["data"]
    assert [mount["name"] for mount in spec["containers"][0]["volumeMounts"]] == ["data"]


def test_rebuilt_objects_are_named_with_the_reason():
    owned = {"kind": "ReplicaSet", "metadata": {"name": "r", "ownerReferences": [{"kind": "Deployment", "name": "d",
                                                                                  "controller": True}]}}
    token = {"kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {"name": "t"}}
    endpoints = {"kind": "Endpoints", "metadata": {"name": "web", "namespace": "n"}}
    plain = {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}
    assert "Deployment d" in sanitize.rebuilt_reason(owned)
    assert sanitize.rebuilt_reason(token)
    assert sanitize.rebuilt_reason(endpoints, frozenset({("n", "web")}))
    assert sanitize.rebuilt_reason(endpoints) is None
    assert sanitize.rebuilt_reason(plain) is None


def test_service_allocations_are_dropped_only_on_retry():
    service = {"kind": "Service", "metadata": {"name": "s"},
               "spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"], "ports": [{"port": 80, "nodePort": 30080}]}}
    assert sanitize.clean(service)["spec"]["clusterIP"] == "10.96.0.20"
    stripped = sanitize.strip_allocations(service)["spec"]
    assert "clusterIP" not in stripped and "clusterIPs" not in stripped and "nodePort" not in stripped["ports"][0]
    headless = dict(service, spec={"clusterIP": "None", "ports": []})
    assert sanitize.strip_allocations(headless)["spec"]["clusterIP"] == "None"
