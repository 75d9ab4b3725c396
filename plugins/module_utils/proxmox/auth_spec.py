# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Proxmox connection options every gpve.cluster module shares, with their GPVE_PROXMOX_* fallbacks.

Documented once in doc_fragments/proxmox_auth.py (DOCUMENTATION for the connection,
TARGET for node and storage). A module merges these into its argument spec and passes
the constraints below to AnsibleModule.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback


def _env(*names):
    return (env_fallback, list(names))


def proxmox_auth_argument_spec(required=True):
    """How to reach and log in to the Proxmox VE API; required=False where only some runs talk to Proxmox."""
    return dict(
        api_url=dict(type='str', required=required, fallback=_env('GPVE_PROXMOX_API_URL')),
        api_user=dict(type='str', fallback=_env('GPVE_PROXMOX_API_USER')),
        api_password=dict(type='str', no_log=True, fallback=_env('GPVE_PROXMOX_API_PASSWORD')),
        # The token id names the token, it is not the secret.
        api_token_id=dict(type='str', no_log=False, fallback=_env('GPVE_PROXMOX_API_TOKEN_ID')),
        api_token_secret=dict(type='str', no_log=True, fallback=_env('GPVE_PROXMOX_API_TOKEN_SECRET')),
        validate_certs=dict(type='bool', default=True, fallback=_env('GPVE_PROXMOX_VALIDATE_CERTS')),
        ca_path=dict(type='path', fallback=_env('GPVE_PROXMOX_CA_PATH')),
        api_timeout=dict(type='int', default=30, fallback=_env('GPVE_PROXMOX_API_TIMEOUT')),
    )


def proxmox_target_argument_spec():
    """Where VMs go when the task does not say: a node and a storage."""
    return dict(
        node=dict(type='str', fallback=_env('GPVE_PROXMOX_NODE')),
        storage=dict(type='str', fallback=_env('GPVE_PROXMOX_STORAGE')),
    )


PROXMOX_AUTH_REQUIRED_ONE_OF = [('api_password', 'api_token_secret')]
PROXMOX_AUTH_REQUIRED_TOGETHER = [('api_token_id', 'api_token_secret')]
PROXMOX_AUTH_MUTUALLY_EXCLUSIVE = [('api_password', 'api_token_secret')]
PROXMOX_AUTH_REQUIRED_BY = {'api_password': ('api_user',)}
