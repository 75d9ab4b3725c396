#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_kubeadm_token
short_description: Make a kubeadm bootstrap token and the CA pin through the Kubernetes API
version_added: 0.1.0
description:
  - Creates a bootstrap token Secret in C(kube-system), as C(kubeadm token create) does, and returns the token with
    the discovery hash of the cluster CA (C(sha256:...)), for C(kubeadm join).
  - The token lives for O(ttl) only; the token cleaner of the controller manager removes it afterwards.
  - The token is a secret. Put C(no_log) on the task and hand it only to the join step.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Returns a token that was not created.
  diff_mode:
    support: full
    details: Before is empty, after the token Secret made (its public id, expiry, description, the CA hashes); the token's
      secret half never shows, only the marker C(new secret) in parentheses.
  idempotent:
    support: none
    details: Every run makes a new token.
  action_group:
    support: none
    membership: []
options:
  kubeconfig:
    description:
      - Admin kubeconfig of the cluster, on the controller. Its CA is pinned.
      - Its current context must name an C(https://) server without credentials in the URL and a cluster CA; it is
        read and checked before any connection.
    type: path
    required: true
  ttl:
    description: Lifetime of the token, such as V(30m), V(1h) or V(3600s); from 60 seconds to V(168h) (7 days).
    type: str
    default: 1h
  description:
    description: Description stored with the token, at most 256 printable characters.
    type: str
    default: made by gpve.cluster for kubeadm join
requirements:
  - kubernetes (Python)
  - cryptography (Python)
"""

EXAMPLES = r"""
- name: A join token for the new nodes
  gpve.cluster.gpve_kubeadm_token:
    kubeconfig: ~/.cache/gpve/prod-eu1/admin.conf
    ttl: 30m
  register: join
  no_log: true
"""

RETURN = r"""
token:
  description: The bootstrap token, C(<id>.<secret>).
  returned: always
  type: str
token_id:
  description: The public half of the token.
  returned: always
  type: str
expires_at:
  description: When the token expires (UTC).
  returned: always
  type: str
ca_cert_hashes:
  description: Discovery hashes of the cluster CA, C(sha256:<hex>).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.diffs import diff
from ansible_collections.gpve.cluster.plugins.module_utils.kube.transport import HAS_URLLIB3, URLLIB3_IMPORT_ERROR
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import require_library, run_without_registry
from ansible_collections.gpve.cluster.plugins.module_utils.playbook_support import bootstrap_token


def main():
    module = GpveModule(argument_spec=dict(
        kubeconfig=dict(type='path', required=True), ttl=dict(type='str', default='1h'),
        description=dict(type='str', default='made by gpve.cluster for kubeadm join')), supports_check_mode=True)
    require_library(module, HAS_URLLIB3, 'kubernetes', URLLIB3_IMPORT_ERROR)
    require_library(module, bootstrap_token.HAS_CRYPTOGRAPHY, 'cryptography')
    params = module.params

    def work():
        result = bootstrap_token.create(params['kubeconfig'], params['ttl'], params['description'], module.check_mode)
        return dict(result, changed=True, diff=token_diff(result, params['description']))

    run_without_registry(module, work)


def token_diff(result, description):
    """The token Secret made, without its secret half (shown as '(new secret)'); before: no such Secret."""
    return diff({}, {'secret': 'kube-system/bootstrap-token-{0}'.format(result['token_id']), 'token_id': result['token_id'],
                     'token_secret': '(new secret)', 'expires_at': result['expires_at'], 'description': description,
                     'ca_cert_hashes': result['ca_cert_hashes']})


if __name__ == '__main__':
    main()
