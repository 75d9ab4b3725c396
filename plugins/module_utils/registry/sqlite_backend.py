# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The embedded SQLite backend: one file, WAL, safe under many concurrent processes.

- The file is created 0600 (its ``-wal``/``-shm`` companions inherit that mode) in a
  directory created 0700.
- WAL lets readers run while one writer writes; ``synchronous=FULL`` makes every commit
  durable; a killed writer's partial transaction is rolled back on the next open.
- Writes start with ``BEGIN IMMEDIATE`` so the write lock is taken up front (no deadlocking
  read-to-write upgrades); ``busy_timeout`` waits for it, and a bounded retry covers the
  few cases where SQLite reports busy without waiting. "database is locked" never reaches
  the caller: past the last retry it becomes ``RegistryUnavailable``.
- One connection per process, opened lazily and reopened after a fork.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3

from ansible_collections.gpve.cluster.plugins.module_utils import files
from ansible_collections.gpve.cluster.plugins.module_utils.registry import schema
from ansible_collections.gpve.cluster.plugins.module_utils.registry.connection import ProcessConnection
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import (
    ConstraintViolation, RegistryUnavailable, SchemaTooNew, UniqueViolation)
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import Json, Transaction, as_utc, backoff, utcnow

BUSY_TIMEOUT_S = 15.0
MAX_ATTEMPTS = 12
_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (low byte of the extended code)


def encode_time(value):
    """ISO 8601 in UTC with microseconds: sorts as text in time order."""
    return as_utc(value).isoformat(timespec="microseconds")


class SQLiteTransaction(Transaction):

    def labels_match(self, column, labels):
        clauses, params = [], []
        for key, value in sorted(labels.items()):
            if '"' in key:  # a JSON path cannot quote this key: match through json_each instead
                clauses.append(f"EXISTS (SELECT 1 FROM json_each({column}) AS label WHERE label.key = ? AND label.value = ?)")
                params.extend((key, value))
            else:
                clauses.append(f"json_extract({column}, ?) = ?")
                params.extend((f'$."{key}"', value))
        return " AND ".join(clauses), params

    def serialize(self, name):
        """Nothing to do: BEGIN IMMEDIATE already runs SQLite writers one at a time."""

    def paginate(self, limit, offset):
        if limit is None and not offset:
            return "", []
        return " LIMIT ? OFFSET ?", [-1 if limit is None else limit, offset or 0]

    def _param(self, value):
        if isinstance(value, Json):
            value = value.value
            return json.dumps(value, sort_keys=True, separators=(",", ":"))
        if isinstance(value, (dict, list)):
            return json.dumps(value, sort_keys=True, separators=(",", ":"))
        if isinstance(value, datetime.datetime):
            return encode_time(value)
        return value

    def _decoder(self):
        converters = []
        for index, description in enumerate(self._cursor.description):
            column = description[0].rsplit("__", 1)[-1]  # "status__conditions" is a status.conditions column
            if column in schema.JSON_COLUMNS:
                converters.append((index, _json_value))
            elif column in schema.TIME_COLUMNS:
                converters.append((index, datetime.datetime.fromisoformat))
        names = [description[0] for description in self._cursor.description]

        def decode(row):
            values = list(row)
            for index, convert in converters:
                if isinstance(values[index], str):
                    values[index] = convert(values[index])
            return dict(zip(names, values))

        return decode


def _json_value(text):
    # Most documents are empty: skip the parser for them (reads of many clusters add up).
    if text == "{}":
        return {}
    if text == "[]":
        return []
    return json.loads(text)


def _is_busy(exc):
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _BUSY_CODES
    message = str(exc).lower()
    return "locked" in message or "busy" in message


class SQLiteBackend:
    dialect = schema.SQLITE

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.location = self.path
        self._connection = ProcessConnection(lambda: self._retry(self._open, writing=False))

    # Connection -------------------------------------------------------------------------

    def _open(self):
        self._prepare_file()
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False, cached_statements=256)
        except sqlite3.Error as exc:
            raise RegistryUnavailable(self.location, str(exc)) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._ensure_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare_file(self):
        directory = os.path.dirname(self.path)
        try:
            files.make_private_dirs(directory)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            if os.stat(self.path).st_mode & 0o077:
                os.chmod(self.path, 0o600)
        except OSError as exc:
            raise RegistryUnavailable(self.location, f"cannot create the database file: {exc.strerror}") from None

    def _ensure_schema(self, conn):
        current = self._schema_version(conn)
        if current > schema.LATEST_VERSION:
            raise SchemaTooNew(current, schema.LATEST_VERSION)
        if current == schema.LATEST_VERSION:
            return
        # Table rebuilds must not cascade deletes: foreign keys off for the migration only.
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                tx = SQLiteTransaction(conn.cursor())
                for migration in schema.pending(self.dialect, self._schema_version(conn)):
                    schema.apply(tx, migration, utcnow())
                broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RegistryUnavailable(self.location, f"migration left dangling references: {broken[:3]}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.execute("PRAGMA foreign_keys = ON")

    @staticmethod
    def _schema_version(conn):
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone() is None:
            return 0
        return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    def peek_schema_version(self):
        """The schema version on disk without creating or migrating anything; None when there is no database."""
        if not os.path.exists(self.path):
            return None
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise RegistryUnavailable(self.location, str(exc)) from None
        try:
            return self._schema_version(conn)
        finally:
            conn.close()

    def close(self):
        self._connection.close()

    # Transactions -----------------------------------------------------------------------

    def write(self, work):
        """Run work(tx) in one write transaction; retried whole while the database is busy."""
        return self._retry(lambda: self._run(work, "BEGIN IMMEDIATE"), writing=True)

    def read(self, work, snapshot=False):
        """Run work(tx) in one read transaction (a consistent snapshot in WAL mode)."""
        return self._retry(lambda: self._run(work, "BEGIN"), writing=False)

    def _run(self, work, begin):
        conn = self._connection.get()
        conn.execute(begin)
        try:
            result = work(SQLiteTransaction(conn.cursor()))
            conn.execute("COMMIT")
            return result
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _retry(self, attempt_once, writing):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return attempt_once()
            except sqlite3.IntegrityError as exc:
                raise self._constraint(exc) from None
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise RegistryUnavailable(self.location, str(exc)) from None
                if attempt == MAX_ATTEMPTS:
                    what = "write lock" if writing else "database"
                    raise RegistryUnavailable(self.location, f"the {what} stayed busy through {MAX_ATTEMPTS} attempts") from None
                backoff(attempt)
            except sqlite3.DatabaseError as exc:
                raise RegistryUnavailable(self.location, str(exc)) from None
        raise AssertionError("unreachable")

    @staticmethod
    def _constraint(exc):
        message = str(exc)
        if message.startswith("UNIQUE constraint failed"):
            return UniqueViolation(message)
        return ConstraintViolation(message)
