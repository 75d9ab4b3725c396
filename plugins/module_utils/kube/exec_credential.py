# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kubeconfig user's ``exec`` plugin run as client-go runs it, for the credential it prints.

The plugin gets its ``args``, the kubeconfig's ``env`` on top of ours and KUBERNETES_EXEC_INFO
(an ExecCredential naming the apiVersion, not interactive), and prints an ExecCredential whose
status holds a bearer token or a client certificate and key. A relative command with a
slash in it is found next to the kubeconfig, as kubectl does.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Optional

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError

TIMEOUT_S = 60
MAX_STDERR = 200


@dataclass(frozen=True)
class Credential:
    token: Optional[str] = None
    client_cert_pem: Optional[str] = None
    client_key_pem: Optional[str] = None


def run(spec, base_dir=None):
    """The Credential the exec plugin of a kubeconfig user entry (its ``exec`` mapping) prints."""
    command = spec.get("command")
    if not command:
        raise KubeConfigError("exec plugin: no command")
    if base_dir and os.sep in command and not os.path.isabs(command):
        command = os.path.join(base_dir, command)
    api_version = spec.get("apiVersion") or "client.authentication.k8s.io/v1beta1"
    environ = dict(os.environ)
    environ.update({entry["name"]: entry.get("value", "") for entry in spec.get("env") or [] if entry.get("name")})
    environ["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": api_version, "kind": "ExecCredential",
                                                  "spec": {"interactive": False}})
    try:
        done = subprocess.run([command] + [str(arg) for arg in spec.get("args") or []], env=environ, capture_output=True,
                              timeout=TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise KubeConfigError(f"exec plugin {command}: cannot run: {getattr(exc, 'strerror', None) or exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()[:MAX_STDERR]
        raise KubeConfigError(f"exec plugin {command}: exited with status {done.returncode}" + (f": {said}" if said else ""))
    return _credential(command, api_version, done.stdout)


def _credential(command, api_version, stdout):
    try:
        document = json.loads(stdout)
    except ValueError:
        raise KubeConfigError(f"exec plugin {command}: did not print an ExecCredential (JSON)") from None
    if not isinstance(document, dict) or document.get("kind") != "ExecCredential":
        raise KubeConfigError(f"exec plugin {command}: did not print an ExecCredential")
    if document.get("apiVersion") != api_version:
        raise KubeConfigError(f"exec plugin {command}: printed apiVersion {document.get('apiVersion')!r}, "
                              f"the kubeconfig asks for {api_version!r}")
    status = document.get("status") or {}
    credential = Credential(status.get("token"), status.get("clientCertificateData"), status.get("clientKeyData"))
    if not credential.token and not (credential.client_cert_pem and credential.client_key_pem):
        raise KubeConfigError(f"exec plugin {command}: its ExecCredential holds no token and no client certificate and key")
    return credential
