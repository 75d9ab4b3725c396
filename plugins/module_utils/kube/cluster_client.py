# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client for a managed cluster, from the kubeconfig the registry (or the user) holds.

``api_client(kubeconfig)`` is the one kubernetes ApiClient factory for a kubeconfig (``api_client_for_cluster``:
the one a registered cluster's stored admin kubeconfig gives). ``client_for(kubeconfig)`` accepts a kubeconfig dict or YAML text and any user entry the
kubernetes library supports (client certificate, token, ``exec`` plugin, ``oidc`` auth
provider). ``ClusterClient`` wraps the few calls the read side needs, each bounded by a
timeout, and turns every failure into KubeConnectionError (not reached) or KubeApiError
(the server answered with an error status), so messages say which one it was.
"""

from __future__ import annotations

import json
import time

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig as kubeconfig_docs
from ansible_collections.gpve.cluster.plugins.module_utils.kube import retry
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import (
    KubeApiError, KubeConfigError, KubeConnectionError, retry_after_seconds)
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError as Urllib3Error
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the module reports missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

DEFAULT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
PAGE_SIZE = 500
DEFAULT_POOL_SIZE = 16


def client_for(config, context=None, timeout=DEFAULT_TIMEOUT):
    """A ClusterClient for the kubeconfig (dict or YAML text) and context (default: its current context)."""
    return ClusterClient(api_client(config, context, retries=0), timeout)


def api_client_for_cluster(store, cluster, pool_size=DEFAULT_POOL_SIZE):
    """An ApiClient for a registered cluster (a registry Cluster record), as its stored admin."""
    return api_client(store.get_credential(cluster.id, kinds.KUBECONFIG).data, pool_size=pool_size)


def api_client(config, context=None, pool_size=None, retries=None):
    """A kubernetes ApiClient for the kubeconfig (dict, YAML text or bytes) and context (default: its current context).

    pool_size: connections kept for parallel requests; retries: urllib3's (None: the library's default).
    """
    if not HAS_KUBERNETES:
        raise KubeConfigError(f"the Python library kubernetes is required: {KUBERNETES_IMPORT_ERROR}")
    if isinstance(config, (str, bytes)):
        try:
            config = kubeconfig_docs.load_kubeconfig(config)
        except kubeconfig_docs.KubeconfigError as exc:
            raise KubeConfigError(f"kubeconfig: {exc}") from None
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config_from_dict(config, context=context, client_configuration=configuration,
                                              persist_config=False)
    except ConfigException as exc:
        raise KubeConfigError(f"kubeconfig: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:  # an exec plugin that cannot run, a malformed entry
        raise KubeConfigError(f"kubeconfig: {type(exc).__name__}: {exc}") from None
    if retries is not None:
        configuration.retries = retries
    if pool_size is not None:
        configuration.connection_pool_maxsize = pool_size
    return k8s_client.ApiClient(configuration)


class ClusterClient:
    """Bounded reads against one API server. Close it (or use ``with``) to free its connection pool.

    Every read follows kube/retry.py: an answer asking to come back later is tried again after the server's wait.
    """

    def __init__(self, api_client, timeout=DEFAULT_TIMEOUT, sleep=time.sleep):
        self.api = api_client
        self.timeout = timeout
        self.server = api_client.configuration.host
        self.sleep = sleep

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self.api.close()

    @property
    def request_timeout(self):
        return (min(CONNECT_TIMEOUT, self.timeout), self.timeout)

    def get(self, path, query=None, what=None):
        """(status, body text) of GET path; an error status is returned, not raised."""
        try:
            answer = self._retried(lambda: self.api.call_api(
                path, "GET", query_params=list((query or {}).items()),
                header_params={"Accept": "application/json, text/plain, */*"}, auth_settings=["BearerToken"],
                _preload_content=False, _return_http_data_only=True, _request_timeout=self.request_timeout))
        except ApiException as exc:
            return exc.status, exc.body if isinstance(exc.body, str) else (exc.body or b"").decode("utf-8", "replace")
        except (Urllib3Error, OSError) as exc:
            raise KubeConnectionError(f"cannot reach the API server at {self.server} ({what or 'GET ' + path}): "
                                      f"{_reason(exc)}") from None
        return answer.status, answer.data.decode("utf-8", "replace")

    def _retried(self, request):
        """request(), tried again while the server asks to come back later (kube/retry.py); its last ApiException raised."""
        attempt = 0
        while True:
            try:
                return request()
            except ApiException as exc:
                wait = retry.wait_before_retry(exc.status, retry_after_seconds(exc.headers), attempt)
                if wait is None:
                    raise
                attempt += 1
                self.sleep(wait)

    def get_json(self, path, query=None, what=None):
        """The JSON document at path; KubeApiError on an error status."""
        status, body = self.get(path, query, what)
        if not 200 <= status < 300:
            raise _api_error(status, body, what or f"GET {path}")
        return json.loads(body)

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

    def call(self, what, function, *args, **kwargs):
        """Run a generated-API call (e.g. CoreV1Api(client.api).list_node) with the timeout and error mapping."""
        try:
            return self._retried(lambda: function(*args, _request_timeout=self.request_timeout, **kwargs))
        except ApiException as exc:
            raise _api_error(exc.status, exc.body, what) from None
        except (Urllib3Error, OSError) as exc:
            raise KubeConnectionError(f"cannot reach the API server at {self.server} ({what}): {_reason(exc)}") from None


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


def _reason(exc):
    """The innermost useful words of a urllib3 error (connection refused, certificate verify failed, timed out...)."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    for marker in ("Connection refused", "certificate verify failed", "timed out", "Name or service not known",
                   "No route to host", "Connection reset"):
        if marker in text:
            return marker + (": " + text.rsplit("certificate verify failed:", 1)[-1].strip(" )'\"")
                             if marker == "certificate verify failed" else "")
    return text
