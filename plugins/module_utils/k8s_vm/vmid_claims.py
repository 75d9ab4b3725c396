# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fresh VMID for a VM whose planned id another run took first.

Runs that plan at the same time see the same free VMIDs; the first clone wins and Proxmox refuses the
others ("config file already exists"). The loser re-plans that one VM: the lowest id above the taken one
that Proxmox does not hold (one /cluster/resources read), that the plan did not give another VM of this
run, and that no other cluster reserved in the registry when the run planned. The clone is then tried
with the new id, a few times at most (the new id may be taken in turn).
"""

from __future__ import annotations

import re
import threading

from ansible_collections.gpve.cluster.plugins.module_utils.planner import vmids
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors, vm_ops

ATTEMPTS = 5
_TAKEN = re.compile(r"config file already exists|VM \d+ already exists|already exists on node", re.IGNORECASE)


def is_taken(exc):
    """True when a clone failed because its new VMID exists already."""
    return isinstance(exc, errors.ProxmoxError) and bool(_TAKEN.search(str(exc)))


class VmidClaims:
    """Thread-safe: the workers of one run ask it for replacement ids."""

    def __init__(self, client, planned_vmids, reserved_elsewhere):
        self._client = client
        self._lock = threading.Lock()
        self._held = set(int(v) for v in planned_vmids) | set(int(v) for v in reserved_elsewhere)

    def replacement(self, taken):
        """The lowest free VMID above taken, claimed for the caller."""
        with self._lock:
            used = self._held | set(int(vm['vmid']) for vm in vm_ops.list_vms(self._client))
            candidate = int(taken) + 1
            while candidate in used:
                candidate += 1
            if candidate > vmids.MAX_VMID:
                raise errors.ProxmoxError('no free VMID left above {0}'.format(taken))
            self._held.add(candidate)
            return candidate
