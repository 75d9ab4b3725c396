# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain JSON calls on any resource path over a kube/connect.py connection.

kube/resources.py knows a fixed table of kinds; a backup meets whatever the server serves
(custom resources included), so this speaks in paths built from discovery. Lists are
paginated (``limit``/``continue``) so a big namespace never arrives as one response.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeApiError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import call_json

PAGE_SIZE = 500
DEFAULT_TIMEOUT = 60
NOT_FOUND = 404
CONFLICT = 409


def resource_path(group, version, resource, namespace=None, name=None):
    """/api/v1/... for the core group, /apis/<group>/<version>/... otherwise."""
    base = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    if namespace:
        base += f"/namespaces/{quote(namespace, safe='')}"
    base += f"/{resource}"
    return f"{base}/{quote(name, safe='')}" if name else base


class Rest:
    """JSON in, JSON out; API errors become KubeApiError, network errors KubeConnectionError."""

    def __init__(self, connection, timeout=DEFAULT_TIMEOUT):
        self.connection = connection
        self.timeout = timeout

    def get(self, path, what=None, query=None):
        """The object at path, or None when the server answers 404."""
        try:
            return self.call("GET", path, what or path, query)
        except KubeApiError as error:
            if error.status == NOT_FOUND:
                return None
            raise

    def list_all(self, path, what=None, page_size=PAGE_SIZE):
        """Every item of a list endpoint, page by page, with the list's kind and apiVersion."""
        items, token = [], None
        while True:
            query = [("limit", str(page_size))] + ([("continue", token)] if token else [])
            page = self.call("GET", path, what or f"list {path}", query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return page.get("kind", ""), page.get("apiVersion", ""), items

    def create(self, path, body, what):
        return self.call("POST", path, what, body=body)

    def apply(self, path, body, what, field_manager, dry_run=False):
        """Server-side apply with force: the fields of body become field_manager's, others stay."""
        query = [("fieldManager", field_manager), ("force", "true")] + ([("dryRun", "All")] if dry_run else [])
        return self.call("PATCH", path, what, query, body=body, content_type="application/apply-patch+yaml")

    def call(self, method, path, what, query=None, body=None, content_type="application/json"):
        return call_json(self.connection, method, path, what, query, body, content_type, self.timeout)
