# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PVE config a planned VM should have, and what differs from the config it has.

A VM's description records the hash of the settings it was last converged to; a VM
whose hash matches its plan needs no write, which is what makes a rerun change nothing.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats

GIB = 1024 ** 3
# What PVE assumes for a key the config does not have.
PVE_DEFAULTS = {'sockets': '1', 'numa': '0'}


def settings_hash(vm):
    """A short hash of everything provisioning sets on the VM (not its place: node and VMID stay)."""
    wanted = dict(hardware=vm.hardware(), network=vm.network, cloud_init=vm.cloud_init, tags=vm.tags,
                  disk_size=vm.disk_size, additional_disks=vm.additional_disks, root_disk=vm.root_disk)
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]


def recorded_hash(config):
    return naming.description_field((config or {}).get('description'), 'gpve-spec')


def _same(current, wanted):
    return current is not None and str(current) == str(wanted)


def _agent_enabled(value):
    first = str(value or '0').split(',', 1)[0]
    return first.split('=')[-1] in ('1', 'true')


def desired_tags(vm, current_tags):
    """Ours, plus any tag someone else put on the VM that is not one of ours."""
    others = [tag for tag in current_tags if not tag.startswith(naming.TAG_PREFIX)]
    return formats.join_tags(list(vm.tags) + others)


def config_changes(vm, config):
    """{key: new value} to make config match the plan (disks excepted: see disk_changes)."""
    changes = {}
    for key, value in list(vm.hardware().items()) + list(vm.cloud_init.items()):
        if not _same(config.get(key, PVE_DEFAULTS.get(key)), value):
            changes[key] = value
    if not _agent_enabled(config.get('agent')):
        changes['agent'] = '1'
    if formats.net_settings(config.get('net0')) != (vm.network['bridge'], vm.network['vlan']):
        changes['net0'] = formats.net_value(config.get('net0'), vm.network['bridge'], vm.network['vlan'])
    tags = desired_tags(vm, formats.split_tags(config.get('tags')))
    if formats.join_tags(formats.split_tags(config.get('tags'))) != tags:
        changes['tags'] = tags
    if config.get('name') != vm.name:
        changes['name'] = vm.name
    return changes


def disk_changes(vm, config):
    """(root disk resize in GiB or None, {key: 'storage:GiB'} of added disks missing from config)."""
    current = formats.disk_size_bytes(config.get(vm.root_disk)) if config.get(vm.root_disk) else None
    resize = vm.disk_size if current is not None and current < vm.disk_size * GIB else None
    added = dict((disk['key'], '{0}:{1}'.format(disk['storage'], disk['size']))
                 for disk in vm.additional_disks if disk['key'] not in config)
    return resize, added
