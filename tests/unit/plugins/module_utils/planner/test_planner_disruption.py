"""planner.disruption: when a PodDisruptionBudget blocks the drain of the nodes a shrink removes."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.planner import disruption

pytestmark = pytest.mark.k8s_vm

NS = "shop"


def node(name, labels=None, taints=None, unschedulable=False):
    return {"metadata": {"name": name, "labels": dict({"kubernetes.io/hostname": name}, **(labels or {}))},
            "spec": {"taints": taints or [], "unschedulable": unschedulable}}


def pod(name, on, app="web", ready=True, phase="Running", owner="ReplicaSet", spec=None, **meta):
    metadata = {"name": name, "namespace": NS, "labels": {"app": app}}
    if owner:
        metadata["ownerReferences"] = [{"kind": owner, "name": app, "controller": True}]
    metadata.update(meta)
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"metadata": metadata, "spec": dict({"nodeName": on}, **(spec or {})),
            "status": {"phase": phase, "conditions": conditions}}


def budget(name="web", allowed=1, healthy=3, desired=2, rule=None, generation=1, observed=1, selector=None, policy=None):
    spec = {"selector": selector if selector is not None else {"matchLabels": {"app": "web"}}}
    spec.update(rule or {"minAvailable": desired})
    if policy:
        spec["unhealthyPodEvictionPolicy"] = policy
    return {"metadata": {"name": name, "namespace": NS, "generation": generation}, "spec": spec,
            "status": {"observedGeneration": observed, "disruptionsAllowed": allowed, "currentHealthy": healthy,
                       "desiredHealthy": desired, "expectedPods": 3}}


NODES = [node("c-general-1"), node("c-general-2"), node("c-general-3")]
WEB = [pod("web-a", "c-general-1"), pod("web-b", "c-general-2"), pod("web-c", "c-general-3")]


def test_a_budget_with_room_lets_the_drain_finish():
    assert disruption.blocked_drains([budget()], WEB, NODES, ["c-general-3"]) == []


def test_a_budget_that_allows_no_disruption_blocks_and_is_named():
    found = disruption.blocked_drains([budget(allowed=0, healthy=3, desired=3)], WEB, NODES, ["c-general-3"])
    assert [(f["budget"], f["pods"], f["nodes"]) for f in found] == [("shop/web", ["shop/web-c"], ["c-general-3"])]
    assert "allows no disruption now (3 healthy pods, 3 needed)" in found[0]["reason"]
    assert "minAvailable 3" in found[0]["reason"]


def test_maxunavailable_zero_is_named_by_its_rule():
    found = disruption.blocked_drains([budget(allowed=0, desired=3, rule={"maxUnavailable": 0})], WEB, NODES, ["c-general-1"])
    assert "maxUnavailable 0" in found[0]["reason"]


def test_nodes_without_the_budgets_pods_are_not_blocked():
    assert disruption.blocked_drains([budget(allowed=0, desired=3)], WEB[:2], NODES, ["c-general-3"]) == []


def test_a_stale_status_is_not_taken_for_no_room():
    # The disruption controller has not seen generation 2 yet: its disruptionsAllowed 0 says nothing.
    assert disruption.blocked_drains([budget(allowed=0, desired=0, generation=2, observed=1)], WEB, NODES,
                                     ["c-general-3"]) == []


def test_an_unhealthy_pod_goes_when_the_budget_holds_or_always_allows():
    pods = WEB[:2] + [pod("web-c", "c-general-3", ready=False)]
    holding = budget(allowed=0, healthy=2, desired=2)
    assert disruption.blocked_drains([holding], pods, NODES, ["c-general-3"]) == []
    short = budget(allowed=0, healthy=2, desired=3)
    assert disruption.blocked_drains([short], pods, NODES, ["c-general-3"])[0]["pods"] == ["shop/web-c"]
    assert disruption.blocked_drains([budget(allowed=0, healthy=2, desired=3, policy="AlwaysAllow")], pods, NODES,
                                     ["c-general-3"]) == []


@pytest.mark.parametrize("extra", [
    {"phase": "Succeeded"}, {"phase": "Pending"}, {"owner": "DaemonSet"},
    {"deletionTimestamp": "2026-12-07T09:00:00Z"}, {"annotations": {"kubernetes.io/config.mirror": "x"}},
])
def test_pods_the_drain_does_not_evict_through_a_budget_block_nothing(extra):
    meta = dict((k, v) for k, v in extra.items() if k in ("deletionTimestamp", "annotations"))
    kwargs = dict((k, v) for k, v in extra.items() if k in ("phase", "owner"))
    pods = WEB[:2] + [pod("web-c", "c-general-3", **kwargs, **meta)]
    assert disruption.blocked_drains([budget(allowed=0, healthy=2, desired=3)], pods, NODES, ["c-general-3"]) == []


def test_pods_pinned_to_removed_nodes_cannot_come_back():
    nodes = NODES + [node("c-storage-1", {"disk": "ssd"})]
    pinned = [pod("db-0", "c-storage-1", app="web", spec={"nodeSelector": {"disk": "ssd"}})]
    found = disruption.blocked_drains([budget(allowed=1, healthy=1, desired=1)], pinned, nodes, ["c-storage-1"])
    assert "needs 1 healthy pods, but the nodes left can run at most 0 of them once shop/db-0 move" in found[0]["reason"]
    # With a kept node that has the label, the pod is replaced there.
    nodes.append(node("c-storage-2", {"disk": "ssd"}))
    assert disruption.blocked_drains([budget(allowed=1, healthy=1, desired=1)], pinned, nodes, ["c-storage-1"]) == []


def test_taints_cordons_and_tolerations_decide_where_a_pod_may_go():
    nodes = [node("c-cp-1", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
             node("c-general-1", unschedulable=True), node("c-general-2"),
             node("c-soft-1", taints=[{"key": "soft", "effect": "PreferNoSchedule"}])]
    pods = [pod("web-a", "c-general-2")]
    found = disruption.blocked_drains([budget(healthy=1, desired=1)], pods, nodes, ["c-general-2", "c-soft-1"])
    assert found and found[0]["budget"] == "shop/web"
    toleration = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}
    tolerant = [pod("web-a", "c-general-2", spec={"tolerations": [toleration]})]
    assert disruption.blocked_drains([budget(healthy=1, desired=1)], tolerant, nodes, ["c-general-2", "c-soft-1"]) == []
    # A PreferNoSchedule taint does not keep a pod away.
    assert disruption.blocked_drains([budget(healthy=1, desired=1)], pods, nodes, ["c-general-2"]) == []


@pytest.mark.parametrize("toleration, taint, tolerated", [
    ({"operator": "Exists"}, {"key": "a", "value": "b", "effect": "NoExecute"}, True),
    ({"key": "a", "operator": "Exists"}, {"key": "a", "value": "b", "effect": "NoSchedule"}, True),
    ({"key": "a", "operator": "Equal", "value": "b"}, {"key": "a", "value": "b", "effect": "NoSchedule"}, True),
    ({"key": "a", "value": "c"}, {"key": "a", "value": "b", "effect": "NoSchedule"}, False),
    ({"key": "a", "operator": "Exists", "effect": "NoExecute"}, {"key": "a", "effect": "NoSchedule"}, False),
    ({"key": "b", "operator": "Exists"}, {"key": "a", "effect": "NoSchedule"}, False),
])
def test_tolerations(toleration, taint, tolerated):
    assert disruption.tolerates([toleration], taint) is tolerated


def anti_affine(name, on):
    term = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}
    return pod(name, on, spec={"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}})


def test_one_pod_per_node_needs_as_many_nodes_as_the_budget_keeps():
    pods = [anti_affine("web-a", "c-general-1"), anti_affine("web-b", "c-general-2"), anti_affine("web-c", "c-general-3")]
    spare = NODES + [node("c-general-4")]
    assert disruption.blocked_drains([budget(desired=2)], pods, spare, ["c-general-3"]) == []
    assert disruption.blocked_drains([budget(desired=2)], pods, NODES, ["c-general-3"]) == []   # 2 left, 2 kept
    found = disruption.blocked_drains([budget(desired=3, healthy=3, allowed=0)], pods, spare, ["c-general-3"])
    assert "allows no disruption now" in found[0]["reason"]
    found = disruption.blocked_drains([budget(desired=2, allowed=1)], pods, NODES, ["c-general-2", "c-general-3"])
    assert "needs 2 healthy pods, but the nodes left can run at most 1 of them" in found[0]["reason"]
    # Without the anti-affinity the same two pods fit on the one node left.
    assert disruption.blocked_drains([budget(desired=2, allowed=1)], WEB, NODES, ["c-general-2", "c-general-3"]) == []


def test_a_pod_no_controller_owns_is_not_replaced():
    pods = WEB[:2] + [pod("web-c", "c-general-3", owner=None)]
    found = disruption.blocked_drains([budget(desired=3, allowed=1, healthy=4)], pods, NODES, ["c-general-3"])
    assert "at most 2 of them once shop/web-c move" in found[0]["reason"]


def test_a_pod_with_two_budgets_is_refused_by_the_eviction_api():
    found = disruption.blocked_drains([budget("web"), budget("all", selector={})], WEB, NODES, ["c-general-1"])
    assert "pod shop/web-a is covered by the budgets shop/web, shop/all" in found[0]["reason"]


@pytest.mark.parametrize("selector, labels, matches", [
    (None, {"app": "web"}, False),
    ({}, {"app": "web"}, True),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, {"app": "api"}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"app": "web"}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"app": "web"}, True),
    ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
     {"app": "web", "tier": "x"}, True),
])
def test_label_selectors(selector, labels, matches):
    assert disruption.selector_matches(selector, labels) is matches


def test_budgets_in_other_namespaces_do_not_cover_the_pods():
    other = budget(allowed=0, desired=3)
    other["metadata"]["namespace"] = "elsewhere"
    assert disruption.blocked_drains([other], WEB, NODES, ["c-general-3"]) == []


def test_the_refusal_names_the_field_the_budget_and_the_fix():
    findings = disruption.blocked_drains([budget(allowed=0, desired=3)], WEB, NODES, ["c-general-3"])
    field, message = disruption.refuse_message(findings, {"c-general-3": "workers[0].replicas"})
    assert field == "workers[0].replicas"
    assert message.startswith("draining c-general-3 could not finish: PodDisruptionBudget shop/web (minAvailable 3)")
    assert "Relax or delete the budget (shop/web)" in message and "remove other or fewer nodes" in message
