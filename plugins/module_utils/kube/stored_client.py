# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kubernetes ApiClient for a registered cluster, from the kubeconfig the registry keeps for it.

Every cluster type stores its admin kubeconfig as the credential of type ``kubeconfig``
(gpve_vcluster, gpve_k8s_vm's playbooks, gpve_external_cluster). The decrypted text is
parsed in memory; the kubernetes library may write embedded certificates to private
temporary files, as it does for any kubeconfig.
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeConfigError
from ansible_collections.gpve.cluster.plugins.module_utils.kubeconfig import KubeconfigError, load_kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.registry import kinds

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the module reports missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

DEFAULT_POOL_SIZE = 16


def api_client_from_kubeconfig(text, context=None, pool_size=DEFAULT_POOL_SIZE):
    """An ApiClient from kubeconfig text (str or bytes); pool_size connections for parallel requests."""
    if not HAS_KUBERNETES:
        raise KubeConfigError(f"the Python library kubernetes is required: {KUBERNETES_IMPORT_ERROR}")
    try:
        config = load_kubeconfig(text)
    except KubeconfigError as error:
        raise KubeConfigError(f"stored kubeconfig: {error}") from None
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config_from_dict(config, context=context, client_configuration=configuration,
                                              persist_config=False)
    except (ConfigException, KeyError, ValueError) as error:
        raise KubeConfigError(f"stored kubeconfig: {error}") from None
    configuration.connection_pool_maxsize = pool_size
    return k8s_client.ApiClient(configuration)


def api_client_for_cluster(store, cluster, pool_size=DEFAULT_POOL_SIZE):
    """An ApiClient for a registered cluster (a registry Cluster record), as its stored admin."""
    credential = store.get_credential(cluster.id, kinds.KUBECONFIG)
    return api_client_from_kubeconfig(credential.data, pool_size=pool_size)
