# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the planner knows about Proxmox: nodes, storages, templates and the VMs already there.

Plain data, read once per run (k8s_vm/discovery.py fills it from bulk API calls), so
every planning rule is a pure function a unit test can drive without a server.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats

MIB = 1024 ** 2
DISK_KEY = re.compile(r'^(scsi|virtio|sata|ide)(\d+)$')


@dataclasses.dataclass
class PveNode:
    name: str
    online: bool
    maxmem: int = 0
    mem: int = 0

    @property
    def free_memory_mb(self):
        return max(0, (self.maxmem - self.mem) // MIB)


@dataclasses.dataclass
class Template:
    vmid: int
    name: str
    node: str
    config: Dict[str, str]

    def disks(self):
        """{key: value} of the real disks (no CD-ROM, no cloud-init drive)."""
        out = {}
        for key, value in self.config.items():
            text = str(value)
            if DISK_KEY.match(key) and 'media=cdrom' not in text and 'cloudinit' not in text.split(',', 1)[0]:
                out[key] = text
        return out

    def root_disk(self):
        """The boot disk key: the first disk of boot order=, else the first disk by bus and index."""
        disks = self.disks()
        order = str(self.config.get('boot') or '')
        if order.startswith('order='):
            for device in order[len('order='):].split(';'):
                if device in disks:
                    return device
        ranked = sorted(disks, key=lambda k: (('scsi', 'virtio', 'sata', 'ide').index(DISK_KEY.match(k).group(1)),
                                              int(DISK_KEY.match(k).group(2))))
        return ranked[0] if ranked else None

    def root_size_gib(self):
        key = self.root_disk()
        size = formats.disk_size_bytes(self.disks()[key]) if key else None
        return size // 1024 ** 3 if size else 0

    def storages(self):
        return set(str(value).split(':', 1)[0] for value in self.disks().values() if ':' in str(value))

    def used_disk_keys(self):
        return set(key for key in self.config if DISK_KEY.match(key))


@dataclasses.dataclass
class ExistingVm:
    vmid: int
    name: str
    node: str
    status: str
    tags: List[str]
    config: Optional[Dict[str, str]] = None

    @property
    def running(self):
        return self.status == 'running'


@dataclasses.dataclass
class Environment:
    nodes: Dict[str, PveNode]
    templates: List[Template]
    # storage name -> {node: {'shared': bool, 'active': bool, 'content': str}}
    storages: Dict[str, Dict[str, dict]]
    used_vmids: set
    quorate: bool = True
    cluster_vms: List[ExistingVm] = dataclasses.field(default_factory=list)

    def node_names(self):
        return sorted(self.nodes)

    def online_nodes(self):
        return sorted(name for name, node in self.nodes.items() if node.online)

    def templates_for(self, ref):
        """Templates matching a name or a VMID."""
        ref = str(ref)
        return [t for t in self.templates if (ref.isdigit() and t.vmid == int(ref)) or t.name == ref]

    def is_shared(self, storage):
        return any(entry.get('shared') for entry in self.storages.get(storage, {}).values())

    def storage_on(self, storage, node):
        """The storage's entry on node, or None when it is not configured there."""
        return self.storages.get(storage, {}).get(node)

    def template_on(self, ref, node):
        """The template to clone for a VM on node: a copy on that node, else one whose disks are all shared."""
        matches = self.templates_for(ref)
        for template in sorted(matches, key=lambda t: t.vmid):
            if template.node == node:
                return template
        for template in sorted(matches, key=lambda t: t.vmid):
            if template.storages() and all(self.is_shared(s) for s in template.storages()):
                if self.nodes.get(template.node) and self.nodes[template.node].online:
                    return template
        return None
