# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deleting backups (state=absent): one by id, or every expired one with prune.

The archive goes first, then the registry row: a failure in between leaves the row, so a
second run finishes the job instead of leaving an archive nobody knows about.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.backup.retention import prunable
from ansible_collections.gpve.cluster.plugins.module_utils.backup.storage import storage_for_location
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import NotFound
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow


def delete_backup(store, backup_id, settings, check_mode):
    try:
        record = store.get_backup(backup_id)
    except NotFound:
        return {"changed": False, "deleted": []}
    if not check_mode:
        _delete(store, record, settings)
    return {"changed": True, "deleted": [_summary(record)]}


def prune_backups(store, cluster_id, settings, check_mode, now=None):
    """Delete the expired finished backups (of one cluster, or of all when cluster_id is None)."""
    expired = prunable(store.list_backups(cluster_id=cluster_id), now or utcnow())
    if not check_mode:
        for record in expired:
            _delete(store, record, settings)
    return {"changed": bool(expired), "deleted": [_summary(record) for record in expired]}


def _delete(store, record, settings):
    if record.storage_location:
        backend, key = storage_for_location(record.storage_location, record.metadata.get("storage") or {}, settings)
        backend.delete(key)
    try:
        store.delete_backup(record.id)
    except NotFound:
        pass


def _summary(record):
    return {"id": record.id, "cluster_id": record.cluster_id, "type": record.type, "status": record.status,
            "location": record.storage_location,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None}
