# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared PostgreSQL backend, through psycopg 3.

- Compare-and-swap writes (``UPDATE ... WHERE resource_version = ?``) are safe under READ
  COMMITTED: a concurrent writer blocks on the row lock, then re-checks the condition
  against the committed row and matches nothing, so the loser sees ``Conflict``.
- Serialization failures and deadlocks are retried whole; a connection found dead before
  its transaction did anything is reopened once. Other failures become registry errors.
- Migrations take a transaction-scoped advisory lock, so concurrent first opens of an empty
  database migrate it exactly once. The session runs in UTC.
"""

from __future__ import annotations

import traceback
from ansible_collections.gpve.cluster.plugins.module_utils.redact import redacted, scrub, secrets
from ansible_collections.gpve.cluster.plugins.module_utils.registry import schema
from ansible_collections.gpve.cluster.plugins.module_utils.registry.connection import ProcessConnection
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import (
    ConstraintViolation, MissingDependency, RegistryUnavailable, SchemaTooNew, UniqueViolation)
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import Json, Transaction, backoff, utcnow

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.rows import dict_row
    from psycopg.types.json import Jsonb
except ImportError:
    psycopg = None
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()
else:
    PSYCOPG_IMPORT_ERROR = None

MAX_ATTEMPTS = 12
CONNECT_TIMEOUT_S = 10
_MIGRATION_LOCK = 7242851902  # advisory lock id: "gpve registry schema"


def redact(dsn):
    """The DSN without its password, for messages (redact.redacted: user info and query)."""
    return redacted(dsn)


class PostgresTransaction(Transaction):

    def labels_match(self, column, labels):
        return f"{column} @> ?", [dict(labels)]

    def paginate(self, limit, offset):
        return " LIMIT ? OFFSET ?", [limit, offset or 0]

    def serialize(self, name):
        self.one("SELECT pg_advisory_xact_lock(hashtext(?)) AS locked", ("gpve.cluster/" + name,))

    def _sql(self, sql):
        return sql.replace("%", "%%").replace("?", "%s")

    def _param(self, value):
        if isinstance(value, Json):
            return Jsonb(value.value)
        if isinstance(value, (dict, list)):
            return Jsonb(value)
        return value

    def _decoder(self):
        def decode(row):
            return {key: bytes(value) if isinstance(value, memoryview) else value for key, value in row.items()}

        return decode


class PostgresBackend:
    dialect = schema.POSTGRESQL

    def __init__(self, dsn):
        if psycopg is None:
            raise MissingDependency("psycopg", f"a PostgreSQL registry ({PSYCOPG_IMPORT_ERROR.strip().splitlines()[-1]})")
        self.dsn = dsn
        self.location = redact(dsn)
        self._secrets = secrets(dsn)
        self._connection = ProcessConnection(self._open, is_closed=lambda conn: conn.closed)

    def _open(self):
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name="gpve.cluster")
        except psycopg.Error as exc:
            raise RegistryUnavailable(self.location, self._said(exc)) from None
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            self._ensure_schema(conn)
        except psycopg.Error as exc:
            conn.close()
            raise RegistryUnavailable(self.location, f"schema setup failed: {self._said(exc)}") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _ensure_schema(self, conn):
        if self._schema_version(conn) == schema.LATEST_VERSION:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            current = self._schema_version(conn)
            if current > schema.LATEST_VERSION:
                raise SchemaTooNew(current, schema.LATEST_VERSION)
            tx = PostgresTransaction(conn.cursor())
            for migration in schema.pending(self.dialect, current):
                schema.apply(tx, migration, utcnow())

    @staticmethod
    def _schema_version(conn):
        present = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL AS present").fetchone()["present"]
        if not present:
            return 0
        return conn.execute("SELECT COALESCE(MAX(version), 0) AS version FROM schema_version").fetchone()["version"]

    def peek_schema_version(self):
        """The schema version in the database without creating or migrating anything (0: no schema yet)."""
        try:
            with psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_S,
                                 application_name="gpve.cluster") as conn:
                return self._schema_version(conn)
        except psycopg.Error as exc:
            raise RegistryUnavailable(self.location, self._said(exc)) from None

    def close(self):
        self._connection.close()

    def write(self, work):
        return self._retry(work, read_only=False)

    def read(self, work, snapshot=False):
        return self._retry(work, read_only=True, snapshot=snapshot)

    def _run(self, work, read_only, snapshot):
        conn = self._connection.get()
        tx = PostgresTransaction(conn.cursor())
        try:
            with conn.transaction():
                if snapshot:
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                elif read_only:
                    conn.execute("SET TRANSACTION READ ONLY")
                return work(tx)
        except psycopg.OperationalError:
            if conn.broken or conn.closed:
                self._connection.forget()
                if tx.statements == 0:
                    raise _Reconnect() from None
            raise

    def _retry(self, work, read_only, snapshot=False):
        reconnected = False
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return self._run(work, read_only, snapshot)
            except _Reconnect:
                if reconnected:
                    raise RegistryUnavailable(self.location, "connection lost twice in a row") from None
                reconnected = True
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as exc:
                if attempt == MAX_ATTEMPTS:
                    raise RegistryUnavailable(self.location, f"kept conflicting: {self._said(exc)}") from None
                backoff(attempt)
            except pg_errors.UniqueViolation as exc:
                raise UniqueViolation(self._said(exc)) from None
            except (pg_errors.IntegrityError, pg_errors.DataError) as exc:
                raise ConstraintViolation(self._said(exc)) from None
            except psycopg.Error as exc:
                raise RegistryUnavailable(self.location, self._said(exc)) from None
        raise AssertionError("unreachable")

    def _said(self, exc):
        """The first line of a driver error, any DSN secret in it masked (libpq may quote the connection string)."""
        return scrub(_first_line(exc), self._secrets)


class _Reconnect(Exception):
    """The connection was dead before the transaction started: safe to reopen and rerun."""


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
