# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One bounded GET of a health endpoint (a component's /healthz, an etcd member's /health).

HTTPS is verified against the given CA (the cluster's, from its kubeconfig). A client
certificate is presented when one is given; bearer tokens are never sent to these
endpoints. The key is written to a private temporary file only for as long as Python's
ssl module needs to load it.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import tempfile
import urllib.error
import urllib.request

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

    def context(self):
        context = ssl.create_default_context(cadata=self.ca_pem) if self.ca_pem else ssl.create_default_context()
        if not self.validate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_pem and self.key_pem:
            _load_client_pair(context, self.cert_pem, self.key_pem)
        return context


def _load_client_pair(context, cert_pem, key_pem):
    directory = tempfile.mkdtemp(prefix="gpve-probe-")
    try:
        cert_path, key_path = os.path.join(directory, "client.crt"), os.path.join(directory, "client.key")
        for path, text in ((cert_path, cert_pem), (key_path, key_pem)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(text)
        context.load_cert_chain(cert_path, key_path)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def probe(url, tls=None, timeout=DEFAULT_TIMEOUT):
    """(healthy, detail): GET url answered 200 with a healthy body ("ok", or etcd's {"health": "true"})."""
    context = (tls or TlsMaterial()).context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout, context=context) as answer:
            body = answer.read(4096).decode("utf-8", "replace")
            status = answer.status
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
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
    if status == 200 and (text == "ok" or text.startswith("ok")):
        return True, "ok"
    return status == 200, f"HTTP {status}: {text[:120]}"


def _reason(exc):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    text = str(reason)
    return text[:200] or type(reason).__name__
