# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTPS transport of every Kubernetes connection (kube/connect.py builds it).

Importing the kubernetes library costs 0.15 s of CPU more than this transport (it loads every API
model); a module run that makes thirty requests spends more time importing than talking
(docs/architecture.md has the measurement). This transport covers a server URL with a CA
(inline or file), a client certificate (inline or files), a bearer token (inline or file),
basic auth, an ``exec`` plugin's credential (kube/exec_credential.py) and the in-cluster
service account. Only an ``auth-provider`` raises Unsupported (kube/connect.py has the
bounded way for it). Client keys given inline pass through a private temporary file only
for as long as OpenSSL takes to read them. Every request follows kube/retry.py.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
import time
from urllib.parse import urlencode, urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils.kube import exec_credential, retry
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError, KubeConnectionError

try:
    import urllib3
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the module reports missing_required_lib
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR = exc

IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
POOL_SIZE = 8


class Unsupported(KubeConfigError):
    """The kubeconfig needs what only the kubernetes library does (auth providers), or there is no pod to be in."""


class Response:
    """Status, reason, headers and body of one answer."""

    def __init__(self, status, reason, data, headers=None):
        self.status = status
        self.reason = reason
        self.data = data
        self.headers = headers or {}


class Transport:
    """HTTPS requests to one API server with one identity."""

    def __init__(self, server, ssl_context, token=None, basic=None, pool_size=POOL_SIZE):
        if not HAS_URLLIB3:
            raise KubeConfigError(f"the Python library urllib3 is required: {URLLIB3_IMPORT_ERROR}")
        parts = urlsplit(server)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise KubeConfigError(f"server: {server!r} is not an http(s) URL")
        self.server = server.rstrip("/")
        self.token = token
        self.authorization = f"Bearer {token}" if token else (
            "Basic " + base64.b64encode(":".join(basic).encode()).decode("ascii") if basic else None)
        self.sleep = time.sleep
        self.pool = urllib3.PoolManager(num_pools=2, maxsize=pool_size, ssl_context=ssl_context, retries=False)

    def request(self, method, path, query=(), body=None, content_type="application/json", timeout=30):
        """A Response whatever the status, after kube/retry.py's waits. Connection failures raise
        KubeConnectionError (the caller adds which object it was about). timeout: seconds, or (connect, read)."""
        url = self.server + path + (f"?{urlencode(list(query))}" if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        if self.authorization:
            headers["Authorization"] = self.authorization
        if isinstance(timeout, tuple):
            timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        return retry.send(lambda: self._once(method, url, body, headers, timeout), self.sleep)

    def _once(self, method, url, body, headers, timeout):
        try:
            answer = self.pool.request(method, url, body=body, headers=headers, timeout=timeout, preload_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeConnectionError(f"the API server could not be reached: {exc}") from None
        return Response(answer.status, answer.reason, answer.data, answer.headers)

    def close(self):
        self.pool.clear()


def selected(config, context=None):
    """(context name, cluster entry, user entry) of the context (default: the current one) of a kubeconfig dict."""
    context_name = context or config.get("current-context")
    chosen = _named(config, "contexts", context_name).get("context") or {}
    cluster = _named(config, "clusters", chosen.get("cluster")).get("cluster") or {}
    return context_name, cluster, _named(config, "users", chosen.get("user")).get("user") or {}


def from_kubeconfig(config, context=None, validate_certs=True, ca_cert=None, base_dir=None, pool_size=POOL_SIZE):
    """A Transport for the selected context of a kubeconfig dict; relative file paths are read from base_dir.

    ca_cert (PEM text) replaces the kubeconfig's CA.
    """
    context_name, cluster, user = selected(config, context)
    if user.get("auth-provider"):
        raise Unsupported(f"context {context_name!r} authenticates through an auth provider")
    context_tls = _ssl_context(validate_certs and not cluster.get("insecure-skip-tls-verify", False),
                               ca_cert or _inline_or_file(cluster, "certificate-authority", base_dir))
    if user.get("exec"):
        credential = exec_credential.run(user["exec"], base_dir)
        cert, key, token = credential.client_cert_pem, credential.client_key_pem, credential.token
    else:
        cert = _inline_or_file(user, "client-certificate", base_dir)
        key = _inline_or_file(user, "client-key", base_dir)
        token = user.get("token") or (_read(_path(user["tokenFile"], base_dir)).strip() if user.get("tokenFile") else None)
    if cert and key:
        _load_client_pair(context_tls, cert, key)
    basic = (user["username"], user.get("password") or "") if user.get("username") else None
    if not (cert and key) and not token and not basic:
        raise KubeConfigError(f"context {context_name!r} has no client certificate, token, username or exec plugin")
    return Transport(cluster.get("server", ""), context_tls, token, basic, pool_size)


def from_token(host, token, validate_certs=True, ca_cert=None):
    return Transport(host, _ssl_context(validate_certs, _read(ca_cert) if ca_cert else None), token)


def from_client_certificate(host, client_cert, client_key, validate_certs=True, ca_cert=None):
    """host with a client certificate and key (file paths, as K8S_AUTH_CERT_FILE and K8S_AUTH_KEY_FILE give them)."""
    context = _ssl_context(validate_certs, _read(ca_cert) if ca_cert else None)
    try:
        context.load_cert_chain(os.path.expanduser(client_cert), os.path.expanduser(client_key))
    except OSError as exc:
        raise KubeConfigError(f"client_cert {client_cert} and client_key {client_key} cannot be used: "
                              f"{getattr(exc, 'reason', None) or exc.strerror or exc}") from None
    return Transport(host, context)


def in_cluster(environ, validate_certs=True, ca_cert=None):
    """The pod's service account: KUBERNETES_SERVICE_HOST/PORT, its token and CA files."""
    host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT", "443")
    token_file = os.path.join(IN_CLUSTER_DIR, "token")
    if not host or not os.path.isfile(token_file):
        raise Unsupported("not running in a pod with a service account")
    address = f"[{host}]" if ":" in host else host
    ca = _read(ca_cert) if ca_cert else _read(os.path.join(IN_CLUSTER_DIR, "ca.crt"))
    return Transport(f"https://{address}:{port}", _ssl_context(validate_certs, ca), _read(token_file).strip())


def _ssl_context(verify, ca_pem):
    """A client context trusting ca_pem only when given (as kubectl does), else the system's CAs.

    Loading the system CA store costs about 0.15 s of CPU per module run; a kubeconfig with its
    own CA never needs it.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    else:
        context.load_default_certs()
    return context


def _load_client_pair(context, cert_pem, key_pem):
    directory = tempfile.mkdtemp(prefix="gpve-tls-")
    try:
        paths = []
        for name, text in (("client.crt", cert_pem), ("client.key", key_pem)):
            path = os.path.join(directory, name)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(text)
            paths.append(path)
        context.load_cert_chain(paths[0], paths[1])
    except ssl.SSLError as exc:
        raise KubeConfigError(f"the kubeconfig's client certificate and key cannot be used: {exc.reason}") from None
    finally:
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))
        os.rmdir(directory)


def _inline_or_file(section, key, base_dir=None):
    if section.get(f"{key}-data"):
        try:
            return base64.b64decode(section[f"{key}-data"]).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise KubeConfigError(f"{key}-data is not base64-encoded PEM") from None
    if section.get(key):
        return _read(_path(section[key], base_dir))
    return None


def _path(path, base_dir):
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) or not base_dir else os.path.join(base_dir, path)


def _read(path):
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as source:
            return source.read()
    except OSError as exc:
        raise KubeConfigError(f"{path}: {exc.strerror}") from None


def _named(config, section, name):
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            return entry
    raise KubeConfigError(f"kubeconfig {section}: no entry named {name!r}")
