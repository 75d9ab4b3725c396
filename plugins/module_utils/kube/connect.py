# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``connect``: the one factory of every Kubernetes connection.

Three ways in, one kind of connection out (a transport.Transport; for a kubeconfig user with
an auth provider, auth_provider.AuthProviderTransport, which answers the same requests):

- ``kubeconfig``: a kubeconfig as YAML text, bytes or a dict (and ``context``, default its current one);
- ``store`` and ``cluster``: a registered cluster, as its stored admin kubeconfig;
- the host-cluster options (kube/auth_spec.py resolved them): ``host`` with ``api_key`` or ``client_cert`` and
  ``client_key``; else ``host_kubeconfig`` (and ``host_context``); else the in-cluster service account when
  running in a pod; else the default kubeconfig (``KUBECONFIG`` or ~/.kube/config). ``validate_certs`` and
  ``ca_cert`` apply to every way in.

Every request of every connection follows kube/retry.py.
"""

from __future__ import annotations

import os

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig as kubeconfigs
from ansible_collections.gpve.cluster.plugins.module_utils.kube import auth_provider, transport
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError
from ansible_collections.gpve.cluster.plugins.module_utils.registry.kinds import KUBECONFIG

POOL_SIZE = transport.POOL_SIZE


def connect(kubeconfig=None, context=None, store=None, cluster=None, pool_size=POOL_SIZE, **host_options):
    """A connection to the API server a kubeconfig, a registered cluster or the host-cluster options name."""
    if cluster is not None:
        kubeconfig = store.get_credential(cluster.id, KUBECONFIG).data
    if kubeconfig is not None:
        return _from_kubeconfig(_loaded(kubeconfig, "kubeconfig"), context, pool_size=pool_size)
    return _from_host_options(pool_size=pool_size, **host_options)


def _from_host_options(host_kubeconfig=None, host_context=None, host=None, api_key=None, validate_certs=True,
                       ca_cert=None, environ=None, client_cert=None, client_key=None, pool_size=POOL_SIZE):
    environ = os.environ if environ is None else environ
    validate_certs = True if validate_certs is None else validate_certs
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
        config = _loaded(source.read(), f"host_kubeconfig {path}")
    return _from_kubeconfig(config, host_context, validate_certs, ca_cert, os.path.dirname(path), pool_size,
                            what=f"host_kubeconfig {path}")


def _from_kubeconfig(config, context, validate_certs=True, ca_cert=None, base_dir=None, pool_size=POOL_SIZE,
                     what="kubeconfig"):
    try:
        return transport.from_kubeconfig(config, context, validate_certs, _read(ca_cert) if ca_cert else None,
                                         base_dir=base_dir, pool_size=pool_size)
    except transport.Unsupported:
        return auth_provider.from_kubeconfig(config, context, validate_certs, ca_cert)
    except KubeConfigError as exc:
        raise KubeConfigError(f"{what}: {exc}") from None


def _loaded(kubeconfig, what):
    if isinstance(kubeconfig, dict):
        return kubeconfig
    try:
        return kubeconfigs.load_kubeconfig(kubeconfig)
    except kubeconfigs.KubeconfigError as exc:
        raise KubeConfigError(f"{what}: {exc}") from None


def _in_cluster_or_default(environ):
    """None when running in a pod (in-cluster wins), else the default kubeconfig path."""
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return None
    default = environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser("~/.kube/config")
    if os.path.isfile(default):
        return default
    raise KubeConfigError("no host cluster: set host_kubeconfig (GPVE_HOST_CLUSTER_KUBECONFIG or K8S_AUTH_KUBECONFIG), "
                          "or host and api_key (K8S_AUTH_HOST and K8S_AUTH_API_KEY), or run inside a pod")


def _read(path):
    with open(path, encoding="utf-8") as source:
        return source.read()
