# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Size and modification time of controller files, for the air-gap role's quick check (rsync's: a node file of the
same size and time is the same file). Kept here because no builtin gives them without a task per file (stat), and
ansible.builtin.find reports a symlinked artifact as the link, not the file it names."""

from __future__ import annotations

DOCUMENTATION = r"""
name: file_quick_check
short_description: Size and modification time (whole seconds) of files on the controller
version_added: 0.1.0
author: gpve.cluster developers
description:
  - Takes paths of files on the controller and returns, for each, its path, size in bytes and modification time in
    whole seconds since the epoch; symbolic links are followed.
  - The air-gap role compares them with the node's copies to copy only what differs, as rsync's quick check does.
  - Fails naming the path when a file cannot be read.
options:
  _input:
    description: Paths of files on the controller.
    type: list
    elements: path
    required: true
"""

EXAMPLES = r"""
- name: Keep the size and time of each package
  ansible.builtin.set_fact:
    packages_quick_check: "{{ ['/srv/airgap/kubeadm/kubelet.deb'] | gpve.cluster.file_quick_check }}"
"""

RETURN = r"""
_value:
  description: One entry per path, in the order given.
  type: list
  elements: dict
  contains:
    path:
      description: The path as given.
      type: str
    size:
      description: Size in bytes.
      type: int
    mtime:
      description: Modification time, whole seconds since the epoch.
      type: int
"""

import os

from ansible.errors import AnsibleFilterError


def file_quick_check(paths):
    checked = []
    for path in paths:
        path = str(path)
        try:
            status = os.stat(path)
        except OSError as exc:
            raise AnsibleFilterError(f"file_quick_check: cannot read {path}: {exc.strerror}") from None
        checked.append({"path": path, "size": status.st_size, "mtime": int(status.st_mtime)})
    return checked


class FilterModule:
    def filters(self):
        return {"file_quick_check": file_quick_check}
