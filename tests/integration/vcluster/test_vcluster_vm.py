"""isolation_mode vm: the vCluster's control plane is a single-node k3s on a Proxmox VM (the testbed's fakepve).

What runs for real: the planner and the K8s-on-VM provisioning against fakepve (clone, config with
``cicustom``, start, guest-agent address), the registry, the module's PKI, the user-data checked
by ``cloud-init schema``. What cannot run here is k3s booting inside the VM (fakepve runs no
guest): where a test needs the API server to answer ``/readyz``, ``k3s_tls_endpoint`` stands in
for it with exactly k3s's TLS contract under a custom CA: a serving certificate issued from the
user-data's ``server-ca`` key, client certificates verified against the user-data's
``client-ca.crt`` only. The admin kubeconfig the module minted is what passes it.
"""

from __future__ import annotations

import datetime
import http.server
import socket
import ssl
import stat
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.kube.errors import KubeWaitTimeout
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys
from ansible_collections.gpve.cluster.plugins.module_utils.pki.certs import SERVER, CertSpec
from ansible_collections.gpve.cluster.plugins.module_utils.proxmox import formats
from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import run_module

pytestmark = pytest.mark.vcluster

TLS = "/var/lib/rancher/k3s/server/tls"
STATIC = {"ip_allocation": "static", "ip_range": {"start": "10.20.0.70", "end": "10.20.0.79"}, "prefix": 24,
          "gateway": "10.20.0.1", "dns": ["10.20.0.2"]}


@pytest.fixture
def fresh_pve(pve, pve_control):
    """fakepve with only its seed; faults and guests removed again afterwards."""
    pve_control.reset()
    yield pve_control
    pve_control.reset()


@pytest.fixture
def snippets(tmp_path):
    path = tmp_path / "snippets"
    path.mkdir()
    return path


@pytest.fixture
def vm_params(module_params, pve, snippets):
    def params(name, vm=None, **options):
        section = {"node": "pve1", "resources": {"memory": 1024, "disk_size": 20}, "network": dict(STATIC),
                   "snippets_dir": str(snippets)}
        section.update(vm or {})
        base = dict(isolation_mode="vm", vm=section, api_url=pve.url, api_user=pve.user, api_password=pve.password,
                    api_token_id=None, api_token_secret=None, ca_path=pve.ca_path, api_timeout=30,
                    validate_certs=None, host_kubeconfig=None, wait=False, wait_timeout=60)
        base.update(options)
        return module_params(name, **base)
    return params


@pytest.fixture
def run_vm(vm_params, registry_path):
    """Run the module's logic in process with vm isolation; whatever it registered is deleted afterwards."""
    names = set()

    def run(name, check_mode=False, vm=None, **options):
        params = vm_params(name, vm=vm, **options)
        with open_registry(registry_path) as store:
            result = run_module(params, store, check_mode)
        names.add(name)
        return result

    yield run
    for name in names:
        with open_registry(registry_path) as store:
            if store.find_cluster(name) is not None:
                run_module(vm_params(name, state="absent"), store, False)


def guests(control):
    return {vm["name"]: vm for vm in control.state()["vms"] if not vm["template"]}


def writes_since(control, mark):
    return [r for r in control.requests()[mark:] if r[0] != "GET" and not r[1].endswith("/access/ticket")]


def registry_state(registry_path):
    with open_registry(registry_path) as store:
        snapshot = store.bulk_snapshot(include_deleted=True)
        return ([c.as_dict() for c in snapshot.clusters], {k: [n.as_dict() for n in v] for k, v in snapshot.nodes.items()},
                [e.as_dict() for e in store.list_events(limit=1000)],
                [(c.cluster_id, c.type, c.resource_version) for c in store.list_credentials()])


def user_data_files(text):
    """{path: content} of the user-data's write_files."""
    assert text.startswith("#cloud-config\n")
    return {entry["path"]: entry for entry in yaml.safe_load(text)["write_files"]}


def run_tool(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60, check=False)


class K3sTlsEndpoint:
    """Stands in for k3s's API server where no VM can boot: TLS as k3s serves it under a custom CA."""

    def __init__(self, files, directory):
        directory = Path(directory)
        server_ca = certs.load_issued(files[f"{TLS}/server-ca.crt"]["content"], files[f"{TLS}/server-ca.key"]["content"],
                                      "server-ca")
        serving = certs.issue(CertSpec(common_name="kube-apiserver", usages=(SERVER,), dns_names=("localhost",),
                                       ip_addresses=("127.0.0.1",)), server_ca, certs.utcnow(),
                              datetime.timedelta(days=1), "ecdsa-p256")
        (directory / "serving.crt").write_text(certs.cert_pem(serving.cert))
        (directory / "serving.key").write_text(keys.private_key_pem(serving.key))
        (directory / "client-ca.crt").write_text(files[f"{TLS}/client-ca.crt"]["content"])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(directory / "serving.crt", directory / "serving.key")
        context.load_verify_locations(directory / "client-ca.crt")
        context.verify_mode = ssl.CERT_REQUIRED
        self.clients = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                endpoint.clients.append(self.connection.getpeercert())
                body = b"ok" if self.path == "/readyz" else b"not found"
                self.send_response(200 if self.path == "/readyz" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{probe.getsockname()[1]}"


def test_vm_vcluster_create_suspend_resume_delete(run_vm, fresh_pve, snippets, registry_path, tmp_path):
    dest = tmp_path / "vm1.kubeconfig"
    created = run_vm("vm1", kubeconfig_dest=str(dest))
    assert created["changed"] and created["cluster"]["phase"] == "Starting"
    assert created["cluster"]["endpoint"] == "https://10.20.0.70:6443"
    assert any("wait=false" in w for w in created["warnings"])
    assert {(o["kind"], o["name"], o["action"]) for o in created["objects"]} == {
        ("VirtualMachine", "vm1-cp-1", "created"), ("CloudInitSnippet", "gpve-vcluster-vm1-user-data.yaml", "created")}
    cluster_id = created["cluster"]["id"]

    # The VM: cloned on pve1, tagged, running, the user-data attached through cicustom, the address from ipconfig0.
    vm = guests(fresh_pve)["vm1-cp-1"]
    assert vm["node"] == "pve1" and vm["status"] == "running"
    assert vm["config"]["cicustom"] == "user=local:snippets/gpve-vcluster-vm1-user-data.yaml"
    assert vm["config"]["ipconfig0"] == "ip=10.20.0.70/24,gw=10.20.0.1"
    assert f"gpve-cluster-{cluster_id}" in formats.split_tags(vm["config"]["tags"])

    # The user-data: 0600, valid for cloud-init, installs k3s, and its CAs are the kubeconfig's.
    snippet = snippets / "gpve-vcluster-vm1-user-data.yaml"
    assert stat.S_IMODE(snippet.stat().st_mode) == 0o600
    checked = run_tool(["cloud-init", "schema", "--config-file", str(snippet)])
    assert checked.returncode == 0 and "Valid cloud-config" in checked.stdout, checked.stdout
    text = snippet.read_text()
    files = user_data_files(text)
    cas = ("server-ca", "client-ca", "request-header-ca", "etcd/server-ca", "etcd/peer-ca")
    expected = {f"{TLS}/{name}.{ext}" for name in cas for ext in ("crt", "key")}
    expected |= {f"{TLS}/service.key", "/etc/rancher/k3s/config.yaml"}
    assert set(files) == expected
    assert all(files[path]["permissions"] == "0600" for path in files if path.endswith((".key", ".yaml")))
    runcmd = yaml.safe_load(text)["runcmd"]
    assert runcmd[-1] == ["env", "INSTALL_K3S_VERSION=v1.37.2+k3s1", "INSTALL_K3S_SKIP_DOWNLOAD=false",
                          "/usr/local/bin/k3s-install.sh", "server"]
    k3s_config = yaml.safe_load(files["/etc/rancher/k3s/config.yaml"]["content"])
    assert k3s_config["service-cidr"] == "10.112.0.0/12" and k3s_config["cluster-dns"] == "10.112.0.10"
    minted = kubeconfig.credentials(kubeconfig.load_kubeconfig(dest.read_text()))
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert minted.ca_pem.strip() == files[f"{TLS}/server-ca.crt"]["content"].strip()
    assert files[f"{TLS}/client-ca.crt"]["content"] == files[f"{TLS}/server-ca.crt"]["content"]
    admin = certs.load_issued(minted.client_cert_pem, minted.client_key_pem, "admin")
    client_ca = certs.load_issued(files[f"{TLS}/client-ca.crt"]["content"], files[f"{TLS}/client-ca.key"]["content"],
                                  "client-ca")
    assert admin.cert.issuer == client_ca.cert.subject
    assert "key" not in repr(created).lower().replace("kubeconfig", "")

    # The registry: a vcluster with isolation_mode vm, the VM as its node, the credentials encrypted.
    with open_registry(registry_path) as store:
        cluster = store.find_cluster("vm1")
        assert cluster.type == "vcluster" and cluster.spec["isolation_mode"] == "vm"
        assert [(n.name, n.ip_address, n.role) for n in store.list_nodes(cluster.id)] == [
            ("vm1-cp-1", "10.20.0.70", "control-plane")]
        assert {c.type for c in store.list_credentials(cluster_id=cluster.id)} == {"kubeconfig", "ca", "pki"}
        assert store.get_status(cluster.id).endpoint == "https://10.20.0.70:6443"

    # With an API server that answers (the stand-in, reached through kubeconfig_server), the run reaches Running.
    endpoint = K3sTlsEndpoint(files, tmp_path)
    try:
        running = run_vm("vm1", kubeconfig_dest=str(dest), kubeconfig_server=endpoint.url, wait=True)
        assert running["cluster"]["phase"] == "Running" and running["cluster"]["endpoint"] == endpoint.url
        assert endpoint.clients and dict(x[0] for x in endpoint.clients[-1]["subject"])["commonName"] == \
            "kubernetes-admin"
        assert user_data_files(snippet.read_text()) == files  # same CA: nothing regenerated

        # Rerun: nothing written, on Proxmox or in the registry.
        mark, before = len(fresh_pve.requests()), registry_state(registry_path)
        again = run_vm("vm1", kubeconfig_dest=str(dest), kubeconfig_server=endpoint.url, wait=True)
        assert not again["changed"], again
        assert writes_since(fresh_pve, mark) == [] and registry_state(registry_path) == before

        # Suspend: the VM is shut down, the phase Suspended; again: unchanged.
        suspended = run_vm("vm1", state="suspended", kubeconfig_server=endpoint.url)
        assert suspended["changed"] and suspended["cluster"]["phase"] == "Suspended"
        assert guests(fresh_pve)["vm1-cp-1"]["status"] == "stopped"
        assert not run_vm("vm1", state="suspended", kubeconfig_server=endpoint.url)["changed"]

        # Resume: the VM starts again and the vCluster is Running once /readyz answers.
        resumed = run_vm("vm1", kubeconfig_dest=str(dest), kubeconfig_server=endpoint.url, wait=True)
        assert resumed["changed"] and resumed["cluster"]["phase"] == "Running"
        assert guests(fresh_pve)["vm1-cp-1"]["status"] == "running"
        with open_registry(registry_path) as store:
            moves = [e.metadata["to"] for e in store.list_events(cluster_id=cluster_id, type="Transition", limit=100)]
        assert moves[::-1] == ["Pending", "Provisioning", "Initializing", "Starting", "Running", "Suspending", "Suspended",
                               "Resuming", "Running"]
    finally:
        endpoint.close()

    # Absent: the VM, the snippet, the credentials and the row are gone.
    gone = run_vm("vm1", state="absent", isolation_mode=None, vm=None)
    assert gone["changed"] and gone["cluster"]["phase"] == "Deleted"
    assert "vm1-cp-1" not in guests(fresh_pve) and not snippet.exists()
    with open_registry(registry_path) as store:
        assert store.find_cluster("vm1") is None
        assert store.list_credentials(cluster_id=cluster_id) == []
    assert not run_vm("vm1", state="absent")["changed"]


def test_check_mode_writes_nothing(run_vm, fresh_pve, snippets, registry_path):
    mark, before = len(fresh_pve.requests()), registry_state(registry_path)
    planned = run_vm("vm2", check_mode=True)
    assert planned["changed"] and planned["cluster"]["id"] is None
    assert ("VirtualMachine", "vm2-cp-1", "created") in {(o["kind"], o["name"], o["action"]) for o in planned["objects"]}
    assert writes_since(fresh_pve, mark) == [] and registry_state(registry_path) == before
    assert list(snippets.iterdir()) == [] and "vm2-cp-1" not in guests(fresh_pve)


def test_wait_fails_naming_the_endpoint(run_vm, fresh_pve, registry_path):
    with pytest.raises(KubeWaitTimeout) as failed:
        run_vm("vm3", wait=True, wait_timeout=8)
    assert "https://10.20.0.70:6443" in str(failed.value) and "/readyz" in str(failed.value)
    with open_registry(registry_path) as store:
        cluster = store.find_cluster("vm3")
        assert cluster.status.phase == "Failed"
        assert "https://10.20.0.70:6443" in cluster.status.message
    # A stand-in that is not there fails the same way, naming the endpoint it was given.
    url = free_url()
    with pytest.raises(KubeWaitTimeout, match=url.replace(".", r"\.")):
        run_vm("vm3", wait=True, wait_timeout=2, kubeconfig_server=url)


def test_air_gap_user_data(run_vm, fresh_pve, snippets):
    run_vm("vm4", vm={"artifact_url": "http://10.20.0.2:8080/gpve/", "k3s_version": "v1.36.3+k3s1"},
           kubernetes_version="1.36.3")
    text = (snippets / "gpve-vcluster-vm4-user-data.yaml").read_text()
    runcmd = yaml.safe_load(text)["runcmd"]
    assert ["curl", "-fsSL", "-o", "/usr/local/bin/k3s", "http://10.20.0.2:8080/gpve/k3s/k3s"] in runcmd
    assert ["curl", "-fsSL", "-o", "/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst",
            "http://10.20.0.2:8080/gpve/k3s/k3s-airgap-images-amd64.tar.zst"] in runcmd
    assert runcmd[-1][1:3] == ["INSTALL_K3S_VERSION=v1.36.3+k3s1", "INSTALL_K3S_SKIP_DOWNLOAD=true"]
    assert not any("get.k3s.io" in " ".join(command) for command in runcmd)
    checked = run_tool(["cloud-init", "schema", "--config-file", str(snippets / "gpve-vcluster-vm4-user-data.yaml")])
    assert checked.returncode == 0, checked.stdout


INVALID = [
    ({"vm": {"snippets_dir": None}}, "vm.snippets_dir", "cannot upload"),
    ({"vm": {"snippets_dir": "/nonexistent/snippets"}}, "vm.snippets_dir", "not a directory"),
    ({"distro": "k8s"}, "vm.artifact_url", "air-gap bundle"),
    ({"distro": "k8s", "vm": {"artifact_url": "http://10.20.0.2:8080/gpve/"}}, "vm.airgap_dir", "directory here too"),
    ({"vm": {"airgap_dir": "/srv/airgap"}}, "vm.airgap_dir", "distro k8s"),
    ({"control_plane": {"replicas": 3}}, "control_plane.replicas", "set replicas to 1"),
    ({"networking": {"expose": {"type": "NodePort"}}}, "networking.expose.type", "leave expose unset"),
    ({"vm": {"k3s_version": "1.37.2"}}, "vm.k3s_version", "v1.37.2+k3s1"),
    ({"vm": {"k3s_version": "v1.36.3+k3s1"}}, "vm.k3s_version", "kubernetes_version"),
    ({"vm": {"artifact_url": "ftp://mirror/k3s"}}, "vm.artifact_url", "http(s)"),
    ({"vm": {"artifact_url": "http://m/", "install_script_url": "https://get.k3s.io"}}, "vm.install_script_url",
     "air-gap"),
    ({"vm": {"snippets_storage": "bad storage!"}}, "vm.snippets_storage", "storage id"),
    ({"vm": {"resources": {"memory": 128}}}, "vm.resources.memory", "512"),
    ({"vm": {"network": {"ip_allocation": "static"}}}, "vm.network.ip_range", ""),
    ({"vm": {"network": dict(STATIC, prefix=30)}}, "vm.network", ""),
    ({"vm": {"vmid_start": 5}}, "vm.vmid_start", "100"),
    ({"vm": {"node": "pve9"}}, "vm.node", "pve9"),
    ({"vm": {"template": "debian-13"}}, "vm.template", "debian-13"),
]


@pytest.mark.parametrize("options,field,words", INVALID, ids=[row[1] + "-" + str(n) for n, row in enumerate(INVALID)])
def test_invalid_vm_specs_fail_before_any_write(run_vm, fresh_pve, snippets, registry_path, options, field, words):
    options = dict(options)
    vm = options.pop("vm", None)
    mark, before = len(fresh_pve.requests()), registry_state(registry_path)
    with pytest.raises(ValidationError) as failed:
        run_vm("bad", vm=vm, **options)
    assert failed.value.field.startswith(field), str(failed.value)
    assert words in str(failed.value)
    assert writes_since(fresh_pve, mark) == [] and registry_state(registry_path) == before
    assert list(snippets.iterdir()) == []


def test_isolation_cannot_move_between_vm_and_host(run_vm, fresh_pve, registry_path, module_params, testbed):
    run_vm("vm5")
    params = module_params("vm5", isolation_mode="namespace", host_kubeconfig=testbed.kubeconfig)
    with open_registry(registry_path) as store, pytest.raises(ValidationError, match="isolation_mode") as failed:
        run_module(params, store, False)
    assert failed.value.field == "isolation_mode"


def test_through_ansible_check_mode(ansible_vcluster, fresh_pve, pve, snippets, registry_path):
    """The real module: argument spec, the Proxmox options of the shared fragment, check mode writes nothing."""
    mark, before = len(fresh_pve.requests()), registry_state(registry_path)
    args = {"name": "vm6", "isolation_mode": "vm", "api_url": pve.url, "api_user": pve.user,
            "api_password": pve.password, "ca_path": pve.ca_path,
            "vm": {"node": "pve2", "network": STATIC, "snippets_dir": str(snippets), "resources": {"memory": 1024}}}
    result = ansible_vcluster(args, check=True, diff=True)
    assert result["changed"] and not result.get("failed"), result
    assert result["cluster"]["phase"] is None and result["cluster"]["endpoint"] == "https://10.20.0.70:6443"
    assert writes_since(fresh_pve, mark) == [] and registry_state(registry_path) == before
    refused = ansible_vcluster(dict(args, api_url=None, name="vm7"), check=True)
    assert refused.get("failed") and "api_url" in refused["msg"]
