# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster events: an append-only log per cluster, read newest first.

Phase transitions are events of type ``Transition`` (reason = trigger, metadata has from/to);
modules add their own (``Normal``/``Warning`` with a short CamelCase reason).
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.registry import validation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.clusters import event_from_row, insert_event, require_live


class EventOps:
    """Store methods for events."""

    def add_event(self, cluster_id, type, reason=None, message=None, metadata=None):  # pylint: disable=redefined-builtin
        validation.text("type", type, max_length=32)
        validation.text("reason", reason, max_length=64, required=False)
        validation.document("metadata", metadata)

        def work(tx):
            require_live(tx, cluster_id)
            return insert_event(tx, cluster_id, type, reason, message, metadata)

        return self._write(work)

    def list_events(self, cluster_id=None, type=None, limit=50, offset=0):  # pylint: disable=redefined-builtin
        """Events newest first, of one cluster or all, optionally of one type."""
        where, params = [], []
        if cluster_id is not None:
            where.append("cluster_id = ?")
            params.append(cluster_id)
        if type is not None:
            where.append("type = ?")
            params.append(type)

        def work(tx):
            page, page_params = tx.paginate(limit, offset)
            sql = "SELECT * FROM cluster_events" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq DESC"
            return [event_from_row(row) for row in tx.all(sql + page, params + page_params)]

        return self._read(work)
