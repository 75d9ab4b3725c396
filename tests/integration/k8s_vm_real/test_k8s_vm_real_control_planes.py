"""scale.yml's control planes for real, on a cluster of its own: one control plane, no worker, no add-on (the cheapest
cluster that can grow), kubeadm with stacked etcd, the API endpoint the first control plane's own address.

An even count is refused before anything is written. Grown to 3, the API server lists 3 Ready control planes and etcd
itself (etcdctl on the controller, with the etcd-client credential create.yml stored, asking the first control
plane's member) 3 started members, every one healthy: quorum. Shrunk to 1, while scale.yml runs the test lists etcd's
members and the cluster's VMs on Proxmox every second: when a leaving control plane's VM is first seen not running,
the last member list etcd gave already had no member of it; at the end etcd lists one member, the first control
plane's, and the registry's events run NodeRemoving, EtcdMemberRemoved, NodeRemoved, VMDeleted for each leaving node.

The module runs after the package's shared cluster is deleted (conftest.LAST_MODULES), on addresses of its own.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
from kubernetes import client

from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from tests.real_cluster import RealCluster, small_cluster_spec, vm_address
from tests.testbed import binaries

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed]

NAME = "cps"
FIRST = f"{NAME}-cp-1"
JOINING = [f"{NAME}-cp-2", f"{NAME}-cp-3"]
ADDRESS_OFFSETS = (41, 46)      # apart from the package cluster's (1 to 12, and 0)
POLL = 1.0


def _spec(testbed) -> dict:
    spec = small_cluster_spec(Path(f"{testbed.ssh_key}.pub").read_text().strip(), workers=0)
    first, last = (vm_address(offset) for offset in ADDRESS_OFFSETS)
    spec["network"]["vm_network"]["ip_range"] = {"start": first, "end": last}
    spec["load_balancer"] = {"type": "external", "external_address": first}
    spec["addons"] = {}
    return spec


@pytest.fixture(scope="module")
def one_control_plane(testbed, tmp_path_factory):
    """(RealCluster, the create.yml run, its seconds): 1 control plane, no worker."""
    control = testbed.pve_control
    control.reset()
    control.set("boot_vms", True)
    cluster = RealCluster(tmp_path_factory.mktemp("cp-scale"), testbed, NAME, _spec(testbed))
    cluster.check_addresses()
    try:
        started = time.monotonic()
        created = cluster.play("create")
        yield cluster, created, time.monotonic() - started
    finally:
        control.reset()
        control.clear_faults()


class Etcd:
    """etcdctl on the controller, asking the first control plane's member with the registry's etcd-client credential."""

    def __init__(self, cluster: RealCluster):
        with open_registry(str(cluster.registry_path), actor="real-cluster-tests") as store:
            text = store.get_credential(store.find_cluster(cluster.name).id, "etcd-client").data
        document = json.loads(text if isinstance(text, str) else text.decode())
        directory = cluster.dir / "etcd-client"
        directory.mkdir(mode=0o700, exist_ok=True)
        for field in ("ca", "cert", "key"):
            path = directory / f"{field}.pem"
            path.write_text(document[field])
            path.chmod(0o600)
        address = cluster.spec["load_balancer"]["external_address"]     # the first control plane's
        self.argv = [str(binaries.tool("etcdctl") / "etcdctl"), f"--endpoints=https://{address}:2379",
                     f"--cacert={directory / 'ca.pem'}", f"--cert={directory / 'cert.pem'}",
                     f"--key={directory / 'key.pem'}", "--command-timeout=5s"]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv + list(args), capture_output=True, text=True, timeout=30, check=False)

    def members(self) -> list[dict]:
        listed = self.run("member", "list", "-w", "json")
        assert listed.returncode == 0, listed.stderr
        return json.loads(listed.stdout)["members"]

    def health(self) -> list[dict]:
        checked = self.run("endpoint", "health", "--cluster", "-w", "json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        return json.loads(checked.stdout)


class Watch(threading.Thread):
    """Every POLL seconds: etcd's member names (None when etcd did not answer) and the cluster's VMs' states."""

    def __init__(self, cluster: RealCluster, etcd: Etcd):
        super().__init__(daemon=True)
        self.cluster, self.etcd = cluster, etcd
        self.seen: list[tuple[float, list[str] | None, dict[str, str]]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            listed = self.etcd.run("member", "list", "-w", "json")
            names = [m.get("name", "") for m in json.loads(listed.stdout)["members"]] if listed.returncode == 0 else None
            try:
                vms = {vm["name"]: vm["status"] for vm in self.cluster.vms()}
            except Exception:  # noqa: BLE001 - a look Proxmox did not answer is no look at the VMs
                vms = None
            self.seen.append((time.monotonic(), names, vms))
            self.done.wait(POLL)

    def members_when_the_vm_went(self, vm: str) -> list[str]:
        """etcd's last member list before (or at) the first look that found the VM not running."""
        members = None
        for _at, names, vms in self.seen:
            members = names if names is not None else members
            if vms is not None and vms.get(vm) != "running":
                assert members is not None, f"etcd never answered before {vm} was seen {vms.get(vm, 'gone')}"
                return members
        raise AssertionError(f"{vm} was running in every look ({len(self.seen)})")


def _control_planes(core) -> dict[str, bool]:
    nodes = core.list_node(label_selector="node-role.kubernetes.io/control-plane").items
    return {n.metadata.name: any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or []) for n in nodes}


def _refused_before_any_write(cluster):
    events = len(cluster.registered()[1])
    vms = {vm["name"]: (vm["vmid"], vm["status"]) for vm in cluster.vms()}
    refused = cluster.play("scale", gpve_control_plane_replicas=2)
    assert refused.returncode != 0
    assert "gpve_control_plane_replicas: 2 control planes with stacked etcd cannot keep quorum" in refused.stdout
    assert "give an odd count (1 or 3)" in refused.stdout
    assert len(cluster.registered()[1]) == events
    assert {vm["name"]: (vm["vmid"], vm["status"]) for vm in cluster.vms()} == vms


def _grown(cluster, core, etcd):
    started = time.monotonic()
    grown = cluster.play("scale", gpve_control_plane_replicas=3)
    seconds = time.monotonic() - started
    assert grown.returncode == 0, grown.stdout[-6000:]
    assert _control_planes(core) == {FIRST: True, **{name: True for name in JOINING}}
    members = etcd.members()
    assert sorted(m["name"] for m in members) == [FIRST, *JOINING]
    assert all(m.get("clientURLs") and not m.get("isLearner") for m in members), members      # started voters
    health = etcd.health()
    assert len(health) == 3 and all(h["health"] for h in health), health                      # quorum of 3
    assert {vm["name"]: vm["status"] for vm in cluster.vms()} == {FIRST: "running", **{n: "running" for n in JOINING}}
    assert cluster.registered()[0].status.phase == "Running"
    return seconds


def _shrunk(cluster, core, etcd):
    watch = Watch(cluster, etcd)
    watch.start()
    started = time.monotonic()
    try:
        shrunk = cluster.play("scale", gpve_control_plane_replicas=1)
    finally:
        watch.done.set()
        watch.join(60)
    seconds = time.monotonic() - started
    assert shrunk.returncode == 0, shrunk.stdout[-6000:]
    # From etcd itself: the leaving members were gone before their VMs stopped, and one member is left.
    for name in JOINING:
        then = watch.members_when_the_vm_went(name)
        assert name not in then, (name, then)
    members = etcd.members()
    assert [m["name"] for m in members] == [FIRST], members
    assert [h["health"] for h in etcd.health()] == [True]
    assert _control_planes(core) == {FIRST: True}
    assert {vm["name"] for vm in cluster.vms()} == {FIRST}
    events = cluster.registered()[1]
    order = [(e.reason, (e.metadata or {}).get("node") or (e.metadata or {}).get("vm")) for e in reversed(events)]
    for name in JOINING:
        steps = [order.index((reason, name)) for reason in ("NodeRemoving", "EtcdMemberRemoved", "NodeRemoved", "VMDeleted")]
        assert steps == sorted(steps), (name, order)
    removed = [e for e in events if e.reason == "EtcdMemberRemoved"]
    assert sorted(e.metadata["node"] for e in removed) == sorted(JOINING)
    assert min(len(e.metadata["members"]) for e in removed) == 1
    assert cluster.registered()[0].status.phase == "Running"
    return seconds


def test_control_planes_grow_from_one_to_three_and_shrink_back_through_etcd(one_control_plane):
    cluster, created, create_seconds = one_control_plane
    assert created.returncode == 0, created.stdout[-6000:]
    core = client.CoreV1Api(cluster.api())
    etcd = Etcd(cluster)
    assert [m["name"] for m in etcd.members()] == [FIRST]
    _refused_before_any_write(cluster)
    grow_seconds = _grown(cluster, core, etcd)
    shrink_seconds = _shrunk(cluster, core, etcd)
    print(f"create.yml (1 control plane, no worker): {create_seconds:.0f} s; scale.yml 1 -> 3 control planes: "
          f"{grow_seconds:.0f} s; 3 -> 1: {shrink_seconds:.0f} s")
