"""container isolation on the testbed's real node: the control plane runs restricted, under a RuntimeClass, with the
RuntimeDefault seccomp filter in force on its processes.

One vCluster for the module (through ansible, without the syncer, images under the testbed's registry prefix,
NodePort), as test_vcluster_real_control_plane.py makes it, with isolation_mode container and a RuntimeClass of the
test's whose handler is ``runc``: the runtime the testbed's containerd configures (tests/testbed/nodes.py), so the
pods really run through it. No sandboxed runtime (gVisor, Kata) can run on the testbed's nodes (systemd-nspawn
machines, no nested virtualisation).

Its etcd runs as a non-root user and needs a volume the kubelet hands to the pod's fsGroup: the testbed's storage
class is hostPath, which the kubelet never chowns, so the test makes a ``local`` PersistentVolume of its own (a
directory a helper pod creates on the node) and names its storage class.
"""

from __future__ import annotations

import uuid

import pytest
from kubernetes import client, config

from ansible_collections.gpve.cluster.plugins.module_utils.kube import wait
from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import run_module
from tests.integration.vcluster.conftest import MODULE_DEFAULTS, assert_fences, own_seccomp_filters, process_status, run_ansible
from tests.testbed import images

pytestmark = pytest.mark.vcluster

NAME = "isovc"
SELECTOR = f"vcluster.gpve.io/name={NAME}"
READY_TIMEOUT = 300
NODE_DIR = "/var/lib/gpve-isolation-tests"


@pytest.fixture(scope="session")
def testbed(real_testbed):
    """This module runs on the real nodes (the directory's other tests use the stand-in)."""
    return real_testbed


@pytest.fixture(scope="module")
def isolated(testbed, tmp_path_factory):
    """The container-isolation vCluster: the refused run (no RuntimeClass yet) and what it left, the created result,
    host Resources, namespace, RuntimeClass name, args and registry."""
    tmp = tmp_path_factory.mktemp("vcluster-container")
    suffix = uuid.uuid4().hex[:8]
    namespace, prep_namespace, runtime_class = f"vciso-{suffix}", f"vciso-prep-{suffix}", f"gpve-test-runc-{suffix}"
    volume_dir = f"{NODE_DIR}/{suffix}"
    connection = connect(host_kubeconfig=testbed.kubeconfig)
    host = Resources(connection)
    api_client = config.new_client_from_config(config_file=str(testbed.kubeconfig))
    volumes = client.CoreV1Api(api_client)
    registry = str(tmp / "registry.db")
    args = {"name": NAME, "namespace": namespace, "isolation_mode": "container", "syncer": {"enabled": False},
            "control_plane": {"runtime_class_name": runtime_class}, "image_registry": images.REGISTRY,
            "storage": {"storage_class": f"vciso-{suffix}", "size": "1Gi"},
            "networking": {"expose": {"type": "NodePort"}}, "wait_timeout": READY_TIMEOUT}
    try:
        for made in (namespace, prep_namespace):
            host.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": made}})
        refused = run_ansible(args, tmp, testbed.kubeconfig, registry)
        left = [kind for kind, made in (("ResourceQuota", f"{NAME}-quota"), ("ServiceAccount", f"vc-{NAME}"),
                                        ("StatefulSet", NAME)) if host.get(kind, made, namespace) is not None]
        with open_registry(registry) as store:
            recorded = store.find_cluster(NAME)
        host.apply({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": runtime_class},
                    "handler": "runc"})
        node = testbed.node_names[0]
        run_on_node(host, prep_namespace, node, f"mkdir -p {volume_dir}", "mkdir")
        volumes.create_persistent_volume(local_volume(f"vciso-{suffix}", volume_dir, node, namespace))
        created = run_ansible(args, tmp, testbed.kubeconfig, registry)
        yield {"refused": refused, "left": left, "recorded": recorded, "created": created, "host": host, "namespace": namespace, "args": args,
               "runtime_class": runtime_class, "registry": registry}
    finally:
        try:
            with open_registry(registry) as store:
                run_module(dict(MODULE_DEFAULTS, host_kubeconfig=testbed.kubeconfig, registry=registry, state="absent",
                                wait=True, **args), store, False)
        finally:
            if volumes.list_persistent_volume(field_selector=f"metadata.name=vciso-{suffix}").items:
                volumes.delete_persistent_volume(f"vciso-{suffix}")
            host.delete("RuntimeClass", runtime_class)
            run_on_node(host, prep_namespace, testbed.node_names[0], f"rm -rf {volume_dir}", "clean")
            for made in (namespace, prep_namespace):
                host.delete("Namespace", made)
            connection.close()
            api_client.close()


def test_container_isolation_is_refused_before_any_write_without_its_runtime_class(isolated):
    refused = isolated["refused"]
    assert refused.get("failed") and f"no RuntimeClass {isolated['runtime_class']!r}" in refused["msg"], refused
    assert "isolation_mode=container" in refused["msg"]
    assert not isolated["left"] and isolated["recorded"] is None


def test_the_restricted_control_plane_runs_with_its_runtime_class(isolated, testbed):
    created, host, namespace = isolated["created"], isolated["host"], isolated["namespace"]
    assert created.get("changed") and not created.get("failed"), created.get("msg")
    assert created["cluster"]["phase"] == "Running"
    labels = host.get("Namespace", namespace)["metadata"]["labels"]
    assert {labels[f"pod-security.kubernetes.io/{mode}"] for mode in ("enforce", "audit", "warn")} == {"restricted"}
    template = host.get("StatefulSet", NAME, namespace)["spec"]["template"]["spec"]
    pod = control_plane_pod(host, namespace)
    for spec in (template, pod["spec"]):
        assert spec["runtimeClassName"] == isolated["runtime_class"]
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                                    "readOnlyRootFilesystem": True}
    assert pod["spec"]["nodeName"] in testbed.node_names
    statuses = pod["status"]["containerStatuses"]
    containers = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}
    assert {status["name"] for status in statuses} == containers
    assert all(status["ready"] for status in statuses), statuses


def test_the_seccomp_filter_and_the_user_are_in_force_on_the_running_processes(isolated):
    """Read from the kernel (the testbed's nodes are machines on this host, their processes in its /proc): every
    control-plane process runs as 65532, without capabilities, under a seccomp filter of its own, one more than the
    filters systemd-nspawn puts on every process of the node (its containerd shim has those only)."""
    pod = control_plane_pod(isolated["host"], isolated["namespace"])
    for status in pod["status"]["containerStatuses"]:
        process = process_status(status["containerID"].split("://", 1)[1])
        assert own_seccomp_filters(process) == 1, (status["name"], process["Seccomp_filters"])
        assert process["Uid"].split()[:2] == ["65532", "65532"], (status["name"], process["Uid"])
        assert process["CapEff"] == "0000000000000000", (status["name"], process["CapEff"])


def test_the_namespace_is_fenced(isolated):
    host, namespace = isolated["host"], isolated["namespace"]
    assert_fences(host, namespace, NAME, node_ports="1")


def test_the_runtime_class_is_kept_on_rerun_and_nothing_changes(isolated, testbed, tmp_path):
    again = run_ansible(isolated["args"], tmp_path, testbed.kubeconfig, isolated["registry"])
    assert not again.get("failed"), again.get("msg")
    assert not again["changed"] and {o["action"] for o in again["objects"]} == {"unchanged"}


def control_plane_pod(host, namespace):
    pods = host.list("Pod", namespace, label_selector=SELECTOR)
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    return pods[0]


def local_volume(name, path, node, namespace):
    """A ``local`` PersistentVolume (the kubelet applies the pod's fsGroup to it) kept for the vCluster's claim."""
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": name,
                     "persistentVolumeReclaimPolicy": "Retain", "local": {"path": path},
                     "claimRef": {"namespace": namespace, "name": f"data-{NAME}-0"},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}}


def run_on_node(host, namespace, node, command, what):
    """command in the test image on node, with NODE_DIR mounted from the node; waits until it succeeded."""
    pod_name = f"node-{what}"
    host.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod_name, "namespace": namespace},
                "spec": {"nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                         "containers": [{"name": what, "image": images.TEST_IMAGE, "command": ["sh", "-c", command],
                                         "volumeMounts": [{"name": "dir", "mountPath": NODE_DIR}]}],
                         "volumes": [{"name": "dir", "hostPath": {"path": NODE_DIR, "type": "DirectoryOrCreate"}}]}})

    def done():
        phase = ((host.get("Pod", pod_name, namespace) or {}).get("status") or {}).get("phase")
        if phase == "Failed":
            raise AssertionError(f"{command!r} failed on {node}")
        return phase == "Succeeded", f"phase {phase}"
    wait.wait_for(done, 120, f"{command!r} on {node}")
    host.delete("Pod", pod_name, namespace)
