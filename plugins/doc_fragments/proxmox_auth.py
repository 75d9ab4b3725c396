# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE connection options, shared by every module that talks to Proxmox.

The argument spec and the environment variables live in module_utils/proxmox/auth_spec.py
(PROXMOX_SETTINGS); keep the two in step (tests/unit/plugins/module_utils/test_connection_settings.py checks it).
"""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Address of the Proxmox VE API, C(https://host:port) (the port defaults to C(8006)).
      - Required to talk to Proxmox; from the task or the environment.
      - "Environment: C(GPVE_PROXMOX_API_URL), then community.proxmox's C(PROXMOX_HOST) (a host name, with
        C(PROXMOX_PORT))."
    type: str
  api_user:
    description:
      - User to log in as, C(user@realm), for example C(root@pam).
      - Needed with O(api_password); with a token it may instead be part of O(api_token_id).
      - "Environment: C(GPVE_PROXMOX_API_USER), then C(PROXMOX_USER)."
    type: str
  api_password:
    description:
      - Password of O(api_user). A ticket login; an expired ticket is renewed by logging in again.
      - Given together with O(api_token_secret) in the task, the task fails. When one of them comes from the
        environment, the one the task gives is used; when both come from the environment, the token is used.
        A warning says which was left aside.
      - "Environment: C(GPVE_PROXMOX_API_PASSWORD), then C(PROXMOX_PASSWORD)."
    type: str
  api_token_id:
    description:
      - API token id, C(user@realm!tokenname), or only C(tokenname) together with O(api_user)
        (as community.proxmox's C(PROXMOX_TOKEN_ID) has it).
      - "Environment: C(GPVE_PROXMOX_API_TOKEN_ID), then C(PROXMOX_TOKEN_ID)."
    type: str
  api_token_secret:
    description:
      - Secret (UUID) of the API token named by O(api_token_id).
      - "Environment: C(GPVE_PROXMOX_API_TOKEN_SECRET), then C(PROXMOX_TOKEN_SECRET)."
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the API. Default V(true).
      - Turn off only for a throwaway lab; prefer O(ca_path) for a self-signed certificate.
      - "Environment: C(GPVE_PROXMOX_VALIDATE_CERTS), then C(PROXMOX_VALIDATE_CERTS)."
    type: bool
  ca_path:
    description:
      - PEM file with the CA (or the self-signed certificate) to trust for the API, used when O(validate_certs=true).
      - "Environment: C(GPVE_PROXMOX_CA_PATH), then C(PROXMOX_CA_PATH)."
    type: path
  api_timeout:
    description:
      - Seconds to wait for one API answer. Default V(30).
      - "Environment: C(GPVE_PROXMOX_API_TIMEOUT), then C(PROXMOX_API_TIMEOUT)."
    type: int
notes:
  - "Proxmox connection settings are read from the task option, else its C(GPVE_PROXMOX_*) variable, else
    community.proxmox's C(PROXMOX_*) variable (docs/credentials.md)."
requirements:
  - proxmoxer >= 2.0
  - requests
"""

    TARGET = r"""
options:
  node:
    description:
      - Proxmox node to create VMs on when no placement names nodes.
      - When unset, every online node of the Proxmox cluster is a candidate.
      - Falls back to the C(GPVE_PROXMOX_NODE) environment variable.
    type: str
  storage:
    description:
      - Storage for full clones and added disks. When unset, a full clone stays on the storage of its template.
      - Falls back to the C(GPVE_PROXMOX_STORAGE) environment variable.
    type: str
"""
