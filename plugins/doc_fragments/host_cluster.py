# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-cluster connection options, shared by modules that write to a host Kubernetes cluster.

The argument spec and the environment variables live in module_utils/kube/auth_spec.py
(HOST_CLUSTER_SETTINGS); keep the two in step (tests/unit/plugins/module_utils/test_connection_settings.py checks it).
"""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  host_kubeconfig:
    description:
      - Path to a kubeconfig for the host cluster.
      - Without it, and without O(host), the in-cluster service account is used inside a pod, else
        C(KUBECONFIG) or C(~/.kube/config).
      - Given with O(host) in the task, the task fails. When one of them comes from the environment, the one the
        task gives is used; when both come from the environment, O(host) (with its token or certificate) is used.
        A warning says which was left aside.
      - "Environment: C(GPVE_HOST_CLUSTER_KUBECONFIG), then kubernetes.core's C(K8S_AUTH_KUBECONFIG)."
    type: path
  host_context:
    description:
      - Context of O(host_kubeconfig) to use instead of its current context.
      - "Environment: C(GPVE_HOST_CLUSTER_CONTEXT), then C(K8S_AUTH_CONTEXT)."
    type: str
  host:
    description:
      - URL of the host cluster's API server, used with O(api_key), or O(client_cert) and O(client_key),
        instead of a kubeconfig.
      - "Environment: C(GPVE_HOST_CLUSTER_HOST), then C(K8S_AUTH_HOST)."
    type: str
  api_key:
    description:
      - Bearer token for O(host).
      - "Environment: C(GPVE_HOST_CLUSTER_API_KEY), then C(K8S_AUTH_API_KEY)."
    type: str
  client_cert:
    description:
      - PEM file with the client certificate to log in to O(host) with, together with O(client_key).
      - "Environment: C(GPVE_HOST_CLUSTER_CLIENT_CERT), then C(K8S_AUTH_CERT_FILE)."
    type: path
  client_key:
    description:
      - PEM file with the private key of O(client_cert).
      - "Environment: C(GPVE_HOST_CLUSTER_CLIENT_KEY), then C(K8S_AUTH_KEY_FILE)."
    type: path
  validate_certs:
    description:
      - Verify the host API server's TLS certificate. Default V(true).
      - "Environment: C(GPVE_HOST_CLUSTER_VALIDATE_CERTS), then C(K8S_AUTH_VERIFY_SSL)."
    type: bool
  ca_cert:
    description:
      - PEM file with the CA that signed the host API server's certificate.
      - "Environment: C(GPVE_HOST_CLUSTER_CA_CERT), then C(K8S_AUTH_SSL_CA_CERT)."
    type: path
notes:
  - "Host-cluster settings are read from the task option, else its C(GPVE_HOST_CLUSTER_*) variable, else
    kubernetes.core's C(K8S_AUTH_*) variable, so AWX's Kubernetes credentials work as they are
    (docs/credentials.md)."
requirements:
  - kubernetes (Python library)
"""
