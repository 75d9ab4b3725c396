"""The real cluster of these tests: made once for this package by create.yml on booted VMs.

Package scope, not session: other tests reset fakepve (which destroys every VM), so the cluster
lives while this package's tests run, one after the other, and is destroyed after them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.real_cluster import RealCluster, cluster_spec


@pytest.fixture(scope="package")
def real_cluster(testbed, tmp_path_factory):
    """(RealCluster, the first create.yml run) for a 1 control plane + 2 workers kubeadm cluster behind an haproxy VM."""
    control = testbed.pve_control
    control.reset()
    control.set("boot_vms", True)
    public_key = Path(f"{testbed.ssh_key}.pub").read_text().strip()
    cluster = RealCluster(tmp_path_factory.mktemp("real-cluster"), testbed, "real", cluster_spec(public_key))
    cluster.check_addresses()
    try:
        yield cluster, cluster.play("create")
    finally:
        control.reset()
        control.clear_faults()
