# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-cluster connection options, shared by modules that write to a host Kubernetes cluster.

The argument spec lives in module_utils/kube/auth_spec.py; keep the two in step.
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
      - Falls back to C(GPVE_HOST_CLUSTER_KUBECONFIG).
    type: path
  host_context:
    description:
      - Context of O(host_kubeconfig) to use instead of its current context.
      - Falls back to C(GPVE_HOST_CLUSTER_CONTEXT).
    type: str
  host:
    description:
      - URL of the host cluster's API server, used with O(api_key) instead of a kubeconfig.
      - Falls back to C(GPVE_HOST_CLUSTER_HOST).
    type: str
  api_key:
    description:
      - Bearer token for O(host).
      - Falls back to C(GPVE_HOST_CLUSTER_API_KEY).
    type: str
  validate_certs:
    description:
      - Verify the host API server's TLS certificate.
      - Falls back to C(GPVE_HOST_CLUSTER_VALIDATE_CERTS).
    type: bool
    default: true
  ca_cert:
    description:
      - PEM file with the CA that signed the host API server's certificate.
      - Falls back to C(GPVE_HOST_CLUSTER_CA_CERT).
    type: path
requirements:
  - kubernetes (Python library)
"""
