# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup records of clusters (where a backup is, its state and size). They outlive a soft
delete of their cluster, so a deleted cluster can still be restored."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.registry import validation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.clusters import new_id, placeholders, require_live
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict, NotFound
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import Backup
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow

BACKUP_FIELDS = ("status", "storage_location", "size_bytes", "started_at", "completed_at", "expires_at", "metadata")


def _checked(fields):
    validation.known_fields("backup", fields, BACKUP_FIELDS)
    checked = {}
    for field, value in fields.items():
        if field in ("started_at", "completed_at", "expires_at"):
            checked[field] = validation.timestamp(field, value)
        elif field == "size_bytes":
            checked[field] = None if value is None else validation.count(field, value)
        elif field == "metadata":
            checked[field] = validation.document(field, value) or {}
        else:
            checked[field] = validation.text(field, value, max_length=32 if field == "status" else 512, required=field == "status")
    return checked


def _get(tx, backup_id):
    row = tx.one("SELECT * FROM cluster_backups WHERE id = ?", (backup_id,))
    if row is None:
        raise NotFound("backup", backup_id)
    return Backup(**row)


class BackupOps:
    """Store methods for backups."""

    def create_backup(self, cluster_id, type, status="Pending", **fields):  # pylint: disable=redefined-builtin
        """Record a backup of a live cluster; fields: storage_location, size_bytes, started_at, completed_at,
        expires_at, metadata."""
        validation.text("type", type, max_length=32)
        checked = _checked(dict(fields, status=status))

        def work(tx):
            require_live(tx, cluster_id)
            backup_id, now = new_id(), utcnow()
            columns = ["id", "cluster_id", "type", "created_at", "updated_at"] + list(checked)
            tx.execute(f"INSERT INTO cluster_backups ({', '.join(columns)}) VALUES ({placeholders(columns)})",
                       [backup_id, cluster_id, type, now, now] + list(checked.values()))
            self._audit(tx, "create", "backup", backup_id, cluster_id, {"type": type, "status": status})
            return _get(tx, backup_id)

        return self._write(work)

    def get_backup(self, backup_id):
        return self._read(lambda tx: _get(tx, backup_id))

    def update_backup(self, backup_id, expected_version=None, **fields):
        validation.version("expected_version", expected_version)
        checked = _checked(fields)

        def work(tx):
            current = _get(tx, backup_id)
            sql = (f"UPDATE cluster_backups SET {''.join(f'{field} = ?, ' for field in checked)}updated_at = ?, "
                   "resource_version = resource_version + 1 WHERE id = ?")
            params = list(checked.values()) + [utcnow(), backup_id]
            if expected_version is not None:
                sql += " AND resource_version = ?"
                params.append(expected_version)
            if tx.execute(sql, params) != 1:
                raise Conflict("backup", backup_id, expected_version)
            self._audit(tx, "update", "backup", backup_id, current.cluster_id, {"fields": sorted(checked)})
            return _get(tx, backup_id)

        return self._write(work)

    def list_backups(self, cluster_id=None, status=None, type=None, limit=None, offset=0):  # pylint: disable=redefined-builtin
        """Backups newest first, filtered by cluster, status and type."""
        where, params = [], []
        for column, value in (("cluster_id", cluster_id), ("status", status), ("type", type)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)

        def work(tx):
            page, page_params = tx.paginate(limit, offset)
            sql = "SELECT * FROM cluster_backups" + (" WHERE " + " AND ".join(where) if where else "")
            return [Backup(**row) for row in tx.all(sql + " ORDER BY created_at DESC, id" + page, params + page_params)]

        return self._read(work)

    def delete_backup(self, backup_id, expected_version=None):
        """Delete the backup record; NotFound if absent, Conflict if it changed since read."""
        validation.version("expected_version", expected_version)

        def work(tx):
            current = _get(tx, backup_id)
            if expected_version is not None and current.resource_version != expected_version:
                raise Conflict("backup", backup_id, expected_version)
            tx.execute("DELETE FROM cluster_backups WHERE id = ? AND resource_version = ?", (backup_id, current.resource_version))
            self._audit(tx, "delete", "backup", backup_id, current.cluster_id, {})

        self._write(work)
