# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster phases and the transitions allowed between them, kept as data.

The table follows the seed's state machines (the unified one, and the vCluster one with
Initializing and Starting) plus: Connecting for imported external clusters, Recovering
out of Failed, Deleting -> Deleted, and any live phase -> Failed on error. ``transition``
is the only way a phase changes: it checks the table, then compare-and-swaps the status
and records a ``Transition`` event (trigger, message, time) in one transaction.
Entering Deleted also soft-deletes the cluster, which frees its name.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict
from ansible_collections.gpve.cluster.plugins.module_utils.registry.kinds import (
    BOOTSTRAPPING, CONNECTING, DELETED, DELETING, FAILED, INITIALIZING, INSTALLING, PENDING, PROVISIONING, RECOVERING, RESUMING, RUNNING,
    SCALING, STARTING, SUSPENDED, SUSPENDING, UPDATING, UPGRADING)


# from phase -> phases it may move to. Paths to Running:
#   K8s-on-VM: Pending -> Provisioning -> Bootstrapping -> Installing -> Running
#   vCluster:  Pending -> Provisioning -> Initializing -> Starting -> Running
#   external:  Pending -> Connecting -> Running
TRANSITIONS = {
    PENDING: (PROVISIONING, CONNECTING, DELETING, FAILED),
    PROVISIONING: (BOOTSTRAPPING, INITIALIZING, FAILED),
    BOOTSTRAPPING: (INSTALLING, FAILED),
    INSTALLING: (RUNNING, FAILED),
    INITIALIZING: (STARTING, FAILED),
    STARTING: (RUNNING, FAILED),
    CONNECTING: (RUNNING, FAILED),
    RUNNING: (UPDATING, SCALING, UPGRADING, SUSPENDING, DELETING, CONNECTING, FAILED),
    UPDATING: (RUNNING, FAILED),
    SCALING: (RUNNING, FAILED),
    UPGRADING: (RUNNING, FAILED),
    SUSPENDING: (SUSPENDED, FAILED),
    SUSPENDED: (RESUMING, DELETING, FAILED),
    RESUMING: (RUNNING, FAILED),
    FAILED: (RECOVERING, PROVISIONING, CONNECTING, DELETING),
    RECOVERING: (RUNNING, FAILED),
    DELETING: (DELETED, FAILED),
    DELETED: (),
}
PHASES = tuple(TRANSITIONS)
TERMINAL_PHASES = (DELETED,)
MAX_ATTEMPTS = 20


class InvalidTransition(GpveError):
    """The table does not allow moving from the current phase to the requested one."""

    def __init__(self, cluster_id, from_phase, to_phase):
        self.cluster_id = cluster_id
        self.from_phase = from_phase
        self.to_phase = to_phase
        allowed = ", ".join(TRANSITIONS.get(from_phase, ())) or "none (terminal)"
        super().__init__(f"cluster {cluster_id}: cannot go from {from_phase} to {to_phase} (allowed from {from_phase}: {allowed})")


class UnknownPhase(GpveError):
    def __init__(self, phase):
        super().__init__(f"unknown cluster phase {phase!r}; phases: {', '.join(PHASES)}")


def allowed(from_phase, to_phase):
    return to_phase in TRANSITIONS.get(from_phase, ())


def check(cluster_id, from_phase, to_phase):
    for phase in (from_phase, to_phase):
        if phase not in TRANSITIONS:
            raise UnknownPhase(phase)
    if not allowed(from_phase, to_phase):
        raise InvalidTransition(cluster_id, from_phase, to_phase)


def transition(store, cluster_id, to_phase, trigger, message=None, **status_fields):
    """Move the cluster to to_phase; returns (status, event), or (status, None) if already there.

    The same phase is a no-op (re-running a task is idempotent). A concurrent change of the
    status makes the compare-and-swap lose: the status is re-read and the move re-checked
    against the table, so two racing callers cannot both pass through one phase. Other status
    fields (endpoint, version, counts...) can be set in the same transaction.
    """
    if to_phase not in TRANSITIONS:
        raise UnknownPhase(to_phase)
    for _attempt in range(MAX_ATTEMPTS):
        status = store.get_status(cluster_id)
        if status.phase == to_phase:
            return status, None
        check(cluster_id, status.phase, to_phase)
        try:
            return store.change_phase(cluster_id, status.resource_version, status.phase, to_phase, trigger, message,
                                      fields=status_fields, mark_deleted=to_phase == DELETED)
        except Conflict:
            continue
    raise Conflict("status", cluster_id, status.resource_version)


def history(store, cluster_id, limit=50):
    """The cluster's phase transitions, newest first (events of type Transition)."""
    return store.list_events(cluster_id=cluster_id, type="Transition", limit=limit)
