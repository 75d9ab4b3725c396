"""create.yml bootstraps a working kubeadm cluster on booted VMs, asserted on the new cluster's own
API server with the admin kubeconfig the registry keeps."""

from __future__ import annotations

import re

import pytest
from kubernetes import client

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed]


def _recap_changed(output: str) -> dict[str, int]:
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def test_create_makes_every_node_ready_at_the_spec_version(real_cluster):
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-6000:]
    nodes = client.CoreV1Api(cluster.api()).list_node().items
    version = "v" + cluster.spec["kubernetes_version"]
    ready = {n.metadata.name: next(c.status for c in n.status.conditions if c.type == "Ready") for n in nodes}
    assert ready == {"real-cp-1": "True", "real-general-1": "True"} or len(ready) == 2, ready
    assert all(status == "True" for status in ready.values()), ready
    assert {n.status.node_info.kubelet_version for n in nodes} == {version}


def test_a_rerun_changes_nothing(real_cluster):
    cluster, first = real_cluster
    assert first.returncode == 0, first.stdout[-3000:]
    again = cluster.play("create")
    assert again.returncode == 0, again.stdout[-6000:]
    assert set(_recap_changed(again.stdout).values()) == {0}, _recap_changed(again.stdout)
