#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_cluster_phase
short_description: Read a registered cluster, record a stage event and move its phase
version_added: 0.1.0
description:
  - Reads a cluster of the gpve cluster registry by name and returns it with its spec (for K8s-on-VM clusters in the
    option form M(gpve.cluster.gpve_k8s_vm) takes) and its nodes.
  - Optionally records an event (a playbook stage started, done or failed) and moves the cluster to another phase
    through the lifecycle table; a move the table does not allow fails before anything is written.
  - The K8s-on-VM playbooks use it for every stage; with only O(name) it only reads.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
  - gpve.cluster.registry
attributes:
  check_mode:
    support: full
    details: Checks the move and returns what would be recorded; writes nothing.
  diff_mode:
    support: full
    details: The phase (and the version) before and after, and the event recorded.
  idempotent:
    support: partial
    details: A phase already reached is not entered again; every run with O(event) records one more event.
options:
  name:
    description: Name of the registered cluster.
    type: str
    required: true
  phase:
    description:
      - Phase to move to (V(Bootstrapping), V(Installing), V(Running), V(Scaling), V(Upgrading), V(Failed), ...).
      - Already in it, nothing changes.
    type: str
  only_from:
    description:
      - Move to O(phase) only from one of these phases; from any other phase the move is skipped without error.
    type: list
    elements: str
  reason:
    description: Trigger recorded with the phase transition. Defaults to V(PlaybookStage).
    type: str
  status_message:
    description: Message of the phase transition; it becomes the status message.
    type: str
  event:
    description: An event to record (before the phase move).
    type: dict
    suboptions:
      type:
        description: Event type.
        type: str
        choices: [Normal, Warning]
        default: Normal
      reason:
        description: Short CamelCase reason, such as V(StageStarted).
        type: str
        required: true
      text:
        description: Human readable message of the event.
        type: str
      metadata:
        description: Structured details (stage, node, batch, ...). Never put secrets here.
        type: dict
  version:
    description: Set the status' Kubernetes version (after an upgrade).
    type: str
notes:
  - The event log is append-only; phase transitions are events of type V(Transition).
seealso:
  - module: gpve.cluster.gpve_k8s_vm
"""

EXAMPLES = r"""
- name: Read the cluster
  gpve.cluster.gpve_cluster_phase:
    name: prod-eu1
  register: cluster

- name: The CNI stage starts; the cluster is installing once bootstrapped
  gpve.cluster.gpve_cluster_phase:
    name: prod-eu1
    phase: Installing
    only_from: [Bootstrapping]
    reason: StageStarted
    event:
      reason: StageStarted
      text: installing the CNI
      metadata: {stage: cni}

- name: A stage failed
  gpve.cluster.gpve_cluster_phase:
    name: prod-eu1
    phase: Failed
    reason: StageFailed
    status_message: "stage cni failed: ..."
"""

RETURN = r"""
cluster:
  description: The cluster after the run (id, name, type, phase, message, endpoint, version, labels).
  returned: always
  type: dict
spec:
  description: The cluster's spec; for K8s-on-VM clusters in the option form of M(gpve.cluster.gpve_k8s_vm).
  returned: always
  type: dict
nodes:
  description: The cluster's nodes (name, role, pool, ip, vmid, status, labels, taints, proxmox_node, index), control planes first.
  returned: always
  type: list
  elements: dict
previous_phase:
  description: The phase before the run.
  returned: always
  type: str
phase_changed:
  description: Whether the phase moved.
  returned: always
  type: bool
"""


from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import cluster_view
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.stage import StageRequest, apply
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        phase=dict(type='str'),
        only_from=dict(type='list', elements='str'),
        reason=dict(type='str'),
        status_message=dict(type='str'),
        event=dict(type='dict', options=dict(
            type=dict(type='str', choices=['Normal', 'Warning'], default='Normal'),
            reason=dict(type='str', required=True),
            text=dict(type='str'),
            metadata=dict(type='dict'))),
        version=dict(type='str'),
        registry=dict(type='str'),
    )


def main():
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    request = StageRequest(name=params['name'], phase=params['phase'], reason=params['reason'],
                           message=params['status_message'], only_from=params['only_from'], event=params['event'],
                           status={'version': params['version']} if params['version'] else {},
                           check_mode=module.check_mode)

    def work(store):
        result = apply(store, request)
        view = cluster_view.read(store, params['name'])
        return dict(changed=result['changed'], cluster=result['cluster'] if module.check_mode else view['cluster'],
                    spec=view['spec'], nodes=view['nodes'], previous_phase=result['previous_phase'],
                    phase_changed=result['phase_changed'], diff=result['diff'])

    run_on_registry(module, work)


if __name__ == '__main__':
    main()
