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

K8S_VM = "k8s-vm"
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
    """One consistent bulk read of the matching clusters and their nodes (a few queries in all)."""
    snapshot = store.bulk_snapshot(type=filters.types, phase=filters.phases, labels=filters.labels)
    clusters = [cluster for cluster in snapshot.clusters if filters.keeps(cluster.name)]
    return clusters, snapshot.nodes


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
    status = cluster.status
    return {
        "ansible_connection": "local",
        "gpve_cluster_id": cluster.id,
        "gpve_cluster_name": cluster.name,
        "gpve_cluster_type": cluster.type,
        "gpve_cluster_provider": cluster.provider,
        "gpve_cluster_phase": status.phase,
        "gpve_cluster_message": status.message,
        "gpve_cluster_endpoint": status.endpoint,
        "gpve_cluster_version": status.version,
        "gpve_cluster_labels": dict(cluster.labels),
        "gpve_cluster_node_count": status.node_count,
        "gpve_cluster_ready_nodes": status.ready_nodes,
        "gpve_cluster_registered_nodes": len(nodes),
        "gpve_cluster_last_heartbeat": status.last_heartbeat.isoformat() if status.last_heartbeat else None,
        "gpve_kubeconfig": {"module": KUBECONFIG_MODULE, "name": cluster.name, "registry": registry_location},
    }


def node_vars(cluster, node):
    resources = node.resources or {}
    variables = {
        "gpve_cluster_id": cluster.id,
        "gpve_cluster_name": cluster.name,
        "gpve_node_name": node.name,
        "gpve_node_role": node.role,
        "gpve_node_pool": node.pool_name,
        "gpve_node_vmid": int(node.vmid) if node.vmid and str(node.vmid).isdigit() else node.vmid,
        "gpve_node_proxmox_node": resources.get("proxmox_node"),
        "gpve_node_status": node.status,
        "gpve_node_ip": node.ip_address,
        "gpve_node_labels": dict(node.labels),
    }
    if node.ip_address:
        variables["ansible_host"] = node.ip_address
    return variables


def _add_cluster(builder, cluster, nodes):
    host = names.cluster_host(cluster.name)
    if not builder.add_host(host, cluster_vars(cluster, nodes, builder.registry_location), cluster.name):
        return
    for group in (ALL_CLUSTERS, names.type_group(cluster.type), names.phase_group(cluster.status.phase),
                  names.cluster_group(cluster.name)):
        builder.member(group, host)


def _add_nodes(builder, cluster, nodes):
    cluster_group = names.cluster_group(cluster.name)
    builder.group(cluster_group)
    for node in nodes:
        if not builder.add_host(node.name, node_vars(cluster, node), cluster.name):
            continue
        builder.member(ALL_NODES, node.name)
        role_group = ROLE_GROUPS.get(node.role)
        if role_group is None:
            builder.child(cluster_group, names.safe(cluster.name) + "_" + names.safe(node.role))
            builder.member(names.safe(cluster.name) + "_" + names.safe(node.role), node.name)
            continue
        group = role_group(cluster.name)
        builder.child(cluster_group, group)
        if node.role == "worker" and node.pool_name:
            pool = names.pool_group(cluster.name, node.pool_name)
            builder.child(group, pool)
            builder.member(pool, node.name)
        else:
            builder.member(group, node.name)


def build(clusters, nodes_by_cluster, registry_location, want_clusters=True, want_nodes=True):
    """The inventory model of clusters (registry Cluster records) and their nodes."""
    builder = _Builder(registry_location)
    if want_clusters:
        builder.group(ALL_CLUSTERS)
    if want_nodes:
        builder.group(ALL_NODES)
    for cluster in clusters:
        nodes = nodes_by_cluster.get(cluster.id) or []
        if want_clusters:
            _add_cluster(builder, cluster, nodes)
        if want_nodes and cluster.type == K8S_VM:
            _add_nodes(builder, cluster, nodes)
    return builder.model()
