# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy of every Kubernetes request, reads and writes alike, as client-go's.

An answer that asks to come back later - 429 Too Many Requests (API Priority and Fairness) or a
5xx, with a Retry-After header - was not served and is tried again after the server's wait, at
most MAX_RETRY_AFTER seconds each, up to MAX_RETRIES times. Any other answer is final.
Both wires of kube/connect.py send through ``send``.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import retry_after_seconds

THROTTLED = 429
MAX_RETRIES = 10
MAX_RETRY_AFTER = 10


def wait_before_retry(status, retry_after, attempt):
    """Seconds to wait before trying attempt+1 of an answer with status and Retry-After seconds; None: it is final."""
    if retry_after is None or attempt >= MAX_RETRIES or not (status == THROTTLED or status >= 500):
        return None
    return min(retry_after, MAX_RETRY_AFTER)


def send(attempt_once, sleep):
    """attempt_once() (an answer with status and headers), repeated while the answer asks to come back later."""
    attempt = 0
    while True:
        answer = attempt_once()
        wait = wait_before_retry(answer.status, retry_after_seconds(answer.headers), attempt)
        if wait is None:
            return answer
        attempt += 1
        sleep(wait)
