#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_guest_step
short_description: Record a guest step the K8s-on-VM roles skipped
version_added: 0.1.0
description:
  - With C(gpve_skip_guest_steps=true) the gpve.cluster roles run no task inside the VMs; every step that would have
    (install containerd, kubeadm init, join, upgrade, ...) calls this module on the controller instead, and it
    appends one JSON line to the record file, the step, the host, the cluster and the inputs the step would have
    received.
  - The record serves for a preview of a run on real VMs and for the tests that drive the playbooks without VMs.
  - Appends hold an exclusive lock, so hosts may record at the same time. The file is created 0600.
  - Pass no secret in O(data); the roles record that a token is set, never the token.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Records nothing in check mode.
  diff_mode:
    support: full
    details: The record file's line count before and after, and the record appended.
  idempotent:
    support: none
    details: Every run appends a line.
  action_group:
    support: none
    membership: []
options:
  path:
    description:
      - The record file on the controller (JSON lines). Its directory, or the nearest existing parent, must be writable;
        that is checked, with every other option, before anything is written.
    type: path
    required: true
  step:
    description: Name of the skipped step, such as V(kubeadm-init); a name (letters, digits, C(_.@:+=-)), never a path.
    type: str
    required: true
  host:
    description: Inventory host the step would have run on; a name as O(step) is.
    type: str
    required: true
  cluster:
    description: Cluster name (a DNS-1123 label, as every cluster name).
    type: str
  play:
    description: Name of the play, for the reader; at most 1024 printable characters.
    type: str
  data:
    description:
      - The inputs the step would have received (rendered configuration, versions, addresses); at most 1 MiB once
        expanded.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Record kubeadm init instead of running it
  gpve.cluster.gpve_guest_step:
    path: "{{ gpve_guest_record }}"
    step: kubeadm-init
    host: "{{ inventory_hostname }}"
    cluster: prod-eu1
    data:
      config: "{{ kubeadm_config_text }}"
  delegate_to: localhost
"""

RETURN = r"""
line:
  description: Line number of the record in the file (1-based).
  returned: success, not in check mode
  type: int
record:
  description: The record written.
  returned: always
  type: dict
"""

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.diffs import diff
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import prepared, run_without_registry
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import guest_record


def main():
    module = GpveModule(argument_spec=dict(
        path=dict(type='path', required=True), step=dict(type='str', required=True),
        host=dict(type='str', required=True), cluster=dict(type='str'), play=dict(type='str'),
        data=dict(type='dict', default={})), supports_check_mode=True)
    params = module.params
    path = prepared(module, lambda: guest_record.check(params['path'], params['step'], params['host'], params['cluster'],
                                                       params['play']))
    record = guest_record.entry(params['step'], params['host'], params['cluster'], params['data'], params['play'])

    def work():
        if module.check_mode:
            return dict(changed=True, record=record, diff=record_diff(path, guest_record.count(params['path']), record))
        line = guest_record.append(path, record)
        return dict(changed=True, line=line, record=record, diff=record_diff(path, line - 1, record))

    run_without_registry(module, work)


def record_diff(path, lines, record):
    """The record file before (its line count) and after (one line more: the record appended)."""
    return diff({'path': path, 'lines': lines}, {'path': path, 'lines': lines + 1, 'appended': record})


if __name__ == '__main__':
    main()
