# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Proxmox connection options every gpve.cluster module shares, with their GPVE_PROXMOX_* and PROXMOX_* variables.

Documented once in doc_fragments/proxmox_auth.py (DOCUMENTATION for the connection,
TARGET for node and storage). A module merges these into its argument spec, passes
PROXMOX_AUTH_MUTUALLY_EXCLUSIVE to AnsibleModule, and reads the environment with
resolve_proxmox_auth (module_runner.apply_connection_settings does that for it).
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.gpve.cluster.plugins.module_utils import connection_settings
from ansible_collections.gpve.cluster.plugins.module_utils.connection_settings import Alternative, Setting
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

DEFAULT_PORT = 8006

# The connection options, their GPVE_PROXMOX_* variable and community.proxmox's (connection_settings has the rule).
PROXMOX_SETTINGS = (
    Setting('api_url', 'GPVE_PROXMOX_API_URL', 'PROXMOX_HOST'),
    Setting('api_user', 'GPVE_PROXMOX_API_USER', 'PROXMOX_USER'),
    Setting('api_password', 'GPVE_PROXMOX_API_PASSWORD', 'PROXMOX_PASSWORD', secret=True),
    Setting('api_token_id', 'GPVE_PROXMOX_API_TOKEN_ID', 'PROXMOX_TOKEN_ID'),
    Setting('api_token_secret', 'GPVE_PROXMOX_API_TOKEN_SECRET', 'PROXMOX_TOKEN_SECRET', secret=True),
    Setting('validate_certs', 'GPVE_PROXMOX_VALIDATE_CERTS', 'PROXMOX_VALIDATE_CERTS', kind='bool', default=True),
    Setting('ca_path', 'GPVE_PROXMOX_CA_PATH', 'PROXMOX_CA_PATH', kind='path'),
    Setting('api_timeout', 'GPVE_PROXMOX_API_TIMEOUT', 'PROXMOX_API_TIMEOUT', kind='int', default=30),
)
PROXMOX_CREDENTIALS = (
    Alternative('the API token', ('api_token_id', 'api_token_secret'), 'api_token_secret'),
    Alternative('the password', ('api_password',), 'api_password'),
)


def _env(*names):
    return (env_fallback, list(names))


def proxmox_auth_argument_spec():
    """How to reach and log in to the Proxmox VE API, as the task gives it.

    No env fallbacks and no defaults here: resolve_proxmox_auth() reads the environment after the argument
    spec is checked, so that the precedence rule (task option > GPVE_PROXMOX_* > PROXMOX_*) knows where each
    value came from; whether a run needs the API at all is decided there too.
    """
    return dict(
        api_url=dict(type='str'),
        api_user=dict(type='str'),
        api_password=dict(type='str', no_log=True),
        # The token id names the token, it is not the secret.
        api_token_id=dict(type='str', no_log=False),
        api_token_secret=dict(type='str', no_log=True),
        validate_certs=dict(type='bool'),
        ca_path=dict(type='path'),
        api_timeout=dict(type='int'),
    )


def proxmox_target_argument_spec():
    """Where VMs go when the task does not say: a node and a storage."""
    return dict(
        node=dict(type='str', fallback=_env('GPVE_PROXMOX_NODE')),
        storage=dict(type='str', fallback=_env('GPVE_PROXMOX_STORAGE')),
    )


# Checked on the task's own options by AnsibleModule; the rest is checked after the environment is read.
PROXMOX_AUTH_MUTUALLY_EXCLUSIVE = [('api_password', 'api_token_secret')]


def resolve_proxmox_auth(params, environ=None, required=True):
    """The Proxmox connection options after the precedence rule, checked (connection_settings.Resolved).

    With required=False an unset api_url means "no Proxmox in this run" and nothing else is checked.
    PROXMOX_HOST is a host name (community.proxmox's api_host); PROXMOX_PORT goes with it.
    """
    environ = os.environ if environ is None else environ
    resolved = connection_settings.resolve(params, PROXMOX_SETTINGS, environ)
    values = resolved.values
    if resolved.sources['api_url'] == 'PROXMOX_HOST':
        values['api_url'] = _url_from_host(values['api_url'], environ.get('PROXMOX_PORT'))
    if not values['api_url']:
        if required:
            raise ValidationError('api_url', 'the Proxmox API address is required; set api_url, GPVE_PROXMOX_API_URL '
                                  '(https://pve1.example.com:8006) or PROXMOX_HOST (and PROXMOX_PORT)')
        return resolved
    connection_settings.choose(resolved, PROXMOX_CREDENTIALS)
    _check_credentials(resolved)
    return resolved


def _url_from_host(host, port):
    if '://' in host:
        return host
    if port and not port.strip().isdigit():
        raise ValidationError('PROXMOX_PORT', '{0!r} is not a port number'.format(port))
    address = '[{0}]'.format(host) if ':' in host and not host.startswith('[') else host
    return 'https://{0}:{1}'.format(address, (port or '').strip() or DEFAULT_PORT)


def _check_credentials(resolved):
    values = resolved.values
    if not (values['api_password'] or values['api_token_secret']):
        raise ValidationError('api_password', 'no Proxmox credentials; set api_user and api_password, or api_token_id '
                              'and api_token_secret (or their GPVE_PROXMOX_API_* or PROXMOX_* variables)')
    if values['api_token_secret'] and not values['api_token_id']:
        raise ValidationError('api_token_id', 'api_token_secret (from {0}) needs the token id: set api_token_id, '
                              'GPVE_PROXMOX_API_TOKEN_ID or PROXMOX_TOKEN_ID'.format(
                                  resolved.source('api_token_secret')))
    if values['api_password'] and values['api_token_id'] and not values['api_token_secret']:
        if resolved.sources['api_token_id'] == connection_settings.TASK:
            raise ValidationError('api_token_id', 'api_token_id goes with api_token_secret; with api_password leave it out')
        resolved.drop(['api_token_id'])
    if values['api_password'] and not values['api_user']:
        raise ValidationError('api_user', 'api_password (from {0}) needs the user (user@realm): set api_user, '
                              'GPVE_PROXMOX_API_USER or PROXMOX_USER'.format(resolved.source('api_password')))
