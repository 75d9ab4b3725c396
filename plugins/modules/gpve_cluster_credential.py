#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_cluster_credential
short_description: Keep a cluster's secret (admin kubeconfig, join token) encrypted in the registry
version_added: 0.1.0
description:
  - Stores a secret of a registered cluster encrypted in the gpve cluster registry, deletes it, or exports it to a
    file on the controller (mode 0600) or to the task result.
  - The K8s-on-VM create playbook stores the admin kubeconfig as type V(kubeconfig) and, for kubeadm, the etcd client
    of the health checks as type V(etcd-client); k3s and rke2 clusters keep their join token as type V(join-token).
  - Secrets are never logged. Use C(no_log) on a task that sets O(return_content=true).
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
  - gpve.cluster.registry
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The secret shows as a digest (C(sha256:...)); an export shows the file's digest and mode.
  idempotent:
    support: full
options:
  name:
    description: Name of the registered cluster.
    type: str
    required: true
  type:
    description:
      - Credential type, such as V(kubeconfig), V(etcd-client) or V(join-token). A V(kubeconfig) is checked to be one.
      - An V(etcd-client) is a JSON object with C(ca), C(cert) and C(key) PEMs (what gpve.cluster.gpve_cluster_info's etcd
        check presents to the members); it is checked and stored with sorted keys and no spaces, so the same PEMs in
        another layout change nothing.
    type: str
    default: kubeconfig
  state:
    description:
      - V(present) stores O(content) or the file O(src); V(absent) deletes the credential; V(exported) writes it to
        O(dest) and/or returns it with O(return_content).
    type: str
    choices: [present, absent, exported]
    default: present
  content:
    description: The secret to store.
    type: str
  src:
    description: A file on the controller holding the secret to store.
    type: path
  overwrite:
    description: With V(false) an existing credential is kept as it is (a join token made once).
    type: bool
    default: true
  dest:
    description: With O(state=exported), the file written (mode 0600, directory created 0700).
    type: path
  return_content:
    description: Return the secret as RV(content). Put C(no_log) on the task.
    type: bool
    default: false
seealso:
  - module: gpve.cluster.gpve_cluster_phase
"""

EXAMPLES = r"""
- name: Store the admin kubeconfig
  gpve.cluster.gpve_cluster_credential:
    name: prod-eu1
    src: /tmp/gpve/prod-eu1/admin.conf

- name: A k3s join token, made once and kept
  gpve.cluster.gpve_cluster_credential:
    name: edge-1
    type: join-token
    content: "{{ lookup('ansible.builtin.password', '/dev/null', length=48, chars=['ascii_letters', 'digits']) }}"
    overwrite: false
  no_log: true

- name: Write the admin kubeconfig for the next tasks
  gpve.cluster.gpve_cluster_credential:
    name: prod-eu1
    state: exported
    dest: ~/.cache/gpve/prod-eu1/admin.conf
"""

RETURN = r"""
credential:
  description: Metadata of the credential (type, key_id, created_at, updated_at, expires_at); never the secret.
  returned: when the credential exists or was written
  type: dict
content:
  description: The secret.
  returned: when O(return_content=true)
  type: str
cluster:
  description: The cluster (id, name, type, phase, endpoint, version).
  returned: always
  type: dict
"""

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support.credential import CredentialRequest, apply
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        type=dict(type='str', default='kubeconfig'),
        state=dict(type='str', choices=['present', 'absent', 'exported'], default='present'),
        content=dict(type='str', no_log=True),
        src=dict(type='path'),
        overwrite=dict(type='bool', default=True),
        dest=dict(type='path'),
        return_content=dict(type='bool', default=False),
        registry=dict(type='str'),
    )


def main():
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        mutually_exclusive=[('content', 'src')])
    params = module.params
    request = CredentialRequest(name=params['name'], type=params['type'], state=params['state'],
                                content=params['content'], src=params['src'], overwrite=params['overwrite'],
                                dest=params['dest'], return_content=params['return_content'],
                                check_mode=module.check_mode)
    run_on_registry(module, lambda store: apply(store, request))


if __name__ == '__main__':
    main()
