# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of guest steps a run skipped (gpve_skip_guest_steps): one JSON line per step.

With the switch on, every task that would run inside a VM over SSH writes instead what it
would have done: the step, the host, the cluster and the inputs the step would have
received. Hosts record concurrently, so each append holds an exclusive lock on the file.
The file is 0600: rendered configuration can name internal addresses.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os

from ansible_collections.gpve.cluster.plugins.module_utils import checks, files
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.errors import RecordError

FILE_MODE = 0o600
# A play name is free text, shown to the reader only.
MAX_PLAY = 1024


def check(path, step, host, cluster=None, play=None):
    """The one validation pass, before the record (or its directory) is written: the record file's absolute path.

    Step and host are names (never paths, no shell metacharacters), cluster is a cluster name, the record is a file
    whose directory can be written. The data document is bounded by GpveModule.
    """
    checks.file_name(step, 'step')
    checks.file_name(host, 'host')
    checks.optional(checks.cluster_name, cluster, 'cluster')
    if play is not None and (len(play) > MAX_PLAY or not play.isprintable()):
        checks.fail('play', 'must be at most {0} printable characters, got {1}'.format(MAX_PLAY, checks.shown(play)))
    return checks.writable_destination(path, 'path')


def entry(step, host, cluster, data, play=None):
    return {'step': step, 'host': host, 'cluster': cluster, 'play': play, 'data': data,
            'recorded_at': datetime.datetime.now(datetime.timezone.utc).isoformat()}


def append(path, record):
    """Append record as one JSON line under an exclusive lock; returns the line number (1-based)."""
    path = os.path.abspath(os.path.expanduser(path))
    files.make_private_dirs(os.path.dirname(path))
    line = json.dumps(record, sort_keys=True, default=str)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise RecordError('cannot open the guest step record {0}: {1}'.format(path, exc.strerror)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with open(path, encoding='utf-8') as existing:
            count = sum(1 for _line in existing)
        os.write(fd, (line + '\n').encode('utf-8'))
        return count + 1
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def count(path):
    """Lines in the record file (0 when there is none yet)."""
    try:
        with open(os.path.expanduser(path), encoding='utf-8') as handle:
            return sum(1 for _line in handle)
    except FileNotFoundError:
        return 0


def read(path):
    """Every record of the file, in order."""
    with open(os.path.expanduser(path), encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]
