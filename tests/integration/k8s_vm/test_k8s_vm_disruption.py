"""The PodDisruptionBudget check of a shrink (k8s_vm/disruption.py) against the testbed's API server: real budgets,
whose status the disruption controller computes, over real pods on the testbed's nodes; the cluster reached through
the admin kubeconfig a registry holds. The last test also builds VMs on fakepve (hold the VM lock): a cluster whose
pool's VM is named as the testbed's first node (testbed-node-1), so the real node stands for the one a shrink removes."""

from __future__ import annotations

import pytest
from k8s_vm_support import registry_for, spec
from kubernetes import client

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import disruption as reader
from ansible_collections.gpve.cluster.plugins.module_utils.kube.api import ClusterApi
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.planner import disruption, spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds, stored_specs
from tests.testbed import images
from tests.testbed.processes import wait_until

pytestmark = pytest.mark.k8s_vm


def deployment(name, replicas, node):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "nodeSelector": {"kubernetes.io/hostname": node}, "terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "main", "image": images.TEST_IMAGE,
                                         "command": ["/bin/sh", "-c", "exec sleep 3600"]}]}}}}


def budget(name, min_available):
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": name}}}}


def wait_budget(policy, namespace, name, healthy, allowed):
    def settled():
        found = policy.read_namespaced_pod_disruption_budget(name, namespace)
        status = found.status
        return (status is not None and status.observed_generation == found.metadata.generation
                and status.current_healthy == healthy and status.disruptions_allowed == allowed)
    wait_until(settled, 180, f"budget {namespace}/{name}: {healthy} healthy, {allowed} disruptions allowed", interval=0.5)


def no_other_budgets(policy, namespace):
    """Until no budget outside namespace is left (the namespaces of earlier tests are deleted in the background):
    a shrink of the testbed's one node drains every pod on it, so their budgets would be the check's too."""
    def alone():
        return all(item.metadata.namespace == namespace
                   for item in policy.list_pod_disruption_budget_for_all_namespaces().items)
    wait_until(alone, 180, "the budgets of earlier tests to be deleted with their namespaces", interval=1.0)


def ours(findings, namespace):
    return [finding for finding in findings if finding["budget"].startswith(namespace + "/")]


@pytest.fixture
def api(testbed):
    with open(testbed.kubeconfig, encoding="utf-8") as handle:
        text = handle.read()
    with ClusterApi(connect(kubeconfig=text)) as opened:
        yield opened


def test_a_shrink_whose_drain_a_budget_blocks_is_refused_naming_the_budget(testbed, kube_client, kube_namespace, api):
    pinned_to, other = testbed.node_names[0], "testbed-node-99"
    client.AppsV1Api(kube_client).create_namespaced_deployment(kube_namespace, deployment("web", 2, pinned_to))
    policy = client.PolicyV1Api(kube_client)
    policy.create_namespaced_pod_disruption_budget(kube_namespace, budget("web", 2))
    wait_budget(policy, kube_namespace, "web", healthy=2, allowed=0)
    field_of = {pinned_to: "workers[0].replicas"}

    # 2 of 2 must stay: no eviction is allowed, so the drain of their node could never finish.
    with pytest.raises(ValidationError) as refused:
        reader.check_api(api, [pinned_to], field_of)
    assert refused.value.field == "workers[0].replicas"
    assert f"PodDisruptionBudget {kube_namespace}/web (minAvailable 2) allows no disruption now (2 healthy pods, 2 " \
           f"needed)" in str(refused.value)
    assert f"Relax or delete the budget ({kube_namespace}/web" in str(refused.value)
    # Removing another node leaves them alone.
    assert ours(disruption.blocked_drains(*reader.read(api), removed=[other]), kube_namespace) == []

    # 1 of 2 must stay, one may go now: but both are pinned to the node that goes, so none can come back.
    policy.patch_namespaced_pod_disruption_budget("web", kube_namespace, {"spec": {"minAvailable": 1}})
    wait_budget(policy, kube_namespace, "web", healthy=2, allowed=1)
    findings = ours(disruption.blocked_drains(*reader.read(api), removed=[pinned_to]), kube_namespace)
    assert len(findings) == 1 and findings[0]["nodes"] == [pinned_to]
    assert "needs 1 healthy pods, but the nodes left can run at most 0 of them" in findings[0]["reason"]

    # None must stay: the budget lets both go, and the drain can finish.
    policy.patch_namespaced_pod_disruption_budget("web", kube_namespace, {"spec": {"minAvailable": 0}})
    wait_budget(policy, kube_namespace, "web", healthy=2, allowed=2)
    assert ours(disruption.blocked_drains(*reader.read(api), removed=[pinned_to]), kube_namespace) == []


def test_the_cluster_is_reached_through_the_kubeconfig_the_registry_holds(testbed, kube_client, kube_namespace, tmp_path):
    pinned_to = testbed.node_names[0]
    client.AppsV1Api(kube_client).create_namespaced_deployment(kube_namespace, deployment("db", 1, pinned_to))
    policy = client.PolicyV1Api(kube_client)
    policy.create_namespaced_pod_disruption_budget(kube_namespace, budget("db", 1))
    wait_budget(policy, kube_namespace, "db", healthy=1, allowed=0)
    with registry_for(str(tmp_path / "registry.db")) as store:
        cluster = store.create_cluster("pdb", kinds.K8S_VM,
                                       spec=stored_specs.to_stored(kinds.K8S_VM, specs.normalise(spec("pdb"))))
        with pytest.raises(ValidationError, match="the registry holds no admin kubeconfig for pdb"):
            reader.check(store, cluster, [pinned_to], {})
        reader.check(store, cluster, [], {})          # nothing removed: nothing to read
        with open(testbed.kubeconfig, encoding="utf-8") as handle:
            store.put_credential(cluster.id, kinds.KUBECONFIG, handle.read())
        with pytest.raises(ValidationError) as refused:
            reader.check(store, cluster, [pinned_to], {pinned_to: "control_plane.replicas"})
    assert refused.value.field == "control_plane.replicas"
    assert f"draining {pinned_to} could not finish: PodDisruptionBudget {kube_namespace}/db" in str(refused.value)


def test_the_module_refuses_the_shrink_before_any_write_and_names_the_field(testbed, kube_client, kube_namespace, module,
                                                                            proxmox, store):
    assert "testbed-node-1" in testbed.node_names
    raw = spec("testbed", control_plane={"replicas": 1, "resources": {"memory": 1024, "disk_size": 20}},
               workers=[{"name": "node", "replicas": 1, "resources": {"memory": 1024, "disk_size": 20}}],
               load_balancer={"type": "haproxy", "resources": {"memory": 1024}})
    made = module.run(raw)
    assert not made.get("failed"), made
    cluster = store.find_cluster("testbed")
    with open(testbed.kubeconfig, encoding="utf-8") as handle:
        store.put_credential(cluster.id, kinds.KUBECONFIG, handle.read())
    client.AppsV1Api(kube_client).create_namespaced_deployment(kube_namespace, deployment("api", 1, "testbed-node-1"))
    policy = client.PolicyV1Api(kube_client)
    no_other_budgets(policy, kube_namespace)
    policy.create_namespaced_pod_disruption_budget(kube_namespace, budget("api", 1))
    wait_budget(policy, kube_namespace, "api", healthy=1, allowed=0)

    smaller = dict(raw, workers=[dict(raw["workers"][0], replicas=0)])
    writes, events = proxmox.writes(), len(store.list_events(cluster.id))
    for check_mode in (True, False):
        result = module.run(smaller, check_mode=check_mode, check_disruption_budgets=True)
        assert result.get("failed") and result["field"] == "workers[0].replicas", result
        assert result["msg"].startswith(f"workers[0].replicas: draining testbed-node-1 could not finish: "
                                        f"PodDisruptionBudget {kube_namespace}/api (minAvailable 1)"), result["msg"]
        assert not result["changed"]
    assert proxmox.writes() == writes and len(store.list_events(cluster.id)) == events
    assert "testbed-node-1" in proxmox.tagged(cluster.id)

    policy.delete_namespaced_pod_disruption_budget("api", kube_namespace)
    result = module.run(smaller, check_disruption_budgets=True)
    assert not result.get("failed"), result
    assert [vm["name"] for vm in result["plan"]["delete"]] == ["testbed-node-1"]
    assert "testbed-node-1" not in proxmox.tagged(cluster.id)
