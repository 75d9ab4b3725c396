# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what Proxmox has into a planner Environment: bulk reads, then a config read only
for the templates the spec names and the VMs of this cluster.

A cluster's VMs are found by their ``gpve-cluster-<id>`` tag. A run killed between the
clone and the first config write leaves a VM without tags; its description (written by
the clone) still names the cluster, so VMs named ``<cluster>-...`` are checked too.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming
from ansible_collections.gpve.cluster.plugins.module_utils.planner.environment import (
    Environment, ExistingVm, PveNode, Template,
)
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors, formats, vm_ops


def template_refs(spec):
    refs = [spec['control_plane']['template'], spec['load_balancer']['template']]
    refs += [pool['template'] for pool in spec['workers']]
    return set(str(ref) for ref in refs if ref is not None)


def _nodes(client):
    out = {}
    for entry in vm_ops.list_nodes(client):
        out[entry['node']] = PveNode(name=entry['node'], online=entry.get('status') == 'online',
                                     maxmem=int(entry.get('maxmem') or 0), mem=int(entry.get('mem') or 0))
    return out


def _storages(client):
    out = {}
    for entry in vm_ops.list_storages(client):
        out.setdefault(entry['storage'], {})[entry['node']] = {
            'shared': bool(entry.get('shared')), 'active': entry.get('status') == 'available',
            'content': entry.get('content', '')}
    return out


def _templates(client, vms, refs, nodes):
    found = []
    for vm in vms:
        if not vm.get('template'):
            continue
        if str(vm['vmid']) not in refs and vm.get('name') not in refs:
            continue
        if not nodes.get(vm['node']) or not nodes[vm['node']].online:
            continue
        config = vm_ops.get_config(client, vm['node'], vm['vmid'])
        found.append(Template(vmid=int(vm['vmid']), name=vm.get('name') or '', node=vm['node'], config=config))
    return found


def _config_or_none(client, vm):
    try:
        return vm_ops.get_config(client, vm['node'], vm['vmid'])
    except errors.ProxmoxNodeUnreachable:
        return None


def cluster_vms(client, vms, cluster_id, cluster_name):
    """The VMs of this cluster: tagged, or (untagged, interrupted) with the cluster id in their description."""
    found = []
    tag = naming.cluster_tag(cluster_id) if cluster_id else None
    for vm in vms:
        if vm.get('template'):
            continue
        tags = formats.split_tags(vm.get('tags'))
        tagged = tag is not None and tag in tags
        if not tagged and not (cluster_id and not tags and str(vm.get('name', '')).startswith(cluster_name + '-')):
            continue
        config = _config_or_none(client, vm)
        if not tagged and naming.description_field((config or {}).get('description'),
                                                   naming.DESCRIPTION_MARKER) != cluster_id:
            continue
        found.append(ExistingVm(vmid=int(vm['vmid']), name=vm.get('name') or '', node=vm['node'],
                                status=vm.get('status') or 'unknown', tags=tags, config=config))
    return found


def discover(client, spec, cluster_id):
    """The Environment for planning spec; cluster_id None for a cluster not registered yet."""
    nodes = _nodes(client)
    vms = vm_ops.list_vms(client)
    return Environment(
        nodes=nodes,
        templates=_templates(client, vms, template_refs(spec), nodes),
        storages=_storages(client),
        used_vmids=set(int(vm['vmid']) for vm in vms),
        quorate=vm_ops.is_quorate(client),
        cluster_vms=cluster_vms(client, vms, cluster_id, spec['name']) if cluster_id else [],
    )
