# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster registry: ``open_registry()`` picks the backend and returns a Store.

Location, in order: the ``location`` argument (a module's ``registry`` option), then
``GPVE_REGISTRY``, then ``$XDG_DATA_HOME/gpve/registry.db`` (``~/.local/share/gpve/registry.db``).
A ``postgresql://`` (or ``postgres://``) DSN selects PostgreSQL; a path selects SQLite; anything else
(another scheme, a libpq key=value string) is refused before anything is opened (redact.check_location),
naming the option it came from and never repeating the value.
"""

from __future__ import annotations

import os

from ansible_collections.gpve.cluster.plugins.module_utils import redact
from ansible_collections.gpve.cluster.plugins.module_utils.registry.audit import detect_actor
from ansible_collections.gpve.cluster.plugins.module_utils.registry.awx import refuse_sqlite_in_awx_job
from ansible_collections.gpve.cluster.plugins.module_utils.registry.keys import KeyringSource, key_file_for
from ansible_collections.gpve.cluster.plugins.module_utils.registry.sqlite_backend import SQLiteBackend
from ansible_collections.gpve.cluster.plugins.module_utils.registry.store import Store

REGISTRY_ENV = "GPVE_REGISTRY"


def default_location(environ=None):
    environ = os.environ if environ is None else environ
    data_home = environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data_home, "gpve", "registry.db")


def resolve_location(location=None, environ=None):
    """The registry location in effect: argument, then GPVE_REGISTRY, then the default path."""
    environ = os.environ if environ is None else environ
    if location:
        return redact.check_location(location, "registry")
    if environ.get(REGISTRY_ENV):
        return redact.check_location(environ[REGISTRY_ENV], REGISTRY_ENV)
    return default_location(environ)


def is_postgres(location):
    return redact.is_dsn(location)


def open_registry(location=None, encryption_key=None, retired_keys=None, actor=None, environ=None):
    """A Store on the resolved location. Connects lazily; the schema is created or migrated on first use.

    encryption_key / retired_keys override GPVE_SECURITY_ENCRYPTION_KEY / GPVE_SECURITY_RETIRED_KEYS
    (base64 strings; retired keys as a list or a comma-separated string). actor names who makes
    the changes in the audit log (default: detected from the environment).
    """
    location = resolve_location(location, environ)
    refuse_sqlite_in_awx_job(is_postgres(location), os.environ if environ is None else environ)
    if is_postgres(location):
        # Imported here: psycopg costs every SQLite user (the inventory, each module run) a noticeable start-up.
        from ansible_collections.gpve.cluster.plugins.module_utils.registry.postgres_backend import PostgresBackend
        backend = PostgresBackend(location)
        key_file = None
    else:
        backend = SQLiteBackend(location)
        key_file = key_file_for(backend.path)
    keys = KeyringSource(key_file, encryption_key, retired_keys, environ)
    return Store(backend, keys, actor=actor or detect_actor(environ))
