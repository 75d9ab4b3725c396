# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many VMs are built at once on one Proxmox node and on one storage.

A clone copies a disk: too many at once on one node or one storage slow every one of
them down and make config lock timeouts likely. Workers hold a slot of their node, then
of their storage (always in that order, so two workers never wait on each other).
"""

from __future__ import annotations

import contextlib
import threading

DEFAULT_PER_NODE = 2
DEFAULT_PER_STORAGE = 4


class Limits:
    def __init__(self, per_node=DEFAULT_PER_NODE, per_storage=DEFAULT_PER_STORAGE):
        self.per_node = max(1, per_node)
        self.per_storage = max(1, per_storage)
        self._lock = threading.Lock()
        self._nodes = {}
        self._storages = {}

    def _slot(self, table, key, size):
        with self._lock:
            if key not in table:
                table[key] = threading.BoundedSemaphore(size)
            return table[key]

    @contextlib.contextmanager
    def hold(self, node, storage):
        with self._slot(self._nodes, node, self.per_node):
            with self._slot(self._storages, storage, self.per_storage):
                yield

    def workers_for(self, nodes):
        """Threads worth starting: every node busy at its limit."""
        return max(1, self.per_node * max(1, len(set(nodes))))
