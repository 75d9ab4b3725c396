# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets in an archive are sealed with the registry's keyring (crypto.py's AES-256-GCM envelope).

A whole member is sealed, not only ``data``: annotations such as kubectl's
last-applied-configuration repeat the values. The envelope's authenticated data binds it
to the backup id and the member name, so a member copied into another archive (or to
another place in the same one) does not decrypt. Restoring needs the key that sealed it:
the registry's primary key at backup time, or the same key kept as a retired key.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.backup.errors import SecretsError
from ansible_collections.gpve.cluster.plugins.module_utils.crypto import CryptoError

SEALED_RESOURCES = ("secrets",)
_PURPOSE = "backup-member:"


def is_sealed_resource(rtype):
    return rtype.qualified in SEALED_RESOURCES


def seal(keyring, backup_id, member_name, plaintext):
    """The envelope of plaintext (bytes) for member_name of backup backup_id."""
    try:
        return keyring.encrypt(plaintext, backup_id, _PURPOSE + member_name)
    except CryptoError as error:
        raise SecretsError(f"cannot seal the Secrets of backup {backup_id}: {error}") from None


def unseal(keyring, backup_id, member_name, envelope):
    try:
        return keyring.decrypt(envelope, backup_id, _PURPOSE + member_name)
    except CryptoError as error:
        raise SecretsError(f"cannot open the Secrets in {member_name} of backup {backup_id}: {error}") from None
