# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kubernetes ApiClient from the host-cluster options.

In order: ``host`` with ``api_key`` (a bearer token); else ``host_kubeconfig`` (and
``host_context``); else the in-cluster service account when running in a pod; else the
default kubeconfig (``KUBECONFIG`` or ~/.kube/config). ``validate_certs`` and
``ca_cert`` apply to every way in.
"""

from __future__ import annotations

import os

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the module reports missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc


def host_api_client(host_kubeconfig=None, host_context=None, host=None, api_key=None, validate_certs=True,
                    ca_cert=None, environ=None):
    """An ApiClient for the host cluster described by the options."""
    if not HAS_KUBERNETES:
        raise KubeConfigError(f"the Python library kubernetes is required: {KUBERNETES_IMPORT_ERROR}")
    environ = os.environ if environ is None else environ
    configuration = _configuration(host_kubeconfig, host_context, host, api_key, environ)
    configuration.verify_ssl = bool(validate_certs)
    if ca_cert:
        if not os.path.isfile(ca_cert):
            raise KubeConfigError(f"ca_cert: {ca_cert} is not a file")
        configuration.ssl_ca_cert = ca_cert
    return k8s_client.ApiClient(configuration)


def _configuration(host_kubeconfig, host_context, host, api_key, environ):
    if host:
        if not api_key:
            raise KubeConfigError("api_key: a bearer token is needed with host")
        configuration = k8s_client.Configuration()
        configuration.host = host
        configuration.api_key = {"authorization": f"Bearer {api_key}"}
        return configuration
    if host_kubeconfig:
        return _from_kubeconfig(host_kubeconfig, host_context)
    if environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = k8s_client.Configuration()
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise KubeConfigError(f"in-cluster configuration: {exc}") from None
        return configuration
    default = environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser("~/.kube/config")
    if os.path.isfile(default):
        return _from_kubeconfig(default, host_context)
    raise KubeConfigError("no host cluster: set host_kubeconfig (GPVE_HOST_CLUSTER_KUBECONFIG), or host and api_key, "
                          "or run inside a pod")


def _from_kubeconfig(path, context):
    if not os.path.isfile(path):
        raise KubeConfigError(f"host_kubeconfig: {path} is not a file")
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                    persist_config=False)
    except ConfigException as exc:
        raise KubeConfigError(f"host_kubeconfig {path}: {exc}") from None
    return configuration
