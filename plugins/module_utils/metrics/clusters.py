# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gpve_cluster_* metric families, from the clusters gpve_cluster_info returns.

Every series carries ``cluster_id``, ``cluster_name`` and ``cluster_type``. Phases and
conditions are one series per possible value with 1 for the current one (as
kube-state-metrics does), so alerts can match ``== 1``. Counts come from the registry's
status unless a live health run observed them.
"""

from __future__ import annotations

import datetime

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.health import status as health_status
from ansible_collections.gpve.cluster.plugins.module_utils.metrics.exposition import Family, render

CONDITION_STATUSES = ("true", "false", "unknown")
DRIFT_KINDS = ("missing", "extra", "stopped", "resized", "moved")


def _families():
    spec = [
        ("info", "Registered cluster (constant 1) with its provider and Kubernetes version."),
        ("phase", "Lifecycle phase of the cluster: 1 for the current phase, 0 for the others."),
        ("condition", "Status conditions of the cluster: 1 for the condition's current status."),
        ("health", "Overall live health (healthy, degraded, unhealthy, unknown): 1 for the current one."),
        ("health_check_duration_seconds", "Duration of each live health check of the last run."),
        ("health_check_healthy", "1 when the live health check passed, 0 otherwise."),
        ("nodes", "Nodes of the cluster."),
        ("nodes_ready", "Nodes of the cluster whose Ready condition is True."),
        ("registered_nodes", "Nodes (VMs) the registry records for the cluster."),
        ("pods", "Pods of the cluster by phase (live health runs only)."),
        ("kubeconfig_expiry_timestamp_seconds", "When the stored kubeconfig credential expires (Unix time)."),
        ("issued_kubeconfig_expiry_timestamp_seconds", "When the latest kubeconfig issued by gpve_kubeconfig expires."),
        ("last_backup_timestamp_seconds", "When the newest completed backup of the cluster finished (Unix time)."),
        ("last_heartbeat_timestamp_seconds", "When the cluster last answered (Unix time)."),
        ("drift", "VMs drifted from the registry, by kind (missing, extra, stopped, resized, moved)."),
    ]
    return {key: Family(f"gpve_cluster_{key}", text) for key, text in spec}


def _unix(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return round(value.timestamp(), 3)


def _condition_status(value):
    text = str(value).lower()
    return text if text in CONDITION_STATUSES else "unknown"


def _add_status(families, base, view):
    families["info"].add(dict(base, provider=view.get("provider") or "", version=view.get("version") or ""), 1)
    for phase in lifecycle.PHASES:
        families["phase"].add(dict(base, phase=phase), int(view.get("phase") == phase))
    for condition in view.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type"):
            current = _condition_status(condition.get("status"))
            for state in CONDITION_STATUSES:
                families["condition"].add(dict(base, condition=condition["type"], status=state), int(state == current))
    families["nodes"].add(base, view.get("node_count") or 0)
    families["nodes_ready"].add(base, view.get("ready_nodes") or 0)
    if view.get("registered_nodes") is not None:
        families["registered_nodes"].add(base, view["registered_nodes"])
    for key, family in (("last_heartbeat", "last_heartbeat_timestamp_seconds"), ("kubeconfig_expires_at", "kubeconfig_expiry_timestamp_seconds"),
                        ("issued_kubeconfig_expires_at", "issued_kubeconfig_expiry_timestamp_seconds"),
                        ("last_backup_at", "last_backup_timestamp_seconds")):
        if view.get(key):
            families[family].add(base, _unix(view[key]))


def _add_health(families, base, health):
    for state in health_status.STATUSES:
        families["health"].add(dict(base, status=state), int(health["status"] == state))
    for check in health.get("checks") or []:
        families["health_check_duration_seconds"].add(dict(base, check=check["name"]), check["duration_seconds"])
        families["health_check_healthy"].add(dict(base, check=check["name"]), int(check["status"] == health_status.HEALTHY))
    for phase, count in sorted((health.get("pods_by_phase") or {}).items()):
        families["pods"].add(dict(base, phase=phase), count)


def exposition(views):
    """The text for cluster views (dicts as gpve_cluster_info returns them)."""
    families = _families()
    for view in views:
        base = {"cluster_id": view["id"], "cluster_name": view["name"], "cluster_type": view["type"]}
        _add_status(families, base, view)
        if view.get("health"):
            _add_health(families, base, view["health"])
        drift = view.get("drift")
        if drift:
            for kind in DRIFT_KINDS:
                families["drift"].add(dict(base, kind=kind), len(drift.get(kind) or []))
    return render(families.values())
