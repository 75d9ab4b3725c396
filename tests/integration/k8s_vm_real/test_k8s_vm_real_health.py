"""gpve_cluster_info's etcd check on the package's cluster (3 control planes, stacked etcd).

create.yml stored the etcd-client credential (kubeadm's apiserver-etcd-client pair and the etcd CA of the first
control plane, encrypted; the rerun left it as it was). With it every member answers healthy; one control plane's VM
stopped through the Proxmox API leaves 2 of 3 members (degraded, quorum kept, the API still answering); a second
leaves 1 of 3 (unhealthy, quorum lost). Both VMs are started again and the test waits until the API answers, every
node is Ready and etcd is healthy: the package's later tests (the backup test last) reuse the cluster.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from kubernetes import client

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.as_a_user import ansible_cli
from tests.testbed.processes import wait_until

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed, pytest.mark.health]

STOPPED = ("real-cp-3", "real-cp-2")    # in this order; real-cp-1 (the first control plane) stays
STORE_TASK = "TASK [Store the etcd client credential encrypted in the registry]"
SETTLE = 180        # seconds for the checks to show a VM gone
RECOVER = 600       # seconds for two control planes to boot and rejoin, nodes Ready again
NODES = 5
CONTROL_PLANE_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
CONTROL_PLANE_PODS = {(component, f"real-cp-{index}") for component in CONTROL_PLANE_COMPONENTS for index in (1, 2, 3)}


def health(cluster, tmp_path):
    """gpve_cluster_info's health of the cluster: one bounded run, nothing written back, no failure threshold."""
    result = ansible_cli.run_module("gpve_cluster_info", dict(registry=str(cluster.registry_path), name=cluster.name,
                                                              health=True, health_timeout=3, failure_threshold=1), tmp_path)
    assert not result.get("failed"), result.get("msg")
    return result["clusters"][0]["health"]


def checks_of(found):
    return {check["name"]: check for check in found["checks"]}


def wait_for_health(cluster, tmp_path, wanted, timeout, what):
    """The first health whose checks satisfy wanted; fails with the last one seen after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = health(cluster, tmp_path)
        if wanted(checks_of(found), found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout} s; last health: {json.dumps(found, indent=1)}")
        time.sleep(3)


def quorum_kept(checks, _found):
    return checks["etcd"]["status"] == "degraded" and checks["api-server"]["status"] == "healthy"


def quorum_lost(checks, _found):
    return checks["etcd"]["status"] == "unhealthy"


def recovered(checks, found):
    observed = found["observed"]
    return (all(checks[name]["status"] == "healthy" for name in ("api-server", "nodes", "etcd"))
            and observed.get("node_count") == NODES and observed.get("ready_nodes") == NODES)


def control_plane_pods_ready(cluster):
    """Whether every control plane runs its 4 static pods Ready (the one left up restarted those that lost etcd)."""
    pods = client.CoreV1Api(cluster.api()).list_namespaced_pod("kube-system", label_selector="tier=control-plane").items
    return CONTROL_PLANE_PODS <= {(pod.metadata.labels.get("component"), pod.spec.node_name) for pod in pods
                                  if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])}


def bring_back(cluster, stopped, tmp_path):
    """Start what this test stopped and wait until the cluster is whole again, as the package's later tests need it."""
    started = time.monotonic()
    while stopped:
        cluster.start_vm(stopped.pop())
    back = wait_for_health(cluster, tmp_path, recovered, RECOVER, f"the API answering, {NODES} nodes Ready and etcd healthy")
    wait_until(lambda: control_plane_pods_ready(cluster), max(60.0, RECOVER - (time.monotonic() - started)),
               "every control plane's static pods Ready", interval=3.0)
    return back


@pytest.fixture
def stopped_vms(real_cluster, tmp_path):
    """The control planes the test stops; any still stopped when it ends (it failed half-way) are started again."""
    stopped = []
    yield stopped
    if stopped:
        bring_back(real_cluster[0], stopped, tmp_path)


def test_create_stored_the_etcd_client_credential_once(create_runs):
    cluster = create_runs.cluster
    with open_registry(str(cluster.registry_path), actor="real-cluster-tests") as store:
        stored = store.get_credential(store.find_cluster(cluster.name).id, "etcd-client").text
    document = json.loads(stored)
    assert sorted(document) == ["ca", "cert", "key"]
    files = cluster.ssh("real-cp-1", "cat /etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/apiserver-etcd-client.crt "
                                     "/etc/kubernetes/pki/apiserver-etcd-client.key")
    assert files.returncode == 0, files.stderr
    assert files.stdout == document["ca"] + document["cert"] + document["key"]
    # The run that initialised real-cp-1 stored it; the rerun found it unchanged. Neither printed the key.
    for run, result in ((create_runs.interrupted, "changed"), (create_runs.resumed, "ok")):
        assert STORE_TASK in run.stdout, run.stdout[-3000:]
        after = run.stdout.split(STORE_TASK, 1)[1]
        assert re.search(r"^(ok|changed|skipping|fatal): \[([^\]]+)\]", after, re.M).groups() == (result, "real-cp-1 -> localhost")
        assert "PRIVATE KEY" not in run.stdout and document["key"].splitlines()[1] not in run.stdout


def test_etcd_degraded_with_one_control_plane_down_unhealthy_with_two(real_cluster, stopped_vms, tmp_path):
    cluster = real_cluster[0]
    whole = checks_of(health(cluster, tmp_path))
    assert whole["etcd"]["status"] == "healthy", whole
    assert whole["etcd"]["message"] == "3/3 etcd members healthy"

    cluster.stop_vm(STOPPED[0])
    stopped_vms.append(STOPPED[0])
    degraded = checks_of(wait_for_health(cluster, tmp_path, quorum_kept, SETTLE, f"etcd degraded, the API answering with {STOPPED[0]} down"))
    assert degraded["etcd"]["message"].startswith("2/3 etcd members healthy, quorum kept (quorum 2); "), degraded["etcd"]
    assert degraded["etcd"]["message"].count("https://") == 1

    cluster.stop_vm(STOPPED[1])
    stopped_vms.append(STOPPED[1])
    lost = wait_for_health(cluster, tmp_path, quorum_lost, SETTLE, f"etcd unhealthy with {' and '.join(STOPPED)} down")
    assert lost["status"] == "unhealthy", lost
    etcd = checks_of(lost)["etcd"]
    # The member left answers, but not healthy: it has no leader (or, for a moment, still thinks it has one).
    assert re.match(r"[01]/3 etcd members healthy, quorum lost \(quorum 2\); ", etcd["message"]), etcd

    back = bring_back(cluster, stopped_vms, tmp_path)
    assert checks_of(back)["etcd"]["message"] == "3/3 etcd members healthy"
    assert {vm["name"]: vm["status"] for vm in cluster.vms()} == dict.fromkeys(
        ["real-cp-1", "real-cp-2", "real-cp-3", "real-general-1", "real-general-2", "real-lb"], "running")
