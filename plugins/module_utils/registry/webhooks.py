# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Webhook subscribers and delivery records: the Store's methods for the tables of migration 3.

A subscriber's secret is a credential envelope (crypto.py) bound to the subscriber's id;
its ``last_seq`` is the newest registry event already offered to it. Claiming an event
moves the cursor by compare-and-swap, so two controllers delivering at once never send
one event twice to the same subscriber. Every write also appends an audit row.

events/ signs, delivers and dispatches over these public methods; it holds no SQL.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any, Dict, List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict, DuplicateName, UniqueViolation
from ansible_collections.gpve.cluster.plugins.module_utils.registry.transaction import utcnow

ENTITY = "webhook_subscriber"
DEFAULT_POLICY = {"max_attempts": 5, "retry_delay": 1.0, "timeout": 10.0}
_EVENTS = ("SELECT e.seq, e.id, e.cluster_id, e.type, e.reason, e.message, e.metadata, e.timestamp, "
           "c.name AS cluster_name, c.type AS cluster_type FROM cluster_events e JOIN clusters c ON c.id = e.cluster_id "
           "WHERE e.seq > ? ORDER BY e.seq")


@dataclasses.dataclass
class Subscriber:
    id: str
    name: str
    url: str
    event_types: List[str]
    enabled: bool
    last_seq: int
    details: Dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    resource_version: int

    def as_dict(self):
        """Everything but the secret."""
        view = dataclasses.asdict(self)
        view.update(created_at=self.created_at.isoformat(), updated_at=self.updated_at.isoformat())
        return view

    def policy(self):
        return dict(DEFAULT_POLICY, **{key: value for key, value in (self.details or {}).items() if key in DEFAULT_POLICY})


def _subscriber(row):
    return Subscriber(id=row["id"], name=row["name"], url=row["url"],
                      event_types=[item for item in row["event_types"].split(",") if item], enabled=bool(row["enabled"]),
                      last_seq=int(row["last_seq"]), details=row["details"] or {}, created_at=row["created_at"],
                      updated_at=row["updated_at"], resource_version=row["resource_version"])


def _checked(url, event_types):
    if not url or not url.startswith(("https://", "http://")):
        raise ValidationError("url", f"must be an http(s) URL, not {url!r}")
    for pattern in event_types:
        if "," in pattern:
            raise ValidationError("event_types", f"{pattern!r}: one pattern per list item, without commas")
    return ",".join(event_types)


class WebhookOps:
    """Store methods for webhook subscribers, their cursors and delivery records."""

    # subscribers --------------------------------------------------------------------------

    def get_subscriber(self, name) -> Optional[Subscriber]:
        row = self._read(lambda tx: tx.one("SELECT * FROM webhook_subscribers WHERE name = ?", (name,)))
        return _subscriber(row) if row else None

    def list_subscribers(self, enabled_only=False):
        sql = "SELECT * FROM webhook_subscribers" + (" WHERE enabled = 1" if enabled_only else "") + " ORDER BY name"
        return [_subscriber(row) for row in self._read(lambda tx: tx.all(sql))]

    def subscriber_secret(self, subscriber):
        blob = self._read(lambda tx: tx.one("SELECT secret_encrypted FROM webhook_subscribers WHERE id = ?",
                                            (subscriber.id,)))["secret_encrypted"]
        return self.keyring().decrypt(bytes(blob), subscriber.id, kinds.WEBHOOK_SECRET).decode("utf-8")

    def create_subscriber(self, name, url, secret, event_types, details=None, enabled=True, from_now=True):
        types_text = _checked(url, event_types)
        subscriber_id = uuid.uuid4().hex
        keyring = self.keyring(for_encrypt=True)
        blob = keyring.encrypt(secret.encode("utf-8"), subscriber_id, kinds.WEBHOOK_SECRET)

        def work(tx):
            start = tx.one("SELECT COALESCE(MAX(seq), 0) AS seq FROM cluster_events")["seq"] if from_now else 0
            now = utcnow()
            tx.execute("INSERT INTO webhook_subscribers (id, name, url, event_types, secret_encrypted, key_id, enabled, last_seq, "
                       "details, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (subscriber_id, name, url, types_text, blob, keyring.primary_key_id, int(enabled), start,
                        details or {}, now, now))
            self._audit(tx, "create", ENTITY, subscriber_id, None, {"name": name, "url": url, "event_types": types_text})
            return _subscriber(tx.one("SELECT * FROM webhook_subscribers WHERE id = ?", (subscriber_id,)))

        try:
            return self._write(work)
        except UniqueViolation:
            raise DuplicateName("webhook subscriber", name) from None

    def update_subscriber(self, subscriber, url, event_types, details, enabled, secret=None):
        """Compare-and-swap the subscriber's settings (and its secret when given)."""
        types_text = _checked(url, event_types)
        assignments = ["url = ?", "event_types = ?", "details = ?", "enabled = ?"]
        params = [url, types_text, details or {}, int(enabled)]
        if secret is not None:
            keyring = self.keyring(for_encrypt=True)
            assignments += ["secret_encrypted = ?", "key_id = ?"]
            params += [keyring.encrypt(secret.encode("utf-8"), subscriber.id, kinds.WEBHOOK_SECRET), keyring.primary_key_id]

        def work(tx):
            changed = tx.execute(f"UPDATE webhook_subscribers SET {', '.join(assignments)}, updated_at = ?, "
                                 "resource_version = resource_version + 1 WHERE id = ? AND resource_version = ?",
                                 params + [utcnow(), subscriber.id, subscriber.resource_version])
            if changed != 1:
                raise Conflict("webhook subscriber", subscriber.name, subscriber.resource_version)
            self._audit(tx, "update", ENTITY, subscriber.id, None, {"url": url, "event_types": types_text, "enabled": bool(enabled),
                                                                    "secret_changed": secret is not None})
            return _subscriber(tx.one("SELECT * FROM webhook_subscribers WHERE id = ?", (subscriber.id,)))

        return self._write(work)

    def rotate_subscriber_secrets(self):
        """Rewrap every subscriber secret not yet under the keyring's primary key (one transaction); returns how many."""
        keyring = self.keyring(for_encrypt=True)

        def work(tx):
            rows = tx.all("SELECT id, secret_encrypted FROM webhook_subscribers WHERE key_id <> ?", (keyring.primary_key_id,))
            for row in rows:
                plaintext = keyring.decrypt(bytes(row["secret_encrypted"]), row["id"], kinds.WEBHOOK_SECRET)
                tx.execute("UPDATE webhook_subscribers SET secret_encrypted = ?, key_id = ? WHERE id = ?",
                           (keyring.encrypt(plaintext, row["id"], kinds.WEBHOOK_SECRET), keyring.primary_key_id, row["id"]))
            if rows:
                self._audit(tx, "rotate", ENTITY, keyring.primary_key_id, None, {"rewrapped": len(rows)})
            return len(rows)

        return self._write(work)

    def count_subscriber_secrets_not_under(self, key_id):
        """How many subscriber secrets rotate() would rewrap (read only, for check mode)."""
        return self._read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM webhook_subscribers WHERE key_id <> ?", (key_id,))["n"])

    def delete_subscriber(self, subscriber):
        def work(tx):
            tx.execute("DELETE FROM webhook_subscribers WHERE id = ?", (subscriber.id,))
            self._audit(tx, "delete", ENTITY, subscriber.id, None, {"name": subscriber.name})

        self._write(work)

    # events and deliveries ------------------------------------------------------------------

    def events_after(self, seq, limit=100):
        return self._read(lambda tx: tx.all(_EVENTS + " LIMIT ?", (seq, limit)))

    def claim_event(self, subscriber, from_seq, to_seq):
        """Move the cursor from from_seq to to_seq; False when another process moved it first."""
        return self._write(lambda tx: tx.execute("UPDATE webhook_subscribers SET last_seq = ? WHERE id = ? AND last_seq = ?",
                                                 (to_seq, subscriber.id, from_seq))) == 1

    def record_delivery(self, attempt):
        """Store one delivery attempt (a dict with the webhook_deliveries columns but seq and at)."""
        columns = ("id", "subscriber_id", "event_id", "event_type", "attempt", "status_code", "outcome", "error", "details")
        self._write(lambda tx: tx.execute(
            f"INSERT INTO webhook_deliveries ({', '.join(columns)}, at) VALUES ({', '.join('?' for column in columns)}, ?)",
            [attempt.get(column) if column != "details" else attempt.get(column) or {} for column in columns] + [utcnow()]))

    def list_deliveries(self, subscriber_id=None, limit=100):
        """Recorded attempts, newest first."""
        where, params = ("WHERE subscriber_id = ? ", [subscriber_id]) if subscriber_id else ("", [])
        rows = self._read(lambda tx: tx.all(f"SELECT * FROM webhook_deliveries {where}ORDER BY seq DESC LIMIT ?", params + [limit]))
        for row in rows:
            row["at"] = row["at"].isoformat()
        return rows
