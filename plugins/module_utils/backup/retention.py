# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How long a backup is kept, and which ones a prune removes.

A backup expires ``retention_hours`` after it started (720 by default, the seed's 30
days; 0 keeps it until deleted by id). A prune removes the expired backups that are
finished (Completed or Failed): one still Running is never pruned from under its writer.
"""

from __future__ import annotations

import datetime

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

DEFAULT_RETENTION_HOURS = 720
FINISHED = ("Completed", "Failed")


def expiry(started_at, retention_hours):
    """When a backup started at started_at expires; None for retention_hours 0 (kept until deleted)."""
    if retention_hours is None:
        retention_hours = DEFAULT_RETENTION_HOURS
    if retention_hours < 0:
        raise ValidationError("retention_hours", "must be 0 (keep) or a positive number of hours")
    if retention_hours == 0:
        return None
    return started_at + datetime.timedelta(hours=retention_hours)


def prunable(backups, now):
    """The finished backups whose expiry has passed, oldest first."""
    expired = [backup for backup in backups
               if backup.status in FINISHED and backup.expires_at is not None and backup.expires_at <= now]
    return sorted(expired, key=lambda backup: (backup.expires_at, backup.id))
