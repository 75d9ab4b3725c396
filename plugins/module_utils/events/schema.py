# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry migration 3: webhook subscribers and their delivery records (both SQL dialects).

registry/schema.py lists it in MIGRATIONS; the statements live here, next to the code that
uses the tables. Column names reuse the registry's typed names so both backends convert
them: ``details`` is JSON, ``created_at``/``updated_at``/``at`` are timestamps.

- webhook_subscribers: name (unique), url, event types (comma-separated patterns), the
  secret as a credential envelope with its key id, enabled, ``last_seq`` (the newest event
  already offered: the subscriber's cursor), retry policy in ``details``, resource_version.
- webhook_deliveries: one row per attempt: delivery id (shared by the retries of one
  delivery), subscriber, event id and type, attempt number, HTTP status, outcome, error.
"""

from __future__ import annotations

DESCRIPTION = "webhook subscribers and delivery records"

_SQLITE = """
CREATE TABLE webhook_subscribers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL DEFAULT '*',
    secret_encrypted BLOB NOT NULL,
    key_id TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_seq INTEGER NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resource_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    subscriber_id TEXT NOT NULL REFERENCES webhook_subscribers(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    outcome TEXT NOT NULL,
    error TEXT,
    at TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_webhook_deliveries_subscriber ON webhook_deliveries(subscriber_id, seq)
"""

_POSTGRESQL = """
CREATE TABLE webhook_subscribers (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    url VARCHAR(2048) NOT NULL,
    event_types TEXT NOT NULL DEFAULT '*',
    secret_encrypted BYTEA NOT NULL,
    key_id VARCHAR(64) NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_seq BIGINT NOT NULL DEFAULT 0,
    details JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    resource_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE webhook_deliveries (
    seq BIGSERIAL PRIMARY KEY,
    id VARCHAR(64) NOT NULL,
    subscriber_id VARCHAR(64) NOT NULL REFERENCES webhook_subscribers(id) ON DELETE CASCADE,
    event_id VARCHAR(64) NOT NULL,
    event_type VARCHAR(64) NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    outcome VARCHAR(32) NOT NULL,
    error TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_webhook_deliveries_subscriber ON webhook_deliveries(subscriber_id, seq)
"""

STATEMENTS = {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}


def steps(dialect):
    """The migration's statements for dialect ("sqlite" or "postgresql")."""
    return [statement.strip() for statement in STATEMENTS[dialect].split(";\n") if statement.strip()]
