# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overall health of a cluster from its checks, with the seed's failure threshold.

A check that fails (unhealthy) counts one consecutive failure; the cluster is unhealthy
once ``failure_threshold`` runs in a row failed (the seed's default is 3) and degraded
before that. A degraded check makes the cluster degraded and, like a healthy run, resets
the count (the seed's SuccessThreshold of 1). The count lives in the registry in the
cluster's ``Healthy`` status condition, so it carries from one run to the next when runs
write it back (``update_registry``).
"""

from __future__ import annotations

import dataclasses

from ansible_collections.gpve.cluster.plugins.module_utils.health import status

CONDITION_TYPE = "Healthy"
DEFAULT_FAILURE_THRESHOLD = 3
_CONDITION_STATUS = {status.HEALTHY: "True", status.DEGRADED: "False", status.UNHEALTHY: "False", status.UNKNOWN: "Unknown"}


@dataclasses.dataclass
class Verdict:
    overall: str
    consecutive_failures: int
    failure_threshold: int
    message: str


def condition_of(conditions):
    for condition in conditions or []:
        if isinstance(condition, dict) and condition.get("type") == CONDITION_TYPE:
            return condition
    return None


def previous_failures(conditions):
    found = condition_of(conditions) or {}
    value = found.get("consecutiveFailures", 0)
    return value if isinstance(value, int) and value >= 0 else 0


def decide(checks, failures_before, threshold=DEFAULT_FAILURE_THRESHOLD):
    current = status.worst([check.status for check in checks])
    failing = [f"{check.name}: {check.message}" for check in checks if check.status in (status.UNHEALTHY, status.DEGRADED)]
    if current == status.UNHEALTHY:
        failures = failures_before + 1
        overall = status.UNHEALTHY if failures >= threshold else status.DEGRADED
        note = f" ({failures} of {threshold} consecutive failed runs)" if overall == status.DEGRADED else ""
        return Verdict(overall, failures, threshold, "; ".join(failing) + note)
    message = "; ".join(failing) if failing else ("all checks healthy" if current == status.HEALTHY else "nothing could be checked")
    return Verdict(current, 0, threshold, message)


def condition(verdict, now_iso, previous=None):
    """The ``Healthy`` condition for the registry's status.conditions (Kubernetes condition shape)."""
    unchanged = previous is not None and previous.get("reason") == verdict.overall
    return {
        "type": CONDITION_TYPE,
        "status": _CONDITION_STATUS[verdict.overall],
        "reason": verdict.overall,
        "message": verdict.message[:1000],
        "consecutiveFailures": verdict.consecutive_failures,
        "failureThreshold": verdict.failure_threshold,
        "lastProbeTime": now_iso,
        "lastTransitionTime": previous.get("lastTransitionTime", now_iso) if unchanged else now_iso,
    }


def merged(conditions, new_condition):
    """conditions with the Healthy condition replaced by new_condition (others kept in order)."""
    return [c for c in conditions or [] if not (isinstance(c, dict) and c.get("type") == CONDITION_TYPE)] + [new_condition]
