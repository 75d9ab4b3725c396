"""The virtual control plane runs for real: etcd, kube-apiserver, kube-controller-manager and kube-scheduler in a pod
on the testbed's real nodes (containerd, the kubelet), from the images the testbed built, pulled by nothing.

One vCluster for the module (created through ansible, without the syncer, whose image cannot be had here, and
with every image under the testbed's registry prefix), exposed through a NodePort the test process reaches. The
tests run in order on it: its own API, its CoreDNS objects, its images, etcd's data on the volume claim across a
pod deletion, suspend and resume, and last the deletion of every host object it made.
"""

from __future__ import annotations

import os
import stat
import uuid

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.kube import wait
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import coredns
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import run_module
from tests.integration.vcluster.conftest import MODULE_DEFAULTS, assert_fences, own_seccomp_filters, process_status, run_ansible
from tests.testbed import images

pytestmark = pytest.mark.vcluster

NAME = "realvc"
SELECTOR = f"vcluster.gpve.io/name={NAME}"
VIRTUAL_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
READY_TIMEOUT = 300
# What the module makes in the host namespace (kinds listed by the test for emptiness after state: absent).
HOST_KINDS = ("StatefulSet", "Service", "Secret", "ServiceAccount", "Role", "RoleBinding", "PersistentVolumeClaim",
              "Pod", "ConfigMap", "Ingress", "NetworkPolicy", "ResourceQuota", "LimitRange")


@pytest.fixture(scope="session")
def testbed(real_testbed):
    """This module runs on the real nodes (the directory's other tests use the stand-in)."""
    return real_testbed


class VCluster:
    """The module's vCluster for these tests: its parameters, the last result, and clients of both clusters."""

    def __init__(self, testbed, tmp, namespace):
        self.namespace = namespace
        self.registry = str(tmp / "registry.db")
        self.kubeconfig_path = str(tmp / f"{NAME}.kubeconfig")
        self.args = {"name": NAME, "namespace": namespace, "syncer": {"enabled": False},
                     "image_registry": images.REGISTRY, "storage": {"storage_class": testbed.storage_class, "size": "1Gi"},
                     "networking": {"expose": {"type": "NodePort"}}, "kubeconfig_dest": self.kubeconfig_path,
                     "wait_timeout": READY_TIMEOUT}
        self.host_kubeconfig = testbed.kubeconfig
        self.host_connection = connect(host_kubeconfig=testbed.kubeconfig)
        self.host = Resources(self.host_connection)
        self.created = None

    def run(self, **changes):
        """The module's logic in this process, with the args and changes."""
        params = dict(MODULE_DEFAULTS, host_kubeconfig=self.host_kubeconfig, registry=self.registry, **self.args)
        params.update(changes)
        with open_registry(self.registry) as store:
            return run_module(params, store, False)

    def virtual(self):
        """Resources of the virtual cluster through the kubeconfig the module wrote (close its connection)."""
        with open(self.kubeconfig_path, encoding="utf-8") as source:
            connection = connect(kubeconfig=source.read())
        return connection, Resources(connection)

    def control_plane_pod(self):
        pods = self.host.list("Pod", self.namespace, label_selector=SELECTOR)
        return pods[0] if len(pods) == 1 else None


@pytest.fixture(scope="module")
def vcluster(testbed, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vcluster-real")
    namespace = f"vcreal-{uuid.uuid4().hex[:8]}"
    made = VCluster(testbed, tmp, namespace)
    # A namespace of the test's: state absent leaves it, so what the module made can be seen gone from it.
    made.host.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    try:
        made.created = run_ansible(made.args, tmp, testbed.kubeconfig, made.registry)
        yield made
    finally:
        try:
            made.run(state="absent", wait=True)
        finally:
            made.host.delete("Namespace", namespace)
            made.host_connection.close()


def test_the_control_plane_runs_in_a_pod_on_a_real_node(vcluster, testbed):
    created = vcluster.created
    assert created.get("changed") and not created.get("failed"), created.get("msg")
    assert created["cluster"]["phase"] == "Running"
    pod = vcluster.control_plane_pod()
    assert pod["spec"]["nodeName"] in testbed.node_names
    statuses = {status["name"]: status for status in pod["status"]["containerStatuses"]}
    assert set(statuses) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}
    assert all(status["ready"] and "running" in status["state"] for status in statuses.values()), statuses
    rerun = vcluster.run()
    assert not rerun["changed"] and {o["action"] for o in rerun["objects"]} == {"unchanged"}


def test_namespace_isolation_fences_the_namespace_and_leaves_the_pods_to_the_default_runtime(vcluster):
    """The quota (counted by the host: the pod and its claim), limits and default NetworkPolicy of namespace isolation;
    no Pod Security labels, RuntimeClass or security context, which are container isolation's."""
    assert_fences(vcluster.host, vcluster.namespace, NAME, node_ports="1")
    labels = vcluster.host.get("Namespace", vcluster.namespace)["metadata"].get("labels") or {}
    assert not [label for label in labels if label.startswith("pod-security.kubernetes.io/")]
    pod = vcluster.control_plane_pod()
    assert "runtimeClassName" not in pod["spec"] and "seccompProfile" not in (pod["spec"].get("securityContext") or {})
    # No seccomp filter of their own (container isolation's processes have one: test_vcluster_container_isolation.py).
    for status in pod["status"]["containerStatuses"]:
        assert own_seccomp_filters(process_status(status["containerID"].split("://", 1)[1])) == 0, status["name"]


def test_the_kubeconfig_lists_the_virtual_clusters_own_namespaces(vcluster):
    assert stat.S_IMODE(os.stat(vcluster.kubeconfig_path).st_mode) == 0o600
    connection, virtual = vcluster.virtual()
    try:
        namespaces = {item["metadata"]["name"] for item in virtual.list("Namespace")}
        assert namespaces == VIRTUAL_NAMESPACES, namespaces
        assert vcluster.namespace not in namespaces
        virtual.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "only-inside", "namespace": "default"},
                       "data": {"where": "virtual"}})
        assert virtual.get("ConfigMap", "only-inside", "default")["data"] == {"where": "virtual"}
    finally:
        connection.close()
    assert vcluster.host.get("ConfigMap", "only-inside", "default") is None
    assert vcluster.host.get("ConfigMap", "only-inside", vcluster.namespace) is None


def test_coredns_is_deployed_inside_the_virtual_cluster(vcluster):
    reported = {(o["kind"], o["name"]) for o in vcluster.created["objects"] if o.get("cluster") == "virtual"}
    expected = {(obj["kind"], obj["metadata"]["name"]) for obj in coredns.objects(specs.normalize(vcluster.args, {}))}
    assert reported == expected
    connection, virtual = vcluster.virtual()
    try:
        deployment = virtual.get("Deployment", "coredns", "kube-system")
        service = virtual.get("Service", "kube-dns", "kube-system")
        assert virtual.get("ConfigMap", "coredns", "kube-system")["data"]["Corefile"].startswith(".:53 {")
        assert virtual.get("ClusterRoleBinding", "system:coredns") is not None
    finally:
        connection.close()
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{images.REGISTRY}/coredns:v1.14.6"
    assert service["spec"]["clusterIP"] == "10.112.0.10"
    # Its pods would run through the syncer only: none runs on the host.
    assert not vcluster.host.list("Pod", vcluster.namespace, label_selector="k8s-app=kube-dns")


def test_every_container_runs_an_image_from_the_registry_prefix(vcluster):
    statefulset = vcluster.host.get("StatefulSet", NAME, vcluster.namespace)
    template = statefulset["spec"]["template"]["spec"]
    wanted = {container["name"]: container["image"] for container in template["containers"]
              + template.get("initContainers", [])}
    assert wanted == {"etcd": f"{images.REGISTRY}/etcd:{images.ETCD_TAG}",
                      "kube-apiserver": f"{images.REGISTRY}/kube-apiserver:v1.37.2",
                      "kube-controller-manager": f"{images.REGISTRY}/kube-controller-manager:v1.37.2",
                      "kube-scheduler": f"{images.REGISTRY}/kube-scheduler:v1.37.2"}
    running = {status["name"]: status["image"] for status in vcluster.control_plane_pod()["status"]["containerStatuses"]}
    assert running == wanted


def test_etcd_keeps_its_data_on_the_claim_when_the_pod_is_deleted(vcluster):
    claim = vcluster.host.get("PersistentVolumeClaim", f"data-{NAME}-0", vcluster.namespace)
    assert claim["status"]["phase"] == "Bound"
    before = vcluster.control_plane_pod()
    vcluster.host.delete("Pod", before["metadata"]["name"], vcluster.namespace)
    wait_ready(vcluster, before["metadata"]["uid"])
    connection, virtual = vcluster.virtual()
    try:
        wait.wait_for(lambda: (virtual.get("Namespace", "default") is not None, "not answering"), READY_TIMEOUT,
                      "the virtual API server after the pod came back")
        assert virtual.get("ConfigMap", "only-inside", "default")["data"] == {"where": "virtual"}
    finally:
        connection.close()


def test_suspended_scales_to_zero_keeping_the_data_and_resumed_brings_it_back(vcluster):
    suspended = vcluster.run(state="suspended")
    assert suspended["changed"] and suspended["cluster"]["phase"] == "Suspended"
    assert vcluster.host.get("StatefulSet", NAME, vcluster.namespace)["spec"]["replicas"] == 0
    assert vcluster.control_plane_pod() is None
    assert vcluster.host.get("PersistentVolumeClaim", f"data-{NAME}-0", vcluster.namespace)["status"]["phase"] == "Bound"
    resumed = vcluster.run()
    assert resumed["changed"] and resumed["cluster"]["phase"] == "Running"
    connection, virtual = vcluster.virtual()
    try:
        assert virtual.get("ConfigMap", "only-inside", "default")["data"] == {"where": "virtual"}
        assert virtual.get("Deployment", "coredns", "kube-system") is not None
    finally:
        connection.close()


def test_absent_removes_every_host_object_it_made(vcluster):
    deleted = vcluster.run(state="absent")
    assert deleted["changed"] and deleted["cluster"]["phase"] == "Deleted"
    assert vcluster.host.get("Namespace", vcluster.namespace) is not None, "a namespace gpve did not create stays"
    left = {kind: [item["metadata"]["name"] for item in vcluster.host.list(kind, vcluster.namespace)
                   if not (kind == "ServiceAccount" and item["metadata"]["name"] == "default")
                   and not (kind == "ConfigMap" and item["metadata"]["name"] == "kube-root-ca.crt")]
            for kind in HOST_KINDS}
    assert not any(left.values()), left
    assert not [role for role in vcluster.host.list("ClusterRole") if NAME in role["metadata"]["name"]
                and vcluster.namespace in role["metadata"]["name"]]


def wait_ready(vcluster, old_uid):
    def check():
        pod = vcluster.control_plane_pod()
        if pod is None or pod["metadata"]["uid"] == old_uid:
            return False, "the old pod is still there or no new one yet"
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        ready = [status["name"] for status in statuses if status.get("ready")]
        return len(ready) == 4, f"ready: {ready}"
    wait.wait_for(check, READY_TIMEOUT, "the control-plane pod to come back")
