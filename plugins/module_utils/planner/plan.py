# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The whole plan of a K8s-on-VM cluster: every VM with its name, VMID, address, node,
template, resources, cloud-init and tags, and the diff against the VMs that exist.

Pure: it reads a normalised spec and an Environment and writes nothing. The same inputs
give the same plan, so check mode shows exactly what a real run will do.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Dict, List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import (
    cloud_init, ipam, naming, placement, spec as specs, vm_config, vmids,
)
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats


@dataclasses.dataclass
class Options:
    """Provisioning choices that are not part of the cluster spec."""

    node: Optional[str] = None
    storage: Optional[str] = None
    full_clone: bool = True
    vmid_start: int = vmids.DEFAULT_START
    # PVE's cicustom value (user-data from a snippet, "user=<storage>:snippets/<file>"); None: PVE's own.
    cicustom: Optional[str] = None


@dataclasses.dataclass
class PlannedVm:
    name: str
    role: str
    pool: Optional[str]
    index: int
    vmid: int
    ip: Optional[str]
    proxmox_node: str
    template_vmid: int
    template_node: str
    template_name: str
    full_clone: bool
    clone_storage: Optional[str]
    root_storage: str
    resources: dict
    root_disk: str
    disk_size: int
    additional_disks: list
    network: dict
    cloud_init: dict
    tags: list

    def hardware(self):
        res = self.resources
        wanted = {'cores': res['cores'], 'sockets': res['sockets'], 'memory': res['memory'],
                  'numa': 1 if res['numa'] else 0}
        if res.get('cpu_type'):
            wanted['cpu'] = res['cpu_type']
        return wanted

    def settings_hash(self):
        return vm_config.settings_hash(self)

    def as_dict(self):
        out = dataclasses.asdict(self)
        out['settings_hash'] = self.settings_hash()
        return out


@dataclasses.dataclass
class Plan:
    cluster_id: str
    cluster_name: str
    endpoint: Optional[str]
    vms: List[PlannedVm]
    create: List[str]
    update: Dict[str, dict]
    start: List[str]
    delete: list
    unchanged: List[str]

    @property
    def changes_anything(self):
        return bool(self.create or self.update or self.start or self.delete)

    def vm(self, name):
        return next(vm for vm in self.vms if vm.name == name)

    def as_dict(self):
        return {
            'cluster_id': self.cluster_id, 'cluster_name': self.cluster_name, 'endpoint': self.endpoint,
            'vms': [vm.as_dict() for vm in self.vms],
            'create': list(self.create), 'update': dict(self.update), 'start': list(self.start),
            'delete': [{'name': vm.name, 'vmid': vm.vmid, 'proxmox_node': vm.node} for vm in self.delete],
            'unchanged': list(self.unchanged),
        }


@dataclasses.dataclass
class _Member:
    """One VM of the spec before it has a place: name, role, its group's spec section."""

    name: str
    role: str
    pool: Optional[str]
    index: int
    section: dict
    field: str
    group_size: int


def members(spec):
    """The cluster's VMs in plan order: control planes, worker pools as listed, the load balancer."""
    cluster = spec['name']
    cp = spec['control_plane']
    out = [_Member(naming.control_plane_name(cluster, i), naming.ROLE_CONTROL_PLANE, None, i, cp, 'control_plane',
                   cp['replicas']) for i in range(1, cp['replicas'] + 1)]
    for n, pool in enumerate(spec['workers']):
        out += [_Member(naming.worker_name(cluster, pool['name'], i), naming.ROLE_WORKER, pool['name'], i, pool,
                        'workers[{0}]'.format(n), pool['replicas']) for i in range(1, pool['replicas'] + 1)]
    if specs.lb_needs_vm(spec):
        lb = dict(spec['load_balancer'], placement={'nodes': [], 'anti_affinity': False}, additional_disks=[])
        out.append(_Member(naming.lb_name(cluster), naming.ROLE_LB, None, 1, lb, 'load_balancer', 1))
    return out


def _group(member):
    return 'pool:' + member.pool if member.pool else member.role


def _existing_by_name(env):
    found = {}
    for vm in env.cluster_vms:
        if vm.name in found:
            raise ValidationError('name', 'two VMs carry this cluster\'s tag under the name {0} (VMIDs {1} and {2}); '
                                  'destroy the one that should not exist'.format(vm.name, found[vm.name].vmid, vm.vmid))
        found[vm.name] = vm
    return found


def _current_ips(existing, known_ips):
    out = dict(known_ips or {})
    for name, vm in existing.items():
        for key, value in formats.split_props((vm.config or {}).get('ipconfig0')):
            if key == 'ip' and value != 'dhcp':
                out[name] = value.split('/', 1)[0]
    return out


def _addresses(spec, names, existing, known_ips, taken_ips):
    if not specs.uses_static_ips(spec):
        return dict((name, None) for name in names)
    vm_network = spec['network']['vm_network']
    pool = ipam.AddressPool.from_vm_network(vm_network, spec['load_balancer'].get('virtual_ip'))
    return ipam.allocate(pool, names, _current_ips(existing, known_ips), taken_ips)


def _placement_request(spec, group_members, options):
    slots = [placement.Slot(name=m.name, group=_group(m), memory_mb=m.section['resources']['memory'],
                            template=str(m.section['template']), field=m.field,
                            nodes=m.section['placement']['nodes'], anti_affinity=m.section['placement']['anti_affinity'],
                            group_size=m.group_size) for m in group_members]
    return placement.Request(slots=slots, topology_nodes=spec['topology']['placement']['nodes'],
                             default_node=options.node)


def _check_storage(env, storage, node, field):
    entry = env.storage_on(storage, node)
    if entry is None:
        raise ValidationError(field, 'storage {0!r} is not configured on Proxmox node {1}; choose a storage '
                                     'available there'.format(storage, node))
    if 'images' not in str(entry.get('content', '')).split(','):
        raise ValidationError(field, 'storage {0!r} does not hold VM disk images (content: {1}); choose a storage '
                                     'with content "images"'.format(storage, entry.get('content')))


def _disks(member, template, node, options, env):
    root = template.root_disk()
    if root is None:
        raise ValidationError(member.field + '.template', 'template {0!r} (VMID {1}) has no disk to boot from; '
                              'give the template a disk'.format(template.name, template.vmid))
    size = member.section['resources']['disk_size']
    if size < template.root_size_gib():
        raise ValidationError(member.field + '.resources.disk_size', 'template {0!r} has a {1} GB root disk and '
                              'Proxmox cannot shrink disks; set disk_size to {1} or more'.format(
                                  template.name, template.root_size_gib()))
    used = template.used_disk_keys()
    root_storage = template.disks()[root].split(':', 1)[0]
    added = []
    index = 0
    for n, disk in enumerate(member.section['additional_disks']):
        while 'scsi{0}'.format(index) in used:
            index += 1
        storage = disk.get('storage') or options.storage or root_storage
        _check_storage(env, storage, node, '{0}.additional_disks[{1}].storage'.format(member.field, n))
        added.append({'key': 'scsi{0}'.format(index), 'size': disk['size'], 'storage': storage})
        used.add('scsi{0}'.format(index))
    return root, size, added


def _template(env, member, node):
    """The template a VM on node clones from; an existing VM only needs one to know its disk layout."""
    ref = str(member.section['template'])
    template = env.template_on(ref, node) or next(iter(sorted(env.templates_for(ref), key=lambda t: t.vmid)), None)
    if template is None:
        raise ValidationError(member.field + '.template', 'no template {0!r} in the Proxmox cluster; create it, or name '
                              'an existing template by name or VMID'.format(ref))
    return template


def _planned_vm(spec, cluster_id, member, node, vmid, address, env, options):
    template = _template(env, member, node)
    root, size, added = _disks(member, template, node, options, env)
    clone_storage = options.storage if options.full_clone else None
    if clone_storage:
        _check_storage(env, clone_storage, node, 'storage')
    vm_network = spec['network']['vm_network']
    return PlannedVm(
        name=member.name, role=member.role, pool=member.pool, index=member.index, vmid=vmid, ip=address,
        proxmox_node=node, template_vmid=template.vmid, template_node=template.node, template_name=template.name,
        full_clone=options.full_clone, clone_storage=clone_storage,
        root_storage=clone_storage or template.disks()[root].split(':', 1)[0], resources=dict(member.section['resources']),
        root_disk=root, disk_size=size, additional_disks=added,
        network={'bridge': vm_network['bridge'], 'vlan': vm_network['vlan']},
        cloud_init=cloud_init.settings(spec, address, options.cicustom), tags=naming.vm_tags(cluster_id, member.role, member.pool))


def endpoint(spec, vms):
    lb = spec['load_balancer']
    host = lb.get('virtual_ip') or lb.get('external_address')
    if not host:
        by_role = dict((vm.role, vm) for vm in reversed(vms))
        chosen = by_role.get(naming.ROLE_LB) or by_role.get(naming.ROLE_CONTROL_PLANE)
        host = chosen.ip if chosen else None
    if not host:
        return None
    if ':' in host and _is_ipv6(host):
        host = '[{0}]'.format(host)
    return 'https://{0}:{1}'.format(host, lb['api_server_port'])


def _is_ipv6(text):
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


def _diff(vms, existing):
    planned = set(vm.name for vm in vms)
    create, update, start, unchanged = [], {}, [], []
    for vm in vms:
        current = existing.get(vm.name)
        if current is None:
            create.append(vm.name)
            continue
        if vm_config.recorded_hash(current.config) != vm.settings_hash():
            changes = sorted(vm_config.config_changes(vm, current.config or {}))
            resize, added = vm_config.disk_changes(vm, current.config or {})
            update[vm.name] = changes + (['resize ' + vm.root_disk] if resize else []) + sorted(added)
        if not current.running:
            start.append(vm.name)
        if vm.name not in update and current.running:
            unchanged.append(vm.name)
    delete = sorted((vm for name, vm in existing.items() if name not in planned), key=lambda vm: (vm.name, vm.vmid))
    return create, update, start, delete, unchanged


def build(spec, cluster_id, env, options=None, taken_ips=(), reserved_vmids=(), known_ips=None):
    """The plan for spec; taken_ips / reserved_vmids: held by other clusters in the registry."""
    options = options or Options()
    existing = _existing_by_name(env)
    group_members = members(spec)
    names = [m.name for m in group_members]
    nodes = placement.place(_placement_request(spec, group_members, options), env,
                            dict((name, vm.node) for name, vm in existing.items() if name in names))
    ids = vmids.allocate(names, dict((name, vm.vmid) for name, vm in existing.items()),
                         set(env.used_vmids) | set(reserved_vmids), options.vmid_start)
    addresses = _addresses(spec, names, existing, known_ips, taken_ips)
    vms = [_planned_vm(spec, cluster_id, m, nodes[m.name], ids[m.name], addresses[m.name], env, options)
           for m in group_members]
    create, update, start, delete, unchanged = _diff(vms, existing)
    return Plan(cluster_id=cluster_id, cluster_name=spec['name'], endpoint=endpoint(spec, vms), vms=vms,
                create=create, update=update, start=start, delete=delete, unchanged=unchanged)
