# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Proxmox VE connection options, shared by every module that talks to Proxmox.

The argument spec lives in module_utils/proxmox/auth_spec.py; keep the two in step.
"""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Address of the Proxmox VE API, C(https://host:port) (the port defaults to C(8006)).
      - Falls back to the C(GPVE_PROXMOX_API_URL) environment variable.
    type: str
    required: true
  api_user:
    description:
      - User to log in as, C(user@realm), for example C(root@pam).
      - Needed with O(api_password); with a token it may instead be part of O(api_token_id).
      - Falls back to the C(GPVE_PROXMOX_API_USER) environment variable.
    type: str
  api_password:
    description:
      - Password of O(api_user). A ticket login; an expired ticket is renewed by logging in again.
      - Mutually exclusive with O(api_token_secret).
      - Falls back to the C(GPVE_PROXMOX_API_PASSWORD) environment variable.
    type: str
  api_token_id:
    description:
      - API token id, C(user@realm!tokenname), or only C(tokenname) together with O(api_user).
      - Falls back to the C(GPVE_PROXMOX_API_TOKEN_ID) environment variable.
    type: str
  api_token_secret:
    description:
      - Secret (UUID) of the API token named by O(api_token_id).
      - Falls back to the C(GPVE_PROXMOX_API_TOKEN_SECRET) environment variable.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of the API.
      - Turn off only for a throwaway lab; prefer O(ca_path) for a self-signed certificate.
      - Falls back to the C(GPVE_PROXMOX_VALIDATE_CERTS) environment variable.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA (or the self-signed certificate) to trust for the API, used when O(validate_certs=true).
      - Falls back to the C(GPVE_PROXMOX_CA_PATH) environment variable.
    type: path
  api_timeout:
    description:
      - Seconds to wait for one API answer.
      - Falls back to the C(GPVE_PROXMOX_API_TIMEOUT) environment variable.
    type: int
    default: 30
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
