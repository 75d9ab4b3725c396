# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Client certificates through the cluster's CertificateSigningRequest API (certificates.k8s.io/v1).

The key is generated here and never leaves this process. The request names the signer
``kubernetes.io/kube-apiserver-client`` and asks for ``expirationSeconds``; gpve approves it
with the stored admin credential, waits for the controller manager to sign it, reads the
certificate and deletes the request object. Kubernetes honours ``expirationSeconds`` from
1.22 on; older signers use their own ``--cluster-signing-duration``, so the caller checks
the certificate's end and discards a longer one (a certificate without its key is useless).
"""

from __future__ import annotations

import base64
import re
import time
import uuid

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - the module reports missing_required_lib
    pass

SIGNER = "kubernetes.io/kube-apiserver-client"
USAGES = ["digital signature", "client auth"]
FIRST_HONOURING_MINOR = 22
DEFAULT_WAIT = 60.0
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
BINDINGS = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"


class CsrError(GpveError):
    """The cluster did not sign: denied, failed, not signed in time, or the API refused the request."""


def honours_expiration(version):
    """True when a server of this /version answer applies a CSR's expirationSeconds (1.22 and later)."""
    major = int(re.sub(r"\D", "", str(version.get("major", "0"))) or 0)
    minor = int(re.sub(r"\D", "", str(version.get("minor", "0"))) or 0)
    return (major, minor) >= (1, FIRST_HONOURING_MINOR)


def request_pem(key, user, groups):
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes)).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _object(name, pem, seconds):
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "gpve"}},
            "spec": {"request": base64.b64encode(pem).decode("ascii"), "signerName": SIGNER, "usages": USAGES,
                     "expirationSeconds": int(seconds)}}


def _read(client, name):
    return client.send("GET", f"{CSRS}/{name}", f"read CertificateSigningRequest {name}")


def _wait_signed(client, name, wait):
    deadline, delay = time.monotonic() + wait, 0.1
    while True:
        current = _read(client, name)
        status = current.get("status") or {}
        for condition in status.get("conditions") or []:
            if condition.get("type") in ("Denied", "Failed") and condition.get("status", "True") == "True":
                raise CsrError(f"CertificateSigningRequest {name} {condition['type'].lower()}: {condition.get('message', '')}")
        if status.get("certificate"):
            return base64.b64decode(status["certificate"]).decode("ascii")
        if time.monotonic() >= deadline:
            raise CsrError(f"CertificateSigningRequest {name} was approved but not signed within {wait:.0f}s: is the "
                           "controller manager running with a cluster signing key?")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def ensure_admin_binding(client, group):
    """A ClusterRoleBinding named group that binds the group to cluster-admin, created when missing."""
    status, _body = client.get(f"{BINDINGS}/{group}", what="read ClusterRoleBinding")
    if status == 200:
        return False
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": group, "labels": {"app.kubernetes.io/managed-by": "gpve"}},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]}
    try:
        client.send("POST", BINDINGS, f"create ClusterRoleBinding {group}", binding)
    except KubeError as exc:
        raise CsrError(str(exc)) from None
    return True


def mint(client, user, groups, seconds, approver, wait=DEFAULT_WAIT):
    """(certificate PEM, certs.Issued with the new key) signed by the cluster for user in groups."""
    key = keys.generate_private_key()
    name = f"gpve-{re.sub(r'[^a-z0-9-]', '-', user.lower())[:40]}-{uuid.uuid4().hex[:8]}"
    try:
        client.send("POST", CSRS, "create CertificateSigningRequest", _object(name, request_pem(key, user, groups), seconds))
    except KubeError as exc:
        raise CsrError(str(exc)) from None
    try:
        current = _read(client, name)
        current.setdefault("status", {})["conditions"] = [
            {"type": "Approved", "status": "True", "reason": "GpveKubeconfig", "message": f"approved by gpve_kubeconfig for {approver}"}]
        client.send("PUT", f"{CSRS}/{name}/approval", f"approve CertificateSigningRequest {name}", current)
        pem = _wait_signed(client, name, wait)
    except KubeError as exc:
        raise CsrError(str(exc)) from None
    finally:
        try:
            client.send("DELETE", f"{CSRS}/{name}", f"delete CertificateSigningRequest {name}")
        except KubeError:
            pass  # the request carries no secret; the garbage collector removes it after an hour
    return certs.Issued(certs.load_cert(pem, "signed certificate"), key)
