# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching an external cluster, then learning what it runs.

Connectivity comes first and fails with one message that says what went wrong: the server
cannot be reached (refused, timed out, TLS), refused the credentials (401), or accepted
them but forbids listing namespaces (403). Discovery then counts what the API says:
version, nodes and Ready nodes, pods, namespaces (lists read page by page).
"""

from __future__ import annotations

import dataclasses

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.health.checks import node_ready
from ansible_collections.gpve.cluster.plugins.module_utils.kube.api import ClusterApi
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect as kube_connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError, KubeConfigError, KubeConnectionError

UNREACHABLE = "Unreachable"
UNAUTHORIZED = "Unauthorized"
FORBIDDEN = "Forbidden"
BAD_CONFIG = "InvalidCredentials"


class ConnectionFailed(GpveError):
    """The cluster could not be used: ``reason`` is Unreachable, Unauthorized, Forbidden or InvalidCredentials."""

    def __init__(self, reason, message):
        self.reason = reason
        super().__init__(message)


@dataclasses.dataclass
class Discovered:
    version: str
    node_count: int
    ready_nodes: int
    pod_count: int
    namespaces: int

    def as_dict(self):
        return dataclasses.asdict(self)


def connect(config, timeout):
    """A ClusterApi whose credentials the server accepted (it listed a namespace)."""
    server = config["clusters"][0]["cluster"].get("server")
    try:
        client = ClusterApi(kube_connect(kubeconfig=config), timeout=timeout)
    except KubeConfigError as exc:
        raise ConnectionFailed(BAD_CONFIG, f"cannot use the credentials for {server}: {exc}") from None
    try:
        client.get_json("/api/v1/namespaces", {"limit": 1}, what="list namespaces")
    except KubeConnectionError as exc:
        client.close()
        raise ConnectionFailed(UNREACHABLE, str(exc)) from None
    except KubeApiError as exc:
        client.close()
        raise _refused(server, exc) from None
    return client


def _refused(server, exc):
    if exc.status == 401:
        return ConnectionFailed(UNAUTHORIZED, f"the API server at {server} refused the credentials (401 Unauthorized)"
                                              f"{': ' + exc.server_message if exc.server_message else ''}")
    if exc.status == 403:
        return ConnectionFailed(FORBIDDEN, f"the API server at {server} accepted the credentials but forbids listing "
                                           f"namespaces (403 Forbidden): {exc.server_message}")
    return ConnectionFailed(UNREACHABLE, f"the API server at {server} answered {exc.status} {exc.reason}: {exc.server_message}")


def discover(client):
    """Version, node, pod and namespace counts; API errors surface as ConnectionFailed."""
    try:
        version = client.version().get("gitVersion")
        nodes = client.list_items("/api/v1/nodes", what="list nodes")
        pods = client.list_items("/api/v1/pods", what="list pods")
        namespaces = client.list_items("/api/v1/namespaces", what="list namespaces")
    except KubeConnectionError as exc:
        raise ConnectionFailed(UNREACHABLE, str(exc)) from None
    except KubeApiError as exc:
        raise _refused(client.server, exc) from None
    return Discovered(version=version, node_count=len(nodes), ready_nodes=sum(1 for node in nodes if node_ready(node)),
                      pod_count=len(pods), namespaces=len(namespaces))
