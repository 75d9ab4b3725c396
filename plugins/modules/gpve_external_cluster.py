#!/usr/bin/python
# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpve_external_cluster
short_description: Import an existing Kubernetes cluster into the gpve registry, refresh it, or disconnect it
version_added: 0.1.0
description:
  - Imports a Kubernetes cluster gpve did not build (EKS, GKE, AKS, on-premises...) so it shows up in the
    M(gpve.cluster.gpve_cluster_info) view and the C(gpve.cluster.gpve) inventory with the others.
  - Access is a kubeconfig (O(kubeconfig), a path or the document itself, and O(context)), or a O(connection) after
    the seed design's ClusterConnection (endpoint, CA, and token, client certificate, OIDC or exec authentication).
  - Checks connectivity first - the API server must accept the credentials and list a namespace - then discovers the
    version, nodes, Ready nodes, pods and namespaces. Only then does it register the cluster, so a failed import
    leaves nothing in the registry. The phase goes Pending, Connecting, Running.
  - Stores the access as one self-contained kubeconfig, encrypted (AES-256-GCM) in the registry; files the given
    kubeconfig refers to are read in.
  - A rerun with the same input changes nothing. New credentials are checked before they replace the stored ones.
    O(refresh=true) rediscovers; if the stored credentials stopped working the cluster goes to Failed with the reason.
  - O(state=absent) disconnects - forgets the credentials and soft-deletes the cluster; its events and the audit log
    are kept.
author:
  - gpve.cluster developers (@gpve)
extends_documentation_fragment:
  - gpve.cluster.registry
  - gpve.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Checks connectivity and discovers (reads only); writes nothing to the registry.
  diff_mode:
    support: full
    details: The registry record before and after (endpoint, connection, monitoring, labels, phase, version); the
      kubeconfig shows as a digest.
  idempotent:
    support: full
    details: O(refresh=true) always rediscovers and reports a change.
options:
  name:
    description: Name of the cluster in the registry (unique among all clusters).
    type: str
    required: true
  state:
    description: V(present) imports or converges; V(absent) disconnects.
    type: str
    choices: [present, absent]
    default: present
  labels:
    description: Labels of the cluster in the registry (string values). Unset keeps the stored ones.
    type: dict
  provider:
    description: Who runs the cluster (V(eks), V(gke), V(aks), V(on-prem)...), recorded as the cluster's provider.
    type: str
  kubeconfig:
    description:
      - A kubeconfig file's path, or the kubeconfig document itself (YAML text).
      - Mutually exclusive with O(connection).
      - "With neither O(kubeconfig) nor O(connection), the environment of kubernetes.core's credentials names the
        cluster (what AWX's Kubernetes credential injects): C(K8S_AUTH_HOST) with C(K8S_AUTH_API_KEY) (or
        C(K8S_AUTH_CERT_FILE) and C(K8S_AUTH_KEY_FILE)), C(K8S_AUTH_SSL_CA_CERT) and C(K8S_AUTH_VERIFY_SSL), else
        C(K8S_AUTH_KUBECONFIG) and C(K8S_AUTH_CONTEXT); the address with its token wins over a kubeconfig, with a warning."
    type: str
  context:
    description:
      - The context of O(kubeconfig) to use. Defaults to its C(current-context).
      - "Environment: C(K8S_AUTH_CONTEXT), with C(K8S_AUTH_KUBECONFIG)."
    type: str
  connection:
    description: How to reach the cluster, when there is no kubeconfig.
    type: dict
    suboptions:
      endpoint:
        description: API server URL, C(https://host:port).
        type: str
        required: true
      ca_cert:
        description: CA certificate of the API server, PEM text or a file path. Unset uses the system trust store.
        type: str
      validate_certs:
        description: Verify the API server's certificate. Turn off only for a throwaway lab.
        type: bool
        default: true
      auth:
        description: How to authenticate.
        type: dict
        required: true
        suboptions:
          type:
            description: Authentication method.
            type: str
            required: true
            choices: [token, certificate, oidc, exec]
          token:
            description: Bearer token (a ServiceAccount token, for example), for O(connection.auth.type=token).
            type: str
          client_cert:
            description: Client certificate, PEM text or a file path, for O(connection.auth.type=certificate).
            type: str
          client_key:
            description: Key of O(connection.auth.client_cert), PEM text or a file path.
            type: str
          oidc:
            description: OpenID Connect tokens, for O(connection.auth.type=oidc) (kubeconfig's C(oidc) auth provider).
            type: dict
            suboptions:
              issuer_url:
                description: Issuer URL of the identity provider.
                type: str
                required: true
              client_id:
                description: OAuth client id.
                type: str
                required: true
              client_secret:
                description: OAuth client secret (for refreshing).
                type: str
              id_token:
                description: Current ID token.
                type: str
                required: true
              refresh_token:
                description: Refresh token.
                type: str
              ca_cert:
                description: CA of the identity provider, PEM text or a file path.
                type: str
          exec:
            description: A client-go credential plugin, for O(connection.auth.type=exec) (kubeconfig's C(exec)).
            type: dict
            suboptions:
              command:
                description: Command to run; it prints an ExecCredential.
                type: str
                required: true
              args:
                description: Its arguments.
                type: list
                elements: str
              env:
                description: Extra environment variables.
                type: dict
              api_version:
                description: ExecCredential API version.
                type: str
                default: client.authentication.k8s.io/v1beta1
  monitoring:
    description:
      - Where the cluster's control-plane components and etcd members serve their own health endpoints, for the live
        checks of M(gpve.cluster.gpve_cluster_info) (stored as the spec's C(monitoring_config)).
    type: dict
    suboptions:
      components:
        description: Component name (V(kube-controller-manager), V(kube-scheduler)) to its health URL (C(.../healthz)).
        type: dict
      etcd_endpoints:
        description: Health URLs of the etcd members (C(https://10.0.0.11:2379/health)).
        type: list
        elements: str
      validate_certs:
        description: Verify the endpoints' certificates against the cluster CA.
        type: bool
        default: true
  refresh:
    description: Rediscover version, nodes, pods and namespaces of an imported cluster.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for one answer of the API server (the seed's connection timeout).
    type: float
    default: 10
requirements:
  - kubernetes
notes:
  - The kubeconfig is stored encrypted with C(GPVE_SECURITY_ENCRYPTION_KEY), else the SQLite registry's key file.
  - The cluster's own credentials are never returned.
seealso:
  - module: gpve.cluster.gpve_cluster_info
  - module: gpve.cluster.gpve_kubeconfig
  - name: gpve.cluster documentation of this module
    description: Import flows, authentication types and examples.
    link: https://github.com/gpve/cluster/blob/main/docs/gpve_external_cluster.md
"""

EXAMPLES = r"""
- name: Import a cluster from a kubeconfig file
  gpve.cluster.gpve_external_cluster:
    name: gke-prod
    kubeconfig: ~/.kube/config
    context: gke_prod_europe-west1_main
    provider: gke
    labels:
      env: prod

- name: Import with a ServiceAccount token
  gpve.cluster.gpve_external_cluster:
    name: onprem-lab
    connection:
      endpoint: https://10.0.0.10:6443
      ca_cert: /etc/gpve/onprem-ca.crt
      auth:
        type: token
        token: "{{ vault_onprem_token }}"

- name: Import an EKS cluster through the aws CLI's credential plugin
  gpve.cluster.gpve_external_cluster:
    name: eks-dev
    connection:
      endpoint: https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com
      ca_cert: "{{ eks_ca_pem }}"
      auth:
        type: exec
        exec:
          command: aws
          args: [eks, get-token, --cluster-name, dev]

- name: Rediscover
  gpve.cluster.gpve_external_cluster:
    name: gke-prod
    kubeconfig: ~/.kube/config
    context: gke_prod_europe-west1_main
    refresh: true

- name: Disconnect (credentials forgotten, history kept)
  gpve.cluster.gpve_external_cluster:
    name: onprem-lab
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster as the registry has it; null after disconnecting a cluster that was not there.
  returned: always
  type: dict
  contains:
    id:
      description: Registry id (null in check mode for a new cluster).
      type: str
    name:
      description: Cluster name.
      type: str
    type:
      description: Always V(external).
      type: str
    phase:
      description: Phase - V(Running), V(Failed), V(Deleted).
      type: str
    message:
      description: Message of the last phase change.
      type: str
    version:
      description: Kubernetes version (C(gitVersion)).
      type: str
    endpoint:
      description: API server URL.
      type: str
    node_count:
      description: Nodes.
      type: int
    ready_nodes:
      description: Nodes whose Ready condition is True.
      type: int
    pod_count:
      description: Pods in every namespace.
      type: int
    namespaces:
      description: Namespaces.
      type: int
    labels:
      description: Labels.
      type: dict
  sample: {id: 9b1c0e, name: gke-prod, type: external, phase: Running, version: v1.30.2, endpoint: "https://34.1.2.3",
           node_count: 12, ready_nodes: 12, pod_count: 140, namespaces: 11}
"""

from ansible_collections.gpve.cluster.plugins.module_utils.ansible_module import GpveModule
from ansible_collections.gpve.cluster.plugins.module_utils.external.environment import resolve_cluster_access
from ansible_collections.gpve.cluster.plugins.module_utils.external.service import ExternalClusterService, Request
from ansible_collections.gpve.cluster.plugins.module_utils.kube.transport import HAS_URLLIB3, URLLIB3_IMPORT_ERROR
from ansible_collections.gpve.cluster.plugins.module_utils.module_runner import apply_connection_settings, require_library
from ansible_collections.gpve.cluster.plugins.module_utils.registry_runner import run_on_registry


def argument_spec():
    oidc = dict(issuer_url=dict(type='str', required=True), client_id=dict(type='str', required=True),
                client_secret=dict(type='str', no_log=True), id_token=dict(type='str', required=True, no_log=True),
                refresh_token=dict(type='str', no_log=True), ca_cert=dict(type='str'))
    plugin = dict(command=dict(type='str', required=True), args=dict(type='list', elements='str'), env=dict(type='dict', no_log=True),
                  api_version=dict(type='str', default='client.authentication.k8s.io/v1beta1'))
    auth = dict(type=dict(type='str', required=True, choices=['token', 'certificate', 'oidc', 'exec']),
                token=dict(type='str', no_log=True), client_cert=dict(type='str'), client_key=dict(type='str', no_log=True),
                oidc=dict(type='dict', options=oidc), exec=dict(type='dict', options=plugin))
    return dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        labels=dict(type='dict'),
        provider=dict(type='str'),
        kubeconfig=dict(type='str', no_log=True),
        context=dict(type='str'),
        connection=dict(type='dict', options=dict(
            endpoint=dict(type='str', required=True), ca_cert=dict(type='str'),
            validate_certs=dict(type='bool', default=True),
            auth=dict(type='dict', required=True, options=auth,
                      required_if=[('type', 'token', ('token',)), ('type', 'certificate', ('client_cert', 'client_key')),
                                   ('type', 'oidc', ('oidc',)), ('type', 'exec', ('exec',))]))),
        monitoring=dict(type='dict', options=dict(components=dict(type='dict'), etcd_endpoints=dict(type='list', elements='str'),
                                                  validate_certs=dict(type='bool', default=True))),
        refresh=dict(type='bool', default=False),
        timeout=dict(type='float', default=10),
        registry=dict(type='str'),
    )


def build_request(params, check_mode):
    return Request(name=params['name'], state=params['state'], labels=params['labels'], kubeconfig=params['kubeconfig'],
                   context=params['context'], connection=params['connection'], monitoring=params['monitoring'],
                   provider=params['provider'], refresh=params['refresh'], timeout=params['timeout'], check_mode=check_mode)


def main():
    # Neither kubeconfig nor connection: the cluster kubernetes.core's K8S_AUTH_* variables name (an AWX credential).
    module = GpveModule(argument_spec=argument_spec(), supports_check_mode=True,
                        mutually_exclusive=[('kubeconfig', 'connection')])
    require_library(module, HAS_URLLIB3, 'kubernetes', URLLIB3_IMPORT_ERROR)
    apply_connection_settings(module, resolve_cluster_access)
    run_on_registry(module, lambda store: ExternalClusterService(store).run(build_request(module.params, module.check_mode)))


if __name__ == '__main__':
    main()
