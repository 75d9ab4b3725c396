# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What gpve reads from the host cluster before and after writing: facts, not changes.

The service range: Kubernetes 1.33 and later publish it as ServiceCIDR objects
(networking.k8s.io/v1; the API server keeps the one named ``kubernetes`` from its
``--service-cluster-ip-range``). Older servers do not publish it: creating a Service with a
cluster IP no range can hold makes their IP allocator refuse it and name the range in its
message, so it is read from there (a dry run skips the allocator, so this is a real request
that the server refuses; nothing is stored). Unknown when neither says.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError, KubeConnectionError, KubeError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import call_json
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import names

RANGE_IN_MESSAGE = re.compile(r"valid IPs is ([0-9a-fA-F.:]+/\d+)")
PROBE_IP = "0.0.0.1"


PROBE_TIMEOUT_S = 5


def require_reachable(resources):
    """Ask the host API server for its version once, with a short timeout: an unreachable or hung host fails the
    run at once (KubeConnectionError naming the server), before anything is read, registered or applied."""
    try:
        call_json(resources.connection, "GET", "/version", "the host API server", timeout=PROBE_TIMEOUT_S)
    except KubeConnectionError as exc:
        raise KubeConnectionError(f"{exc} (checked before any change; nothing was written)") from None


def namespace_state(resources, namespace):
    """(exists, created_by_gpve) for the namespace."""
    live = resources.get("Namespace", namespace)
    if live is None:
        return False, False
    labels = (live.get("metadata") or {}).get("labels") or {}
    return True, labels.get(names.CREATED_BY_LABEL) == names.MANAGED_BY


def require_runtime_class(resources, runtime_class, mode="microvm"):
    """ValidationError unless the host has that RuntimeClass (microvm isolation, and container with one named)."""
    if resources.get("RuntimeClass", runtime_class) is None:
        remedy = ("install Kata Containers (or name an existing RuntimeClass)" if mode == "microvm" else
                  "create it for a runtime handler the nodes' container runtime has (or name an existing one)")
        raise ValidationError("control_plane.runtime_class_name", f"the host cluster has no RuntimeClass "
                              f"{runtime_class!r}: {remedy} before using isolation_mode={mode}")


DEFAULT_SERVICE_CIDR = "kubernetes"


def host_service_range(resources, namespace):
    """The host's service CIDR (its IPv4 one when dual-stack), or None when the server does not say it."""
    try:
        published = resources.get("ServiceCIDR", DEFAULT_SERVICE_CIDR)
    except KubeApiError as error:
        if error.status not in (403, 404):
            raise
        published = None
    if published is not None:
        cidrs = (published.get("spec") or {}).get("cidrs") or []
        if cidrs:
            return str(ipaddress.ip_network(cidrs[0], strict=False))
    return _range_from_allocator(resources, namespace)


def _range_from_allocator(resources, namespace):
    """Before 1.33: the range the IP allocator names when it refuses an address no range holds."""
    probe = {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "gpve-service-range-probe", "namespace": namespace},
             "spec": {"clusterIP": PROBE_IP, "ports": [{"port": 443, "protocol": "TCP"}]}}
    try:
        resources.create(probe)
    except KubeApiError as error:
        found = RANGE_IN_MESSAGE.search(error.server_message or "")
        if found:
            try:
                return str(ipaddress.ip_network(found.group(1), strict=False))
            except ValueError:
                return None
        return None
    # Accepted after all (no allocator in the way): take it back, the range stays unknown.
    resources.delete("Service", probe["metadata"]["name"], namespace)
    return None


def service_addresses(service):
    """(cluster_ip, load balancer addresses) of a live Service."""
    if not service:
        return None, []
    spec = service.get("spec") or {}
    cluster_ip = spec.get("clusterIP")
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    addresses = [entry.get("ip") or entry.get("hostname") for entry in ingress if entry.get("ip") or entry.get("hostname")]
    return (cluster_ip if cluster_ip and cluster_ip != "None" else None), addresses


def node_port(service):
    for port in ((service or {}).get("spec") or {}).get("ports") or []:
        if port.get("nodePort"):
            return port["nodePort"]
    return None


def first_node_address(resources):
    """The InternalIP (else ExternalIP) of the first Ready node by name, or None (no permission, no node)."""
    try:
        nodes = sorted(resources.list("Node"), key=lambda node: node["metadata"]["name"])
    except KubeApiError:
        return None
    for node in nodes:
        status = node.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        addresses = {entry.get("type"): entry.get("address") for entry in status.get("addresses") or []}
        address = addresses.get("InternalIP") or addresses.get("ExternalIP")
        if ready and address:
            return address
    return None


def pod_problems(resources, spec):
    """A short account of why the control-plane pods are not ready: conditions and the last warning event."""
    selector = ",".join(f"{key}={value}" for key, value in names.selector_labels(spec["name"]).items())
    problems = []
    try:
        pods = resources.list("Pod", spec["namespace"], label_selector=selector)
        events = resources.list("Event", spec["namespace"])
    except KubeError:
        return ""
    for pod in pods:
        pod_name = pod["metadata"]["name"]
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("status") != "True":
                problems.append(f"pod {pod_name}: {condition.get('type')}=False {condition.get('reason') or ''} "
                                f"{condition.get('message') or ''}".strip())
    warnings = [event for event in events if event.get("type") == "Warning"]
    if warnings:
        last = warnings[-1]
        involved = last.get("involvedObject") or {}
        problems.append(f"last warning on {involved.get('kind')} {involved.get('name')}: {last.get('reason')}: "
                        f"{last.get('message')}")
    if not pods:
        problems.append("no control-plane pod exists yet")
    return "; ".join(problems)
