# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which keys a registry uses, resolved on the first credential operation (so reading
clusters never needs a key and never creates a key file).

- A configured key (the ``encryption_key`` argument, else ``GPVE_SECURITY_ENCRYPTION_KEY``)
  is the primary key; retired keys (argument, else ``GPVE_SECURITY_RETIRED_KEYS``) decrypt only.
- SQLite without a configured key: the key file next to the database (``registry.db`` ->
  ``registry.key``, 0600) is the primary key; the first credential write creates it, and
  says so through the store's notices. With a configured key, an existing key file's key
  is added as a retired key, so a rotation can move everything to the configured key.
- PostgreSQL: a shared database needs the key from configuration; there is no key file.
"""

from __future__ import annotations

import os

from ansible_collections.gpve.cluster.plugins.module_utils import crypto


def key_file_for(database_path):
    root, _ext = os.path.splitext(database_path)
    return root + ".key"


class KeyringSource:
    """Builds the keyring once per store; ``for_encrypt`` may create the SQLite key file."""

    def __init__(self, key_file=None, encryption_key=None, retired_keys=None, environ=None):
        self.key_file = key_file
        self._primary, self._retired = crypto.keys_from_environment(environ, encryption_key, retired_keys)
        self._keyring = None
        self.notices = []

    def get(self, for_encrypt=False):
        if self._keyring is not None and (self._keyring.primary_key_id or not for_encrypt):
            return self._keyring
        primary, retired = self._primary, list(self._retired)
        if self.key_file is not None:
            file_key = crypto.read_key_file(self.key_file)
            if primary is None and file_key is None and for_encrypt:
                file_key, created = crypto.create_key_file(self.key_file)
                if created:
                    self.notices.append(
                        f"generated a credential encryption key in {self.key_file} (mode 0600); back it up with the "
                        f"registry, or set {crypto.KEY_ENV}: credentials cannot be decrypted without it")
            if primary is None:
                primary = file_key
            elif file_key is not None:
                retired.append(file_key)
        keyring = crypto.Keyring(primary, retired)
        if self.key_file is None:
            keyring.missing_primary_reason = f"a PostgreSQL registry needs {crypto.KEY_ENV} (no key file is used for shared databases)"
        self._keyring = keyring
        return keyring
