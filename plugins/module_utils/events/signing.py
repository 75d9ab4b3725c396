# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Webhook signatures: HMAC-SHA256 over ``<delivery id>.<timestamp>.<body>``.

Signing the id and the timestamp with the body (not the body alone, as the seed did) lets
a receiver reject a replayed delivery: one whose timestamp is too old, or whose id it has
already seen. Headers of every delivery::

    X-GPVE-Event: cluster.status.changed
    X-GPVE-Delivery: <delivery id, the same for every retry of one delivery>
    X-GPVE-Timestamp: <Unix seconds when this attempt was sent>
    X-GPVE-Signature: sha256=<hex HMAC-SHA256(secret, id + "." + timestamp + "." + body)>
"""

from __future__ import annotations

import hashlib
import hmac

EVENT_HEADER = "X-GPVE-Event"
DELIVERY_HEADER = "X-GPVE-Delivery"
TIMESTAMP_HEADER = "X-GPVE-Timestamp"
SIGNATURE_HEADER = "X-GPVE-Signature"
SCHEME = "sha256="
DEFAULT_TOLERANCE = 300


def _message(delivery_id, timestamp, body):
    return b".".join((delivery_id.encode("ascii"), str(int(timestamp)).encode("ascii"), body))


def sign(secret, delivery_id, timestamp, body):
    digest = hmac.new(secret.encode("utf-8"), _message(delivery_id, timestamp, body), hashlib.sha256).hexdigest()
    return SCHEME + digest


def headers(secret, event_kind, delivery_id, timestamp, body):
    return {"Content-Type": "application/json", "User-Agent": "gpve.cluster-webhook", EVENT_HEADER: event_kind,
            DELIVERY_HEADER: delivery_id, TIMESTAMP_HEADER: str(int(timestamp)),
            SIGNATURE_HEADER: sign(secret, delivery_id, timestamp, body)}


def verify(secret, delivery_id, timestamp, body, signature, now, tolerance=DEFAULT_TOLERANCE):
    """True when signature is right for these values and timestamp is within tolerance seconds of now."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except (TypeError, ValueError):
        return False
    return fresh and hmac.compare_digest(sign(secret, delivery_id, timestamp, body), signature or "")
