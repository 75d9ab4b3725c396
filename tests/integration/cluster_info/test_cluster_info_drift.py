"""gpve_cluster_info drift: a K8s-on-VM cluster built by gpve_k8s_vm on the testbed's fakepve, then changed
behind the registry's back (a VM deleted, one stopped and given more CPUs and memory, one given a bigger disk and
more memory while running)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from proxmoxer import ProxmoxAPI

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import tasks, vm_ops
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox.client import ConnectionOptions, ProxmoxClient
from tests.as_a_user import ansible_cli

pytestmark = pytest.mark.k8s_vm

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3RiZWQta2V5LWZvci1ncHZlLWs4cy12bQ drift@testbed"
SPEC = {
    "name": "drifty",
    "control_plane": {"replicas": 1, "resources": {"memory": 1024, "disk_size": 20}},
    "workers": [{"name": "general", "replicas": 2, "resources": {"cores": 2, "memory": 1024, "disk_size": 20}}],
    "network": {"vm_network": {"ip_allocation": "static", "ip_range": {"start": "10.30.0.10", "end": "10.30.0.40"},
                               "prefix": 24, "gateway": "10.30.0.1", "dns": ["10.30.0.2"]}},
    "load_balancer": {"type": "keepalived", "virtual_ip": "10.30.0.5", "resources": {"memory": 1024}},
    "ssh": {"public_keys": [KEY]},
}


@pytest.fixture
def proxmox(pve, pve_control):
    pve_control.reset()
    yield ProxmoxClient(ConnectionOptions(api_url=pve.url, api_user=pve.user, api_password=pve.password, ca_path=pve.ca_path))
    pve_control.reset()


def proxmoxer_api(pve):
    url = urlsplit(pve.url)
    return ProxmoxAPI(url.hostname, port=url.port, user=pve.user, password=pve.password, verify_ssl=pve.ca_path)


def proxmox_args(pve):
    return dict(api_url=pve.url, api_user=pve.user, api_password=pve.password, ca_path=pve.ca_path)


def test_drift_after_changes_behind_the_registrys_back(pve, proxmox, tmp_path):
    registry = str(tmp_path / "registry.db")
    built = ansible_cli.run_module("gpve_k8s_vm", dict(SPEC, registry=registry, agent_timeout=60, task_timeout=120,
                                                       **proxmox_args(pve)), tmp_path)
    assert not built.get("failed"), built.get("msg")
    cluster_id = built["cluster"]["id"]
    nodes = {node["name"]: node for node in built["nodes"]}
    assert sorted(nodes) == ["drifty-cp-1", "drifty-general-1", "drifty-general-2", "drifty-lb"]

    in_sync = ansible_cli.run_module("gpve_cluster_info", dict(registry=registry, name="drifty", drift=True,
                                                               **proxmox_args(pve)), tmp_path)
    assert in_sync["clusters"][0]["drift"]["in_sync"] is True, in_sync["clusters"][0]["drift"]

    settings = vm_ops.TaskSettings(timeout=120)
    gone, stopped = nodes["drifty-general-2"], nodes["drifty-general-1"]
    vm_ops.destroy(proxmox, settings, gone["proxmox_node"], gone["vmid"])
    # Stopped, then given more CPUs and memory while down (a running VM would only get pending changes).
    vm_ops.stop(proxmox, settings, stopped["proxmox_node"], stopped["vmid"])
    vm_ops.configure(proxmox, settings, stopped["proxmox_node"], stopped["vmid"], {"memory": 2048, "cores": 4})
    # The control plane, running: its boot disk grown by 12 GB (qm resize) and its memory raised in its config.
    grown = nodes["drifty-cp-1"]
    api = proxmoxer_api(pve).nodes(grown["proxmox_node"]).qemu(grown["vmid"])
    boot_disk = api.config.get()["boot"].split("=", 1)[1].split(";")[0]
    tasks.wait_for_task(proxmox, api.resize.put(disk=boot_disk, size="+12G"), timeout=120)
    api.config.put(memory=1536)

    result = ansible_cli.run_module("gpve_cluster_info", dict(registry=registry, type=["k8s-vm"], drift=True,
                                                              **proxmox_args(pve)), tmp_path)
    assert not result.get("failed"), result.get("msg")
    drift = result["clusters"][0]["drift"]
    assert drift["in_sync"] is False
    assert drift["missing"] == [{"name": "drifty-general-2", "vmid": gone["vmid"], "role": "worker", "registry_status": "Running"}]
    assert drift["stopped"] == [{"name": "drifty-general-1", "vmid": stopped["vmid"], "status": "stopped"}]
    assert drift["resized"] == [
        {"name": "drifty-cp-1", "vmid": grown["vmid"], "differences": {
            "memory_mb": {"registry": 1024, "proxmox": 1536}, "disk_gb": {"registry": 20, "proxmox": 32}}},
        {"name": "drifty-general-1", "vmid": stopped["vmid"], "differences": {
            "cpus": {"registry": 2, "proxmox": 4}, "memory_mb": {"registry": 1024, "proxmox": 2048}}}]
    assert drift["extra"] == [] and drift["moved"] == []
    assert cluster_id == result["clusters"][0]["id"]


def test_drift_without_proxmox_options_is_a_clear_error(tmp_path):
    registry = str(tmp_path / "registry.db")
    from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
    with open_registry(registry, environ={}) as store:
        store.create_cluster("lonely", "k8s-vm", spec={"distribution": "kubeadm", "kubernetes_version": "1.37.2"})
    result = ansible_cli.run_module("gpve_cluster_info", dict(registry=registry, drift=True), tmp_path)
    assert result["failed"] is True and "drift: needs the Proxmox connection options" in result["msg"]
