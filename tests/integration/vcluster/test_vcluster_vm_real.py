"""isolation_mode vm with distro k8s, for real: the vCluster's VM boots as a testbed machine (fakepve's boot_vms)
and its first boot bootstraps a single-node kubeadm cluster from the air-gap bundle the testbed builds, fetched over
HTTP from a server this test binds to the testbed bridge's own address only (nothing else can reach it, and the VM
reaches nothing else). The module's returned kubeconfig then lists the node, runs a pod of the test image and reads
its log; suspend powers the VM off, resume boots it again and the same objects are back; absent destroys it.

The settings a site gives its VMs (the testbed's: cgroupfs, no kernel of their own) are tests/real_cluster.py's
``testbed_vm_vars``, passed as vm.node_prep and vm.kubeadm: the same variables create.yml's roles get.
Runs under the VM lock (it turns boot_vms on and resets fakepve).
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import json
import threading
import time
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config

from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import run_module
from tests.integration.vcluster.conftest import MODULE_DEFAULTS
from tests import real_cluster
from tests.testbed import images, network
from tests.testbed.processes import wait_until

pytestmark = [pytest.mark.vcluster, pytest.mark.testbed]

NAME = "vmk"
NODE = "pve1"
# Where in the testbed's VM range this test's VM takes its address (tests/real_cluster.py takes +20 to +32,
# test_testbed_vms.py +100 on).
ADDRESS_OFFSET = 60
WAIT = 900
POD_WAIT = 300


@pytest.fixture(scope="module")
def testbed(real_testbed):
    """This module boots VMs: the testbed with real nodes (the directory's other tests use the stand-in)."""
    return real_testbed


class BundleServer:
    """The air-gap bundle over HTTP (GET and HEAD only), bound to the testbed bridge's address and nothing else."""

    def __init__(self, directory: str):
        bound = json.loads(network.ip("-j", "-4", "addr", "show", "dev", network.BRIDGE).stdout or "[]")
        addresses = {entry["local"] for link in bound for entry in link.get("addr_info", [])}
        if str(network.GATEWAY) not in addresses:
            raise network.NetworkError(f"{network.GATEWAY} is not an address of {network.BRIDGE}: not serving")
        self.requests: list[str] = []
        served = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                served.append(self.path)

        handler = functools.partial(Handler, directory=directory)
        self.server = http.server.ThreadingHTTPServer((str(network.GATEWAY), 0), handler)
        self.url = f"http://{network.GATEWAY}:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bundle_server(testbed):
    served = BundleServer(testbed.airgap_dir)
    try:
        yield served
    finally:
        served.close()


@pytest.fixture
def booting_pve(testbed):
    """fakepve with only its seed and boot_vms on; every VM (machine and disk) removed afterwards."""
    control = testbed.pve_control
    control.reset()
    control.set("boot_vms", True)
    try:
        yield control
    finally:
        control.reset()
        control.clear_faults()


def vm_address() -> str:
    address = str(ipaddress.ip_address(network.VmNetwork().range_start) + ADDRESS_OFFSET)
    network.require_testbed_address(address)
    return address


def role_settings(prefix: str, keys: tuple[str, ...], site: dict) -> dict:
    """The site's role variables <prefix><key> as the module's vm.<section> (the prefix dropped)."""
    return {key: site[prefix + key] for key in keys if prefix + key in site}


def params(testbed, registry, bundle_url, snippets, kubeconfig, **options) -> dict:
    vm_net = network.VmNetwork()
    site = real_cluster.testbed_vm_vars(testbed)
    address = vm_address()
    pve = testbed.pve
    vm = {
        "node": NODE, "resources": {"cores": 2, "memory": 3072, "disk_size": 20},
        "network": {"bridge": vm_net.bridge, "ip_allocation": "static", "ip_range": {"start": address, "end": address},
                    "prefix": ipaddress.ip_network(vm_net.cidr).prefixlen, "gateway": vm_net.gateway, "dns": [vm_net.dns]},
        "snippets_dir": snippets, "airgap_dir": testbed.airgap_dir, "artifact_url": bundle_url,
        "node_prep": role_settings("node_prep_", ("kernel_modules", "sysctl", "containerd_cgroup_driver",
                                                  "containerd_restrict_oom_score_adj"), site),
        "kubeadm": role_settings("kubeadm_", ("kubelet_config", "kube_proxy_config", "ignore_preflight_errors",
                                              "timeouts"), site),
    }
    base = dict(MODULE_DEFAULTS, name=NAME, registry=registry, isolation_mode="vm", distro="k8s",
                kubernetes_version=testbed.env()["GPVE_TESTBED_K8S_VERSION"],
                image_registry=images.REGISTRY,
                networking={"pod_cidr": vm_net.pod_cidr, "service_cidr": vm_net.service_cidr}, vm=vm,
                api_url=pve.url, api_user=pve.user, api_password=pve.password, api_token_id=None,
                api_token_secret=None, ca_path=pve.ca_path, api_timeout=30, validate_certs=None, host_kubeconfig=None,
                kubeconfig_dest=kubeconfig, wait=True, wait_timeout=WAIT)
    base.update(options)
    return base


def run(registry, parameters):
    with open_registry(registry) as store:
        return run_module(parameters, store, False)


def the_vm(testbed) -> dict | None:
    for vm in testbed.pve.api().cluster.resources.get(type="vm"):
        if vm.get("name") == f"{NAME}-cp-1" and not vm.get("template"):
            return vm
    return None


def vm_status(testbed) -> str | None:
    vm = the_vm(testbed)
    return vm["status"] if vm else None


def bootstrap_log(testbed) -> str:
    """The first boot's log in the VM's disk (for a failure's message)."""
    vm = the_vm(testbed)
    if vm is None:
        return "(no VM)"
    log = Path(testbed.env()["GPVE_TESTBED_STATE_DIR"]) / "vms" / str(vm["vmid"]) / "root" / "var/log/gpve-vcluster-bootstrap.log"
    return log.read_text()[-4000:] if log.is_file() else f"(no {log})"


def readyz(kubeconfig: Path) -> int:
    connection = connect(kubeconfig=kubeconfig.read_text())
    try:
        return connection.request("GET", "/readyz", timeout=10).status
    finally:
        connection.close()


def pod_running(core, namespace, name) -> bool:
    pod = core.read_namespaced_pod(name, namespace)
    if pod.status.phase in ("Failed", "Succeeded"):
        raise AssertionError(f"pod {name} ended: {pod.status}")
    return pod.status.phase == "Running"


def test_kubeadm_vcluster_on_a_booted_vm(testbed, booting_pve, bundle_server, tmp_path):
    registry = str(tmp_path / "registry.db")
    kubeconfig = tmp_path / "vmk.kubeconfig"
    snippets = testbed.env()["GPVE_TESTBED_PVE_SNIPPETS"]
    parameters = functools.partial(params, testbed, registry, bundle_server.url, snippets, str(kubeconfig))
    address = vm_address()
    timings = {}
    try:
        started = time.monotonic()
        try:
            created = run(registry, parameters())
        except Exception as failed:
            raise AssertionError(f"create failed: {failed}\nthe VM's bootstrap log:\n{bootstrap_log(testbed)}") from failed
        timings["create"] = time.monotonic() - started
        assert created["changed"] and created["cluster"]["phase"] == "Running", created
        assert created["cluster"]["endpoint"] == f"https://{address}:6443"
        assert vm_status(testbed) == "running"
        # The VM fetched the bundle from the bridge-bound server (the packages and every image archive).
        assert any(path.endswith(f"kubeadm/kubeadm_{testbed.env()['GPVE_TESTBED_K8S_VERSION']}-1.1_amd64.deb")
                   for path in bundle_server.requests), bundle_server.requests
        assert any(path.endswith(".tar") and "busybox" in path for path in bundle_server.requests)
        # A rerun finds everything as it should be: the same user-data (bundle sums, address), nothing to do.
        again = run(registry, parameters())
        assert not again["changed"] and again["cluster"]["phase"] == "Running", again

        # The returned kubeconfig: the real /readyz, the one node Ready without a taint, at the spec's version.
        assert readyz(kubeconfig) == 200
        api = config.new_client_from_config(config_file=str(kubeconfig))
        core = client.CoreV1Api(api)
        wait_until(lambda: any(c.type == "Ready" and c.status == "True"
                               for c in core.read_node(f"{NAME}-cp-1").status.conditions), POD_WAIT, "the node Ready")
        # No control-plane taint; node.kubernetes.io/not-ready goes once the node lifecycle controller sees it Ready.
        wait_until(lambda: not core.read_node(f"{NAME}-cp-1").spec.taints, 60, "the node without taints")
        node = core.read_node(f"{NAME}-cp-1")
        assert node.status.node_info.kubelet_version == f"v{testbed.env()['GPVE_TESTBED_K8S_VERSION']}"
        assert [a.address for a in node.status.addresses if a.type == "InternalIP"] == [address]

        # A pod of the test image runs on it; its log comes back through the returned kubeconfig, and it resolves
        # kubernetes.default through the CoreDNS kubeadm deployed.
        namespace = "default"
        marker = uuid.uuid4().hex
        kept = core.create_namespaced_config_map(namespace, {"metadata": {"name": "kept"}, "data": {"marker": marker}})
        pod = core.create_namespaced_pod(namespace, {
            "metadata": {"name": "hello"},
            "spec": {"containers": [{"name": "hello", "image": images.TEST_IMAGE, "imagePullPolicy": "Never",
                                     "command": ["sh", "-c", f"echo hello-{marker}; for try in $(seq 60); do "
                                                 "nslookup kubernetes.default.svc.cluster.local && break; sleep 2; done; "
                                                 "sleep 100000"]}]}})
        wait_until(lambda: pod_running(core, namespace, "hello"), POD_WAIT, "the test image's pod Running")
        try:
            wait_until(lambda: "Address" in core.read_namespaced_pod_log("hello", namespace).split("kubernetes.default")[-1],
                       150, "nslookup's answer in the pod's log")
        except Exception:
            print("the pod's log:", core.read_namespaced_pod_log("hello", namespace)[-2000:])
            raise
        log = core.read_namespaced_pod_log("hello", namespace)
        assert f"hello-{marker}" in log
        service_ip = core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
        assert service_ip in log.split("kubernetes.default")[-1], log

        # Suspend: the VM is shut down, the vCluster Suspended.
        started = time.monotonic()
        suspended = run(registry, parameters(state="suspended"))
        timings["suspend"] = time.monotonic() - started
        assert suspended["changed"] and suspended["cluster"]["phase"] == "Suspended"
        assert vm_status(testbed) == "stopped"
        # fakepve ends the shutdown task at once; the testbed powers the machine off within seconds after it.
        wait_until(lambda: readyz_fails(kubeconfig), 60, "the API server gone with the VM")

        # Resume: the VM boots again and the same cluster is back (the same objects, the pod running again).
        started = time.monotonic()
        resumed = run(registry, parameters())
        timings["resume"] = time.monotonic() - started
        assert resumed["changed"] and resumed["cluster"]["phase"] == "Running", resumed
        assert vm_status(testbed) == "running"
        assert readyz(kubeconfig) == 200
        assert core.read_namespaced_config_map("kept", namespace).metadata.uid == kept.metadata.uid
        assert core.read_namespaced_config_map("kept", namespace).data == {"marker": marker}
        assert core.read_namespaced_pod("hello", namespace).metadata.uid == pod.metadata.uid
        wait_until(lambda: pod_running(core, namespace, "hello"), POD_WAIT, "the pod Running again after resume")
        wait_until(lambda: f"hello-{marker}" in core.read_namespaced_pod_log("hello", namespace), 60,
                   "the restarted pod's log")
        api.close()

        # Absent: the VM (machine and disk) and the snippet are gone, the row too.
        started = time.monotonic()
        gone = run(registry, parameters(state="absent", isolation_mode=None, vm=None))
        timings["absent"] = time.monotonic() - started
        assert gone["changed"] and gone["cluster"]["phase"] == "Deleted"
        assert vm_status(testbed) is None
        assert not (Path(snippets) / f"gpve-vcluster-{NAME}-user-data.yaml").exists()
        with open_registry(registry) as store:
            assert store.find_cluster(NAME) is None
    finally:
        print("vm isolation, distro k8s, seconds:", {key: round(value, 1) for key, value in timings.items()})
        with open_registry(registry) as store:
            left = store.find_cluster(NAME) is not None
        if left:
            run(registry, parameters(state="absent", isolation_mode=None, vm=None, wait_timeout=60))


def readyz_fails(kubeconfig: Path) -> bool:
    try:
        readyz(kubeconfig)
    except Exception:  # pylint: disable=broad-except
        return True
    return False
