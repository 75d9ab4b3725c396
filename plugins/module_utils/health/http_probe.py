# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One bounded GET of a health endpoint (a component's /healthz, an etcd member's /health).

HTTPS is verified against the given CA (the cluster's, from its kubeconfig). A client
certificate is presented when one is given; bearer tokens are never sent to these
endpoints. The CA and the client pair are written to a private temporary directory
(0600 files) only for the duration of the request, as open_url reads them from files.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

DEFAULT_TIMEOUT = 5.0


class TlsMaterial:
    """CA and optional client certificate (PEM text) for probing endpoints of one cluster."""

    def __init__(self, ca_pem=None, cert_pem=None, key_pem=None, validate=True):
        self.ca_pem = ca_pem or None
        self.cert_pem = cert_pem or None
        self.key_pem = key_pem or None
        self.validate = validate

    def __repr__(self):
        return f"TlsMaterial(ca={bool(self.ca_pem)}, client_cert={bool(self.cert_pem)}, validate={self.validate})"

    @contextlib.contextmanager
    def files(self):
        """{ca_path, client_cert, client_key} of open_url, in a private directory removed afterwards."""
        directory = tempfile.mkdtemp(prefix="gpve-probe-")
        try:
            paths = {}
            for option, name, text in (("ca_path", "ca.crt", self.ca_pem), ("client_cert", "client.crt", self.cert_pem),
                                       ("client_key", "client.key", self.key_pem if self.cert_pem else None)):
                if text:
                    paths[option] = os.path.join(directory, name)
                    descriptor = os.open(paths[option], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(descriptor, "w", encoding="ascii") as out:
                        out.write(text)
            yield paths
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def probe(url, tls=None, timeout=DEFAULT_TIMEOUT):
    """(healthy, detail): GET url answered 200 with a healthy body ("ok", or etcd's {"health": "true"})."""
    tls = tls or TlsMaterial()
    try:
        with tls.files() as paths:
            answer = open_url(url, method="GET", timeout=timeout, validate_certs=tls.validate, use_proxy=False, **paths)
            body = answer.read(4096).decode("utf-8", "replace")
            status = answer.getcode()
    except HTTPError as exc:
        return False, f"HTTP {exc.code} {exc.reason}"
    except (URLError, OSError, ValueError) as exc:
        return False, _reason(exc)
    return _healthy_body(status, body)


def _healthy_body(status, body):
    text = body.strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and "health" in document:
        healthy = str(document["health"]).lower() == "true"
        return healthy, "health true" if healthy else f"health {document.get('health')} {document.get('reason', '')}".strip()
    if status == 200 and text.startswith("ok"):
        return True, "ok"
    return status == 200, f"HTTP {status}: {text[:120]}"


def _reason(exc):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError) or "Connection refused" in str(reason):
        return "connection refused"
    text = str(reason)
    return text[:200] or type(reason).__name__
