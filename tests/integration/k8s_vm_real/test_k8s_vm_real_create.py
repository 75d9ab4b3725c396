"""create.yml bootstraps a working kubeadm cluster on booted VMs, asserted on the new cluster's own
API server with the admin kubeconfig the registry keeps."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from kubernetes import client

from tests.pods import busybox_pod, exec_in, wait_running
from tests.testbed.processes import wait_until

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed]


def _recap_changed(output: str) -> dict[str, int]:
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def test_create_makes_every_node_ready_at_the_spec_version(real_cluster):
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-6000:]
    api = cluster.api()
    # Through the virtual IP keepalived holds on the load balancer VM, as the registry's kubeconfig says.
    assert urlsplit(api.configuration.host).hostname == cluster.spec["load_balancer"]["virtual_ip"]
    nodes = client.CoreV1Api(api).list_node().items
    version = "v" + cluster.spec["kubernetes_version"]
    ready = {n.metadata.name: next(c.status for c in n.status.conditions if c.type == "Ready") for n in nodes}
    assert ready == dict.fromkeys(["real-cp-1", "real-cp-2", "real-cp-3", "real-general-1", "real-general-2"], "True")
    assert {n.status.node_info.kubelet_version for n in nodes} == {version}


def test_a_rerun_changes_nothing(real_cluster):
    cluster, first = real_cluster
    assert first.returncode == 0, first.stdout[-3000:]
    again = cluster.play("create")
    assert again.returncode == 0, again.stdout[-6000:]
    assert set(_recap_changed(again.stdout).values()) == {0}, _recap_changed(again.stdout)
    # Every air-gap file is already on its node at the same size and time: none is copied (nor checksummed) again.
    copies = [task for task in again.stdout.split("TASK [")[1:] if task.startswith("gpve.cluster.airgap : Copy those")]
    assert copies and not [task for task in copies if "(item=" in task], copies


def test_pods_on_two_workers_reach_each_other_by_ip_and_by_service_name(real_cluster):
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    core = client.CoreV1Api(cluster.api())
    workers = sorted(n.metadata.name for n in core.list_node().items if "-general-" in n.metadata.name)
    assert len(workers) == 2, workers
    namespace = "net-check"
    core.create_namespace({"metadata": {"name": namespace}})
    try:
        wait_until(lambda: core.read_namespaced_service_account("default", namespace), 60, "the default account")
        serve = "echo hello-from-{0} > /www/index.html; exec httpd -f -p 8080 -h /www"
        for index, node in enumerate(workers):
            core.create_namespaced_pod(namespace, busybox_pod(f"web-{index}", serve.format(index), nodeName=node))
            core.create_namespaced_service(namespace, {"metadata": {"name": f"web-{index}"}, "spec": {
                "selector": {"app": f"web-{index}"}, "ports": [{"port": 80, "targetPort": 8080}]}})
        pods = [wait_running(core, f"web-{index}", namespace, timeout=180) for index in range(2)]
        assert {p.spec.node_name for p in pods} == set(workers)
        by_ip = exec_in(core, "web-0", namespace, f"timeout 10 wget -q -O - http://{pods[1].status.pod_ip}:8080/")
        assert by_ip.strip() == "hello-from-1"
        fetch = f"timeout 10 wget -q -O - http://web-0.{namespace}.svc.cluster.local/"
        wait_until(lambda: exec_in(core, "web-1", namespace, fetch).strip() == "hello-from-0", 60,
                   "web-0's Service to answer web-1 by name through CoreDNS", interval=2.0)
    finally:
        core.delete_namespace(namespace)


def test_metrics_server_reports_every_node(real_cluster):
    """The add-on from the air-gap bundle answers the resource metrics API (what `kubectl top nodes` reads)."""
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    metrics = client.CustomObjectsApi(cluster.api())
    nodes = {n.metadata.name for n in client.CoreV1Api(cluster.api()).list_node().items}

    def reported() -> set:
        try:
            answer = metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
        except client.ApiException:
            return set()
        return {item["metadata"]["name"] for item in answer["items"] if item["usage"].get("memory")}
    wait_until(lambda: reported() == nodes, 180, "metrics-server to report every node", interval=5.0)


def test_workers_get_only_the_images_their_pods_use(real_cluster):
    """The bundle's control plane images (half of it) go to the control planes only."""
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    listing = "ctr --namespace k8s.io images ls --quiet"
    worker, control_plane = cluster.ssh("real-general-1", listing), cluster.ssh("real-cp-1", listing)
    assert worker.returncode == 0 and control_plane.returncode == 0, worker.stderr + control_plane.stderr
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        assert f"/{component}:" in control_plane.stdout
        assert f"/{component}:" not in worker.stdout, worker.stdout
    assert "/kube-proxy:" in worker.stdout and "/coredns:" in worker.stdout, worker.stdout
