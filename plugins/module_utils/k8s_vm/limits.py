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
MAX_THREADS = 32


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

    @staticmethod
    def workers_for(items):
        """Threads to start: one per VM (up to a ceiling); the slots, not the threads, bound the load.

        A thread also waits for its VM's guest agent outside the slots, so fewer threads than VMs
        would leave slots idle while the agents boot.
        """
        return max(1, min(len(items), MAX_THREADS))
