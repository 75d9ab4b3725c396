# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one bounded use of the kubernetes library: a kubeconfig user with an ``auth-provider`` (OIDC).

An auth provider keeps state the library owns (it refreshes the id-token with the refresh
token at the issuer); writing that again for a mechanism kubectl itself deprecated is not
worth it. Only kube/connect.py builds this, and only for such a user; it answers the same
``request`` as transport.Transport, through the same retry policy, so nothing above can
tell the two apart. The library is imported here and nowhere else.
"""

from __future__ import annotations

import json
import time

from ansible_collections.gpve.cluster.plugins.module_utils.kube import retry
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError, KubeConnectionError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.transport import Response


class AuthProviderTransport:
    """Requests through a kubernetes ApiClient built for one kubeconfig context."""

    def __init__(self, api_client):
        self.api = api_client
        self.server = api_client.configuration.host
        self.sleep = time.sleep

    def request(self, method, path, query=(), body=None, content_type="application/json", timeout=30):
        """As transport.Transport.request (body: JSON text, which the library encodes itself, so it is decoded here)."""
        document = None if body is None else json.loads(body)
        return retry.send(lambda: self._once(method, path, list(query), document, content_type, timeout), self.sleep)

    def _once(self, method, path, query, body, content_type, timeout):
        from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel
        from urllib3.exceptions import HTTPError  # pylint: disable=import-outside-toplevel
        headers = {"Accept": "application/json", "Content-Type": content_type}
        try:
            answer = self.api.call_api(path, method, query_params=query, header_params=headers, body=body,
                                       auth_settings=["BearerToken"], _preload_content=False,
                                       _return_http_data_only=True, _request_timeout=timeout)
        except ApiException as exc:
            data = exc.body if isinstance(exc.body, bytes) else (exc.body or "").encode()
            return Response(exc.status, exc.reason, data, exc.headers)
        except (HTTPError, OSError) as exc:
            raise KubeConnectionError(f"the API server could not be reached: {exc}") from None
        return Response(answer.status, answer.reason, answer.data, answer.headers)

    def close(self):
        self.api.close()


def from_kubeconfig(config, context=None, validate_certs=True, ca_cert_path=None):
    """An AuthProviderTransport for the context of a kubeconfig dict."""
    try:
        from kubernetes import client as k8s_client  # pylint: disable=import-outside-toplevel
        from kubernetes import config as k8s_config  # pylint: disable=import-outside-toplevel
        from kubernetes.config.config_exception import ConfigException  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise KubeConfigError("this kubeconfig authenticates through an auth provider, which needs the Python "
                              f"library kubernetes: {exc}") from None
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config_from_dict(config, context=context, client_configuration=configuration,
                                              persist_config=False)
    except ConfigException as exc:
        raise KubeConfigError(f"kubeconfig: {exc}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KubeConfigError(f"kubeconfig: {type(exc).__name__}: {exc}") from None
    configuration.retries = 0
    if not validate_certs:
        configuration.verify_ssl = False
    if ca_cert_path:
        configuration.ssl_ca_cert = ca_cert_path
    return AuthProviderTransport(k8s_client.ApiClient(configuration))
