# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client for the host cluster from the host-cluster options.

In order: ``host`` with ``api_key`` (a bearer token) or ``client_cert`` and ``client_key``; else ``host_kubeconfig`` (and
``host_context``); else the in-cluster service account when running in a pod; else the
default kubeconfig (``KUBECONFIG`` or ~/.kube/config). ``validate_certs`` and
``ca_cert`` apply to every way in.

The client is transport.Transport whenever it can serve (certificates and tokens); a
kubeconfig that needs an exec plugin or an auth provider gets a kubernetes ApiClient,
imported only then. kube.resources.Resources works with either.
"""

from __future__ import annotations

import os

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig as kubeconfigs
from ansible_collections.gpve.cluster.plugins.module_utils.kube import transport
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError


def host_api_client(host_kubeconfig=None, host_context=None, host=None, api_key=None, validate_certs=True,
                    ca_cert=None, environ=None, client_cert=None, client_key=None):
    """A client (Transport, or kubernetes ApiClient when only it can) for the host cluster the options describe."""
    environ = os.environ if environ is None else environ
    if ca_cert and not os.path.isfile(ca_cert):
        raise KubeConfigError(f"ca_cert: {ca_cert} is not a file")
    if host:
        if api_key:
            return transport.from_token(host, api_key, validate_certs, ca_cert)
        if client_cert and client_key:
            return transport.from_client_certificate(host, client_cert, client_key, validate_certs, ca_cert)
        raise KubeConfigError("api_key: a bearer token (or client_cert and client_key) is needed with host")
    path = host_kubeconfig or _in_cluster_or_default(environ)
    if path is None:
        return transport.in_cluster(environ, validate_certs, ca_cert)
    if not os.path.isfile(path):
        raise KubeConfigError(f"host_kubeconfig: {path} is not a file")
    with open(path, encoding="utf-8") as source:
        try:
            config = kubeconfigs.load_kubeconfig(source.read())
        except kubeconfigs.KubeconfigError as exc:
            raise KubeConfigError(f"host_kubeconfig {path}: {exc}") from None
    try:
        return transport.from_kubeconfig(config, host_context, validate_certs,
                                         _read(ca_cert) if ca_cert else None, base_dir=os.path.dirname(path))
    except transport.Unsupported:
        return _library_client(path, host_context, validate_certs, ca_cert)


def _in_cluster_or_default(environ):
    """None when running in a pod (in-cluster wins), else the default kubeconfig path."""
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    default = environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser("~/.kube/config")
    if os.path.isfile(default):
        return default
    raise KubeConfigError("no host cluster: set host_kubeconfig (GPVE_HOST_CLUSTER_KUBECONFIG or K8S_AUTH_KUBECONFIG), "
                          "or host and api_key (K8S_AUTH_HOST and K8S_AUTH_API_KEY), or run inside a pod")


def _library_client(path, context, validate_certs, ca_cert):
    try:
        from kubernetes import client as k8s_client
        from kubernetes import config as k8s_config
        from kubernetes.config.config_exception import ConfigException
    except ImportError as exc:
        raise KubeConfigError(f"host_kubeconfig {path}: this kubeconfig authenticates through an exec plugin or an "
                              f"auth provider, which needs the Python library kubernetes: {exc}") from None
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                    persist_config=False)
    except ConfigException as exc:
        raise KubeConfigError(f"host_kubeconfig {path}: {exc}") from None
    configuration.verify_ssl = bool(validate_certs)
    if ca_cert:
        configuration.ssl_ca_cert = ca_cert
    return k8s_client.ApiClient(configuration)


def _read(path):
    with open(path, encoding="utf-8") as source:
        return source.read()
