# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster as a playbook needs it: registry row, spec in gpve_k8s_vm's option form, nodes.

The stored K8s-on-VM spec is turned back into the options gpve_k8s_vm takes, so a playbook
can change one thing (a pool's replicas, the Kubernetes version) and pass the whole spec on.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.errors import ClusterNotFound
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs

ROLE_ORDER = {'control-plane': 0, 'worker': 1, 'lb': 2}


def find(store, name):
    """The live cluster called name; raises ClusterNotFound."""
    cluster = store.find_cluster(name)
    if cluster is None:
        raise ClusterNotFound(name)
    return cluster


def cluster_dict(cluster):
    status = cluster.status
    return {'id': cluster.id, 'name': cluster.name, 'type': cluster.type, 'phase': status.phase,
            'message': status.message, 'endpoint': status.endpoint, 'version': status.version,
            'labels': dict(cluster.labels or {})}


def spec_options(cluster):
    """The stored spec as gpve_k8s_vm options (K8s-on-VM clusters), else the stored spec as is."""
    if cluster.type != kinds.K8S_VM:
        return dict(cluster.spec or {})
    return stored_specs.spec_of(cluster)


def _index(name):
    tail = name.rsplit('-', 1)[-1]
    return int(tail) if tail.isdigit() else 0


def node_sort_key(node):
    return (ROLE_ORDER.get(node['role'], 9), node.get('pool') or '', _index(node['name']), node['name'])


def node_dict(node):
    resources = node.resources or {}
    return {'name': node.name, 'role': node.role, 'pool': node.pool_name, 'ip': node.ip_address,
            'vmid': int(node.vmid) if node.vmid and str(node.vmid).isdigit() else None, 'status': node.status,
            'labels': dict(node.labels or {}), 'taints': list(node.taints or []),
            'proxmox_node': resources.get('proxmox_node'), 'index': _index(node.name)}


def nodes(store, cluster):
    """The cluster's registry nodes, control planes first, then workers by pool and index, then the LB."""
    return sorted((node_dict(node) for node in store.list_nodes(cluster.id)), key=node_sort_key)


def read(store, name):
    """{cluster, spec, nodes} of the cluster called name."""
    cluster = find(store, name)
    return {'cluster': cluster_dict(cluster), 'spec': spec_options(cluster), 'nodes': nodes(store, cluster)}
