# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry option every gpve.cluster module and plugin shares."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  registry:
    description:
      - Where the cluster registry lives.
      - A filesystem path selects the embedded SQLite backend; a C(postgresql://) DSN selects PostgreSQL.
      - When unset, the environment variable C(GPVE_REGISTRY) is used, then C($XDG_DATA_HOME/gpve/registry.db)
        (C(~/.local/share/gpve/registry.db)).
      - Credentials in the registry are encrypted with the key in C(GPVE_SECURITY_ENCRYPTION_KEY).
        With SQLite and no key set, one is generated once into C(registry.key) next to the database.
        With PostgreSQL the key is required.
    type: str
requirements:
  - cryptography >= 42 (the registry encrypts credentials)
  - psycopg >= 3.1 (only for a PostgreSQL registry)
"""
