"""The one stand-in the testbed keeps: it plays PVE's qemu-server, so fakepve's VMs boot.

fakepve answers the Proxmox API and keeps each VM's config and power state; a real host's
qemu-server would then run qemu. This class follows fakepve's VM state from inside the fakepve
process instead (``follow``: every half second, in a worker thread so the API keeps answering)
and makes each started VM a testbed machine (``machine.py``, the same machines the host
cluster's nodes are):

* start (and create with ``start=1``, rollback with start, HA start): the cloud-init drive is
  built from the VM's config as PVE builds it (``cloud_init_drive.py``) and the machine boots,
  named ``vm<vmid>`` (cloud-init sets the hostname to the VM's name), its eth0 with ``net0``'s
  MAC on the bridge ``net0`` names, the VM's cores and memory as its cgroup limits;
* reboot or reset (a new start time): the machine restarts and reads the drive again;
* shutdown and stop: the machine powers off (its disk stays); a guest that powers itself off
  (``poweroff`` inside) makes the VM stopped, as qemu exiting does;
* destroy: the machine and its disk (the overlay's upper directory) are removed.

Only VMs started while ``boot_vms`` is on boot (the testbed's setting; off, VMs stay API objects
as before, which is what tests of hundreds of VMs want); a VM that booted is followed until it is
destroyed. What it cannot do: a disk resize is not seen by the guest (a machine has no block
device), and a VM on a bridge the testbed does not have, or whose drive cannot be built, does not
boot (its reason is in the fakepve log and ``boot_errors``), as qemu would refuse to start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import cloud_init_drive, network
from .machine import Machine, MachineError

LOG = logging.getLogger("gpve.testbed.qemu_server")
FOLLOW_INTERVAL = 0.5
MAX_PARALLEL_BOOTS = 8


@dataclass(frozen=True)
class QemuServerConfig:
    """Where VM machines live and what they boot from; recorded in fakepve's 0600 settings."""

    state_dir: str
    image: str
    snippets: str
    bridge: str = network.BRIDGE
    nameservers: tuple[str, ...] = (str(network.GATEWAY),)
    search: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> "QemuServerConfig":
        values = dict(data)
        values["nameservers"] = tuple(values.get("nameservers", ()))
        values["search"] = tuple(values.get("search", ()))
        return cls(**values)


@dataclass(frozen=True)
class VmState:
    """What the follower needs of one fakepve VM, copied on the event loop's thread."""

    vmid: int
    running: bool
    started_at: float | None
    config: dict


class QemuServer:
    def __init__(self, config: QemuServerConfig):
        self.config = config
        self.booted: dict[int, float | None] = {}  # vmid -> the start time its machine booted for
        # vmid -> its machine as booted: each half-second pass asks every followed machine, without reading its record.
        self.machines: dict[int, Machine] = {}
        # vmid -> (the start time whose boot failed, why): not retried until the VM is started again.
        self.boot_errors: dict[int, tuple[float | None, str]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=MAX_PARALLEL_BOOTS, thread_name_prefix="qemu-server")

    # ------------------------------------------------------------ the machine of a VM

    def machine(self, vmid: int, config: dict | None = None) -> Machine:
        """The machine of vmid; with config, sized and wired as that config says."""
        state_dir = Path(self.config.state_dir) / str(vmid)
        if config is None:
            known = self.machines.get(vmid)
            return known or Machine.from_dict(json.loads((state_dir / "machine.json").read_text()))
        cores = int(config.get("cores", 1)) * int(config.get("sockets", 1))
        return Machine(name=f"vm{vmid}", state_dir=str(state_dir), image=self.config.image,
                       mac=cloud_init_drive.nic_mac(config.get("net0", "")), cpus=cores,
                       memory_mb=int(str(config.get("memory", 512))))

    def known(self) -> list[Machine]:
        """Every VM machine recorded under the state directory (for a cleanup after a crash)."""
        return [Machine.from_dict(json.loads(record.read_text()))
                for record in sorted(Path(self.config.state_dir).glob("*/machine.json"))]

    def guest_running(self, vmid: int) -> Machine | None:
        """The machine of a VM this follower booted, if its init runs (the guest agent's precondition)."""
        if vmid not in self.booted:
            return None
        machine = self.machine(vmid)
        try:
            machine.leader_pid()
        except (MachineError, OSError):  # not started, or no init yet: the agent is not running
            return None
        return machine

    # ------------------------------------------------------------ following fakepve

    async def follow(self, pve, stopping: asyncio.Event) -> None:
        """Until stopping is set: bring the machines to the VMs' state; then power every machine off."""
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            states = [VmState(vm.vmid, vm.status == "running", vm.started_at, dict(vm.config))
                      for vm in pve.vms if not vm.template]
            powered_off = await loop.run_in_executor(None, self.reconcile, states, pve.boot_vms)
            for vm in pve.vms:
                if powered_off.get(vm.vmid, -1) == vm.started_at and vm.status == "running":
                    vm.status = vm.qmpstatus = "stopped"  # the guest powered itself off: qemu exited
            try:
                await asyncio.wait_for(stopping.wait(), FOLLOW_INTERVAL)
            except asyncio.TimeoutError:
                pass
        await loop.run_in_executor(None, self.stop_all)

    def reconcile(self, states: list[VmState], boot_new: bool) -> dict[int, float | None]:
        """One pass: boot, restart, power off or remove machines so they match the VMs. Returns the running
        VMs whose machine powered itself off (vmid -> the start time it had), which are stopped VMs now."""
        with self._lock:
            powered_off = {state.vmid: state.started_at for state in states
                           if state.running and self.booted.get(state.vmid, -1) == state.started_at
                           and not self.machine(state.vmid).running()}
            jobs = []
            present = {state.vmid: state for state in states}
            for vmid in [vmid for vmid in self.booted if vmid not in present]:
                jobs.append(self._pool.submit(self._remove, vmid))
            for state in (state for state in states if state.vmid not in powered_off):
                job = self._job_for(state, boot_new)
                if job is not None:
                    jobs.append(self._pool.submit(job, state))
            for job in jobs:
                job.result()
            return powered_off

    def _job_for(self, state: VmState, boot_new: bool):
        followed = state.vmid in self.booted
        if state.running and (followed or boot_new):
            failed_for = self.boot_errors.get(state.vmid, (-1, ""))[0]
            if self.booted.get(state.vmid, -1) != state.started_at and failed_for != state.started_at:
                return self._boot
        elif followed and not state.running and self.machine(state.vmid).running():
            return self._power_off
        return None

    def _boot(self, state: VmState) -> None:
        try:
            bridge = cloud_init_drive.nic_bridge(state.config.get("net0", ""))
            if bridge != self.config.bridge:
                raise cloud_init_drive.CloudInitDriveError(f"bridge '{bridge}' does not exist")
            machine = self.machine(state.vmid, state.config)
            if state.vmid in self.booted:
                machine.stop()
            seed = cloud_init_drive.build(state.vmid, state.config, Path(self.config.snippets),
                                          (list(self.config.nameservers), list(self.config.search)))
            machine.write_seed(seed.meta_data, seed.user_data, seed.network_config, seed.vendor_data)
            Path(machine.state_dir, "machine.json").write_text(json.dumps(machine.to_dict()))
            self.machines[state.vmid] = machine
            machine.boot()
        except Exception as exc:  # noqa: BLE001 - qemu would fail the start; the reason goes to the log
            self.boot_errors[state.vmid] = (state.started_at, str(exc))
            LOG.error("VM %s does not boot: %s", state.vmid, exc)
            return
        self.booted[state.vmid] = state.started_at
        self.boot_errors.pop(state.vmid, None)
        LOG.info("VM %s booted as machine %s", state.vmid, machine.name)

    def _power_off(self, state: VmState) -> None:
        self.machine(state.vmid).stop()
        self.booted[state.vmid] = None
        LOG.info("VM %s powered off", state.vmid)

    def _remove(self, vmid: int) -> None:
        self.machine(vmid).remove()
        self.booted.pop(vmid, None)
        self.machines.pop(vmid, None)
        LOG.info("VM %s destroyed: machine and disk removed", vmid)

    def remove_gone(self, vmids: set[int]) -> None:
        """Remove at once the machines of followed VMs not in vmids (fakepve removed them)."""
        with self._lock:
            list(self._pool.map(self._remove, [vmid for vmid in list(self.booted) if vmid not in vmids]))

    def stop_all(self) -> None:
        """Power off every machine (fakepve is going away); their disks stay for remove_all."""
        with self._lock:
            list(self._pool.map(lambda machine: machine.stop(timeout=20.0), self.known()))

    def remove_all(self) -> None:
        with self._lock:
            list(self._pool.map(lambda machine: machine.remove(), self.known()))
            self.booted.clear()
            self.machines.clear()


def agent_interfaces(machine: Machine) -> list[dict]:
    """``guest-network-get-interfaces`` as qemu-guest-agent answers it, from the machine's real links."""
    out = network.ip("-n", machine.namespace, "-j", "addr", "show", check=False).stdout
    found = []
    for link in json.loads(out or "[]"):
        addresses = [{"ip-address": info["local"], "ip-address-type": "ipv4" if info["family"] == "inet" else "ipv6",
                      "prefix": info["prefixlen"]}
                     for info in link.get("addr_info", []) if info.get("family") in ("inet", "inet6")]
        found.append({"name": link["ifname"], "hardware-address": link.get("address", "00:00:00:00:00:00"),
                      "ip-addresses": addresses})
    return found
