# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster events out to webhook subscribers, after the seed's Event-Driven Architecture (corrected).

Every phase change and operation is already an event in the registry (cluster_events).
Subscribers (URL, secret, event types) live in the registry too, and each gets every new
event it asked for, signed and retried; every attempt is recorded.

schema.py       the registry migration adding webhook_subscribers and webhook_deliveries
types.py        registry events as the seed's event types (cluster.created, cluster.status.changed...)
signing.py      the signature: HMAC-SHA256 over ``<delivery id>.<timestamp>.<body>``, and its check
subscribers.py  subscribers in the registry: secrets encrypted, a cursor per subscriber, delivery records
delivery.py     one delivery: POST with the X-GPVE-* headers, retried with exponential backoff
dispatch.py     every pending event to every subscriber that wants it
"""
