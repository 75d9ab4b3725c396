# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live health of the selected clusters, and writing it back to the registry.

Credentials are decrypted on the caller's thread, the checks run on a thread pool, and
the verdicts (with the failure count carried in the ``Healthy`` condition) are written on
the caller's thread again: the status's conditions, heartbeat (when the API answered),
version and counts, plus a ``HealthChanged`` event whenever the overall status changes.
"""

from __future__ import annotations

import datetime

from ansible_collections.gpve.cluster.plugins.module_utils.crypto import CryptoError
from ansible_collections.gpve.cluster.plugins.module_utils.health import runner, status, verdict
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import NotFound

HEALTH_EVENT_REASON = "HealthChanged"


def _secret(store, cluster_id, credential_type, present):
    if credential_type not in present:
        return None, None
    try:
        return store.get_credential(cluster_id, credential_type).text, None
    except NotFound:
        return None, None
    except CryptoError as exc:
        return None, f"the {credential_type} credential cannot be decrypted: {exc}"


def _job(store, cluster, selection):
    present = {info.type for info in selection.credentials.get(cluster.id) or []}
    kubeconfig, problem = _secret(store, cluster.id, kinds.KUBECONFIG, present)
    etcd_client, _etcd_problem = _secret(store, cluster.id, kinds.ETCD_CLIENT, present)
    return runner.Job(cluster=cluster, nodes=selection.nodes.get(cluster.id) or [], kubeconfig=kubeconfig,
                      etcd_client=etcd_client), problem


def check(store, selection, threshold, timeout):
    """cluster id -> health result (JSON-able) for every selected cluster."""
    prepared = [_job(store, cluster, selection) for cluster in selection.clusters]
    outcomes = runner.check_many([job for job, _problem in prepared], timeout)
    results = {}
    for (job, problem), outcome in zip(prepared, outcomes):
        if problem:
            outcome.checks = [status.Timer("api-server").done(status.UNKNOWN, problem)]
        conditions = job.cluster.status.conditions
        decided = verdict.decide(outcome.checks, verdict.previous_failures(conditions), threshold)
        results[job.cluster.id] = {
            "status": decided.overall,
            "message": decided.message,
            "consecutive_failures": decided.consecutive_failures,
            "failure_threshold": threshold,
            "checks": [item.as_dict() for item in outcome.checks],
            "observed": {key: value for key, value in outcome.observed.items() if key != "pods_by_phase"},
            "pods_by_phase": outcome.observed.get("pods_by_phase"),
        }
    return results


def _status_fields(cluster, health, now):
    observed = health["observed"]
    previous = verdict.condition_of(cluster.status.conditions)
    decided = verdict.Verdict(health["status"], health["consecutive_failures"], health["failure_threshold"], health["message"])
    fields = {"conditions": verdict.merged(cluster.status.conditions, verdict.condition(decided, now.isoformat(), previous))}
    if observed.get("reachable"):
        fields["last_heartbeat"] = now
    for key in ("version", "node_count", "ready_nodes", "pod_count"):
        if observed.get(key) is not None:
            fields[key] = observed[key]
    return fields, previous


def write_back(store, cluster, health, now=None):
    """Record one cluster's health in the registry; returns True (it always stamps the probe time)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    fields, previous = _status_fields(cluster, health, now)
    store.update_status(cluster.id, **fields)
    before = (previous or {}).get("reason")
    if before != health["status"]:
        kind = "Normal" if health["status"] == status.HEALTHY else "Warning"
        store.add_event(cluster.id, kind, HEALTH_EVENT_REASON, f"health {before or 'unknown'} -> {health['status']}: "
                        f"{health['message']}"[:1000], {"from": before, "to": health["status"],
                                                        "checks": {c["name"]: c["status"] for c in health["checks"]}})
    return True
