# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clusters and K8s-on-VM nodes as inventory hosts, and their groups, from one registry snapshot.

The model is plain JSON-able data (what the inventory cache stores)::

    {"hosts": {host: {var: value}}, "groups": {group: {"hosts": [...], "children": [...]}}, "warnings": [...]}

Cluster hosts (``cluster_<name>``, local connection) sit in ``gpve_clusters``,
``gpve_type_<type>``, ``gpve_phase_<phase>`` and ``gpve_cluster_<name>``. Nodes of
K8s-on-VM clusters sit in ``gpve_nodes`` and in ``<name>_control_plane``,
``<name>_workers`` (with a child ``<name>_pool_<pool>`` per pool) or ``<name>_lb``, all
children of ``gpve_cluster_<name>``. No key material: a cluster host says how to get a
kubeconfig (``gpve_kubeconfig``), never holds one.
"""

from __future__ import annotations

import fnmatch

from ansible_collections.gpve.cluster.plugins.module_utils.inventory import names
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

ALL_CLUSTERS = "gpve_clusters"
ALL_NODES = "gpve_nodes"
KUBECONFIG_MODULE = "gpve.cluster.gpve_kubeconfig"
ROLE_GROUPS = {"control-plane": names.control_plane_group, "worker": names.workers_group, "lb": names.lb_group}


class Filters:
    """Which clusters to show: types and phases go to the registry query; names are glob patterns."""

    def __init__(self, types=None, phases=None, name_patterns=None, labels=None):
        self.types = list(types or []) or None
        self.phases = list(phases or []) or None
        self.name_patterns = list(name_patterns or [])
        self.labels = dict(labels or {}) or None

    def keeps(self, cluster_name):
        return not self.name_patterns or any(fnmatch.fnmatchcase(cluster_name, p) for p in self.name_patterns)


def read_snapshot(store, filters):
    """One consistent bulk read of the matching clusters and their nodes: two queries in all.

    (clusters, nodes by cluster id), as plain rows holding only what the inventory shows
    (the registry's inventory_rows): cluster rows have id, name, type, provider, labels,
    phase, message, endpoint, version, node_count, ready_nodes, last_heartbeat; node rows
    cluster_id, name, role, pool_name, vmid, status, ip_address, labels, resources.
    """
    cluster_rows, node_rows = store.inventory_rows(type=filters.types, phase=filters.phases, labels=filters.labels)
    clusters = [cluster for cluster in cluster_rows if filters.keeps(cluster["name"])]
    nodes = {}
    for node in node_rows:
        found = nodes.get(node["cluster_id"])
        if found is None:
            nodes[node["cluster_id"]] = [node]
        else:
            found.append(node)
    return clusters, nodes


class _Builder:
    def __init__(self, registry_location):
        self.registry_location = registry_location
        self.hosts = {}
        self.groups = {}
        self.warnings = []

    def group(self, name):
        found = self.groups.get(name)
        if found is None:
            found = self.groups[name] = {"hosts": [], "children": []}
        return found

    def member(self, group, host):
        self.group(group)["hosts"].append(host)

    def child(self, parent, child):
        children = self.group(parent)["children"]
        if child not in children:
            children.append(child)
        self.group(child)

    def add_host(self, name, variables, owner):
        if name in self.hosts:
            self.warnings.append(f"host {name} of cluster {owner} is skipped: another host already has that name")
            return False
        self.hosts[name] = variables
        return True

    def model(self):
        return {"hosts": self.hosts, "groups": self.groups, "warnings": self.warnings}


def cluster_vars(cluster, nodes, registry_location):
    """The variables of a cluster host, from a cluster row (see read_snapshot)."""
    heartbeat = cluster["last_heartbeat"]
    return {
        "ansible_connection": "local",
        "gpve_cluster_id": cluster["id"],
        "gpve_cluster_name": cluster["name"],
        "gpve_cluster_type": cluster["type"],
        "gpve_cluster_provider": cluster["provider"],
        "gpve_cluster_phase": cluster["phase"],
        "gpve_cluster_message": cluster["message"],
        "gpve_cluster_endpoint": cluster["endpoint"],
        "gpve_cluster_version": cluster["version"],
        "gpve_cluster_labels": dict(cluster["labels"] or {}),
        "gpve_cluster_node_count": cluster["node_count"],
        "gpve_cluster_ready_nodes": cluster["ready_nodes"],
        "gpve_cluster_registered_nodes": len(nodes),
        "gpve_cluster_last_heartbeat": heartbeat.isoformat() if heartbeat else None,
        "gpve_kubeconfig": {"module": KUBECONFIG_MODULE, "name": cluster["name"], "registry": registry_location},
    }


# Where a node host's name can come from (the inventory's hostnames option); the first that has a value wins.
HOSTNAME_SOURCES = {
    "name": lambda node: node["name"],
    # The VM's name in Proxmox VE: gpve_k8s_vm names each VM after its node; a record may say otherwise.
    "vm_name": lambda node: (node["resources"] or {}).get("vm_name") or node["name"],
    "address": lambda node: node["ip_address"],
}
DEFAULT_HOSTNAMES = ("name",)


def node_host_name(node, hostnames=DEFAULT_HOSTNAMES):
    """The inventory name of a node host: the first of hostnames that gives one, else the node's name."""
    for source in hostnames:
        value = HOSTNAME_SOURCES[source](node)
        if value:
            return str(value)
    return node["name"]


def node_vars(cluster, node):
    """The variables of a node host, from a cluster row and one of its node rows.

    The cluster's labels come along (gpve_cluster_labels), so keyed_groups on them group nodes with their cluster.
    """
    vmid, address = node["vmid"], node["ip_address"]
    variables = {
        "gpve_cluster_id": cluster["id"],
        "gpve_cluster_name": cluster["name"],
        "gpve_cluster_type": cluster["type"],
        "gpve_cluster_labels": dict(cluster["labels"] or {}),
        "gpve_node_name": node["name"],
        "gpve_node_role": node["role"],
        "gpve_node_pool": node["pool_name"],
        "gpve_node_vmid": int(vmid) if vmid and str(vmid).isdigit() else vmid,
        "gpve_node_proxmox_node": (node["resources"] or {}).get("proxmox_node"),
        "gpve_node_status": node["status"],
        "gpve_node_ip": address,
        "gpve_node_labels": dict(node["labels"] or {}),
    }
    if address:
        variables["ansible_host"] = address
    return variables


def _add_cluster(builder, cluster, nodes):
    host = names.cluster_host(cluster["name"])
    if not builder.add_host(host, cluster_vars(cluster, nodes, builder.registry_location), cluster["name"]):
        return
    for group in (ALL_CLUSTERS, names.type_group(cluster["type"]), names.phase_group(cluster["phase"]),
                  names.cluster_group(cluster["name"])):
        builder.member(group, host)


def _add_nodes(builder, cluster, nodes, hostnames):
    """Node hosts of one K8s-on-VM cluster; group names worked out once per cluster and role."""
    name = cluster["name"]
    safe_name = names.safe(name)
    cluster_group = names.cluster_group(name)
    builder.group(cluster_group)
    all_nodes = builder.group(ALL_NODES)["hosts"]
    role_groups = {}  # role -> its group's host list, made a child of the cluster group on first use
    for node in nodes:
        host, role = node_host_name(node, hostnames), node["role"]
        if not builder.add_host(host, node_vars(cluster, node), name):
            continue
        all_nodes.append(host)
        pool = node["pool_name"] if role == "worker" else None
        key = (role, pool)
        members = role_groups.get(key)
        if members is None:
            make = ROLE_GROUPS.get(role)
            group = make(name) if make else safe_name + "_" + names.safe(role)
            builder.child(cluster_group, group)
            if pool:
                parent, group = group, names.pool_group(name, pool)
                builder.child(parent, group)
            members = role_groups[key] = builder.group(group)["hosts"]
        members.append(host)


def build(clusters, nodes_by_cluster, registry_location, want_clusters=True, want_nodes=True,
          hostnames=DEFAULT_HOSTNAMES):
    """The inventory model of clusters and their nodes (rows as read_snapshot gives them); node hosts are named by
    the first of hostnames (HOSTNAME_SOURCES) that has a value."""
    builder = _Builder(registry_location)
    if want_clusters:
        builder.group(ALL_CLUSTERS)
    if want_nodes:
        builder.group(ALL_NODES)
    for cluster in clusters:
        nodes = nodes_by_cluster.get(cluster["id"]) or []
        if want_clusters:
            _add_cluster(builder, cluster, nodes)
        if want_nodes and cluster["type"] == kinds.K8S_VM:
            _add_nodes(builder, cluster, nodes, hostnames)
    return builder.model()
