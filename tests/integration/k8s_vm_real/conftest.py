"""The real cluster of these tests: made once per test package by create.yml on booted VMs.

Package scope, not session: other tests reset fakepve (which destroys every VM), so the cluster
lives while this package's tests run, one after the other, and is destroyed after them.

The cluster is made the hard way, once: the first create.yml loses a control plane's VM (powered
off while the control planes join) and fails; the second, the same command, finishes the job.
test_k8s_vm_real_faults.py asserts on both runs; every other test uses the cluster the second made.
The modules of LAST_MODULES end the cluster (its etcd restored to an earlier state, then the cluster
deleted): they run after every other test of the package.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from tests.real_cluster import RealCluster, cluster_spec

# Modules that end the shared cluster, run last in the package (in this order).
# test_k8s_vm_real_control_planes.py makes a cluster of its own: after the shared one is gone (2 cores run them all).
LAST_MODULES = ("test_k8s_vm_real_backup.py", "test_k8s_vm_real_control_planes.py")
# The last control plane to join; its VM goes down once the first joining control plane is on its way.
LOST_CONTROL_PLANE = "real-cp-3"
CONTROL_PLANES_JOINING = "PLAY [Join the control planes, one at a time]"


def pytest_collection_modifyitems(items):
    """This package's tests keep their place in the session; among them, those of LAST_MODULES go last."""
    here = Path(__file__).parent
    positions = [index for index, item in enumerate(items) if item.path.parent == here]
    ours = [items[index] for index in positions]
    last = [item for name in LAST_MODULES for item in ours if item.path.name == name]
    for index, item in zip(positions, [item for item in ours if item.path.name not in LAST_MODULES] + last):
        items[index] = item


class CreateRuns(NamedTuple):
    cluster: RealCluster
    lost_vm: str            # the control plane whose VM was powered off during the first run
    interrupted: object     # subprocess.CompletedProcess of the run that lost a VM
    resumed: object         # ... of the rerun that finished the job


@pytest.fixture(scope="package")
def create_runs(testbed, tmp_path_factory) -> CreateRuns:
    """3 control planes behind keepalived's virtual IP on an haproxy VM, 2 workers: kubeadm, created in two runs."""
    control = testbed.pve_control
    control.reset()
    control.set("boot_vms", True)
    public_key = Path(f"{testbed.ssh_key}.pub").read_text().strip()
    cluster = RealCluster(tmp_path_factory.mktemp("real-cluster"), testbed, "real", cluster_spec(public_key, control_planes=3))
    cluster.check_addresses()
    try:
        interrupted = cluster.play_losing_vm("create", LOST_CONTROL_PLANE, once=CONTROL_PLANES_JOINING)
        yield CreateRuns(cluster, LOST_CONTROL_PLANE, interrupted, cluster.play("create"))
    finally:
        control.reset()
        control.clear_faults()


@pytest.fixture(scope="package")
def real_cluster(create_runs):
    """(RealCluster, the create.yml run that finished it)."""
    return create_runs.cluster, create_runs.resumed
