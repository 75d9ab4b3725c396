# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry events as the seed's webhook event types, and subscribers' type patterns.

A ``Transition`` event is ``cluster.created`` (registered), ``cluster.deleted`` (to
Deleted), ``cluster.scaled``/``cluster.upgraded`` (back to Running from Scaling/Upgrading)
or ``cluster.status.changed``; ``HealthChanged`` is ``cluster.health.changed``; backups,
nodes and issued kubeconfigs have their own; any other event is ``cluster.event``.
Patterns are shell-style: ``*`` (everything), ``cluster.*``, ``cluster.status.changed``.
"""

from __future__ import annotations

import fnmatch

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

BY_REASON = {
    "HealthChanged": "cluster.health.changed",
    "KubeconfigIssued": "cluster.kubeconfig.issued",
    "BackupCompleted": "cluster.backup.created",
    "NodeAdded": "cluster.node.added",
    "NodeRemoved": "cluster.node.removed",
    "SpecUpdated": "cluster.updated",
}


def event_type(registry_type, reason, metadata):
    """The webhook event type of one registry event."""
    metadata = metadata or {}
    if registry_type == "Transition":
        if metadata.get("from") is None:
            return "cluster.created"
        if metadata.get("to") == "Deleted":
            return "cluster.deleted"
        if metadata.get("to") == "Running" and metadata.get("from") == "Scaling":
            return "cluster.scaled"
        if metadata.get("to") == "Running" and metadata.get("from") == "Upgrading":
            return "cluster.upgraded"
        return "cluster.status.changed"
    return BY_REASON.get(reason, "cluster.event")


TRANSITION_TYPES = ("cluster.created", "cluster.deleted", "cluster.scaled", "cluster.upgraded", "cluster.status.changed")
# The events catalogue: every type a subscriber can receive.
CATALOGUE = tuple(sorted(set(TRANSITION_TYPES) | set(BY_REASON.values()) | {"cluster.event"}))
MAX_PATTERNS = 64


def parse_patterns(value, field="event_types"):
    """A list of patterns from a list or a comma-separated string; empty means everything.

    Each pattern must name a type of the catalogue, or match one with * and ?: a typo never subscribes to nothing.
    """
    items = value.split(",") if isinstance(value, str) else list(value or [])
    patterns = [str(item).strip() for item in items if str(item).strip()]
    if len(patterns) > MAX_PATTERNS:
        raise ValidationError(field, f"at most {MAX_PATTERNS} patterns")
    for pattern in patterns:
        if len(pattern) > 128 or not any(fnmatch.fnmatchcase(kind, pattern) for kind in CATALOGUE):
            raise ValidationError(field, f"{pattern[:128]!r} matches no event type; the catalogue has "
                                         f"{', '.join(CATALOGUE)} (patterns may use * and ?)")
    return patterns or ["*"]


def wanted(patterns, kind):
    return any(fnmatch.fnmatchcase(kind, pattern) for pattern in patterns)
