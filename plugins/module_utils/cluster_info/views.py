# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster as gpve_cluster_info returns it: JSON-able, never a secret (credentials are metadata only)."""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.cluster_info.query import issued_expiry, kubeconfig_expiry


def _iso(value):
    return value.isoformat() if value is not None else None


def summary(cluster, selection):
    status = cluster.status
    credentials = selection.credentials.get(cluster.id) or []
    backup = selection.last_backups.get(cluster.id)
    return {
        "id": cluster.id,
        "name": cluster.name,
        "type": cluster.type,
        "provider": cluster.provider,
        "labels": dict(cluster.labels),
        "phase": status.phase,
        "message": status.message,
        "endpoint": status.endpoint,
        "version": status.version,
        "node_count": status.node_count,
        "ready_nodes": status.ready_nodes,
        "pod_count": status.pod_count,
        "registered_nodes": len(selection.nodes.get(cluster.id) or []),
        "conditions": list(status.conditions or []),
        "last_heartbeat": _iso(status.last_heartbeat),
        "ready_at": _iso(status.ready_at),
        "created_at": _iso(cluster.created_at),
        "updated_at": _iso(cluster.updated_at),
        "kubeconfig_expires_at": _iso(kubeconfig_expiry(credentials)),
        "issued_kubeconfig_expires_at": _iso(issued_expiry(credentials)),
        "last_backup_at": _iso(backup.completed_at) if backup else None,
    }


def full(cluster, selection, events, backups):
    view = summary(cluster, selection)
    view.update(
        annotations=dict(cluster.annotations),
        spec=cluster.spec,
        status=cluster.status.as_dict(),
        resource_version=cluster.resource_version,
        nodes=[node.as_dict() for node in selection.nodes.get(cluster.id) or []],
        events=[event.as_dict() for event in events],
        backups=[backup.as_dict() for backup in backups],
        credentials=[info.as_dict() for info in selection.credentials.get(cluster.id) or []],
    )
    return view
