# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry upkeep for the gpve_registry module: create or migrate the schema, rewrap credentials.

Check mode reads only: the schema version is peeked without migrating, and credentials
are counted by the key id in their envelope, never decrypted or rewritten.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils import checks, crypto
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import schema


def maintain(store, rotate_credentials, check_mode):
    """Bring the registry to the current schema (and the primary key); returns the module result.

    A SQLite registry's file is checked writable (a file, in a directory this user may write) before it is opened,
    and for a rotation its key file is read (refused when insecure or not a key) before the schema is created.
    """
    if store.dialect == schema.SQLITE:
        checks.writable_destination(store.location, "registry")
    if rotate_credentials:
        try:
            store.keyring()  # reads the key file; creates none
        except (crypto.CryptoError, crypto.InvalidKey) as exc:
            raise ValidationError("registry", f"the registry's key file is refused: {exc}") from None
    before = store.peek_schema_version()
    schema_changes = before != schema.LATEST_VERSION
    result = dict(registry=dict(location=store.location, backend=store.dialect, previous_schema_version=before,
                                schema_version=schema.LATEST_VERSION))
    if not check_mode:
        result["registry"]["schema_version"] = store.schema_version()  # opening creates or migrates
    rotation = None
    if rotate_credentials:
        rotation = _planned_rotation(store, before) if check_mode else _rotation(store)
        result["rotation"] = rotation
    result["changed"] = schema_changes or bool(rotation and (rotation["rewrapped"] or rotation["webhook_secrets_rewrapped"]))
    result["diff"] = dict(before=dict(schema_version=before), after=dict(schema_version=schema.LATEST_VERSION))
    return result


def _rotation(store):
    """Rewrap cluster credentials, then webhook secrets: every secret the registry holds."""
    rotation = store.rotate_credentials().as_dict()
    rotation["webhook_secrets_rewrapped"] = store.rotate_subscriber_secrets()
    return rotation


def _planned_rotation(store, stored_version):
    """What a rotation would rewrap, from the envelopes' key ids; nothing is opened for writing."""
    if stored_version != schema.LATEST_VERSION:
        return dict(key_id=None, rewrapped=None, already_current=None, webhook_secrets_rewrapped=None)
    keyring = store.keyring()
    credentials = store.list_credentials()
    current = sum(1 for credential in credentials if credential.key_id == keyring.primary_key_id)
    return dict(key_id=keyring.primary_key_id, rewrapped=len(credentials) - current, already_current=current,
                webhook_secrets_rewrapped=store.count_subscriber_secrets_not_under(keyring.primary_key_id))
