"""Guest-agent answers that report what cloud-init configured: the testbed's hook into fakepve.

fakepve's agent answers ``network-get-interfaces`` with a fixed 192.0.2.10 unless a test
sets ``vm.agent`` by hand, and a cloned VM has no agent at all. A real guest brought up by
cloud-init reports the address its ``ipconfig<n>`` gave it, once it has booted. This mixin
does that for every VM:

* the agent answers only if the VM runs, its config enables the agent (``agent: 1`` or
  ``agent: enabled=1,...``) and ``agent_boot_secs`` PVE seconds passed since it started;
* ``network-get-interfaces`` lists ``lo`` and one ``eth<n>`` per ``net<n>`` with the MAC
  from ``net<n>`` and the address from ``ipconfig<n>`` (``ip=10.0.0.5/24``; for
  ``ip=dhcp`` a stable lease 10.99.<a>.<b>/24 derived from the vmid; ``ip6=`` likewise);
* faults: ``vm.agent_hangs`` (fakepve's own: never answers, the API times out) and
  ``vm.agent_down`` (the agent is not running).

A VM that boots as a testbed machine (``qemu_server.py``) answers from the machine instead: its
real links and addresses, and "not running" until its init runs.
"""

from __future__ import annotations

import time

from fakepve.model import PveError

from .cloud_init_drive import CloudInitDriveError, nic_mac, properties
from .qemu_server import agent_interfaces

IPV4_DHCP_NET = "10.99"


def agent_enabled(config: dict) -> bool:
    value = str(config.get("agent", "0"))
    first = value.split(",", maxsplit=1)[0]
    if "=" not in first:
        return first in ("1", "true", "yes", "on")
    options = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    return options.get("enabled", "0") in ("1", "true", "yes", "on")


def _mac(net_value: str) -> str:
    try:
        return nic_mac(net_value)
    except CloudInitDriveError:
        return "00:00:00:00:00:00"


def dhcp_lease(vmid: int, nic: int) -> str:
    """The address a DHCP server on the testbed's imaginary bridge would hand this NIC, stable per VM."""
    return f"{IPV4_DHCP_NET}.{(vmid // 250 + nic) % 256}.{vmid % 250 + 2}"


def _addresses(vmid: int, nic: int, ipconfig: dict[str, str]) -> list[dict]:
    found = []
    ip4 = ipconfig.get("ip")
    if ip4 == "dhcp":
        found.append({"ip-address": dhcp_lease(vmid, nic), "ip-address-type": "ipv4", "prefix": 24})
    elif ip4 and "/" in ip4:
        address, prefix = ip4.split("/", 1)
        found.append({"ip-address": address, "ip-address-type": "ipv4", "prefix": int(prefix)})
    ip6 = ipconfig.get("ip6")
    if ip6 and "/" in ip6:
        address, prefix = ip6.split("/", 1)
        found.append({"ip-address": address, "ip-address-type": "ipv6", "prefix": int(prefix)})
    return found


def interfaces(vmid: int, config: dict) -> list[dict]:
    """What ``guest-network-get-interfaces`` returns for a guest configured by cloud-init from config."""
    found = [{"name": "lo", "hardware-address": "00:00:00:00:00:00",
              "ip-addresses": [{"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8}]}]
    nics = sorted((int(key[3:]) for key in config if key.startswith("net") and key[3:].isdigit()))
    for nic in nics:
        ipconfig = properties(config.get(f"ipconfig{nic}", ""))
        found.append({"name": f"eth{nic}", "hardware-address": _mac(config[f"net{nic}"]),
                      "ip-addresses": _addresses(vmid, nic, ipconfig)})
    return found


class CloudInitAgent:
    """Mixin for FakePve (list it first): agent answers from the VM's cloud-init config."""

    # PVE seconds from a VM's start until its agent answers (scaled by time_scale like every fakepve delay).
    agent_boot_secs = 5.0

    def _agent_booted(self, vm) -> bool:
        return time.time() - (vm.started_at or 0) >= self.agent_boot_secs * self.time_scale

    async def _agent_call(self, match, values):
        vm = self.find(values["node"], values["vmid"])
        if vm.status == "running":
            if not agent_enabled(vm.config):
                raise PveError(500, "No QEMU guest agent configured")
            # A hanging agent is fakepve's own fault: it needs an agent to hang, and answers with its timeout.
            found = interfaces(vm.vmid, vm.config) if vm.agent_hangs else self._guest_interfaces(vm)
            vm.agent = dict(vm.agent or {}, interfaces=found)
        return await super()._agent_call(match, values)

    def _guest_interfaces(self, vm) -> list[dict]:
        qemu_server = getattr(self, "qemu_server", None)
        if qemu_server is not None and (vm.vmid in qemu_server.booted or self.boot_vms):
            machine = qemu_server.guest_running(vm.vmid)
            if machine is None or getattr(vm, "agent_down", False):
                raise PveError(500, "QEMU guest agent is not running")
            return agent_interfaces(machine)
        if getattr(vm, "agent_down", False) or not self._agent_booted(vm):
            raise PveError(500, "QEMU guest agent is not running")
        return interfaces(vm.vmid, vm.config)
