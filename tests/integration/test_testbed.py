"""The testbed's own components answer as the real ones do."""

from __future__ import annotations

import base64
import uuid
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client
from kubernetes.client.rest import ApiException
from proxmoxer import ProxmoxAPI

from tests.testbed.processes import wait_until
from tests.testbed.pve_agent import CloudInitAgent

pytestmark = pytest.mark.testbed

WAIT = 60  # seconds before a wait gives up and fails the test


def _gone(read) -> bool:
    try:
        read()
    except ApiException as exc:
        return exc.status == 404
    return False


def _pod(name: str, claim: str | None = None) -> dict:
    spec = {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]}
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _running_and_ready(core, name: str, namespace: str) -> bool:
    pod = core.read_namespaced_pod(name, namespace)
    ready = {c.type: c.status for c in pod.status.conditions or []}.get("Ready")
    return pod.status.phase == "Running" and ready == "True"


def _pve_api(pve) -> ProxmoxAPI:
    return pve.api()


def _wait_task(api, node: str, upid: str) -> dict:
    wait_until(lambda: api.nodes(node).tasks(upid).status.get()["status"] == "stopped", WAIT, f"task {upid}")
    return api.nodes(node).tasks(upid).status.get()


def test_api_server_answers_readyz(testbed):
    answer = requests.get(f"{testbed.api_url}/readyz", verify=testbed.ca_path, timeout=10)

    assert answer.status_code == 200
    assert answer.text == "ok"


def test_namespace_deletion_is_finished_by_the_namespace_controller(kube_client):
    core = client.CoreV1Api(kube_client)
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "settings"}, "data": {"a": "1"}})

    core.delete_namespace(name)

    wait_until(lambda: _gone(lambda: core.read_namespace(name)), WAIT, f"namespace {name} to be deleted")
    assert _gone(lambda: core.read_namespace(name))


def test_csr_is_approved_and_signed_by_the_testbed_ca(testbed, kube_client):
    certificates = client.CertificatesV1Api(kube_client)
    key = ec.generate_private_key(ec.SECP256R1())
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "testbed-csr-user")]))
               .sign(key, hashes.SHA256()))
    name = f"csr-{uuid.uuid4().hex[:10]}"
    certificates.create_certificate_signing_request({
        "metadata": {"name": name},
        "spec": {"request": base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode(),
                 "signerName": "kubernetes.io/kube-apiserver-client",
                 "usages": ["digital signature", "key encipherment", "client auth"]}})
    csr = certificates.read_certificate_signing_request(name)
    csr.status.conditions = [client.V1CertificateSigningRequestCondition(
        type="Approved", status="True", reason="TestbedTest", message="approved by the testbed test")]
    certificates.replace_certificate_signing_request_approval(name, csr)

    wait_until(lambda: certificates.read_certificate_signing_request(name).status.certificate, WAIT,
               f"CSR {name} to be signed")
    issued = x509.load_pem_x509_certificate(
        base64.b64decode(certificates.read_certificate_signing_request(name).status.certificate))
    ca = x509.load_pem_x509_certificate(Path(testbed.ca_path).read_bytes())
    issued.verify_directly_issued_by(ca)
    assert issued.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "testbed-csr-user"
    assert issued.public_key().public_numbers() == key.public_key().public_numbers()


# The node stand-in (kept for the vCluster scale bench and workloads without images here).

@pytest.fixture(scope="module")
def standin_core(standin_testbed):
    from kubernetes import config
    api = config.new_client_from_config(standin_testbed.kubeconfig)
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def standin_namespace(standin_core):
    name = f"t-{uuid.uuid4().hex[:10]}"
    standin_core.create_namespace({"metadata": {"name": name}})
    wait_until(lambda: standin_core.read_namespaced_service_account("default", name), WAIT, "default account")
    yield name
    standin_core.delete_namespace(name)


def test_pod_is_scheduled_onto_a_standin_node_and_becomes_running_and_ready(
        standin_testbed, standin_core, standin_namespace):
    core = standin_core
    core.create_namespaced_pod(standin_namespace, _pod("web"))

    wait_until(lambda: _running_and_ready(core, "web", standin_namespace), WAIT, "pod web Running and Ready")
    pod = core.read_namespaced_pod("web", standin_namespace)
    node = core.read_node(pod.spec.node_name)
    assert pod.spec.node_name in standin_testbed.node_names
    assert pod.status.pod_ip.rsplit(".", 1)[0] == node.spec.pod_cidr.rsplit(".", 1)[0]


def test_pod_deletion_completes_on_a_standin_node(standin_core, standin_namespace):
    core = standin_core
    core.create_namespaced_pod(standin_namespace, _pod("short-lived"))
    wait_until(lambda: _running_and_ready(core, "short-lived", standin_namespace), WAIT, "pod Running")

    core.delete_namespaced_pod("short-lived", standin_namespace)

    wait_until(lambda: _gone(lambda: core.read_namespaced_pod("short-lived", standin_namespace)), WAIT,
               "pod short-lived to be removed")


def test_claim_is_bound_from_the_pool_and_its_pod_runs_on_a_standin_node(
        standin_testbed, standin_core, standin_namespace):
    core = standin_core
    core.create_namespaced_persistent_volume_claim(standin_namespace, {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "3Gi"}}}})
    core.create_namespaced_pod(standin_namespace, _pod("db", claim="data"))

    wait_until(lambda: core.read_namespaced_persistent_volume_claim("data", standin_namespace).status.phase
               == "Bound", WAIT, "claim data to be bound")
    wait_until(lambda: _running_and_ready(core, "db", standin_namespace), WAIT, "pod db Running and Ready")
    claim = core.read_namespaced_persistent_volume_claim("data", standin_namespace)
    volume = core.read_persistent_volume(claim.spec.volume_name)
    assert claim.spec.storage_class_name == standin_testbed.storage_class
    assert volume.spec.capacity["storage"] == "3Gi"


@pytest.fixture
def started_clone(pve):
    """A clone of pve2's template with ipconfig0 ip=10.20.30.40/24, started; destroyed afterwards."""
    with _started_clone(pve) as clone:
        yield clone


@contextmanager
def _started_clone(pve):
    api = _pve_api(pve)
    vmid = 4000 + uuid.uuid4().int % 5000
    template = api.nodes("pve2").qemu(9001)
    assert template.config.get()["template"] == 1
    assert _wait_task(api, "pve2", template.clone.post(newid=vmid, name=f"node-{vmid}"))["exitstatus"] == "OK"
    vm = api.nodes("pve2").qemu(vmid)
    try:
        vm.config.put(ipconfig0="ip=10.20.30.40/24,gw=10.20.30.1")
        assert _wait_task(api, "pve2", vm.status.start.post())["exitstatus"] == "OK"
        yield SimpleNamespace(vmid=vmid, vm=vm)
    finally:
        _wait_task(api, "pve2", vm.status.stop.post())
        _wait_task(api, "pve2", vm.delete())


def test_clone_of_the_template_reports_its_cloud_init_address(started_clone):
    agent = started_clone.vm.agent("network-get-interfaces")
    wait_until(agent.get, WAIT, "the guest agent to answer")
    interfaces = agent.get()["result"]

    addresses = {i["name"]: [a["ip-address"] for a in i["ip-addresses"]] for i in interfaces}
    assert addresses["eth0"] == ["10.20.30.40"]


def test_control_channel_makes_the_agent_hang(started_clone, pve_control):
    pve_control.agent_never_answers(started_clone.vmid)

    with pytest.raises(Exception, match="got timeout"):
        started_clone.vm.agent("network-get-interfaces").get()


def test_clear_faults_gives_the_agents_their_seeded_boot_delay_back(started_clone, pve_control):
    agent = started_clone.vm.agent("network-get-interfaces")
    pve_control.set("agent_boot_secs", 10 ** 9)  # as a test of "the agent never answers" sets it
    with pytest.raises(Exception, match="not running"):
        agent.get()

    pve_control.clear_faults()

    assert pve_control.state()["agent_boot_secs"] == CloudInitAgent.agent_boot_secs
    wait_until(agent.get, WAIT, "the guest agent to answer after clear_faults")


def test_reset_gives_the_seeded_boot_delay_and_time_scale_back(pve, pve_control):
    pve_control.set("agent_boot_secs", 10 ** 9)
    pve_control.set("time_scale", pve.time_scale * 2)

    pve_control.reset()

    state = pve_control.state()
    assert (state["agent_boot_secs"], state["time_scale"]) == (CloudInitAgent.agent_boot_secs, pve.time_scale)
    with _started_clone(pve) as clone:
        wait_until(clone.vm.agent("network-get-interfaces").get, WAIT, "the guest agent of a clone made after reset")


def test_control_channel_holds_a_config_lock(pve, pve_control):
    api = _pve_api(pve)
    pve_control.hold_lock(9002)

    with pytest.raises(Exception, match="got timeout"):
        api.nodes("pve3").qemu(9002).config.put(description="changed while locked")


def test_control_channel_takes_a_node_offline(pve, pve_control):
    api = _pve_api(pve)
    pve_control.node_offline("pve3")

    with pytest.raises(Exception, match="595"):
        api.nodes("pve3").qemu.get()


def test_control_channel_loses_quorum(pve, pve_control):
    api = _pve_api(pve)
    pve_control.lose_quorum()

    with pytest.raises(Exception, match="no quorum"):
        api.nodes("pve1").qemu(9000).config.put(description="written without quorum")


def test_control_channel_fails_one_clone_task(pve, pve_control):
    api = _pve_api(pve)
    pve_control.fail_clone("pve1", 9000, "clone failed: injected by the test", newid=4999)

    failed = _wait_task(api, "pve1", api.nodes("pve1").qemu(9000).clone.post(newid=4999))

    assert failed["exitstatus"] == "clone failed: injected by the test"
    assert 4999 not in [vm["vmid"] for vm in api.nodes("pve1").qemu.get()]


def test_control_channel_expires_tickets(pve, pve_control):
    api = _pve_api(pve)
    api.nodes.get()

    pve_control.expire_tickets()

    with pytest.raises(Exception, match="401"):
        api.nodes.get()


def test_controller_manager_and_api_server_restart(testbed, kube_client):
    core = client.CoreV1Api(kube_client)
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace({"metadata": {"name": name}})

    testbed.stop_component("controller-manager")
    assert not testbed.component_running("controller-manager")
    testbed.stop_component("apiserver")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{testbed.api_url}/readyz", verify=testbed.ca_path, timeout=5)
    testbed.start_component("apiserver")
    testbed.start_component("controller-manager")

    assert core.read_namespace(name).metadata.name == name
    core.delete_namespace(name)
    wait_until(lambda: _gone(lambda: core.read_namespace(name)), WAIT, f"namespace {name} to be deleted")
