# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the isolation modes on a host cluster put around a vCluster's namespace.

Every host mode (``namespace``, ``container``, ``microvm``) fences the namespace: a
ResourceQuota and a LimitRange after vcluster's isolated-mode defaults, and a default
NetworkPolicy that keeps the namespace's pods to themselves: traffic within the namespace,
DNS, the API servers (443/6443, the syncer needs the host's), and the internet but no
private range. ``container`` adds Pod Security ``restricted`` on the namespace (enforced,
audited, warned); the restricted security context (RuntimeDefault seccomp) and the
RuntimeClass of the pods themselves are set in statefulset.py.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import names

# The modes whose control plane runs on a host cluster, and so get the namespace fences.
FENCED_MODES = ("namespace", "container", "microvm")
# The modes whose pods run with a RuntimeClass: microvm always (kata by default), container when one is named.
RUNTIME_CLASS_MODES = ("container", "microvm")
POD_SECURITY_LEVEL = "restricted"
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
QUOTA = {
    "requests.cpu": "10", "requests.memory": "20Gi", "requests.storage": "100Gi",
    "limits.cpu": "20", "limits.memory": "40Gi",
    "count/pods": "20", "count/services": "20", "count/secrets": "100", "count/configmaps": "100",
    "count/persistentvolumeclaims": "20", "count/endpoints": "40",
    "services.loadbalancers": "1",
}
CONTAINER_DEFAULTS = {"cpu": "1", "memory": "512Mi"}
CONTAINER_DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}


def namespace_labels():
    """Pod Security Admission labels for the namespace (read by hosts from 1.23 on; harmless before)."""
    return {f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL for mode in ("enforce", "audit", "warn")}


def runtime_class(spec):
    """The RuntimeClass the vCluster's pods (control plane and synced) run with, or None."""
    if spec["isolation_mode"] not in RUNTIME_CLASS_MODES:
        return None
    return spec["control_plane"]["runtime_class_name"]


def render_isolation(spec):
    """The ResourceQuota, LimitRange and NetworkPolicy fencing the namespace (every host mode; none for vm)."""
    if spec["isolation_mode"] not in FENCED_MODES:
        return []
    name, namespace = spec["name"], spec["namespace"]
    metadata = _metadata_factory(name, namespace, spec["labels"])
    quota = dict(QUOTA)
    # The exposure itself needs room in the quota: a LoadBalancer Service allocates a node port too.
    quota["services.nodeports"] = "1" if spec["networking"]["expose"]["type"] in ("NodePort", "LoadBalancer") else "0"
    return [
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": metadata(names.resource_quota(name)),
         "spec": {"hard": quota}},
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": metadata(names.limit_range(name)),
         "spec": {"limits": [{"type": "Container", "default": dict(CONTAINER_DEFAULTS),
                              "defaultRequest": dict(CONTAINER_DEFAULT_REQUESTS)}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata(names.network_policy(name)),
         "spec": _network_policy()},
    ]


def _network_policy():
    same_namespace = [{"podSelector": {}}]
    api_ports = [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]
    dns_ports = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    return {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": same_namespace},
            # Users reach the virtual cluster's API server through the Service or ingress.
            {"ports": [{"protocol": "TCP", "port": 6443}]},
        ],
        "egress": [
            {"to": same_namespace},
            {"ports": dns_ports},
            {"ports": api_ports},
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}]},
        ],
    }


def _metadata_factory(name, namespace, extra_labels):
    def metadata(object_name):
        return {"name": object_name, "namespace": namespace, "labels": names.common_labels(name, extra_labels)}
    return metadata
