# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to probe for one cluster, from its registry record.

A cluster may declare its components' own health endpoints in its spec's monitoring
document (``monitoring_config``, the seed's MonitoringConfig; gpve_external_cluster's
``monitoring`` option writes it)::

    monitoring_config:
      components: {kube-controller-manager: https://10.0.0.11:10257/healthz, kube-scheduler: ...}
      etcd_endpoints: [https://10.0.0.11:2379/health, ...]
      validate_certs: true

Without declared etcd endpoints, a K8s-on-VM cluster with stacked etcd has one member per
control-plane node (``https://<ip>:2379/health``); those need the ``etcd-client``
credential (a JSON document with ``ca``, ``cert`` and ``key`` PEMs), without which the etcd
check says it cannot look.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List

from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
ETCD_CLIENT_PORT = 2379


@dataclasses.dataclass
class Targets:
    components: Dict[str, str]
    etcd_endpoints: List[str]
    etcd_derived: bool
    check_etcd: bool
    validate_certs: bool = True


def monitoring_of(cluster):
    spec = cluster.spec or {}
    document = spec.get("monitoring_config") or spec.get("monitoring") or {}
    return document if isinstance(document, dict) else {}


def _stacked_members(nodes):
    return [f"https://{node.ip_address}:{ETCD_CLIENT_PORT}/health" for node in nodes
            if node.role == "control-plane" and node.ip_address]


def _external_members(cluster):
    external = ((cluster.spec or {}).get("topology") or {}).get("external_etcd") or {}
    return [endpoint.rstrip("/") + "/health" for endpoint in external.get("endpoints") or []]


def targets_for(cluster, nodes):
    monitoring = monitoring_of(cluster)
    components = {name: url for name, url in (monitoring.get("components") or {}).items() if name in COMPONENTS and url}
    declared = list(monitoring.get("etcd_endpoints") or [])
    derived = []
    if not declared and cluster.type == kinds.K8S_VM:
        derived = _external_members(cluster) or _stacked_members(nodes)
    return Targets(components=components, etcd_endpoints=declared or derived, etcd_derived=not declared and bool(derived),
                   check_etcd=bool(declared) or cluster.type == kinds.K8S_VM,
                   validate_certs=monitoring.get("validate_certs", True) is not False)
