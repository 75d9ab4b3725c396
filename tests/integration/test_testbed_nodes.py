"""The testbed's real nodes: containers run, logs and exec work, Services forward, DNS resolves,
claims are mounted, Jobs complete, and nothing outside the testbed's own images can be pulled."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from kubernetes import client

from tests.pods import busybox_pod, exec_in, wait_running
from tests.testbed import binaries, images, network, processes, storage_pool
from tests.testbed.machine import CGROUP_PARENT, Machine, hierarchies
from tests.testbed.processes import wait_until
from tests.testbed.testbed import Testbed

pytestmark = pytest.mark.testbed

WAIT = 120


@pytest.fixture(scope="module")
def core(kube_client):
    return client.CoreV1Api(kube_client)


@pytest.fixture(scope="module")
def web(kube_client, testbed):
    """An httpd pod of the test image and a Service in front of it, in a namespace of their own."""
    core = client.CoreV1Api(kube_client)
    namespace = f"nodes-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": namespace}})
    wait_until(lambda: core.read_namespaced_service_account("default", namespace), 60, "default account")
    core.create_namespaced_pod(namespace, busybox_pod(
        "web", "echo hello-from-web > /www/index.html; echo web-started; exec httpd -f -p 8080 -h /www"))
    core.create_namespaced_service(namespace, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    core.create_namespaced_pod(namespace, busybox_pod("client", "exec sleep 3600"))
    wait_running(core, "web", namespace)
    wait_running(core, "client", namespace)
    yield namespace
    core.delete_namespace(namespace)


def test_every_node_is_ready_at_the_default_version(testbed, core):
    nodes = {node.metadata.name: node for node in core.list_node().items}
    assert set(testbed.node_names) <= set(nodes)
    for name in testbed.node_names:
        node = nodes[name]
        ready = {c.type: c.status for c in node.status.conditions}["Ready"]
        assert ready == "True", name
        assert node.status.node_info.kubelet_version == binaries.DEFAULT_KUBERNETES_VERSION
        assert node.status.node_info.container_runtime_version.startswith("containerd://")
        address = {a.type: a.address for a in node.status.addresses}["InternalIP"]
        assert ipaddress.ip_address(address) in network.CIDR


def test_a_pod_runs_and_its_log_and_exec_work_through_the_api(core, web):
    pod = core.read_namespaced_pod("web", web)
    assert pod.status.container_statuses[0].image_id  # a real image was resolved by containerd
    wait_until(lambda: "web-started" in core.read_namespaced_pod_log("web", web), 30, "web's log line")
    assert exec_in(core, "web", web, "cat /www/index.html; hostname").split() == ["hello-from-web", "web"]


def test_a_service_forwards_and_dns_resolves_it(core, web):
    # (busybox 1.35 wget crashes with its own -T timeout: timeout(1) bounds it instead)
    # CoreDNS learns a new Service through its watch: give it a few seconds, as a client's retries would.
    fetch = f"timeout 10 wget -q -O - http://web.{web}.svc.cluster.local/"
    wait_until(lambda: exec_in(core, "client", web, fetch).strip() == "hello-from-web", 30,
               f"http://web.{web}.svc.cluster.local/ to answer through the Service", interval=1.0)
    answer = exec_in(core, "client", web, "nslookup kubernetes.default.svc.cluster.local")
    assert "10.96.0.1" in answer


def test_a_claim_binds_from_the_pool_and_is_mounted_on_its_node(core, kube_namespace):
    core.create_namespaced_persistent_volume_claim(kube_namespace, {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    volume = {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}
    mount = {"volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    core.create_namespaced_pod(kube_namespace, busybox_pod("writer", "echo kept > /data/file; exec sleep 3600",
                                                           volumes=[volume], container=mount))
    pod = wait_running(core, "writer", kube_namespace)
    claim = core.read_namespaced_persistent_volume_claim("data", kube_namespace)
    pv = core.read_persistent_volume(claim.spec.volume_name)
    assert pv.metadata.labels[storage_pool.POOL_LABEL] == "true"
    pinned = pv.spec.node_affinity.required.node_selector_terms[0].match_expressions[0].values
    assert pinned == [pod.spec.node_name]
    assert exec_in(core, "writer", kube_namespace, "cat /data/file").strip() == "kept"


def test_a_job_completes(kube_client, kube_namespace):
    batch = client.BatchV1Api(kube_client)
    batch.create_namespaced_job(kube_namespace, {"metadata": {"name": "once"}, "spec": {
        "backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
            {"name": "main", "image": images.TEST_IMAGE, "command": ["/bin/sh", "-c", "echo done"]}]}}}})
    wait_until(lambda: batch.read_namespaced_job_status("once", kube_namespace).status.succeeded == 1, WAIT,
               "job once succeeded", interval=0.5)


def test_an_image_outside_the_testbed_registry_fails_to_pull(core, kube_namespace):
    core.create_namespaced_pod(kube_namespace, {"metadata": {"name": "offline"}, "spec": {
        "containers": [{"name": "main", "image": "docker.io/library/busybox:1.36"}]}})

    def pull_failed() -> bool:
        statuses = core.read_namespaced_pod("offline", kube_namespace).status.container_statuses or []
        waiting = statuses[0].state.waiting if statuses else None
        return waiting is not None and waiting.reason in ("ErrImagePull", "ImagePullBackOff")
    wait_until(pull_failed, WAIT, "pull of an outside image refused", interval=0.5)


def test_guard_routes_cover_every_testbed_range(testbed):
    for cidr in network.GUARDED:
        assert network.has_guard(cidr), cidr
    assert network.ip("-o", "addr", "show", "dev", network.BRIDGE).stdout.count(str(network.GATEWAY)) == 1
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "0"


def _host_state() -> dict:
    mounts = sorted(line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines())
    links = sorted(network.ip("-o", "link", "show").stdout.split("\n"))
    # The running nodes' pods come and go: the testbed's cgroups are compared one level deep.
    cgroups = sorted(str(child) for base in hierarchies().values() if (base / CGROUP_PARENT).is_dir()
                     for child in (base / CGROUP_PARENT).iterdir() if child.is_dir())
    return {"mounts": mounts, "links": [line.split(":")[1].split("@")[0].strip() for line in links if line],
            "routes": network.ip("route", "show").stdout, "netns": network.namespaces(), "cgroups": cgroups}


def test_a_machine_boot_and_removal_leave_the_host_as_it_was(testbed, tmp_path):
    """Links, routes, mounts, namespaces and cgroups after a machine's whole life equal those before."""
    before = _host_state()
    machine = Machine(name=f"cycle-{uuid.uuid4().hex[:6]}", state_dir=str(tmp_path / "machine"),
                      image=str(binaries.machine_image()), mac="52:54:00:30:ff:01", cpus=1, memory_mb=512)
    machine.write_seed("instance-id: cycle\nlocal-hostname: cycle\n", "#cloud-config\n{}\n",
                       "version: 2\nethernets:\n  eth0:\n    addresses: [172.30.0.250/16]\n")
    machine.boot()
    try:
        machine.wait_booted(120)
        assert machine.run("hostname").stdout.strip() == "cycle"
        during = _host_state()
        assert machine.namespace in during["netns"] and machine.veth in during["links"]
    finally:
        machine.remove()
    assert _host_state() == before
    assert not os.path.exists(machine.state_dir)


def test_the_env_file_names_the_real_testbed(testbed):
    env = testbed.env()
    assert env["GPVE_TESTBED_K8S_VERSION"] == binaries.DEFAULT_KUBERNETES_VERSION.lstrip("v")
    built = env["GPVE_TESTBED_K8S_VERSIONS"].split()
    assert built == sorted(built, key=lambda v: tuple(map(int, v.split(".")))) and env["GPVE_TESTBED_K8S_VERSION"] in built
    assert all(binaries.normalize(v) in binaries.KUBERNETES_VERSIONS for v in built)
    assert env["GPVE_TESTBED_IMAGE_REGISTRY"] == images.REGISTRY
    assert env["GPVE_TESTBED_TEST_IMAGE"].startswith(images.REGISTRY + "/")
    bundle = Path(env["GPVE_TESTBED_AIRGAP_DIR"])
    assert sorted(p.name for p in (bundle / "kubeadm" / "images").glob("*.tar")) == sorted(
        spec.archive_name for spec in images.image_specs(testbed.k8s_version)["kubeadm/images"])
    assert "GPVE_PROXMOX_API_PASSWORD" not in env and env["GPVE_PROXMOX_API_TOKEN_SECRET"]
    key = Path(env["GPVE_TESTBED_SSH_KEY"])
    assert key.stat().st_mode & 0o777 == 0o600 and Path(f"{key}.pub").exists()
    listed = subprocess.run([str(binaries.kubernetes() / "kubeadm"), "config", "images", "list",
                             "--image-repository", images.REGISTRY, "--kubernetes-version", testbed.k8s_version],
                            stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    built = {spec.reference for spec in images.image_specs(testbed.k8s_version)["kubeadm/images"]}
    assert set(listed) <= built


def test_a_testbed_whose_session_ended_is_orphaned_and_a_live_one_keeps_the_network(testbed, tmp_path):
    assert not testbed.orphaned()
    ended = subprocess.Popen(["sleep", "60"])
    session = processes.identity(ended.pid)
    ended.kill()
    ended.wait()
    record = json.loads(json.dumps(testbed.record))
    record["session"] = session
    assert Testbed(testbed.layout, record).orphaned()
    with pytest.raises(network.NetworkBusy, match=str(testbed.layout.root)):
        network.claim(tmp_path)
    assert network.owner() == testbed.layout.root
