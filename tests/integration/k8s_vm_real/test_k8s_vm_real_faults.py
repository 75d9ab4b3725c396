"""A control plane's VM powered off while create.yml runs: the run stops naming the node and the step, the
cluster goes Failed; the same command again finishes the job without duplicates (conftest.create_runs)."""

from __future__ import annotations

from collections import Counter

import pytest
from kubernetes import client

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed]


def test_the_run_that_lost_a_control_plane_names_the_node_and_the_step(create_runs):
    output, lost = create_runs.interrupted.stdout, create_runs.lost_vm
    assert create_runs.interrupted.returncode != 0, output[-3000:]
    assert f"stage bootstrap failed on {lost} at 'Check that the node answers'" in output, output[-4000:]
    events = create_runs.cluster.registered()[1]
    failed = [e for e in events if e.reason == "StageFailed"]
    assert failed, [(e.reason, e.message) for e in events[:20]]
    assert failed[-1].metadata["host"] == lost
    assert failed[-1].metadata["stage"] == "bootstrap"
    assert failed[-1].metadata["task"] == "Check that the node answers"


def test_the_rerun_finishes_without_duplicates(create_runs):
    cluster, resumed = create_runs.cluster, create_runs.resumed
    assert resumed.returncode == 0, resumed.stdout[-6000:]
    record = cluster.registered()[0]
    assert record.status.phase == "Running"
    names = Counter(vm["name"] for vm in cluster.vms())
    assert names == Counter({f"real-cp-{i}": 1 for i in (1, 2, 3)} | {f"real-general-{i}": 1 for i in (1, 2)} | {"real-lb": 1})
    assert all(vm["status"] == "running" for vm in cluster.vms())
    core = client.CoreV1Api(cluster.api())
    etcd = core.list_namespaced_pod("kube-system", label_selector="component=etcd").items
    assert sorted(pod.spec.node_name for pod in etcd) == ["real-cp-1", "real-cp-2", "real-cp-3"]
    assert len(core.list_node().items) == 5
