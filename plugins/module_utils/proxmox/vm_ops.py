# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operations on QEMU VMs: clone, configure, resize, power, destroy, find, wait for the guest agent.

Reads of the whole cluster go through one bulk /cluster/resources call, never one call per
VM. Every write follows its task to the end (tasks.run), retrying config lock timeouts.
"""

from __future__ import annotations

import ipaddress
import time

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors, formats, tasks

DEFAULT_AGENT_TIMEOUT = 300
AGENT_FIRST_POLL = 0.2
AGENT_MAX_POLL = 5.0


class TaskSettings:
    """Timeout and lock retry policy every write of a run shares."""

    def __init__(self, timeout=tasks.DEFAULT_TASK_TIMEOUT, retry=None):
        self.timeout = timeout
        self.retry = retry or tasks.LockRetry()


def _qemu(node, vmid, *rest):
    return '/'.join(['nodes', node, 'qemu', str(vmid)] + list(rest))


# ------------------------------------------------------------------ bulk reads

def list_vms(client):
    """Every VM and template of the cluster, from one /cluster/resources?type=vm call."""
    return [vm for vm in client.get('cluster/resources', type='vm') or [] if vm.get('type', 'qemu') == 'qemu']


def find_by_tag(client, tag, vms=None):
    """The VMs (not templates) carrying tag; vms: an earlier list_vms() answer to reuse."""
    tag = tag.lower()
    found = vms if vms is not None else list_vms(client)
    return [vm for vm in found if not vm.get('template') and tag in formats.split_tags(vm.get('tags'))]


def list_nodes(client):
    """The Proxmox nodes with status, maxmem and mem, from one /cluster/resources?type=node call."""
    return client.get('cluster/resources', type='node') or []


def list_storages(client):
    """Storage entries per node (storage, node, shared, status, content), one bulk call."""
    return client.get('cluster/resources', type='storage') or []


def is_quorate(client):
    """False when the cluster lost quorum (every write would fail)."""
    for entry in client.get('cluster/status') or []:
        if entry.get('type') == 'cluster':
            return bool(int(entry.get('quorate', 1)))
    return True


# ----------------------------------------------------------------- single VM

def get_config(client, node, vmid):
    return client.get(_qemu(node, vmid, 'config'))


def get_status(client, node, vmid):
    return client.get(_qemu(node, vmid, 'status', 'current'))


def clone(client, settings, source_node, template_vmid, newid, name, target_node, full=True, storage=None,
          description=None):
    """Clone template_vmid into newid on target_node; waits for the clone task."""
    data = dict(newid=newid, name=name, full=1 if full else 0)
    if target_node and target_node != source_node:
        data['target'] = target_node
    if storage and full:
        data['storage'] = storage
    if description:
        data['description'] = description
    return tasks.run(client, lambda: client.post(_qemu(source_node, template_vmid, 'clone'), **data),
                     settings.timeout, settings.retry)


def configure(client, settings, node, vmid, values, delete=()):
    """Set config keys (POST, so PVE runs it as a task and disks are allocated there)."""
    data = dict(values)
    if delete:
        data['delete'] = ','.join(delete)
    if not data:
        return None
    return tasks.run(client, lambda: client.post(_qemu(node, vmid, 'config'), **data), settings.timeout, settings.retry)


def resize(client, settings, node, vmid, disk, size_gib):
    """Grow disk to size_gib GiB (PVE refuses to shrink)."""
    return tasks.run(client, lambda: client.put(_qemu(node, vmid, 'resize'), disk=disk, size='{0}G'.format(size_gib)),
                     settings.timeout, settings.retry)


def start(client, settings, node, vmid):
    return tasks.run(client, lambda: client.post(_qemu(node, vmid, 'status', 'start')), settings.timeout, settings.retry)


def stop(client, settings, node, vmid):
    """Hard stop (the VM is about to be destroyed: no graceful shutdown needed)."""
    return tasks.run(client, lambda: client.post(_qemu(node, vmid, 'status', 'stop')), settings.timeout, settings.retry)


def shutdown(client, settings, node, vmid, timeout=180):
    """Graceful shutdown (ACPI or the guest agent), a hard stop after timeout seconds; waits for the task."""
    return tasks.run(client, lambda: client.post(_qemu(node, vmid, 'status', 'shutdown'), timeout=timeout, forceStop=1),
                     settings.timeout, settings.retry)


def destroy(client, settings, node, vmid):
    """Stop if running, then destroy with its disks and every reference (HA, jobs, pools)."""
    if get_status(client, node, vmid).get('status') == 'running':
        stop(client, settings, node, vmid)
    return tasks.run(client, lambda: client.delete(_qemu(node, vmid), purge=1, **{'destroy-unreferenced-disks': 1}),
                     settings.timeout, settings.retry)


# ---------------------------------------------------------------- guest agent

def agent_ipv4(answer):
    """Global IPv4 addresses in a network-get-interfaces answer (loopback and link-local left out)."""
    found = []
    interfaces = answer.get('result', answer) if isinstance(answer, dict) else answer
    for iface in interfaces or []:
        for addr in iface.get('ip-addresses') or []:
            if addr.get('ip-address-type') != 'ipv4':
                continue
            ip = ipaddress.ip_address(addr.get('ip-address'))
            if not (ip.is_loopback or ip.is_link_local):
                found.append(str(ip))
    return found


def ask_address(client, node, vmid, expected=None):
    """Ask the guest agent once: (address, None) when it reports expected (or any global IPv4 when None),
    else (None, what it said). An agent that does not run yet (500) is an answer too; anything else raises."""
    try:
        addresses = agent_ipv4(client.get(_qemu(node, vmid, 'agent', 'network-get-interfaces')))
    except errors.ProxmoxApiError as exc:
        if isinstance(exc, (errors.ProxmoxNodeUnreachable, errors.ProxmoxQuorumLost)) or exc.status != 500:
            raise
        # 500 while the guest boots: "QEMU guest agent is not running", "got timeout".
        return None, exc.pve_message
    if expected in addresses or (expected is None and addresses):
        return expected or addresses[0], None
    return None, 'addresses {0}'.format(', '.join(addresses) or 'none')


def wait_for_address(client, node, vmid, name, expected=None, timeout=DEFAULT_AGENT_TIMEOUT):
    """Poll the guest agent until it reports expected (or any global IPv4 when None); returns the address."""
    deadline = time.monotonic() + timeout
    interval = AGENT_FIRST_POLL
    while True:
        address, last_problem = ask_address(client, node, vmid, expected)
        if address:
            return address
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise errors.GuestAgentTimeout(name, vmid, node, timeout, expected, last_problem)
        time.sleep(min(interval, remaining))
        interval = min(interval * 2, AGENT_MAX_POLL)
