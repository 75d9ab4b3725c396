# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster to import from kubernetes.core's K8S_AUTH_* variables, when the task gives neither kubeconfig nor
connection: what AWX's Kubernetes credential injects, so an AWX job imports the cluster its credential names.

connection_settings has the rule; here the task options win outright (they are the whole connection), and
between a kubeconfig and an address with its token or certificate from the environment, the address wins.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils import connection_settings
from ansible_collections.gpve.cluster.plugins.module_utils.connection_settings import Alternative, Setting
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

CLUSTER_SETTINGS = (
    Setting('kubeconfig', None, 'K8S_AUTH_KUBECONFIG', kind='path'),
    Setting('context', None, 'K8S_AUTH_CONTEXT'),
    Setting('host', None, 'K8S_AUTH_HOST'),
    Setting('api_key', None, 'K8S_AUTH_API_KEY', secret=True),
    Setting('client_cert', None, 'K8S_AUTH_CERT_FILE', kind='path'),
    Setting('client_key', None, 'K8S_AUTH_KEY_FILE', kind='path'),
    Setting('ca_cert', None, 'K8S_AUTH_SSL_CA_CERT', kind='path'),
    Setting('validate_certs', None, 'K8S_AUTH_VERIFY_SSL', kind='bool', default=True),
)
WAYS_IN = (
    Alternative('the address', ('host', 'api_key', 'client_cert', 'client_key'), 'host'),
    Alternative('the kubeconfig', ('kubeconfig', 'context'), 'kubeconfig'),
)


def resolve_cluster_access(params, environ=None):
    """{kubeconfig, context, connection} for the module: the task's, else built from K8S_AUTH_*."""
    given = {key: params.get(key) for key in ('kubeconfig', 'context', 'connection')}
    if params.get('state') == 'absent' or params.get('kubeconfig') or params.get('connection'):
        return connection_settings.Resolved(given, {}, [])
    found = connection_settings.resolve({}, CLUSTER_SETTINGS, environ)
    connection_settings.choose(found, WAYS_IN)
    values = found.values
    result = connection_settings.Resolved(dict(given), {}, found.secrets)
    result.warnings = found.warnings
    if values['host']:
        result.values['connection'] = {'endpoint': values['host'], 'ca_cert': values['ca_cert'],
                                       'validate_certs': values['validate_certs'], 'auth': _auth(found)}
    elif values['kubeconfig']:
        result.values.update(kubeconfig=values['kubeconfig'], context=params.get('context') or values['context'])
    else:
        raise ValidationError('kubeconfig', 'state=present needs kubeconfig or connection, or the environment of '
                              "kubernetes.core's credentials: K8S_AUTH_KUBECONFIG, or K8S_AUTH_HOST with "
                              'K8S_AUTH_API_KEY (or K8S_AUTH_CERT_FILE and K8S_AUTH_KEY_FILE)')
    return result


def _auth(found):
    values = found.values
    if values['api_key']:
        return {'type': 'token', 'token': values['api_key']}
    if values['client_cert'] and values['client_key']:
        return {'type': 'certificate', 'client_cert': values['client_cert'], 'client_key': values['client_key']}
    raise ValidationError('connection', 'K8S_AUTH_HOST needs K8S_AUTH_API_KEY, or K8S_AUTH_CERT_FILE and '
                          'K8S_AUTH_KEY_FILE')
