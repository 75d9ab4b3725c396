# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health statuses and the record of one check."""

from __future__ import annotations

import dataclasses
import datetime
import time

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"
STATUSES = (HEALTHY, DEGRADED, UNHEALTHY, UNKNOWN)
_SEVERITY = {HEALTHY: 0, UNKNOWN: 0, DEGRADED: 1, UNHEALTHY: 2}


@dataclasses.dataclass
class Check:
    """One check: its status, a message a person can act on, when it started and how long it took."""

    name: str
    status: str
    message: str
    started_at: str
    duration_seconds: float

    def as_dict(self):
        return dataclasses.asdict(self)


def worst(statuses):
    """The most severe of statuses, unknown ones aside; unknown when nothing else is known."""
    known = [status for status in statuses if status != UNKNOWN]
    if not known:
        return UNKNOWN
    return max(known, key=_SEVERITY.__getitem__)


def by_share(good, total, what):
    """(status, message) from how many of total things are good: all, some, none."""
    if total == 0:
        return UNKNOWN, f"no {what}"
    if good == total:
        return HEALTHY, f"{good}/{total} {what} healthy"
    if good == 0:
        return UNHEALTHY, f"none of {total} {what} healthy"
    return DEGRADED, f"{good}/{total} {what} healthy"


class Timer:
    """Times one check on the monotonic clock and stamps its start in UTC."""

    def __init__(self, name):
        self.name = name
        self.started_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
        self._start = time.monotonic()

    def done(self, status, message):
        return Check(self.name, status, message, self.started_at, round(time.monotonic() - self._start, 4))
