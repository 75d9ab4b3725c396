# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the cluster registry.

Backends translate their driver's exceptions into these, so callers never see a raw
``sqlite3.OperationalError`` ("database is locked") or a psycopg error.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError, ValidationError


class RegistryError(GpveError):
    """Base of every registry error."""


class NotFound(RegistryError):
    """No live row of that kind with that key."""

    def __init__(self, kind, key):
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found in the registry")


class Conflict(RegistryError):
    """A compare-and-swap lost: the row changed since the caller read it. Re-read and retry."""

    def __init__(self, kind, key, expected_version):
        self.kind = kind
        self.key = key
        self.expected_version = expected_version
        super().__init__(f"{kind} {key!r} changed concurrently (expected resource_version {expected_version}); re-read and retry")


class AddressInUse(RegistryError):
    """An IP address is already held by a node of another live cluster."""

    def __init__(self, ip_address, holder):
        self.ip_address = ip_address
        self.holder = holder
        super().__init__(f"IP address {ip_address} is already used by cluster {holder!r}")


class DuplicateName(RegistryError):
    """The name is already taken by a live row of that kind."""

    def __init__(self, kind, name):
        self.kind = kind
        self.name = name
        super().__init__(f"a {kind} named {name!r} already exists in the registry")


class WrongClusterType(ValidationError):
    """The name is held by a live cluster of another type than the one asked for (an error on the ``name`` option)."""

    def __init__(self, name, actual, wanted):
        self.actual = actual
        self.wanted = wanted
        super().__init__("name", f"a {actual} cluster named {name!r} is already registered, not a {wanted} one; choose another name")


class ConstraintViolation(RegistryError):
    """The database rejected a write (NOT NULL, CHECK, foreign key): a bug or bad input below validation."""


class UniqueViolation(ConstraintViolation):
    """A unique index rejected a write; the store turns it into DuplicateName where it knows the name."""


class RegistryUnavailable(RegistryError):
    """The database cannot be opened or reached, or stayed busy past every retry."""

    def __init__(self, location, reason):
        self.location = location
        self.reason = reason
        super().__init__(f"registry {location} unavailable: {reason}")


class SchemaTooNew(RegistryError):
    """The database was migrated by a newer gpve.cluster than this one."""

    def __init__(self, found, supported):
        self.found = found
        self.supported = supported
        super().__init__(f"registry schema version {found} is newer than this collection supports ({supported}); upgrade gpve.cluster")


class MissingDependency(RegistryError):
    """A Python package the chosen backend needs is not installed on the controller."""

    def __init__(self, package, purpose):
        self.package = package
        super().__init__(f"the Python package {package!r} is required for {purpose}; install it on the controller")
