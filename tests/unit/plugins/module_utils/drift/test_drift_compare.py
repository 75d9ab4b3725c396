"""drift.compare and drift.proxmox.pending_config: sizes from a VM's configuration against the registry's node."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.drift.compare import compare
from ansible_collections.gpve.cluster.plugins.module_utils.drift.proxmox import pending_config

pytestmark = pytest.mark.k8s_vm

GIB = 1024 ** 3


def node(**resources):
    base = {"cores": 2, "memory": 1024, "disk_size": 20, "proxmox_node": "pve1", "additional_disks": []}
    return SimpleNamespace(name="c-worker-1", vmid="101", role="worker", status="Running", resources=dict(base, **resources))


VM = {"vmid": 101, "name": "c-worker-1", "node": "pve1", "status": "running", "maxcpu": 2, "maxmem": 1024 * 1024 ** 2,
      "maxdisk": 10 * GIB}
CONFIG = {"cores": 2, "sockets": 1, "memory": "1024", "boot": "order=scsi0;net0",
          "scsi0": "local-lvm:vm-101-disk-0,size=20G", "ide2": "local-lvm:vm-101-cloudinit,media=cdrom"}


def test_sizes_from_the_config_match_even_when_the_bulk_disk_is_stale():
    assert compare([node()], [VM], {101: CONFIG})["in_sync"] is True


def test_boot_disk_additional_disk_and_pending_memory_differences():
    config = dict(CONFIG, scsi0="local-lvm:vm-101-disk-0,size=32G", scsi1="local-lvm:vm-101-disk-1,size=50G",
                  memory="current=1536")
    report = compare([node(additional_disks=[{"key": "scsi1", "size": 40, "storage": "local-lvm"},
                                             {"key": "scsi2", "size": 5, "storage": "local-lvm"}])], [VM], {101: config})
    assert report["resized"] == [{"name": "c-worker-1", "vmid": 101, "differences": {
        "memory_mb": {"registry": 1024, "proxmox": 1536}, "disk_gb": {"registry": 20, "proxmox": 32},
        "disk_gb.scsi1": {"registry": 40, "proxmox": 50}, "disk_gb.scsi2": {"registry": 5, "proxmox": None}}}]


def test_without_a_config_cpus_and_memory_come_from_the_bulk_read():
    report = compare([node(cores=4)], [VM], {101: None})
    assert report["resized"] == [{"name": "c-worker-1", "vmid": 101, "differences": {"cpus": {"registry": 4, "proxmox": 2}}}]


def test_pending_config_applies_pending_values_and_deletions():
    entries = [{"key": "memory", "value": "1024", "pending": "2048"}, {"key": "cores", "value": 2},
               {"key": "scsi1", "value": "local-lvm:vm-101-disk-1,size=8G", "delete": 1}]
    assert pending_config(entries) == {"memory": "2048", "cores": 2}
