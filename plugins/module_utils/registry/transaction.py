# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction handle a backend gives the store, and the retry pacing both backends use.

The store writes SQL once, with ``?`` placeholders and plain Python values (dicts and
lists for JSON columns, aware datetimes for timestamps, bytes for blobs); each backend's
subclass adapts parameters, placeholders and result rows to its driver, and supplies the
two fragments that differ between dialects (label containment and pagination).
"""

from __future__ import annotations

import abc
import datetime
import random
import time

UTC = datetime.timezone.utc


def utcnow():
    """Now, timezone-aware UTC, at microsecond precision (what both backends store)."""
    return datetime.datetime.now(UTC)


def as_utc(value):
    """An aware UTC datetime; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def backoff(attempt, base=0.005, cap=0.25):
    """Sleep a jittered, exponentially growing delay before retry number attempt (from 1)."""
    time.sleep(random.uniform(0, min(cap, base * (2 ** attempt))))


class Json:
    """Marks a value for a JSON column whatever its Python type (a string, a number, a list...)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def json_or_null(value):
    return None if value is None else Json(value)


class Transaction(abc.ABC):
    """One open transaction. Instances live only inside Backend.write/read callbacks."""

    def __init__(self, cursor):
        self._cursor = cursor
        self.statements = 0
        self.rows_changed = 0

    def execute(self, sql, params=()):
        """Run one statement; return the number of rows it changed (counted in rows_changed)."""
        self._run(sql, params)
        changed = self._cursor.rowcount
        self.rows_changed += max(changed or 0, 0)
        return changed

    def one(self, sql, params=()):
        """The first row as a dict, or None."""
        self._run(sql, params)
        row = self._cursor.fetchone()
        return None if row is None else self._decoder()(row)

    def all(self, sql, params=()):
        """Every row as a list of dicts."""
        self._run(sql, params)
        decode = self._decoder()
        return [decode(row) for row in self._cursor.fetchall()]

    def _run(self, sql, params):
        self.statements += 1
        self._cursor.execute(self._sql(sql), [self._param(value) for value in params])

    # Dialect hooks ----------------------------------------------------------------------

    @abc.abstractmethod
    def labels_match(self, column, labels):
        """(SQL condition, params): the JSON object in column contains every key/value of labels."""

    @abc.abstractmethod
    def paginate(self, limit, offset):
        """(SQL suffix, params) for LIMIT/OFFSET; limit None means no limit."""

    @abc.abstractmethod
    def serialize(self, name):
        """Make write transactions that call serialize(name) run one at a time (until commit)."""

    def _sql(self, sql):
        return sql

    def _param(self, value):
        return value

    def _decoder(self):
        """A function turning one result row of the last statement into a dict of Python values."""
        return dict
