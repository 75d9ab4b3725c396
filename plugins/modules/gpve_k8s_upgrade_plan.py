#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_k8s_upgrade_plan
short_description: Check a K8s-on-VM upgrade against the version skew policy and order its nodes
version_added: 0.1.0
description:
  - Reads the cluster from the gpve cluster registry and refuses, before anything is touched, a target that skips a
    minor version, goes down, changes the major version, or that the distribution does not support here.
  - Returns the order of the upgrade, control plane first (the first control plane, then the others one by one),
    then the workers in batches of O(max_unavailable).
  - Reads only.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
  - gpve.cluster.attributes.info_module
  - gpve.cluster.registry
options:
  name:
    description: Name of the registered K8s-on-VM cluster.
    type: str
    required: true
  target_version:
    description: Kubernetes version to upgrade to, C(MAJOR.MINOR.PATCH).
    type: str
    required: true
  target_release:
    description:
      - The distribution's own release for the target (V(v1.37.2+k3s1), V(v1.37.2+rke2r1), V(v1.37.2+k0s.0); for
        Talos the Talos OS version to move to). Unset, the first release of the target is assumed (C(+k3s1), ...).
    type: str
  max_unavailable:
    description: Workers upgraded at the same time, a count or a percentage of the workers (V(25%)).
    type: str
    default: "1"
seealso:
  - module: gpve.cluster.gpve_cluster_phase
"""

EXAMPLES = r"""
- name: Plan the upgrade to 1.37.2
  gpve.cluster.gpve_k8s_upgrade_plan:
    name: prod-eu1
    target_version: 1.37.2
    max_unavailable: 2
  register: upgrade
"""

RETURN = r"""
needed:
  description: False when the cluster already runs the target.
  returned: always
  type: bool
from_version:
  description: Kubernetes version the registry records for the cluster.
  returned: always
  type: str
to_version:
  description: The target.
  returned: always
  type: str
release:
  description: The distribution release for the target (null for Talos without O(target_release)).
  returned: always
  type: str
distribution:
  description: kubeadm, k3s, k0s, rke2 or talos.
  returned: always
  type: str
first_control_plane:
  description: The control plane upgraded first.
  returned: always
  type: str
control_planes:
  description: Control planes in upgrade order.
  returned: always
  type: list
  elements: str
worker_batches:
  description: Workers in upgrade batches.
  returned: always
  type: list
  elements: list
batch_size:
  description: Workers per batch.
  returned: always
  type: int
cluster:
  description: The cluster (id, name, type, phase, endpoint, version).
  returned: always
  type: dict
"""


from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import upgrade_policy
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def main():
    module = GpveModule(argument_spec=dict(
        name=dict(type='str', required=True), target_version=dict(type='str', required=True),
        target_release=dict(type='str'), max_unavailable=dict(type='str', default='1'),
        registry=dict(type='str')), supports_check_mode=True)
    params = module.params

    def work(store):
        return dict(upgrade_policy.plan(store, params['name'], params['target_version'], params['target_release'],
                                        params['max_unavailable']), changed=False)

    run_on_registry(module, work)


if __name__ == '__main__':
    main()
