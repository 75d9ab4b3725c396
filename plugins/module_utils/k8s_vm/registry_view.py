# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the registry tells the planner: this cluster (if registered) and what other clusters hold.

Reads only. Addresses held by other live clusters (their nodes, and the virtual IPs of
K8s-on-VM clusters) are off limits for IPAM; so are VMIDs other clusters recorded.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Set

from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds


@dataclasses.dataclass
class RegistryView:
    cluster: Optional[object]          # registry Cluster record, or None
    nodes: list                        # this cluster's registry nodes
    taken_ips: Set[str]
    reserved_vmids: Set[int]

    @property
    def cluster_id(self):
        return self.cluster.id if self.cluster else None

    def known_ips(self) -> Dict[str, str]:
        return dict((node.name, node.ip_address) for node in self.nodes if node.ip_address)


def _virtual_ips(clusters, own_id):
    found = set()
    for cluster in clusters:
        if cluster.id == own_id:
            continue
        lb = (cluster.spec or {}).get('load_balancer') or {}  # the stored spec keeps this section as is
        if lb.get('virtual_ip'):
            found.add(lb['virtual_ip'])
    return found


def read(store, name):
    """The registry's side of a plan for the cluster called name."""
    return read_for(store, store.find_cluster(name, type=kinds.K8S_VM))


def read_for(store, cluster):
    """The registry's side of a plan for a cluster record of any type (None: not registered yet)."""
    own_id = cluster.id if cluster else None
    snapshot = store.bulk_snapshot()
    taken = set(a.ip_address for a in store.allocated_ips() if a.cluster_id != own_id)
    taken |= _virtual_ips([c for c in snapshot.clusters if c.type == kinds.K8S_VM], own_id)
    reserved = set()
    for cluster_id, nodes in snapshot.nodes.items():
        if cluster_id == own_id:
            continue
        reserved |= set(int(node.vmid) for node in nodes if node.vmid and str(node.vmid).isdigit())
    own_nodes = snapshot.nodes.get(own_id, []) if own_id else []
    return RegistryView(cluster=cluster, nodes=own_nodes, taken_ips=taken, reserved_vmids=reserved)
