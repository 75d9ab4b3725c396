# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One webhook delivery: POST the signed body, retry with exponential backoff, report every attempt.

A 2xx answer delivers. A connection error, a timeout, 408, 425, 429 or a 5xx is retried
after ``retry_delay * 2^(attempt-1)`` seconds (with 20% jitter, at most a minute) up to
``max_attempts``; any other answer (a receiver rejecting the signature or a replay) is
final. Each attempt is signed anew with the time it is sent; the delivery id stays.
"""

from __future__ import annotations

import random
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.gpve.cluster.plugins.module_utils.events import signing

RETRYABLE = frozenset((408, 425, 429, 500, 502, 503, 504))
MAX_DELAY = 60.0
DELIVERED = "delivered"
REJECTED = "rejected"
RETRYING = "retrying"
GAVE_UP = "gave_up"


def backoff(attempt, retry_delay):
    return min(MAX_DELAY, retry_delay * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2))


def _post(url, body, headers, timeout):
    """(status code or None, error text or None)."""
    try:
        answer = open_url(url, data=body, headers=headers, method="POST", timeout=timeout, follow_redirects="none")
        return answer.getcode(), None
    except HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:300]


def deliver(target, body, policy, record, clock=time.time, sleep=time.sleep):
    """Deliver body to target (url, secret, kind, delivery id); record(attempt dict) after each try.

    Returns the final outcome: delivered, rejected or gave_up.
    """
    attempts = max(1, int(policy["max_attempts"]))
    for attempt in range(1, attempts + 1):
        headers = signing.headers(target["secret"], target["kind"], target["delivery_id"], clock(), body)
        status, error = _post(target["url"], body, headers, float(policy["timeout"]))
        if status is not None and 200 <= status < 300:
            outcome = DELIVERED
        elif status is not None and status not in RETRYABLE:
            outcome = REJECTED
        else:
            outcome = RETRYING if attempt < attempts else GAVE_UP
        record({"attempt": attempt, "status_code": status, "outcome": outcome, "error": error})
        if outcome != RETRYING:
            return outcome
        sleep(backoff(attempt, float(policy["retry_delay"])))
    return GAVE_UP
