# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring one planned VM to its plan, or destroy one VM: the work a worker thread does.

create/converge: clone if missing, set CPU, memory, NUMA, network, cloud-init, tags and
added disks, grow the root disk, record the settings hash in the description, start,
then wait (outside the node/storage slot) for the guest agent to report the address, or (wait=False) ask it
once and report a VM whose agent has not answered yet as Pending.
Every step is skipped when the VM already has it, so a rerun or a resumed run writes only
what is missing. Workers talk to Proxmox only; the registry is written by the caller.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import vmid_claims
from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming, vm_config
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors, vm_ops


class VmProvisioningError(GpveError):
    """One VM could not be brought to its plan; says which VM, which step and why."""

    def __init__(self, name, vmid, node, step, cause):
        self.name = name
        self.vmid = vmid
        self.node = node
        self.step = step
        self.cause = cause
        super().__init__('VM {0} (vmid {1} on {2}): {3} failed: {4}'.format(name, vmid, node, step, cause))


RUNNING = 'Running'
PENDING = 'Pending'


@dataclasses.dataclass
class Outcome:
    name: str
    vmid: int
    proxmox_node: str
    ip: Optional[str]
    status: str
    actions: List[str]

    @property
    def changed(self):
        return bool(self.actions)

    @property
    def answered(self):
        """The guest agent reported the address (Running); Pending: asked once, no answer yet."""
        return self.status == RUNNING


@dataclasses.dataclass
class Context:
    client: object
    settings: vm_ops.TaskSettings
    limits: object
    cluster_id: str
    cluster_name: str
    agent_timeout: int
    # vmid_claims.VmidClaims: a replacement id when a clone finds its planned one taken (None: fail instead).
    claims: object = None
    # False: ask each guest agent once instead of waiting up to agent_timeout.
    wait: bool = True
    # False: the VMs run no guest agent (Talos); their planned static address is taken as it is.
    guest_agent: bool = True


def _step(vm, name):
    """Run a step, naming the VM and the step in whatever goes wrong."""
    def wrap(func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except errors.GuestAgentTimeout:
            raise
        except errors.ProxmoxError as exc:
            raise VmProvisioningError(vm.name, vm.vmid, vm.proxmox_node, name, exc) from exc
    return wrap


def _clone(ctx, vm):
    """Clone vm; when its VMID was taken meanwhile (a concurrent run), re-plan the id and clone again.

    Returns the vm as cloned (with the VMID it got)."""
    for attempt in range(1, vmid_claims.ATTEMPTS + 1):
        try:
            vm_ops.clone(ctx.client, ctx.settings, vm.template_node, vm.template_vmid, vm.vmid, vm.name, vm.proxmox_node,
                         vm.full_clone, vm.clone_storage, naming.description(ctx.cluster_id, ctx.cluster_name, vm.role))
            return vm
        except errors.ProxmoxError as exc:
            if ctx.claims is None or not vmid_claims.is_taken(exc) or attempt == vmid_claims.ATTEMPTS:
                raise VmProvisioningError(vm.name, vm.vmid, vm.proxmox_node, 'clone', exc) from exc
            vm = dataclasses.replace(vm, vmid=ctx.claims.replacement(vm.vmid))
    raise AssertionError('unreachable')


def _converge(ctx, vm, config, actions):
    """Config, disks and the recorded hash; nothing when the VM already records this plan's hash."""
    if vm_config.recorded_hash(config) == vm.settings_hash():
        return
    changes = vm_config.config_changes(vm, config)
    resize, added = vm_config.disk_changes(vm, config)
    changes.update(added)
    if changes:
        _step(vm, 'configure')(vm_ops.configure, ctx.client, ctx.settings, vm.proxmox_node, vm.vmid, changes)
        actions.append('configured ' + ', '.join(sorted(changes)))
    if resize:
        _step(vm, 'resize')(vm_ops.resize, ctx.client, ctx.settings, vm.proxmox_node, vm.vmid, vm.root_disk, resize)
        actions.append('resized {0} to {1}G'.format(vm.root_disk, resize))
    marker = naming.description(ctx.cluster_id, ctx.cluster_name, vm.role, vm.settings_hash())
    _step(vm, 'configure')(vm_ops.configure, ctx.client, ctx.settings, vm.proxmox_node, vm.vmid,
                           {'description': marker})


def build(ctx, vm, current):
    """Clone (if needed), converge and start the VM inside its node/storage slot; then wait for its address."""
    actions = []
    with ctx.limits.hold(vm.proxmox_node, vm.root_storage):
        running = current is not None and current.running
        if current is None:
            vm = _clone(ctx, vm)
            actions.append('cloned from template {0} on {1}'.format(vm.template_vmid, vm.template_node))
        config = current.config if current is not None and current.config is not None else None
        if config is None:
            config = _step(vm, 'read config')(vm_ops.get_config, ctx.client, vm.proxmox_node, vm.vmid)
        _converge(ctx, vm, config, actions)
        if not running:
            _step(vm, 'start')(vm_ops.start, ctx.client, ctx.settings, vm.proxmox_node, vm.vmid)
            actions.append('started')
    if vm.ip and not actions:
        return Outcome(vm.name, vm.vmid, vm.proxmox_node, vm.ip, RUNNING, actions)
    ip, status = _address(ctx, vm)
    return Outcome(vm.name, vm.vmid, vm.proxmox_node, ip, status, actions)


def observe(ctx, vm, known_ip, answered=True):
    """A VM already at its plan: no write. Its address from the plan or the registry when its agent answered
    before (answered); else the agent is asked (waited for, or once with wait=False)."""
    if answered and (vm.ip or known_ip):
        return Outcome(vm.name, vm.vmid, vm.proxmox_node, vm.ip or known_ip, RUNNING, [])
    ip, status = _address(ctx, vm)
    return Outcome(vm.name, vm.vmid, vm.proxmox_node, ip or known_ip, status, [])


def _address(ctx, vm):
    """(address, RUNNING) once the agent reports it; with wait=False a single question: (planned address, PENDING)
    when the agent has not answered yet. Without an agent the planned address is the answer."""
    if not ctx.guest_agent and vm.ip:
        return vm.ip, RUNNING
    if ctx.wait:
        return _step(vm, 'wait for the guest agent')(vm_ops.wait_for_address, ctx.client, vm.proxmox_node, vm.vmid,
                                                     vm.name, vm.ip, ctx.agent_timeout), RUNNING
    ip, _problem = _step(vm, 'ask the guest agent')(vm_ops.ask_address, ctx.client, vm.proxmox_node, vm.vmid, vm.ip)
    return (ip, RUNNING) if ip else (vm.ip, PENDING)


def destroy(ctx, existing):
    """Stop and destroy a VM of the cluster (scale down, removed pool, deletion)."""
    try:
        vm_ops.destroy(ctx.client, ctx.settings, existing.node, existing.vmid)
    except errors.ProxmoxError as exc:
        raise VmProvisioningError(existing.name, existing.vmid, existing.node, 'destroy', exc) from exc
    return Outcome(existing.name, existing.vmid, existing.node, None, 'Deleted', ['destroyed'])
