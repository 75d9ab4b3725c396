# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read, apply and delete the kinds gpve manages, as plain dicts.

A fixed table of kinds instead of API discovery: gpve knows what it writes, and a module
run saves the dozens of discovery requests. Writes are server-side apply with one field
manager, so fields gpve stops setting are removed and fields others own are left alone;
``dry_run`` sends the same request with ``dryRun=All``, which is how check mode and diff
mode see the object exactly as the server would store it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import (
    KubeApiError, KubeConnectionError, retry_after_seconds)

FIELD_MANAGER = "gpve"
DEFAULT_TIMEOUT = 30
NOT_FOUND = 404


@dataclass(frozen=True)
class Kind:
    """Where a kind lives in the API."""

    kind: str
    api_version: str
    plural: str
    namespaced: bool

    def path(self, namespace=None, name=None):
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        return f"{base}/{quote(name, safe='')}" if name else base


KINDS = {kind.kind: kind for kind in (
    Kind("Namespace", "v1", "namespaces", False),
    Kind("Node", "v1", "nodes", False),
    Kind("ServiceAccount", "v1", "serviceaccounts", True),
    Kind("Secret", "v1", "secrets", True),
    Kind("ConfigMap", "v1", "configmaps", True),
    Kind("Service", "v1", "services", True),
    Kind("PersistentVolumeClaim", "v1", "persistentvolumeclaims", True),
    Kind("Pod", "v1", "pods", True),
    Kind("ResourceQuota", "v1", "resourcequotas", True),
    Kind("LimitRange", "v1", "limitranges", True),
    Kind("Event", "v1", "events", True),
    Kind("StatefulSet", "apps/v1", "statefulsets", True),
    Kind("Deployment", "apps/v1", "deployments", True),
    Kind("Role", "rbac.authorization.k8s.io/v1", "roles", True),
    Kind("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", True),
    Kind("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", False),
    Kind("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    Kind("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", True),
    Kind("Ingress", "networking.k8s.io/v1", "ingresses", True),
    Kind("ServiceCIDR", "networking.k8s.io/v1", "servicecidrs", False),
    Kind("RuntimeClass", "node.k8s.io/v1", "runtimeclasses", False),
    Kind("StorageClass", "storage.k8s.io/v1", "storageclasses", False),
)}


def kind_of(kind):
    try:
        return KINDS[kind]
    except KeyError:
        raise KeyError(f"kind {kind!r} is not one gpve manages") from None


def describe(kind, name, namespace=None):
    """How errors and results name an object: Kind namespace/name."""
    return f"{kind} {namespace}/{name}" if namespace and kind_of(kind).namespaced else f"{kind} {name}"


def describe_object(obj):
    metadata = obj.get("metadata") or {}
    return describe(obj["kind"], metadata.get("name"), metadata.get("namespace"))


class Resources:
    """The kinds of KINDS on one API server, over a kube/connect.py connection."""

    def __init__(self, connection, field_manager=FIELD_MANAGER, timeout=DEFAULT_TIMEOUT):
        self.connection = connection
        self.field_manager = field_manager
        self.timeout = timeout

    def get(self, kind, name, namespace=None):
        """The live object, or None when it does not exist."""
        try:
            return self._call("GET", kind_of(kind).path(namespace, name), describe(kind, name, namespace))
        except KubeApiError as error:
            if error.status == NOT_FOUND:
                return None
            raise

    def list(self, kind, namespace=None, label_selector=None):
        query = [("labelSelector", label_selector)] if label_selector else []
        found = self._call("GET", kind_of(kind).path(namespace), f"list {kind}", query)
        return found.get("items") or []

    def apply(self, obj, dry_run=False):
        """Server-side apply obj (a full desired object); returns the object as stored (or as it would be)."""
        metadata = obj["metadata"]
        kind = kind_of(obj["kind"])
        query = [("fieldManager", self.field_manager), ("force", "true")]
        if dry_run:
            query.append(("dryRun", "All"))
        return self._call("PATCH", kind.path(metadata.get("namespace"), metadata["name"]), describe_object(obj),
                          query, body=obj, content_type="application/apply-patch+yaml")

    def delete(self, kind, name, namespace=None, dry_run=False, propagation="Background"):
        """Delete the object; False when it was already gone."""
        query = [("propagationPolicy", propagation)] + ([("dryRun", "All")] if dry_run else [])
        try:
            self._call("DELETE", kind_of(kind).path(namespace, name), describe(kind, name, namespace), query)
        except KubeApiError as error:
            if error.status == NOT_FOUND:
                return False
            raise
        return True

    def create(self, obj):
        """POST obj as is: a plain create, for when apply's semantics are not wanted (probes, events)."""
        metadata = obj["metadata"]
        kind = kind_of(obj["kind"])
        return self._call("POST", kind.path(metadata.get("namespace")), describe_object(obj), body=obj,
                          content_type="application/json")

    def _call(self, method, path, what, query=None, body=None, content_type="application/json"):
        return call_json(self.connection, method, path, what, query, body, content_type, self.timeout)


def call_json(connection, method, path, what, query=None, body=None, content_type="application/json", timeout=None):
    """One JSON request on path over a kube/connect.py connection (which follows kube/retry.py); API errors become
    KubeApiError, network errors KubeConnectionError."""
    payload = None if body is None else json.dumps(body)
    try:
        response = connection.request(method, path, query or [], payload, content_type, timeout)
    except KubeConnectionError as exc:
        raise KubeConnectionError(f"{what}: {exc}") from None
    if response.status >= 400:
        raise KubeApiError.from_status(response.status, response.reason, response.data, what,
                                       retry_after_seconds(response.headers))
    return json.loads(response.data) if response.data else {}
