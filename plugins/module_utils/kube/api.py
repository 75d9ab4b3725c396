# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded JSON requests on any path of one API server, over a kube/connect.py connection.

The read side (gpve_cluster_info's health checks, gpve_external_cluster's discovery) and
gpve_kubeconfig's ServiceAccount and CSR requests use it. Every request is bounded by a
timeout and every failure becomes KubeConnectionError (not reached) or KubeApiError (the
server answered with an error status), so messages say which one it was. Waiting for a
throttled server is the connection's (kube/retry.py).
"""

from __future__ import annotations

import json

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError, KubeConnectionError

DEFAULT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
PAGE_SIZE = 500


class ClusterApi:
    """JSON requests against one API server. Close it (or use ``with``) to free its connection pool."""

    def __init__(self, connection, timeout=DEFAULT_TIMEOUT):
        self.connection = connection
        self.timeout = timeout
        self.server = connection.server

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.connection.close()

    def get(self, path, query=None, what=None):
        """(status, body text) of GET path; an error status is returned, not raised."""
        answer = self._request("GET", path, what or f"GET {path}", query)
        return answer.status, answer.data.decode("utf-8", "replace")

    def get_json(self, path, query=None, what=None):
        """The JSON document at path; KubeApiError on an error status."""
        return self.send("GET", path, what or f"GET {path}", query=query)

    def send(self, method, path, what, body=None, query=None):
        """The JSON answer of one request; KubeApiError on an error status."""
        answer = self._request(method, path, what, query, body)
        if not 200 <= answer.status < 300:
            raise _api_error(answer.status, answer.data, what)
        return json.loads(answer.data) if answer.data else {}

    def list_items(self, path, query=None, what=None):
        """Every item of a list endpoint, page by page (``limit``/``continue``)."""
        items, token = [], None
        while True:
            page_query = dict(query or {}, limit=PAGE_SIZE)
            if token:
                page_query["continue"] = token
            page = self.get_json(path, page_query, what)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items

    def version(self):
        return self.get_json("/version", what="server version")

    def _request(self, method, path, what, query=None, body=None):
        try:
            return self.connection.request(method, path, list((query or {}).items()),
                                           None if body is None else json.dumps(body),
                                           timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout))
        except KubeConnectionError as exc:
            raise KubeConnectionError(f"cannot reach the API server at {self.server} ({what}): {_reason(str(exc))}") from None


def _api_error(status, body, what):
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    reason, message = None, body or ""
    try:
        document = json.loads(body or "{}")
    except ValueError:
        document = None
    if isinstance(document, dict):
        reason, message = document.get("reason"), document.get("message") or message
    reason = reason or {401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}.get(status)
    return KubeApiError(status, reason, (message or "").strip()[:500], what)


def _reason(text):
    """The innermost useful words of a connection error (connection refused, certificate verify failed, timed out...)."""
    for marker in ("Connection refused", "certificate verify failed", "timed out", "Name or service not known",
                   "No route to host", "Connection reset"):
        if marker in text:
            return marker + (": " + text.rsplit("certificate verify failed:", 1)[-1].strip(" )'\"")
                             if marker == "certificate verify failed" else "")
    return text.replace("the API server could not be reached: ", "", 1)
