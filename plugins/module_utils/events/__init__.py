# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster events out to webhook subscribers, after the seed's Event-Driven Architecture (corrected).

Every phase change and operation is already an event in the registry (cluster_events).
Subscribers (URL, secret, event types) live in the registry too, and each gets every new
event it asked for, signed and retried; every attempt is recorded.

types.py        registry events as the seed's event types (cluster.created, cluster.status.changed...)
signing.py      the signature: HMAC-SHA256 over ``<delivery id>.<timestamp>.<body>``, and its check
delivery.py     one delivery: POST with the X-GPVE-* headers, retried with exponential backoff
dispatch.py     every pending event to every subscriber that wants it
manage.py       what gpve_webhook does: converge one subscriber, or deliver now

The subscribers themselves (secrets encrypted, a cursor each, delivery records) are
registry rows: registry/webhooks.py, migration 3 in registry/schema.py.
"""
