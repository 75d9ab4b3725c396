# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One K8s-on-VM cluster's registry nodes against its Proxmox VMs (the ``/cluster/resources`` entries).

A registry node matches the VM with its VMID (else its name). Drift is:

- missing: a registry node without its VM;
- extra: a VM tagged with the cluster that no registry node describes;
- stopped: a node the registry has Running whose VM is not running;
- resized: CPUs (cores x sockets) or memory (MB) differ from the registry (disks are not compared: the
  bulk read's ``maxdisk`` is not kept up to date after a resize by every PVE implementation, the
  testbed's fakepve included, and a per-VM read would break the one-call rule);
- moved: the VM runs on another Proxmox node than the registry says.
"""

from __future__ import annotations

MIB = 1024 ** 2
RUNNING = "Running"


def _vmid(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _expected_size(resources):
    expected = {}
    if resources.get("cores"):
        expected["cpus"] = int(resources["cores"]) * int(resources.get("sockets") or 1)
    if resources.get("memory"):
        expected["memory_mb"] = int(resources["memory"])
    return expected


def _actual_size(vm):
    return {"cpus": vm.get("maxcpu"), "memory_mb": int(vm["maxmem"]) // MIB if vm.get("maxmem") else None}


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


def compare(nodes, vms):
    """The drift report of one cluster (JSON-able); ``in_sync`` is true when nothing differs."""
    pairs, extra = _match(nodes, vms)
    report = {"missing": [], "extra": [], "stopped": [], "resized": [], "moved": []}
    for node, vm in pairs:
        if vm is None:
            report["missing"].append({"name": node.name, "vmid": _vmid(node.vmid), "role": node.role,
                                      "registry_status": node.status})
            continue
        _compare_pair(node, vm, report)
    report["extra"] = [{"name": vm.get("name"), "vmid": vm["vmid"], "proxmox_node": vm.get("node"), "status": vm.get("status")}
                       for vm in sorted(extra, key=lambda vm: vm["vmid"])]
    report["in_sync"] = not any(report[key] for key in ("missing", "extra", "stopped", "resized", "moved"))
    return report


def _compare_pair(node, vm, report):
    resources = node.resources or {}
    if node.status == RUNNING and vm.get("status") != "running":
        report["stopped"].append({"name": node.name, "vmid": vm["vmid"], "status": vm.get("status")})
    expected, actual = _expected_size(resources), _actual_size(vm)
    differences = {field: {"registry": value, "proxmox": actual[field]} for field, value in expected.items()
                   if actual.get(field) is not None and actual[field] != value}
    if differences:
        report["resized"].append({"name": node.name, "vmid": vm["vmid"], "differences": differences})
    if resources.get("proxmox_node") and vm.get("node") and resources["proxmox_node"] != vm["node"]:
        report["moved"].append({"name": node.name, "vmid": vm["vmid"], "registry": resources["proxmox_node"],
                                "proxmox": vm["node"]})
