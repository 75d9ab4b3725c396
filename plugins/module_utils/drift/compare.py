# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One K8s-on-VM cluster's registry nodes against its Proxmox VMs (``/cluster/resources`` entries and configs).

A registry node matches the VM with its VMID (else its name). Drift is:

- missing: a registry node without its VM;
- extra: a VM tagged with the cluster that no registry node describes;
- stopped: a node the registry has Running whose VM is not running;
- resized: CPUs (cores x sockets), memory (MB), the boot disk (GB) or an additional disk (GB) differ from
  the registry's planned node, each difference as ``{"registry": expected, "proxmox": actual}``. Sizes
  come from the VM's configuration (pending changes included: what the VM has after its next start;
  ``size=`` of each drive, which is authoritative: ``qm resize`` updates it); a VM whose configuration
  could not be read is compared on the bulk read's CPUs and memory only;
- moved: the VM runs on another Proxmox node than the registry says.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.planner.environment import Template
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats

MIB = 1024 ** 2
GIB = 1024 ** 3
RUNNING = "Running"


def _vmid(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _gib(size_bytes):
    """Bytes as GB (GiB), a whole number when it is one."""
    value = size_bytes / GIB
    return int(value) if value == int(value) else round(value, 2)


def _expected_size(resources):
    expected = {}
    if resources.get("cores"):
        expected["cpus"] = int(resources["cores"]) * int(resources.get("sockets") or 1)
    if resources.get("memory"):
        expected["memory_mb"] = int(resources["memory"])
    if resources.get("disk_size"):
        expected["disk_gb"] = int(resources["disk_size"])
    for disk in resources.get("additional_disks") or []:
        if disk.get("key") and disk.get("size"):
            expected["disk_gb." + disk["key"]] = int(disk["size"])
    return expected


def _memory_mb(value):
    """A config's memory (``2048``, or ``current=2048`` on PVE 8.1 and later) in MB."""
    return int(str(value).split(",", maxsplit=1)[0].split("=")[-1])


def _actual_size(vm, config):
    if config is None:
        return {"cpus": vm.get("maxcpu"), "memory_mb": int(vm["maxmem"]) // MIB if vm.get("maxmem") else None}
    actual = {"cpus": int(config.get("cores") or 1) * int(config.get("sockets") or 1),
              "memory_mb": _memory_mb(config.get("memory") or 512)}
    drives = Template(vm["vmid"], vm.get("name"), vm.get("node"), config)
    disks = drives.disks()
    root = drives.root_disk()
    for key, value in disks.items():
        size = formats.disk_size_bytes(value)
        if size is not None:
            actual["disk_gb" if key == root else "disk_gb." + key] = _gib(size)
    return actual


def _match(nodes, vms):
    by_vmid = {vm["vmid"]: vm for vm in vms}
    by_name = {vm.get("name"): vm for vm in vms}
    pairs, used = [], set()
    for node in nodes:
        vm = by_vmid.get(_vmid(node.vmid)) or by_name.get(node.name)
        if vm is not None and vm["vmid"] not in used:
            used.add(vm["vmid"])
            pairs.append((node, vm))
        else:
            pairs.append((node, None))
    return pairs, [vm for vm in vms if vm["vmid"] not in used]


def compare(nodes, vms, configs=None):
    """The drift report of one cluster (JSON-able); ``in_sync`` is true when nothing differs.

    configs: vmid -> the VM's configuration (or None when it could not be read)."""
    pairs, extra = _match(nodes, vms)
    report = {"missing": [], "extra": [], "stopped": [], "resized": [], "moved": []}
    for node, vm in pairs:
        if vm is None:
            report["missing"].append({"name": node.name, "vmid": _vmid(node.vmid), "role": node.role,
                                      "registry_status": node.status})
            continue
        _compare_pair(node, vm, (configs or {}).get(vm["vmid"]), report)
    report["extra"] = [{"name": vm.get("name"), "vmid": vm["vmid"], "proxmox_node": vm.get("node"), "status": vm.get("status")}
                       for vm in sorted(extra, key=lambda vm: vm["vmid"])]
    report["in_sync"] = not any(report[key] for key in ("missing", "extra", "stopped", "resized", "moved"))
    return report


def _compare_pair(node, vm, config, report):
    resources = node.resources or {}
    if node.status == RUNNING and vm.get("status") != "running":
        report["stopped"].append({"name": node.name, "vmid": vm["vmid"], "status": vm.get("status")})
    expected, actual = _expected_size(resources), _actual_size(vm, config)
    differences = {field: {"registry": value, "proxmox": actual.get(field)} for field, value in expected.items()
                   if (config is not None or actual.get(field) is not None) and actual.get(field) != value}
    if differences:
        report["resized"].append({"name": node.name, "vmid": vm["vmid"], "differences": differences})
    if resources.get("proxmox_node") and vm.get("node") and resources["proxmox_node"] != vm["node"]:
        report["moved"].append({"name": node.name, "vmid": vm["vmid"], "registry": resources["proxmox_node"],
                                "proxmox": vm["node"]})
