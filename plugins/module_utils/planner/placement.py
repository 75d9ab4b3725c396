# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Proxmox node each VM goes to.

Candidates for a VM: its own placement.nodes, else topology.placement.nodes, else the
module's node option, else every node. Offline nodes and nodes without a usable copy
of the template drop out. Within a group with anti_affinity (control planes by default)
every VM gets a distinct node; otherwise the node with the most free memory wins (ties:
fewer VMs of this cluster, then the name), and free memory shrinks as VMs are placed.
VMs that exist keep their node. A VM that fits nowhere is a ValidationError naming the
field and what to change.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError


@dataclasses.dataclass
class Slot:
    """One VM to place."""

    name: str
    group: str                # VMs of a group spread when anti_affinity: 'control-plane', 'pool:<name>', 'lb'
    memory_mb: int
    template: str
    field: str                # spec path of the VM's group, for messages: 'control_plane', 'workers[0]'
    nodes: List[str]          # the group's own placement.nodes
    anti_affinity: bool
    group_size: int = 1


@dataclasses.dataclass
class Request:
    slots: List[Slot]
    topology_nodes: List[str]
    default_node: Optional[str] = None


def _explicit(slot, request):
    """(nodes, field the list came from) or (None, None) for 'every node'."""
    if slot.nodes:
        return slot.nodes, slot.field + '.placement.nodes'
    if request.topology_nodes:
        return request.topology_nodes, 'topology.placement.nodes'
    if request.default_node:
        return [request.default_node], 'node'
    return None, None


def candidates(slot, request, env):
    """(nodes a slot may use, {node: why it was left out}): they exist, are online and hold the template."""
    wanted, field = _explicit(slot, request)
    if wanted is None:
        wanted, field = env.node_names(), slot.field + '.placement.nodes'
    unknown = [n for n in wanted if n not in env.nodes]
    if unknown:
        raise ValidationError(field, 'no Proxmox node named {0}; the cluster has {1}. Fix the node name.'.format(
            ', '.join(unknown), ', '.join(env.node_names())))
    left_out = dict((n, '{0} is offline'.format(n)) for n in wanted if not env.nodes[n].online)
    online = [n for n in wanted if n not in left_out]
    if not online:
        raise ValidationError(field, 'every node it allows is offline ({0}); bring one online or allow other nodes '
                                     '(online: {1})'.format(', '.join(wanted), ', '.join(env.online_nodes()) or 'none'))
    with_template = [n for n in online if env.template_on(slot.template, n)]
    if not with_template:
        raise ValidationError(slot.field + '.template', "template {0!r} is not on any eligible node ({1}) nor on shared "
                              'storage; create the template there, or name an existing template'.format(
                                  slot.template, ', '.join(online)))
    left_out.update((n, '{0} has no template {1!r}'.format(n, slot.template)) for n in online if n not in with_template)
    return sorted(with_template), left_out


class _Ledger:
    """Free memory and VM counts per node as the plan fills."""

    def __init__(self, env):
        self.free = dict((name, node.free_memory_mb) for name, node in env.nodes.items())
        self.count = dict((name, 0) for name in env.nodes)
        self.groups = {}

    def take(self, group, node, memory_mb):
        self.free[node] -= memory_mb
        self.count[node] += 1
        self.groups.setdefault(group, set()).add(node)

    def keep(self, group, node):
        self.count[node] = self.count.get(node, 0) + 1
        self.groups.setdefault(group, set()).add(node)


def _choose(slot, nodes, left_out, ledger):
    used = ledger.groups.get(slot.group, set()) if slot.anti_affinity else set()
    spread = [n for n in nodes if n not in used]
    if not spread:
        why = ' (left out: {0})'.format('; '.join(left_out[n] for n in sorted(left_out))) if left_out else ''
        raise ValidationError(slot.field + '.placement', '{0} VMs of {1} need {0} distinct Proxmox nodes with the '
                              'template, and only {2} qualify: {3}{4}; add nodes to the placement, or set '
                              '{1}.placement.anti_affinity to false'.format(
                                  slot.group_size, slot.field, len(nodes), ', '.join(nodes), why))
    fitting = [n for n in spread if ledger.free[n] >= slot.memory_mb]
    if not fitting:
        best = max(spread, key=lambda n: (ledger.free[n], n))
        raise ValidationError(slot.field + '.resources.memory', 'VM {0} needs {1} MB, but the most free memory left on '
                              'an eligible node is {2} MB (on {3}) after the VMs placed before it; lower the memory, '
                              'free memory on {4}, or allow more nodes'.format(
                                  slot.name, slot.memory_mb, ledger.free[best], best, ', '.join(spread)))
    return sorted(fitting, key=lambda n: (-ledger.free[n], ledger.count[n], n))[0]


def place(request, env, current):
    """{vm name: node}; current: {vm name: node} of the VMs that exist (they stay put)."""
    ledger = _Ledger(env)
    result = {}
    for slot in request.slots:
        if slot.name in current:
            result[slot.name] = current[slot.name]
            ledger.keep(slot.group, current[slot.name])
    for slot in request.slots:
        if slot.name in result:
            continue
        nodes, left_out = candidates(slot, request, env)
        node = _choose(slot, nodes, left_out, ledger)
        ledger.take(slot.group, node, slot.memory_mb)
        result[slot.name] = node
    return result
