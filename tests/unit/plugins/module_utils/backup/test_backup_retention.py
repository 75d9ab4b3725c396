"""Expiry of backups and which ones a prune takes."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.backup.retention import expiry, prunable
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry.records import Backup

pytestmark = pytest.mark.backup
NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


def _backup(backup_id, status, hours_ago_expired):
    expires = None if hours_ago_expired is None else NOW - datetime.timedelta(hours=hours_ago_expired)
    return Backup(id=backup_id, cluster_id="c", type="resources", status=status, storage_location=None, size_bytes=None,
                  started_at=None, completed_at=None, expires_at=expires, metadata={}, created_at=NOW, updated_at=NOW,
                  resource_version=1)


def test_expiry_defaults_to_thirty_days_zero_keeps_negative_refused():
    assert expiry(NOW, None) == NOW + datetime.timedelta(hours=720)
    assert expiry(NOW, 2) == NOW + datetime.timedelta(hours=2)
    assert expiry(NOW, 0) is None
    with pytest.raises(ValidationError):
        expiry(NOW, -1)


def test_prune_takes_expired_finished_backups_oldest_first():
    backups = [_backup("fresh", "Completed", -5), _backup("old", "Completed", 10), _backup("older", "Failed", 20),
               _backup("running", "Running", 30), _backup("kept", "Completed", None)]
    assert [backup.id for backup in prunable(backups, NOW)] == ["older", "old"]
