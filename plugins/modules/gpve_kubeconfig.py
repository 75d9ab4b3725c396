#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_kubeconfig
short_description: A short-lived kubeconfig for any cluster in the gpve registry
version_added: 0.1.0
description:
  - Mints a short-lived user credential valid for O(expiry_hours) (24 by default, at most 168, the seed design's
    security settings) for any registered cluster - a client certificate, or on Kubernetes before 1.22 without a stored
    CA a ServiceAccount token - and writes a kubeconfig (mode 0600) to O(dest) or returns it.
  - The kubeconfig embeds the cluster CA, names its context O(context_name), and points at O(server) or the cluster's
    endpoint.
  - The certificate is signed locally with the cluster CA when the registry stores it (credential C(ca), as for
    virtual clusters), else through the cluster's CertificateSigningRequest API with the stored admin kubeconfig (the
    request is approved by gpve, signed by the controller manager, and deleted) on Kubernetes 1.22 and later.
  - Kubernetes before 1.22 ignores a CSR's requested duration (its signer applies C(--cluster-signing-duration), a
    year by default). There, without a stored CA, V(auto) uses the TokenRequest API instead (V(token)) - a token of a
    ServiceAccount gpve manages in C(kube-system) (named after O(user)), whose C(exp) claim is O(expiry_hours) ahead
    and which the API server stops accepting then. With O(groups) unset that ServiceAccount is bound to
    C(cluster-admin) by a ClusterRoleBinding C(gpve:sa:<name>) created when missing. Deleting the ServiceAccount
    revokes its tokens.
  - A credential that would outlive O(expiry_hours) is never handed out (a longer certificate or token is discarded).
  - The private key is generated on the controller and never stored. Each issued credential is recorded in the
    registry with its expiry (credential C(issued-<serial>), metadata only, never the key or token) together with a
    C(KubeconfigIssued) event naming the user, groups, method and expiry.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.registry
  - gpve.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Says which method would mint and until when (V(auto) without a stored CA reads the cluster's version);
      nothing is minted, created in the cluster, written or recorded.
  diff_mode:
    support: none
  idempotent:
    support: none
    details: Every run mints a new certificate.
options:
  name:
    description: Name of the cluster. One of O(name) and O(id) is required.
    type: str
  id:
    description: Registry id of the cluster.
    type: str
  dest:
    description: Write the kubeconfig here (mode 0600, atomically) instead of returning it.
    type: path
  context_name:
    description: Name of the kubeconfig's context and cluster entries. Defaults to C(gpve_<name>).
    type: str
  server:
    description: API server URL to put in the kubeconfig. Defaults to the cluster's endpoint in the registry.
    type: str
  embed_certs:
    description:
      - Embed the CA and the client certificate and key in the kubeconfig. V(false) writes them as 0600 files next to
        O(dest) (C(<context>-ca.crt), C(<context>.crt), C(<context>.key)) and refers to them by path.
    type: bool
    default: true
  expiry_hours:
    description: Hours the certificate or token is valid, from 1 to 168.
    type: int
    default: 24
  user:
    description:
      - User name in the certificate (its common name).
      - With V(token), the ServiceAccount's name is derived from it (lower case, other characters as dashes).
    type: str
    default: gpve-admin
  groups:
    description:
      - Groups in the certificate (its organizations).
      - Unset gives an admin - V(system:masters) when signing with the CA; with the CSR API, which refuses
        V(system:masters), V(gpve:cluster-admins), bound to C(cluster-admin) by a ClusterRoleBinding of that name that
        the module creates when missing.
      - With V(token) a ServiceAccount has its own groups, so only unset (bound to C(cluster-admin)) or V([]) (no
        binding; bind roles to the ServiceAccount yourself) are accepted.
    type: list
    elements: str
  method:
    description:
      - V(ca) signs with the CA in the registry; V(csr) uses the CertificateSigningRequest API; V(token) asks the
        TokenRequest API for a ServiceAccount token; V(auto) picks V(ca) when the registry has the CA, else V(csr) on
        Kubernetes 1.22 and later, else V(token).
    type: str
    choices: [auto, csr, ca, token]
    default: auto
  timeout:
    description: Seconds to wait for one answer of the API server (CSR and token methods).
    type: float
    default: 10
requirements:
  - cryptography
  - kubernetes (CSR and token methods)
notes:
  - Without O(dest) the kubeconfig, private key included, is in the task result; prefer O(dest) and C(no_log) otherwise.
seealso:
  - module: gpve.cluster.gpve_cluster_info
  - module: gpve.cluster.gpve_external_cluster
  - name: gpve.cluster documentation of this module
    description: Methods, expiry, records and examples.
    link: https://github.com/gpve/cluster/blob/main/docs/gpve_kubeconfig.md
"""

EXAMPLES = r"""
- name: A one-hour admin kubeconfig for a virtual cluster
  gpve.cluster.gpve_kubeconfig:
    name: team-a
    expiry_hours: 1
    dest: ~/.kube/team-a.yaml

- name: A read-only user for a day, through the cluster's CSR API
  gpve.cluster.gpve_kubeconfig:
    name: prod-eu1
    user: auditor
    groups: [auditors]
    method: csr
    dest: /tmp/prod-eu1-auditor.yaml

- name: A one-hour admin kubeconfig for an imported Kubernetes 1.20 cluster (a ServiceAccount token)
  gpve.cluster.gpve_kubeconfig:
    name: legacy-lab
    expiry_hours: 1
    dest: ~/.kube/legacy-lab.yaml
  register: legacy

- name: A kubeconfig for each cluster host of the gpve.cluster.gpve inventory
  gpve.cluster.gpve_kubeconfig:
    name: "{{ gpve_kubeconfig.name }}"
    registry: "{{ gpve_kubeconfig.registry }}"
    dest: "/tmp/{{ gpve_cluster_name }}.yaml"
  when: gpve_kubeconfig is defined
"""

RETURN = r"""
cluster:
  description: The cluster (id, name, type).
  returned: always
  type: dict
method:
  description: How the credential was (or would be) minted, V(ca), V(csr) or V(token).
  returned: always
  type: str
context:
  description: Name of the kubeconfig context.
  returned: always
  type: str
server:
  description: API server URL in the kubeconfig.
  returned: always
  type: str
expires_at:
  description: When the certificate or token expires (ISO 8601, UTC; a token's C(exp) claim).
  returned: always
  type: str
user:
  description: User name in the certificate; for V(token), C(system:serviceaccount:kube-system:<name>).
  returned: always
  type: str
service_account:
  description: The ServiceAccount (C(namespace/name)) the token belongs to.
  returned: when O(method) is or resolves to V(token)
  type: str
bound_role:
  description: The ClusterRole the ServiceAccount is bound to by gpve (C(cluster-admin)), or null when O(groups) is V([]).
  returned: when O(method) is or resolves to V(token)
  type: str
groups:
  description: Groups in the certificate; for V(token), the ServiceAccount's groups.
  returned: always
  type: list
  elements: str
serial:
  description: Serial number of the certificate (hex), or the token's id (its C(jti) claim, else a SHA-256 prefix of
    it), as recorded in the registry.
  returned: when minted
  type: str
dest:
  description: Where the kubeconfig was written.
  returned: when O(dest) is set and not in check mode
  type: str
kubeconfig:
  description: The kubeconfig (YAML), private key or token included.
  returned: when O(dest) is not set and not in check mode
  type: str
"""

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.access.service import KubeconfigService, Request
from ansible_collections.gpve.cluster.plugins.module_utils.pki.keys import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import require_library
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def argument_spec():
    return dict(
        name=dict(type='str'),
        id=dict(type='str'),
        dest=dict(type='path'),
        context_name=dict(type='str'),
        server=dict(type='str'),
        embed_certs=dict(type='bool', default=True),
        expiry_hours=dict(type='int', default=24),
        user=dict(type='str', default='gpve-admin'),
        groups=dict(type='list', elements='str'),
        method=dict(type='str', choices=['auto', 'csr', 'ca', 'token'], default='auto'),
        timeout=dict(type='float', default=10),
        registry=dict(type='str'),
    )


def build_request(params, check_mode):
    return Request(name=params['name'], id=params['id'], dest=params['dest'], context_name=params['context_name'],
                   server=params['server'], embed_certs=params['embed_certs'], expiry_hours=params['expiry_hours'],
                   user=params['user'], groups=params['groups'], method=params['method'], timeout=params['timeout'],
                   check_mode=check_mode)


def main():
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        required_one_of=[('name', 'id')], mutually_exclusive=[('name', 'id')])
    require_library(module, HAS_CRYPTOGRAPHY, 'cryptography', CRYPTOGRAPHY_IMPORT_ERROR)
    run_on_registry(module, lambda store: KubeconfigService(store).run(build_request(module.params, module.check_mode)))


if __name__ == '__main__':
    main()
