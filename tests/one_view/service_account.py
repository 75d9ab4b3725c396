"""A ServiceAccount on the testbed with read access to nodes, pods and namespaces, and its token."""

from __future__ import annotations

import base64
import uuid

from kubernetes import client

from tests.testbed.processes import wait_until


def reader_token(kube_client):
    """(token, cleanup) of a new ServiceAccount bound to a ClusterRole that may list nodes, pods and namespaces.

    Kubernetes 1.20's token controller creates the account's token Secret by itself."""
    core, rbac = client.CoreV1Api(kube_client), client.RbacAuthorizationV1Api(kube_client)
    name = f"gpve-reader-{uuid.uuid4().hex[:8]}"
    namespace = "default"
    core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": [
        {"apiGroups": [""], "resources": ["nodes", "pods", "namespaces"], "verbs": ["get", "list"]}]})
    rbac.create_cluster_role_binding({"metadata": {"name": name},
                                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                                      "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
    wait_until(lambda: core.read_namespaced_service_account(name, namespace).secrets, 60, f"token secret of {name}")
    secret_name = core.read_namespaced_service_account(name, namespace).secrets[0].name
    token = base64.b64decode(core.read_namespaced_secret(secret_name, namespace).data["token"]).decode()

    def cleanup():
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)
        core.delete_namespaced_service_account(name, namespace)

    return token, cleanup
