# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VMIDs for new VMs: the lowest free ids from vmid_start on, in plan order; VMs that exist keep theirs."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

DEFAULT_START = 1000
# Proxmox VE's VMID range: 100 and up (below 100 is reserved).
MIN_VMID = 100
MAX_VMID = 999999999


def allocate(names, current, used, start=DEFAULT_START):
    """{name: vmid}; current: {name: vmid} of existing VMs; used: every VMID taken in Proxmox or reserved."""
    result = dict((name, current[name]) for name in names if name in current)
    blocked = set(int(v) for v in used) | set(result.values())
    candidate = start
    for name in names:
        if name in result:
            continue
        while candidate in blocked:
            candidate += 1
        if candidate > MAX_VMID:
            raise ValidationError('vmid_start', 'no free VMID left above {0}; lower vmid_start'.format(start))
        result[name] = candidate
        blocked.add(candidate)
    return result
