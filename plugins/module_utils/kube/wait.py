# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting on the monotonic clock until a condition holds, and the readiness checks gpve needs."""

from __future__ import annotations

import time

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConnectionError, KubeWaitTimeout

FIRST_INTERVAL = 0.1
MAX_INTERVAL = 1.0
BACKOFF = 1.5


def wait_for(check, timeout, what, interval=FIRST_INTERVAL, clock=time.monotonic, sleep=time.sleep):
    """Call check() until it returns (True, detail); raise KubeWaitTimeout naming what and the last detail.

    check returns (done, detail): detail says what is still missing ("1/3 replicas ready").
    A connection failure counts as not done: an API server that restarts is waited for too.
    Polls quickly at first (most waits are short) and backs off to one check a second.
    """
    deadline = clock() + timeout
    detail = "not checked yet"
    while True:
        try:
            done, detail = check()
        except KubeConnectionError as error:
            done, detail = False, str(error)
        if done:
            return detail
        if clock() >= deadline:
            raise KubeWaitTimeout(f"{what}: not done after {timeout:g}s: {detail}")
        sleep(min(interval, max(0.0, deadline - clock())))
        interval = min(interval * BACKOFF, MAX_INTERVAL)


def statefulset_ready(statefulset, replicas):
    """(ready, detail) for a live StatefulSet expected at replicas, on its current revision."""
    if statefulset is None:
        return False, "the StatefulSet does not exist"
    status = statefulset.get("status") or {}
    observed = status.get("observedGeneration", 0) >= (statefulset.get("metadata") or {}).get("generation", 0)
    ready = status.get("readyReplicas", 0) or 0
    updated = status.get("updatedReplicas", 0) or 0
    current = status.get("currentRevision") == status.get("updateRevision") or replicas == 0
    if replicas == 0:
        done = observed and (status.get("replicas", 0) or 0) == 0
        return done, f"{status.get('replicas', 0) or 0} replicas still running, 0 wanted"
    done = observed and ready >= replicas and updated >= replicas and current
    return done, f"{ready}/{replicas} replicas ready, {updated} on the current revision"
