"""The wait after a drain: which evicted workloads are not back on the other nodes yet."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.filter.replacements_pending import replacements_pending

pytestmark = pytest.mark.k8s_vm

LEAVING = "worker-3"


def pod(name, node, owner="rs-1", kind="ReplicaSet", ready=True, unschedulable=False, deleting=False):
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    if unschedulable:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable"})
    metadata = {"name": name, "namespace": "apps",
                "ownerReferences": [{"uid": owner, "kind": kind, "name": f"{owner}-name", "controller": True}]}
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-07T13:00:00Z"
    return {"metadata": metadata, "spec": {"nodeName": node if not unschedulable else None}, "status": {"conditions": conditions}}


BEFORE = [pod("a", LEAVING), pod("b", "worker-1")]


def test_a_workload_is_pending_until_its_replacement_is_ready_elsewhere():
    starting = [pod("b", "worker-1"), pod("c", "worker-2", ready=False)]
    assert replacements_pending(starting, BEFORE, LEAVING) == [
        {"kind": "ReplicaSet", "name": "rs-1-name", "namespace": "apps", "ready_before": 2, "back": 1}]
    assert replacements_pending([pod("b", "worker-1"), pod("c", "worker-2")], BEFORE, LEAVING) == []


def test_pods_still_on_the_leaving_node_or_being_deleted_do_not_count():
    assert replacements_pending([pod("a", LEAVING), pod("b", "worker-1")], BEFORE, LEAVING)[0]["back"] == 1
    assert replacements_pending([pod("b", "worker-1"), pod("c", "worker-2", deleting=True)], BEFORE, LEAVING)[0]["back"] == 1


def test_a_replacement_that_cannot_be_scheduled_anywhere_else_does_not_hold_the_wait():
    assert replacements_pending([pod("b", "worker-1"), pod("c", None, ready=False, unschedulable=True)], BEFORE, LEAVING) == []


def test_daemonsets_and_workloads_without_a_pod_on_the_node_are_not_waited_for():
    before = [pod("d", LEAVING, owner="ds-1", kind="DaemonSet"), pod("e", "worker-1", owner="rs-2")]
    assert replacements_pending([], before, LEAVING) == []


def test_a_leaving_control_planes_static_pods_are_not_waited_for():
    """Mirror pods (etcd, the API server...) have their Node as controller: they leave with it, none comes back."""
    static = [pod(f"{name}-{LEAVING}", LEAVING, owner="node-uid", kind="Node") for name in ("etcd", "kube-apiserver")]
    assert replacements_pending([pod("b", "worker-1")], static + BEFORE[1:], LEAVING) == []
    assert replacements_pending([], static + BEFORE, LEAVING)[0]["kind"] == "ReplicaSet"


def test_a_workload_with_no_ready_pod_before_asks_for_none():
    before = [pod("a", LEAVING, ready=False)]
    assert replacements_pending([], before, LEAVING) == []
