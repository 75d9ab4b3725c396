# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the Proxmox room.

Each one carries what a person needs to act: the API path, PVE's own message, the task's
UPID and the last lines of its log. The module turns them into one message.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError

LOCK_TIMEOUT_MARKER = "can't lock file"
NO_QUORUM_MARKER = 'no quorum'
NODE_UNREACHABLE_STATUS = 595


class ProxmoxError(GpveError):
    """Base of every error talking to Proxmox VE."""


class ProxmoxConfigError(ProxmoxError):
    """The connection options cannot work (no URL, no credentials, half a token)."""


class ProxmoxConnectionError(ProxmoxError):
    """The API could not be reached at all (DNS, TCP, TLS)."""


class ProxmoxAuthError(ProxmoxError):
    """Proxmox refused the credentials."""


class ProxmoxApiError(ProxmoxError):
    """An API call answered with an HTTP error."""

    def __init__(self, method, path, status, message, errors=None):
        self.method = method
        self.path = path
        self.status = status
        self.pve_message = (message or '').strip()
        self.errors = errors or {}
        detail = self.pve_message
        if self.errors:
            detail += ' ' + '; '.join('{0}: {1}'.format(k, str(v).strip()) for k, v in sorted(self.errors.items()))
        super().__init__('{0} /{1} failed ({2}): {3}'.format(method, path, status, detail))

    @property
    def is_lock_timeout(self):
        return LOCK_TIMEOUT_MARKER in self.pve_message


class ProxmoxNodeUnreachable(ProxmoxApiError):
    """PVE answered 595: the node the path names is offline or unreachable."""


class ProxmoxQuorumLost(ProxmoxApiError):
    """The cluster lost quorum: /etc/pve is read-only, every write fails."""


class ProxmoxTaskError(ProxmoxError):
    """A task ended with something other than OK."""

    def __init__(self, node, upid, exitstatus, log_tail):
        self.node = node
        self.upid = upid
        self.exitstatus = exitstatus
        self.log_tail = list(log_tail)
        tail = ' | '.join(self.log_tail)
        super().__init__('task {0} on {1} failed: {2}{3}'.format(
            upid, node, exitstatus, ' (last log lines: {0})'.format(tail) if tail else ''))

    @property
    def is_lock_timeout(self):
        return LOCK_TIMEOUT_MARKER in (self.exitstatus or '')


class ProxmoxTaskTimeout(ProxmoxError):
    """A task was still running when the timeout ran out."""

    def __init__(self, node, upid, timeout):
        self.node = node
        self.upid = upid
        self.timeout = timeout
        super().__init__('task {0} on {1} still running after {2}s'.format(upid, node, timeout))


class GuestAgentTimeout(ProxmoxError):
    """The guest agent of a VM did not report the expected address in time."""

    def __init__(self, vm_name, vmid, node, timeout, expected, last_problem):
        self.vm_name = vm_name
        self.vmid = vmid
        self.timeout = timeout
        want = 'address {0}'.format(expected) if expected else 'an IPv4 address'
        super().__init__('VM {0} (vmid {1} on {2}): the guest agent did not report {3} within {4}s; last answer: {5}. '
                         'Check that the template has qemu-guest-agent installed and that cloud-init '
                         'configures the network.'.format(vm_name, vmid, node, want, timeout, last_problem))


def from_status(method, path, status, message, errors=None):
    """The most specific ProxmoxApiError for an HTTP error answer."""
    text = message or ''
    if status == NODE_UNREACHABLE_STATUS:
        return ProxmoxNodeUnreachable(method, path, status, text, errors)
    if NO_QUORUM_MARKER in text:
        return ProxmoxQuorumLost(method, path, status, text, errors)
    return ProxmoxApiError(method, path, status, text, errors)
