# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift of many K8s-on-VM clusters from one bulk read of Proxmox (``/cluster/resources?type=vm``)."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.drift.compare import compare
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import vm_ops

K8S_VM = "k8s-vm"
CLUSTER_TAG = "gpve-cluster-{0}"


def drift_reports(client, clusters, nodes_by_cluster):
    """cluster id -> drift report, for the K8s-on-VM clusters among clusters (one Proxmox call in all)."""
    targets = [cluster for cluster in clusters if cluster.type == K8S_VM]
    if not targets:
        return {}
    vms = vm_ops.list_vms(client)
    return {cluster.id: compare(nodes_by_cluster.get(cluster.id) or [],
                                vm_ops.find_by_tag(client, CLUSTER_TAG.format(cluster.id), vms))
            for cluster in targets}
