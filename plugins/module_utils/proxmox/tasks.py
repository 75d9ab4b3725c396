# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox tasks: follow a UPID to its end, and retry what a config lock held up.

A write that PVE runs as a worker answers with a UPID; the work is only done when
/nodes/{node}/tasks/{upid}/status says ``stopped`` with exit status ``OK``. A failed
task's reason is often only in its log, so the error carries the log's last lines.
"""

from __future__ import annotations

import time

from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import errors

DEFAULT_TASK_TIMEOUT = 600
LOG_TAIL_LINES = 10
LOG_PAGE = 500
LOG_MAX_PAGES = 20
FIRST_POLL = 0.1
MAX_POLL = 2.0


def upid_node(upid):
    """The node a UPID belongs to: UPID:<node>:<pid>:..."""
    parts = str(upid).split(':')
    if len(parts) < 3 or parts[0] != 'UPID':
        raise errors.ProxmoxError('not a Proxmox task id: {0!r}'.format(upid))
    return parts[1]


def is_upid(value):
    return isinstance(value, str) and value.startswith('UPID:')


def task_succeeded(exitstatus):
    """PVE's own rule: OK, or warnings that did not stop the task."""
    return exitstatus == 'OK' or str(exitstatus).startswith('WARNINGS')


def wait_for_task(client, upid, timeout=DEFAULT_TASK_TIMEOUT):
    """Poll the task until it stops; returns its status, or raises ProxmoxTaskError / ProxmoxTaskTimeout."""
    node = upid_node(upid)
    deadline = time.monotonic() + timeout
    interval = FIRST_POLL
    while True:
        status = client.get('nodes/{0}/tasks/{1}/status'.format(node, upid))
        if status.get('status') == 'stopped':
            exitstatus = status.get('exitstatus') or 'unknown'
            if task_succeeded(exitstatus):
                return status
            raise errors.ProxmoxTaskError(node, upid, exitstatus, log_tail(client, node, upid))
        if time.monotonic() >= deadline:
            raise errors.ProxmoxTaskTimeout(node, upid, timeout)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 2, MAX_POLL)


def log_tail(client, node, upid, lines=LOG_TAIL_LINES):
    """The last non-empty lines of a task log (empty if the log cannot be read)."""
    tail = []
    try:
        for page in range(LOG_MAX_PAGES):
            chunk = client.get('nodes/{0}/tasks/{1}/log'.format(node, upid), start=page * LOG_PAGE, limit=LOG_PAGE)
            tail = (tail + [str(entry.get('t', '')) for entry in chunk or [] if str(entry.get('t', '')).strip()])[-lines:]
            if len(chunk or []) < LOG_PAGE:
                break
    except errors.ProxmoxError:
        return tail
    return tail


class LockRetry:
    """How often and how patiently to retry a call PVE refused because a config lock was held."""

    def __init__(self, attempts=6, first_delay=1.0, max_delay=16.0):
        self.attempts = attempts
        self.first_delay = first_delay
        self.max_delay = max_delay

    def delays(self):
        delay = self.first_delay
        for _attempt in range(self.attempts - 1):
            yield delay
            delay = min(delay * 2, self.max_delay)


def is_lock_timeout(exc):
    return isinstance(exc, (errors.ProxmoxApiError, errors.ProxmoxTaskError)) and exc.is_lock_timeout


def run(client, start, timeout=DEFAULT_TASK_TIMEOUT, retry=None):
    """Call start() (one API write) and follow its task if it made one; retry lock timeouts with backoff.

    Returns the task status, or None for a write PVE did synchronously.
    """
    retry = retry or LockRetry()
    delays = retry.delays()
    while True:
        try:
            answer = start()
            return wait_for_task(client, answer, timeout) if is_upid(answer) else None
        except (errors.ProxmoxApiError, errors.ProxmoxTaskError) as exc:
            if not is_lock_timeout(exc):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            time.sleep(delay)
