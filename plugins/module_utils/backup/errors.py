# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors of the backup room; the module turns each into one message."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError


class BackupError(GpveError):
    """Base of every backup and restore error."""


class ArchiveCorrupt(BackupError):
    """The archive does not match its checksums or its manifest: nothing was written to the cluster."""


class StorageError(BackupError):
    """The backup storage could not be read or written (missing path, bucket, credentials, network)."""


class EtcdError(BackupError):
    """etcdctl / etcdutl failed or is missing; the message carries the tool's own words."""


class SecretsError(BackupError):
    """The Secrets of an archive cannot be decrypted with the registry's keyring."""


class RestoreRefused(BackupError):
    """The restore cannot start: wrong backup state or type, or options that do not fit the backup."""
