#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_registry
short_description: Create, migrate and rekey the gpve cluster registry
version_added: 0.1.0
description:
  - Creates the cluster registry or migrates its schema in place to the version this collection needs.
    Every other gpve.cluster module does this on first use too; this module makes it an explicit step, for
    example before a shared PostgreSQL registry is handed to several controllers.
  - With O(rotate_credentials=true), rewraps every stored credential under the current encryption key in one
    transaction, then every webhook subscriber secret, and reports how many. Retire the old key by moving it to O(retired_keys) (or
    C(GPVE_SECURITY_RETIRED_KEYS)) and setting the new one as O(encryption_key) (or C(GPVE_SECURITY_ENCRYPTION_KEY)).
    A credential that no key in the keyring opens aborts the rotation, changes nothing and names its key id.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
  - gpve.cluster.registry
attributes:
  check_mode:
    support: full
    details: Reads the stored schema version and the key ids of the stored credentials; creates, migrates and rewraps nothing.
  diff_mode:
    support: full
    details: Before and after schema versions.
  idempotent:
    support: full
options:
  rotate_credentials:
    description:
      - Rewrap every credential that is not yet encrypted with the current key.
    type: bool
    default: false
  encryption_key:
    description:
      - The current credential encryption key, base64 of 32 bytes.
      - When unset, the environment variable C(GPVE_SECURITY_ENCRYPTION_KEY) is used, then (SQLite only) the key file
        next to the database.
    type: str
  retired_keys:
    description:
      - Earlier keys, base64 of 32 bytes each, used only to decrypt.
      - When unset, the environment variable C(GPVE_SECURITY_RETIRED_KEYS) (comma-separated) is used.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Create or migrate the shared registry before the first run
  gpve.cluster.gpve_registry:
    registry: "postgresql://gpve@db.example.com/gpve"
    encryption_key: "{{ vault_gpve_encryption_key }}"

- name: Rotate the credential encryption key
  gpve.cluster.gpve_registry:
    rotate_credentials: true
    encryption_key: "{{ vault_gpve_new_key }}"
    retired_keys:
      - "{{ vault_gpve_old_key }}"
  register: rotation

- name: Say how many credentials were rewrapped
  ansible.builtin.debug:
    msg: "{{ rotation.rotation.rewrapped }} credentials now under key {{ rotation.rotation.key_id }}"
"""

RETURN = r"""
registry:
  description: Where the registry is and its schema.
  returned: always
  type: dict
  contains:
    location:
      description: The SQLite path or the PostgreSQL DSN without its password.
      type: str
      sample: /home/ops/.local/share/gpve/registry.db
    backend:
      description: C(sqlite) or C(postgresql).
      type: str
      sample: sqlite
    previous_schema_version:
      description: The schema version before this run; null when there was no database, 0 for an empty PostgreSQL one.
      type: int
      sample: 1
    schema_version:
      description: The schema version after this run (in check mode, the version a real run would reach).
      type: int
      sample: 2
rotation:
  description: What the key rotation did (in check mode, would do).
  returned: when O(rotate_credentials=true)
  type: dict
  contains:
    key_id:
      description: Id of the key every credential is now encrypted with.
      type: str
      sample: 3f9c1a2b7d4e5f60
    rewrapped:
      description: Credentials rewrapped by this run.
      type: int
      sample: 12
    already_current:
      description: Credentials that were already under the current key.
      type: int
      sample: 0
    webhook_secrets_rewrapped:
      description: Webhook subscriber secrets rewrapped by this run.
      type: int
      sample: 1
"""


from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.registry.maintenance import maintain
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def main():
    module = GpveModule(
        argument_spec=dict(
            registry=dict(type='str'),
            rotate_credentials=dict(type='bool', default=False),
            encryption_key=dict(type='str', no_log=True),
            retired_keys=dict(type='list', elements='str', no_log=True),
        ),
        supports_check_mode=True,
    )
    run_on_registry(module, lambda store: maintain(store, module.params['rotate_credentials'], module.check_mode),
                    deliver_events=False, encryption_key=module.params['encryption_key'],
                    retired_keys=module.params['retired_keys'])


if __name__ == '__main__':
    main()
