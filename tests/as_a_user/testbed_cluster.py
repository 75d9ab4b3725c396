"""The testbed's Kubernetes cluster as the registry would hold it once imported or built."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.gpve.cluster.plugins.module_utils import lifecycle

K8S_VM_PATH = ("Provisioning", "Bootstrapping", "Installing", "Running")


def monitoring_config(testbed):
    """The control-plane components' and etcd's own health endpoints, as the testbed probes them."""
    components = testbed.components
    health_urls = {name: components[name].probe.url for name in ("kube-controller-manager", "kube-scheduler")}
    return {"components": health_urls, "etcd_endpoints": [components["etcd"].probe.url]}


def admin_kubeconfig(testbed):
    return Path(testbed.kubeconfig).read_text()


def register_as_k8s_vm(store, testbed, name="testbed-k8s"):
    """A Running K8s-on-VM record for the testbed cluster, its admin kubeconfig stored encrypted."""
    spec = {"distribution": "kubeadm", "kubernetes_version": testbed.k8s_version.lstrip("v"),
            "monitoring_config": monitoring_config(testbed)}
    cluster = store.create_cluster(name, "k8s-vm", spec=spec)
    store.replace_nodes(cluster.id, [{"name": f"{name}-cp-1", "role": "control-plane", "ip_address": "127.0.0.1",
                                      "status": "Running"}])
    for phase in K8S_VM_PATH:
        lifecycle.transition(store, cluster.id, phase, "Seeded", endpoint=testbed.api_url)
    store.put_credential(cluster.id, "kubeconfig", admin_kubeconfig(testbed))
    return store.get_cluster(cluster.id)
