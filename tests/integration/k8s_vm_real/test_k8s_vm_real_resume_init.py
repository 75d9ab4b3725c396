"""A kubeadm init or control-plane join that did not finish is finished by the rerun, not skipped.

One rerun of create.yml on the shared cluster serves both: before it, the first control plane is put back to what
an init that stopped half-way leaves (admin.conf there, the init stamp not), and the last control plane to what a
join that stopped right after its kubelet bootstrapped leaves (kubelet.conf there, no etcd member, no local etcd,
no join stamp): the state the earlier `creates: kubelet.conf` took for a finished join.
"""

from __future__ import annotations

import json
import re

import pytest
from kubernetes import client

from tests.testbed.processes import wait_until

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed]

INIT_STAMP = "/etc/kubernetes/gpve/init.done"
JOIN_STAMP = "/etc/kubernetes/gpve/join.done"
FIRST = "real-cp-1"
HALF_JOINED = "real-cp-3"
CRICTL = "crictl --runtime-endpoint unix:///run/containerd/containerd.sock"
# etcdctl inside the first control plane's etcd container, with the health-check client's certificate.
ETCDCTL = (f"{CRICTL} exec $({CRICTL} ps -q --name '^etcd$' | head -n1) etcdctl --endpoints=https://127.0.0.1:2379 "
           "--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt "
           "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key")
# What the kubelet bootstrap leaves and the etcd join has not yet made: the member's manifest and data go.
UNJOIN_ETCD = ("rm /etc/kubernetes/manifests/etcd.yaml {stamp} && "
               f"for i in $(seq 60); do {CRICTL} ps -q --name '^etcd$' | grep -q . || break; sleep 2; done && "
               "rm -rf /var/lib/etcd && test -f /etc/kubernetes/kubelet.conf")


def _result_of(output: str, task: str) -> tuple[str, str]:
    """(status, host) of the first result line after the task's header."""
    after = re.split(rf"^TASK \[[^\]]*{re.escape(task)}\]", output, maxsplit=1, flags=re.M)[1]
    found = re.search(r"^(ok|changed|skipping|fatal): \[([^\]]+)\]", after, re.M)
    return found.group(1), found.group(2)


def _etcdctl(cluster, arguments: str) -> str:
    run = cluster.ssh(FIRST, f"{ETCDCTL} {arguments}")
    assert run.returncode == 0, run.stderr
    return run.stdout


def _etcd_members(cluster) -> list[dict]:
    """etcd's own member list, from the first control plane's member."""
    return json.loads(_etcdctl(cluster, "member list -w json"))["members"]


def _remove_member(cluster, name: str) -> None:
    member = next(m for m in _etcd_members(cluster) if m.get("name") == name)
    assert "removed from cluster" in _etcdctl(cluster, f"member remove {member['ID']:x}")


@pytest.fixture(scope="module")
def rerun(real_cluster):
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    removed = cluster.ssh(FIRST, f"test -f /etc/kubernetes/admin.conf && rm {INIT_STAMP}")
    assert removed.returncode == 0, removed.stderr
    _remove_member(cluster, HALF_JOINED)
    unjoined = cluster.ssh(HALF_JOINED, UNJOIN_ETCD.format(stamp=JOIN_STAMP))
    assert unjoined.returncode == 0, unjoined.stderr
    assert sorted(m["name"] for m in _etcd_members(cluster)) == [FIRST, "real-cp-2"]
    return cluster, cluster.play("create")


def test_a_rerun_finishes_an_init_that_left_no_stamp(rerun):
    """admin.conf there, the stamp not: what an init that stopped half-way leaves. The rerun runs kubeadm init
    again without its preflight (which would refuse the files), on a control plane that serves: the cluster
    keeps serving, every node stays Ready, and the stamp is back."""
    cluster, again = rerun
    assert again.returncode == 0, again.stdout[-6000:]
    # Ran, and succeeded: without --skip-phases=preflight kubeadm init refuses a node with its files and ports taken.
    assert _result_of(again.stdout, "kubeadm : Run kubeadm init") == ("changed", FIRST)
    assert cluster.ssh(FIRST, f"test -f {INIT_STAMP}").returncode == 0
    nodes = client.CoreV1Api(cluster.api()).list_node().items
    assert all(next(c.status for c in n.status.conditions if c.type == "Ready") == "True" for n in nodes)
    assert len(nodes) == 5


def test_a_rerun_finishes_a_control_plane_join_stopped_after_its_kubelet_bootstrapped(rerun):
    """The rerun joins the control plane again from the phase after kubelet-start: its etcd member is back, a
    voting member with its data, and its join stamp is written (the other nodes' joins are not run again)."""
    cluster, again = rerun
    assert again.returncode == 0, again.stdout[-6000:]
    assert _result_of(again.stdout, "kubeadm : Run kubeadm join") == ("changed", HALF_JOINED)
    assert cluster.ssh(HALF_JOINED, f"test -f {JOIN_STAMP}").returncode == 0
    wait_until(lambda: not any(m.get("isLearner") for m in _etcd_members(cluster)), 120, "the rejoined member promoted",
               interval=3.0)
    members = _etcd_members(cluster)
    assert sorted(m["name"] for m in members) == [FIRST, "real-cp-2", HALF_JOINED]
    assert cluster.ssh(HALF_JOINED, "test -s /var/lib/etcd/member/snap/db").returncode == 0
