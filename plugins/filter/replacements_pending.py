# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scale.yml's wait after a drain: module_utils/k8s_vm/replacements.py's pending() as a filter."""

from __future__ import annotations

DOCUMENTATION = r"""
name: replacements_pending
short_description: The workloads a drain evicted whose pods are not back on the other nodes yet
version_added: 0.1.0
author: gpve.cluster developers
description:
  - Takes the cluster's pods as listed after a drain and returns the workloads (a pod's controller, by uid;
    DaemonSets and static pods, whose mirror pods a Node controls, aside) that had a pod on the drained node and
    have fewer pods off that node, Ready or found unschedulable by the scheduler, than they had Ready pods before
    the drain.
  - An empty list means every evicted workload is back, so the node can be deleted.
options:
  _input:
    description: The pods after the drain (C(resources) of M(kubernetes.core.k8s_info) with O(kubernetes.core.k8s_info#module:kind=Pod)).
    type: list
    elements: dict
    required: true
  pods_before:
    description: The pods as listed before the node was cordoned.
    type: list
    elements: dict
    required: true
  node:
    description: The name of the drained node.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Wait until the evicted workloads are back on the other nodes
  kubernetes.core.k8s_info:
    kind: Pod
  register: pods_after
  until: pods_after.resources | gpve.cluster.replacements_pending(pods_before.resources, 'worker-3') | length == 0
  retries: 120
  delay: 5
"""

RETURN = r"""
_value:
  description: One entry per workload still short, in the order of their uids.
  type: list
  elements: dict
  contains:
    kind:
      description: The controller's kind, for example V(ReplicaSet) or V(StatefulSet).
      type: str
    name:
      description: The controller's name.
      type: str
    namespace:
      description: Its namespace.
      type: str
    ready_before:
      description: Its Ready pods before the drain.
      type: int
    back:
      description: Its pods now off the node, Ready or unschedulable.
      type: int
"""

import json

from ansible_collections.gpve.cluster.plugins.module_utils.k8s_vm import replacements


def replacements_pending(pods_after, pods_before, node):
    # Ansible's tagged containers to plain data, as the pure function expects.
    return replacements.pending(json.loads(json.dumps(pods_after)), json.loads(json.dumps(pods_before)), str(node))


class FilterModule:
    def filters(self):
        return {"replacements_pending": replacements_pending}
