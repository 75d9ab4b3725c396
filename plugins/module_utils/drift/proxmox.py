# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift of K8s-on-VM clusters against Proxmox: one bulk read, then each VM's configuration.

``/cluster/resources?type=vm`` (one call) finds every VM tagged with a selected cluster, its
Proxmox node and run status. Sizes come from each of those VMs' own configuration with its
pending changes applied (``GET nodes/{node}/qemu/{vmid}/pending``: what the VM runs with after
its next start; a memory change on a running VM without hotplug stays pending): the bulk read's
``maxcpu``/``maxmem`` follow the running VM, and its ``maxdisk`` is the boot disk only, as
``pvestatd`` last reported it, so neither tells a resized disk or a pending change. The
configuration reads are only for the selected clusters' VMs, at most CONFIG_READERS at a time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.gpve.cluster.plugins.module_utils.drift.compare import compare
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import vm_ops
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.errors import ProxmoxApiError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

CLUSTER_TAG = "gpve-cluster-{0}"
CONFIG_READERS = 8


def pending_config(entries):
    """The configuration a VM starts with next, from its ``/pending`` entries (key, value, pending, delete)."""
    config = {}
    for entry in entries or []:
        if entry.get("delete"):
            continue
        value = entry.get("pending", entry.get("value"))
        if value is not None:
            config[entry["key"]] = value
    return config


def read_configs(client, vms, workers=CONFIG_READERS):
    """vmid -> configuration of each VM, pending changes applied (None for one gone since the bulk read)."""
    def read(vm):
        try:
            return pending_config(client.get("nodes/{0}/qemu/{1}/pending".format(vm["node"], vm["vmid"])))
        except ProxmoxApiError as exc:
            if exc.status in (404, 500) and "does not exist" in exc.pve_message:
                return None
            raise
    if not vms:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(vms))), thread_name_prefix="gpve-drift") as pool:
        return dict(zip([vm["vmid"] for vm in vms], pool.map(read, vms)))


def drift_reports(client, clusters, nodes_by_cluster, workers=CONFIG_READERS):
    """cluster id -> drift report, for the K8s-on-VM clusters among clusters."""
    targets = [cluster for cluster in clusters if cluster.type == kinds.K8S_VM]
    if not targets:
        return {}
    vms = vm_ops.list_vms(client)
    tagged = {cluster.id: vm_ops.find_by_tag(client, CLUSTER_TAG.format(cluster.id), vms) for cluster in targets}
    configs = read_configs(client, [vm for found in tagged.values() for vm in found], workers)
    return {cluster.id: compare(nodes_by_cluster.get(cluster.id) or [], tagged[cluster.id], configs) for cluster in targets}
