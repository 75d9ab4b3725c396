"""Environments and specs for the planner's unit tests: the testbed's shape (three nodes, a template on each)."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.planner.environment import (
    Environment, ExistingVm, PveNode, Template,
)

GIB = 1024 ** 3


def template(vmid, node, name='ubuntu-22.04-k8s', disk_gib=10, storage='local-lvm'):
    return Template(vmid=vmid, name=name, node=node, config={
        'name': name, 'template': 1, 'cores': 2, 'memory': 2048,
        'scsi0': '{0}:base-{1}-disk-0,size={2}G'.format(storage, vmid, disk_gib),
        'ide2': '{0}:vm-{1}-cloudinit,media=cdrom'.format(storage, vmid),
        'net0': 'virtio=BC:24:11:00:00:01,bridge=vmbr0', 'boot': 'order=scsi0', 'agent': '1'})


def storages(nodes, shared=()):
    out = {}
    for name, content in (('local', 'iso,vztmpl,backup'), ('local-lvm', 'images,rootdir')):
        out[name] = dict((node, {'shared': False, 'active': True, 'content': content}) for node in nodes)
    for name in shared:
        out[name] = dict((node, {'shared': True, 'active': True, 'content': 'images'}) for node in nodes)
    return out


def make_env(nodes=('pve1', 'pve2', 'pve3'), free_gib=6, offline=(), templates=None, cluster_vms=(), used=(),
             shared=(), quorate=True):
    templates = templates if templates is not None else [template(9000 + n, node) for n, node in enumerate(nodes)]
    return Environment(
        nodes=dict((node, PveNode(node, node not in offline, maxmem=8 * GIB, mem=(8 - free_gib) * GIB))
                   for node in nodes),
        templates=list(templates), storages=storages(nodes, shared),
        used_vmids=set(t.vmid for t in templates) | set(used) | set(vm.vmid for vm in cluster_vms),
        quorate=quorate, cluster_vms=list(cluster_vms))


def existing(vmid, name, node, config=None, status='running', tags=()):
    return ExistingVm(vmid=vmid, name=name, node=node, status=status, tags=list(tags), config=dict(config or {}))


def small_spec(**overrides):
    """A valid spec that fits the testbed: 3 small control planes, two pools, static addresses."""
    spec = {
        'name': 'demo',
        'control_plane': {'replicas': 3, 'resources': {'memory': 1024, 'disk_size': 20}},
        'workers': [{'name': 'general', 'replicas': 2, 'resources': {'cores': 2, 'memory': 1024, 'disk_size': 20}},
                    {'name': 'storage', 'replicas': 1, 'resources': {'memory': 1024, 'disk_size': 20},
                     'additional_disks': [{'size': 30}], 'labels': {'disk': 'ssd'}}],
        'network': {'vm_network': {'ip_allocation': 'static', 'ip_range': {'start': '10.20.0.10', 'end': '10.20.0.40'},
                                   'prefix': 24, 'gateway': '10.20.0.1', 'dns': ['10.20.0.2']}},
        'load_balancer': {'type': 'keepalived', 'virtual_ip': '10.20.0.5', 'resources': {'memory': 1024}},
        'ssh': {'public_keys': ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtest demo@example']},
    }
    spec.update(overrides)
    return spec
