"""What the testbed's fakepve holds at start: three nodes, their storages, a cloud-init template per node.

    nodes     pve1, pve2, pve3 (cluster "gpve-testbed")
    storages  local (dir: iso, vztmpl, backup, snippets, import) and local-lvm (lvmthin: images, rootdir),
              on every node as PVE installs them
    templates ubuntu-22.04-k8s: vmid 9000 on pve1, 9001 on pve2, 9002 on pve3 -- template=1, scsi0 on
              local-lvm (10G base volume), ide2 cloud-init drive, net0 virtio on vmbr0, agent enabled,
              ipconfig0 ip=dhcp (clones set their own)

``clear_faults`` undoes every fault the control channel can inject and puts the settings the
process chose before seeding (its time scale, the guest agents' boot delay, whether started VMs
boot) back as they were
seeded; ``reset`` also removes every guest the seed did not create, giving the seed back to
the next test.
"""

from __future__ import annotations

import time

GIB = 1024 ** 3
NODES = ("pve1", "pve2", "pve3")
CLUSTER_NAME = "gpve-testbed"
TEMPLATE_NAME = "ubuntu-22.04-k8s"
TEMPLATE_VMIDS = {"pve1": 9000, "pve2": 9001, "pve3": 9002}
TEMPLATE_DISK_GIB = 10
# fakepve's defaults, restored by clear_faults.
DEFAULTS = {"ticket_ttl": 7200, "lock_wait": 10, "latency": 0.0, "tfa": False, "shutdown_default_timeout": 60,
            "ha_delay": 10}
NETWORK_DEFAULTS = {"latency": 0.0, "jitter": 0.0, "node_latency": {}, "drop_rate": 0.0, "hang_rate": 0.0,
                    "hang_secs": 120, "seed": None}
# Settings the process sets (or inherits) before seed(): recorded there, restored by clear_faults.
SEEDED_SETTINGS = ("time_scale", "agent_boot_secs", "boot_vms")
VM_DEFAULTS = {"agent_hangs": False, "agent_down": False, "start_error": None, "shutdown_secs": 0,
               "start_secs": 0, "stop_secs": 0, "acpi": True}


def template_config(vmid: int) -> dict:
    mac = "BC:24:11:{0:02X}:{1:02X}:00".format(vmid // 256 % 256, vmid % 256)
    return {
        "name": TEMPLATE_NAME, "template": 1, "ostype": "l26", "machine": "q35", "bios": "seabios",
        "cpu": "x86-64-v2-AES", "cores": 2, "sockets": 1, "memory": 2048, "balloon": 0,
        "scsihw": "virtio-scsi-single",
        "scsi0": f"local-lvm:base-{vmid}-disk-0,discard=on,iothread=1,size={TEMPLATE_DISK_GIB}G",
        "ide2": f"local-lvm:vm-{vmid}-cloudinit,media=cdrom",
        "net0": f"virtio={mac},bridge=vmbr0,firewall=0",
        "boot": "order=scsi0", "serial0": "socket", "vga": "serial0",
        "agent": "enabled=1,fstrim_cloned_disks=1",
        "ciuser": "ubuntu", "ipconfig0": "ip=dhcp",
        "description": "gpve testbed cloud-init template",
    }


def _volume(vmid: int, size: int) -> dict:
    return {"content": "images", "format": "raw", "size": size, "vmid": vmid, "ctime": int(time.time())}


def seed(pve) -> None:
    pve.seeded_settings = {name: getattr(pve, name) for name in SEEDED_SETTINGS if hasattr(pve, name)}
    pve.cluster_name = CLUSTER_NAME
    for node in NODES:
        pve.add_node(node)
    pve.storages["local"]["content"] = "iso,vztmpl,backup,snippets,import"
    pve.storages["local-lvm"]["total"] = 4096 * GIB
    volumes = pve.storages["local-lvm"].setdefault("volumes", {})
    for node, vmid in TEMPLATE_VMIDS.items():
        pve.add_vm(vmid, TEMPLATE_NAME, node=node, status="stopped", template=True, config=template_config(vmid))
        volumes[f"base-{vmid}-disk-0"] = _volume(vmid, TEMPLATE_DISK_GIB * GIB)
        volumes[f"vm-{vmid}-cloudinit"] = _volume(vmid, 4 * 1024 ** 2)


def seeded_vmids() -> set[int]:
    return set(TEMPLATE_VMIDS.values())


def clear_faults(pve) -> None:
    """Every injected fault undone: failures, quorum, offline nodes, network, Ceph, VM faults and locks;
    the time scale and the agents' boot delay as seeded."""
    pve.failures.clear()
    pve.regain_quorum()
    for node in pve.nodes:
        pve.set_node_offline(node, offline=False)
    pve.network.update(NETWORK_DEFAULTS, node_latency={})
    pve.ceph_recover()
    for name, value in dict(DEFAULTS, **getattr(pve, "seeded_settings", {})).items():
        setattr(pve, name, value)
    for vm in pve.vms:
        for name, value in VM_DEFAULTS.items():
            setattr(vm, name, value)
        pve.release(vm, "scenario")


def reset(pve) -> None:
    """clear_faults, then remove every guest the seed did not create (their volumes freed)."""
    clear_faults(pve)
    keep = seeded_vmids()
    for vm in [vm for vm in pve.vms if vm.vmid not in keep]:
        for key in vm.devices():
            volume = str(vm.config.get(key, "")).split(",", maxsplit=1)[0]
            if ":" in volume and f"-{vm.vmid}-" in volume:
                pve._qm_free(volume)  # pylint: disable=protected-access  # fakepve's own volume bookkeeping
        pve.vms.remove(vm)
        for members in pve.pools.values():
            members.discard(vm.vmid)
    if hasattr(pve, "cts"):
        pve.cts.clear()
    home = {vmid: node for node, vmid in TEMPLATE_VMIDS.items()}
    for vm in pve.vms:
        vm.node = home[vm.vmid]
        vm.config = template_config(vm.vmid)
        vm.pending, vm.snapshots, vm.lock = {}, {}, None
        vm.status = vm.qmpstatus = "stopped"
