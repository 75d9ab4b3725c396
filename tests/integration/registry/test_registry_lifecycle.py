"""Phase transitions through the registry: the table allows exactly its moves, each one recorded."""

from __future__ import annotations

import collections

import pytest
from registry_helpers import k8s_spec

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle
from ansible_collections.gpve.cluster.plugins.module_utils.registry.errors import Conflict, NotFound

pytestmark = pytest.mark.registry

ALLOWED = [(source, target) for source, targets in lifecycle.TRANSITIONS.items() for target in targets]
FORBIDDEN = [
    ("Pending", "Running"), ("Pending", "Deleted"), ("Provisioning", "Running"), ("Bootstrapping", "Running"),
    ("Initializing", "Running"), ("Running", "Pending"), ("Running", "Deleted"), ("Suspended", "Running"),
    ("Suspending", "Running"), ("Deleting", "Running"), ("Failed", "Running"), ("Installing", "Bootstrapping"),
    ("Upgrading", "Scaling"), ("Connecting", "Provisioning"),
]


def path_to(phase):
    """The shortest list of phases from Pending to phase, by the table."""
    previous = {lifecycle.PENDING: None}
    queue = collections.deque([lifecycle.PENDING])
    while queue:
        current = queue.popleft()
        for target in lifecycle.TRANSITIONS[current]:
            if target not in previous:
                previous[target] = current
                queue.append(target)
    steps = []
    while phase != lifecycle.PENDING:
        steps.append(phase)
        phase = previous[phase]
    return steps[::-1]


def cluster_in(store, phase, name):
    cluster = store.create_cluster(name, "k8s-vm", spec=k8s_spec())
    for step in path_to(phase):
        lifecycle.transition(store, cluster.id, step, "TestSetup")
    return cluster


def test_every_allowed_transition_passes_and_is_recorded(store):
    for index, (source, target) in enumerate(ALLOWED):
        cluster = cluster_in(store, source, f"ok-{index}")
        status, event = lifecycle.transition(store, cluster.id, target, f"Go{target}", f"{source} to {target}", endpoint="https://e")
        assert (status.phase, status.message, status.endpoint) == (target, f"{source} to {target}", "https://e"), (source, target)
        assert (event.type, event.reason, event.message, event.metadata) == (
            "Transition", f"Go{target}", f"{source} to {target}", {"from": source, "to": target, "trigger": f"Go{target}"})
        assert event.timestamp.utcoffset().total_seconds() == 0
        assert lifecycle.history(store, cluster.id, limit=1)[0].id == event.id


def test_forbidden_transitions_fail_and_change_nothing(store):
    for index, (source, target) in enumerate(FORBIDDEN):
        cluster = cluster_in(store, source, f"no-{index}")
        before = store.get_status(cluster.id)
        events = len(store.list_events(cluster.id, limit=None))
        with pytest.raises(lifecycle.InvalidTransition) as caught:
            lifecycle.transition(store, cluster.id, target, "Nope")
        assert (caught.value.from_phase, caught.value.to_phase) == (source, target)
        assert store.get_status(cluster.id) == before
        assert len(store.list_events(cluster.id, limit=None)) == events


def test_deleted_is_terminal_and_frees_the_name(store):
    cluster = cluster_in(store, "Deleted", "gone")
    with pytest.raises(NotFound):
        lifecycle.transition(store, cluster.id, "Running", "Resurrect")
    assert store.create_cluster("gone", "k8s-vm", spec=k8s_spec()).id != cluster.id


def test_ready_at_is_stamped_the_first_time_the_cluster_runs(store):
    cluster = cluster_in(store, "Running", "ready")
    first = store.get_status(cluster.id).ready_at
    assert first is not None
    lifecycle.transition(store, cluster.id, "Scaling", "ScaleRequested")
    assert lifecycle.transition(store, cluster.id, "Running", "ScaleDone")[0].ready_at == first


def test_same_phase_is_a_no_op_and_unknown_phases_are_refused(store):
    cluster = cluster_in(store, "Provisioning", "same")
    status, event = lifecycle.transition(store, cluster.id, "Provisioning", "Again")
    assert (status.resource_version, event) == (store.get_status(cluster.id).resource_version, None)
    with pytest.raises(lifecycle.UnknownPhase):
        lifecycle.transition(store, cluster.id, "Exploding", "Boom")


def test_a_stale_phase_change_loses_the_compare_and_swap(store):
    cluster = cluster_in(store, "Running", "race")
    seen = store.get_status(cluster.id)
    lifecycle.transition(store, cluster.id, "Scaling", "ScaleRequested")
    with pytest.raises(Conflict):
        store.change_phase(cluster.id, seen.resource_version, "Running", "Upgrading", "UpgradeRequested")
    # transition re-reads instead: Scaling -> Upgrading is not in the table.
    with pytest.raises(lifecycle.InvalidTransition):
        lifecycle.transition(store, cluster.id, "Upgrading", "UpgradeRequested")
    assert store.get_status(cluster.id).phase == "Scaling"
