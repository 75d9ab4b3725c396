# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-cluster connection options, with GPVE_HOST_CLUSTER_* and kubernetes.core's K8S_AUTH_* variables.

Documented once in doc_fragments/host_cluster.py; keep the two in step. A module merges
host_cluster_argument_spec() into its argument spec, passes HOST_CLUSTER_MUTUALLY_EXCLUSIVE to
AnsibleModule, and reads the environment with resolve_host_cluster (connection_settings has the rule).
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils import connection_settings
from ansible_collections.gpve.cluster.plugins.module_utils.connection_settings import Alternative, Setting
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

HOST_CLUSTER_SETTINGS = (
    Setting('host_kubeconfig', 'GPVE_HOST_CLUSTER_KUBECONFIG', 'K8S_AUTH_KUBECONFIG', kind='path'),
    Setting('host_context', 'GPVE_HOST_CLUSTER_CONTEXT', 'K8S_AUTH_CONTEXT'),
    Setting('host', 'GPVE_HOST_CLUSTER_HOST', 'K8S_AUTH_HOST'),
    Setting('api_key', 'GPVE_HOST_CLUSTER_API_KEY', 'K8S_AUTH_API_KEY', secret=True),
    Setting('client_cert', 'GPVE_HOST_CLUSTER_CLIENT_CERT', 'K8S_AUTH_CERT_FILE', kind='path'),
    Setting('client_key', 'GPVE_HOST_CLUSTER_CLIENT_KEY', 'K8S_AUTH_KEY_FILE', kind='path'),
    Setting('validate_certs', 'GPVE_HOST_CLUSTER_VALIDATE_CERTS', 'K8S_AUTH_VERIFY_SSL', kind='bool', default=True),
    Setting('ca_cert', 'GPVE_HOST_CLUSTER_CA_CERT', 'K8S_AUTH_SSL_CA_CERT', kind='path'),
)
# The address with its token (or client certificate) is the "token"; it wins over a kubeconfig from the environment.
HOST_CLUSTER_WAYS_IN = (
    Alternative('the host address', ('host', 'api_key', 'client_cert', 'client_key'), 'host'),
    Alternative('the kubeconfig', ('host_kubeconfig', 'host_context'), 'host_kubeconfig'),
)


def host_cluster_argument_spec():
    """How to reach the host cluster, as the task gives it: a kubeconfig (and context), a host and token or client
    certificate, or (none given anywhere) in-cluster or the default kubeconfig. No env fallbacks here: see
    resolve_host_cluster."""
    return dict(
        host_kubeconfig=dict(type='path'),
        host_context=dict(type='str'),
        host=dict(type='str'),
        api_key=dict(type='str', no_log=True),
        client_cert=dict(type='path'),
        client_key=dict(type='path', no_log=False),
        validate_certs=dict(type='bool'),
        ca_cert=dict(type='path'),
    )


HOST_CLUSTER_MUTUALLY_EXCLUSIVE = [('host_kubeconfig', 'host')]


def resolve_host_cluster(params, environ=None):
    """The host-cluster options after the precedence rule, checked (connection_settings.Resolved)."""
    resolved = connection_settings.resolve(params, HOST_CLUSTER_SETTINGS, environ)
    connection_settings.choose(resolved, HOST_CLUSTER_WAYS_IN)
    values = resolved.values
    if values['host']:
        if not values['api_key'] and not (values['client_cert'] and values['client_key']):
            raise ValidationError('api_key', 'host (from {0}) needs a bearer token (api_key, GPVE_HOST_CLUSTER_API_KEY '
                                  'or K8S_AUTH_API_KEY) or a client certificate and key (client_cert and client_key, '
                                  'K8S_AUTH_CERT_FILE and K8S_AUTH_KEY_FILE)'.format(resolved.source('host')))
    else:
        _no_address(resolved)
    if bool(values['client_cert']) != bool(values['client_key']):
        raise ValidationError('client_key', 'client_cert and client_key go together (K8S_AUTH_CERT_FILE and '
                              'K8S_AUTH_KEY_FILE)')
    return resolved


def _no_address(resolved):
    """A token or client certificate without host: an error from the task; from the environment, ignored beside a
    kubeconfig (with a warning), else an error naming the variable."""
    values = resolved.values
    given = [name for name in ('api_key', 'client_cert', 'client_key') if values[name]]
    if not given:
        return
    from_task = [name for name in given if resolved.sources[name] == connection_settings.TASK]
    if not from_task and values['host_kubeconfig']:
        resolved.warnings.append('{0} ignored: no host goes with it, and the kubeconfig from {1} is used'.format(
            ', '.join(resolved.source(name) for name in given), resolved.source('host_kubeconfig')))
        resolved.drop(given)
        return
    raise ValidationError('host', '{0} needs the API server address: set host, GPVE_HOST_CLUSTER_HOST or '
                          'K8S_AUTH_HOST'.format(', '.join(resolved.source(name) for name in given)))
