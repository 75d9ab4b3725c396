# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Short-lived ServiceAccount tokens through the TokenRequest API, for clusters whose CSR signer ignores the expiry.

Kubernetes before 1.22 signs a CertificateSigningRequest for its own ``--cluster-signing-duration``
(a year by default), whatever the request asks. TokenRequest
(``POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token``, GA in 1.20, served when the
API server has ``--service-account-issuer`` and ``--service-account-signing-key-file``) does
honour ``expirationSeconds``: the token is a JWT whose ``exp`` claim says when it ends, and
the API server stops accepting it then. The token belongs to a ServiceAccount gpve manages
(namespace NAMESPACE, labelled ``app.kubernetes.io/managed-by: gpve``); with the default
groups it is bound to ``cluster-admin`` by a ClusterRoleBinding ``gpve:sa:<name>`` that gpve
creates when missing. Deleting the ServiceAccount revokes every token issued for it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeError

NAMESPACE = "kube-system"
MANAGED = {"app.kubernetes.io/managed-by": "gpve"}
ACCOUNTS = f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts"
BINDINGS = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
ADMIN_ROLE = "cluster-admin"


class TokenError(GpveError):
    """The cluster did not issue a usable token: no TokenRequest API, refused, or a token outliving what was asked."""


class IssuedToken:
    """A token, when it ends (from its ``exp`` claim), its id, and the ServiceAccount it belongs to."""

    def __init__(self, token, expires_at, service_account):
        self.token = token
        self.expires_at = expires_at
        self.service_account = service_account
        claims = claims_of(token)
        self.id = claims.get("jti") or hashlib.sha256(token.encode("ascii")).hexdigest()[:16]


def account_name(user):
    """The ServiceAccount name for a user name (a DNS-1123 label)."""
    name = re.sub(r"[^a-z0-9-]", "-", user.lower()).strip("-")[:63].strip("-")
    if not name:
        raise TokenError(f"user {user!r} gives no usable ServiceAccount name: use letters, digits and dashes")
    return name


def claims_of(token):
    """The claims of a JWT (its payload, not verified here: the API server that issued it verifies it)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise TokenError(f"the API server answered a token that is not a JWT ({exc})") from None


def binding_name(account):
    return f"gpve:sa:{account}"


def _ensure(client, what, path, create):
    status, _body = client.get(path, what=f"read {what}")
    if status == 200:
        return False
    try:
        create()
    except KubeError as exc:
        if "AlreadyExists" in str(exc) or "already exists" in str(exc):
            return False
        raise TokenError(str(exc)) from None
    return True


def ensure_account(client, account, admin):
    """The ServiceAccount (and, for an admin, its cluster-admin binding), created when missing."""
    metadata = {"name": account, "namespace": NAMESPACE, "labels": dict(MANAGED)}
    _ensure(client, f"ServiceAccount {NAMESPACE}/{account}", f"{ACCOUNTS}/{account}",
            lambda: client.send("POST", ACCOUNTS, f"create ServiceAccount {NAMESPACE}/{account}",
                                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}))
    if not admin:
        return
    name = binding_name(account)
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name, "labels": dict(MANAGED)},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ADMIN_ROLE},
               "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]}
    _ensure(client, f"ClusterRoleBinding {name}", f"{BINDINGS}/{name}",
            lambda: client.send("POST", BINDINGS, f"create ClusterRoleBinding {name}", binding))


def mint(client, account, seconds):
    """An IssuedToken for the ServiceAccount, asked to live seconds."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": int(seconds)}}
    try:
        answer = client.send("POST", f"{ACCOUNTS}/{account}/token", f"request a token for ServiceAccount {NAMESPACE}/{account}",
                             body)
    except KubeError as exc:
        raise TokenError(f"the cluster did not issue a ServiceAccount token (TokenRequest API): {exc}") from None
    token = (answer.get("status") or {}).get("token")
    if not token:
        raise TokenError("the TokenRequest answer holds no token")
    exp = claims_of(token).get("exp")
    if not isinstance(exp, (int, float)):
        raise TokenError("the token has no exp claim: it would not expire, so it was discarded")
    expires_at = datetime.datetime.fromtimestamp(int(exp), datetime.timezone.utc)
    return IssuedToken(token, expires_at, f"{NAMESPACE}/{account}")
