# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-cluster connection options, as kubernetes.core names them, with GPVE_HOST_CLUSTER_* fallbacks.

Documented once in doc_fragments/host_cluster.py; keep the two in step.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback


def _env(name):
    return (env_fallback, [name])


def host_cluster_argument_spec():
    """How to reach the host cluster: a kubeconfig (and context), a host and token, or in-cluster."""
    return dict(
        host_kubeconfig=dict(type='path', fallback=_env('GPVE_HOST_CLUSTER_KUBECONFIG')),
        host_context=dict(type='str', fallback=_env('GPVE_HOST_CLUSTER_CONTEXT')),
        host=dict(type='str', fallback=_env('GPVE_HOST_CLUSTER_HOST')),
        api_key=dict(type='str', no_log=True, fallback=_env('GPVE_HOST_CLUSTER_API_KEY')),
        validate_certs=dict(type='bool', default=True, fallback=_env('GPVE_HOST_CLUSTER_VALIDATE_CERTS')),
        ca_cert=dict(type='path', fallback=_env('GPVE_HOST_CLUSTER_CA_CERT')),
    )


HOST_CLUSTER_REQUIRED_TOGETHER = [('host', 'api_key')]
HOST_CLUSTER_MUTUALLY_EXCLUSIVE = [('host_kubeconfig', 'host')]
