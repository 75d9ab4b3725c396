"""A ServiceAccount on the testbed with read access to nodes, pods and namespaces, and its token."""

from __future__ import annotations

import uuid

from kubernetes import client

from tests.testbed.kube import service_account_token


def reader_token(kube_client):
    """(token, cleanup) of a new ServiceAccount bound to a ClusterRole that may list nodes, pods and namespaces.

    The token is a bound one from TokenRequest (one hour), as kubectl create token gives it."""
    core, rbac = client.CoreV1Api(kube_client), client.RbacAuthorizationV1Api(kube_client)
    name = f"gpve-reader-{uuid.uuid4().hex[:8]}"
    namespace = "default"
    core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": [
        {"apiGroups": [""], "resources": ["nodes", "pods", "namespaces"], "verbs": ["get", "list"]}]})
    rbac.create_cluster_role_binding({"metadata": {"name": name},
                                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                                      "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
    token = service_account_token(kube_client, namespace, name)

    def cleanup():
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)
        core.delete_namespaced_service_account(name, namespace)

    return token, cleanup
