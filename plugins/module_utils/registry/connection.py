# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One database connection per process, safe across fork().

Ansible forks workers, and a registry opened in the parent may be used in a child. A
connection inherited through fork() belongs to the parent: using or closing it in the child
would disturb the parent's session (PostgreSQL) or its locks and WAL (SQLite). It is kept
referenced, so never closed by the garbage collector either, and the child opens its own.
"""

from __future__ import annotations

import os

INHERITED = []


class ProcessConnection:
    """Holds the connection opened by this process; open_connection() makes a new one."""

    def __init__(self, open_connection, is_closed=lambda conn: False):
        self.open_connection = open_connection
        self.is_closed = is_closed
        self.conn = None
        self.pid = None

    def get(self):
        if self.conn is not None and self.pid != os.getpid():
            INHERITED.append(self.conn)
            self.conn = None
        if self.conn is None or self.is_closed(self.conn):
            self.conn = self.open_connection()
            self.pid = os.getpid()
        return self.conn

    def forget(self):
        """Drop a broken connection without closing it; the next get() reopens."""
        self.conn = None

    def close(self):
        if self.conn is not None:
            if self.pid == os.getpid():
                self.conn.close()
            else:
                INHERITED.append(self.conn)
        self.conn = None
