"""The lifecycle table as data: complete, closed, and with the paths each cluster type needs."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle

pytestmark = pytest.mark.registry


def reachable(start):
    seen, todo = {start}, [start]
    while todo:
        for target in lifecycle.TRANSITIONS[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_phase_is_known_and_reachable_from_pending():
    targets = {target for targets in lifecycle.TRANSITIONS.values() for target in targets}
    assert targets <= set(lifecycle.PHASES)
    assert reachable(lifecycle.PENDING) == set(lifecycle.PHASES)


def test_every_live_phase_can_fail_and_deleted_is_the_only_terminal_phase():
    for phase, targets in lifecycle.TRANSITIONS.items():
        if phase == lifecycle.DELETED:
            assert targets == ()
        elif phase != lifecycle.FAILED:
            assert lifecycle.FAILED in targets, phase
    assert lifecycle.TERMINAL_PHASES == (lifecycle.DELETED,)
    assert lifecycle.DELETED in reachable(lifecycle.FAILED)


@pytest.mark.parametrize("path", [
    ["Pending", "Provisioning", "Bootstrapping", "Installing", "Running"],  # K8s-on-VM
    ["Pending", "Provisioning", "Initializing", "Starting", "Running"],     # vCluster
    ["Pending", "Connecting", "Running"],                                   # external
    ["Running", "Suspending", "Suspended", "Resuming", "Running"],
    ["Failed", "Recovering", "Running"],
    ["Running", "Deleting", "Deleted"],
])
def test_the_paths_of_each_flow_are_allowed(path):
    for source, target in zip(path, path[1:]):
        assert lifecycle.allowed(source, target), (source, target)


def test_check_names_both_phases_and_what_is_allowed():
    with pytest.raises(lifecycle.InvalidTransition) as caught:
        lifecycle.check("c1", "Pending", "Running")
    assert "Pending" in str(caught.value) and "Running" in str(caught.value) and "Provisioning" in str(caught.value)
    with pytest.raises(lifecycle.UnknownPhase):
        lifecycle.check("c1", "Pending", "Launching")
