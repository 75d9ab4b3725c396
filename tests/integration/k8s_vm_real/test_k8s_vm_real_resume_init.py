"""A kubeadm init that did not finish is finished by the rerun, not skipped (last in the package: it runs
kubeadm init again on the first control plane of the shared cluster)."""

from __future__ import annotations

import re

import pytest
from kubernetes import client

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed]

INIT_STAMP = "/etc/kubernetes/gpve/init.done"


def _result_of(output: str, task: str) -> tuple[str, str]:
    """(status, host) of the first result line after the task's header."""
    after = re.split(rf"^TASK \[[^\]]*{re.escape(task)}\]", output, maxsplit=1, flags=re.M)[1]
    found = re.search(r"^(ok|changed|skipping|fatal): \[([^\]]+)\]", after, re.M)
    return found.group(1), found.group(2)


def test_a_rerun_finishes_an_init_that_left_no_stamp(real_cluster):
    """admin.conf there, the stamp not: what an init that stopped half-way leaves. The rerun runs kubeadm init
    again without its preflight (which would refuse the files), on a control plane that serves: the cluster
    keeps serving, every node stays Ready, and the stamp is back."""
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    first = "real-cp-1"
    removed = cluster.ssh(first, f"test -f /etc/kubernetes/admin.conf && rm {INIT_STAMP}")
    assert removed.returncode == 0, removed.stderr
    again = cluster.play("create")
    assert again.returncode == 0, again.stdout[-6000:]
    # Ran, and succeeded: without --skip-phases=preflight kubeadm init refuses a node with its files and ports taken.
    assert _result_of(again.stdout, "Run kubeadm init") == ("changed", first)
    assert cluster.ssh(first, f"test -f {INIT_STAMP}").returncode == 0
    nodes = client.CoreV1Api(cluster.api()).list_node().items
    assert all(next(c.status for c in n.status.conditions if c.type == "Ready") == "True" for n in nodes)
    assert len(nodes) == 5
