"""The PKI proves itself: a real etcd and kube-apiserver run on what gpve_vcluster created.

The module creates the vCluster on the testbed's host cluster. Its ``<name>-certs``
Secret is written to a directory as the pod's volume would show it, and etcd and
kube-apiserver start as local processes from the StatefulSet's own container commands,
read back from the host API server. Only what a pod gives its containers is translated:
the volume mount paths, the pod's ports (to free local ones, as a port mapping would),
the pod's address (loopback) and ``$(POD_IP)``/``$(POD_NAME)`` from the container env.
Then every certificate is used for what it is for: the admin kubeconfig of the
``vc-<name>`` Secret creates a namespace inside the virtual cluster, etcd client and
peer TLS, the API server's serving certificate under the Service's names, the front
proxy's request-header authentication, the kubelet client certificate, the component
kubeconfigs' identities, and service-account tokens signed with sa.key.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import commands
from tests.testbed import binaries
from tests.testbed.processes import free_ports

pytestmark = pytest.mark.vcluster

REPO = Path(__file__).resolve().parents[3]
NAME, NAMESPACE = "proof", "vc-proof"
STARTUP_LIMIT = 120.0


def kubernetes_bin_dir():
    """The testbed's cached Kubernetes binaries of the default release (built on first use)."""
    return binaries.kubernetes()


VAR_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand_container_vars(argv, env):
    """$(VAR) references expanded as the kubelet does for a container command: unknown ones stay, $$ is $."""
    def replace(match):
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))
    return [VAR_REFERENCE.sub(replace, arg) for arg in argv]


def write_mounted_secret(data, directory):
    """The Secret's entries as files, the way its volume appears in the pod (one file per key)."""
    directory.mkdir(mode=0o700)
    for entry, text in data.items():
        path = directory / entry
        path.write_text(text)
        path.chmod(0o600)


class LocalProcess:
    """A component started from its rendered command; stopped by its own pid."""

    def __init__(self, argv, log_path):
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def log_tail(self, lines=40):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_until(self, check, what):
        deadline = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{what}: the process exited with {self.process.returncode}\n{self.log_tail()}")
            try:
                if check():
                    return
            except (OSError, ssl.SSLError, http.client.HTTPException):
                pass
            time.sleep(0.2)
        raise AssertionError(f"{what}: not ready within {STARTUP_LIMIT:.0f}s\n{self.log_tail()}")

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def https_get(port, path, pki_dir, cert_name, ca_name, headers=None, server_hostname="127.0.0.1"):
    """(status, body) of a GET over TLS to 127.0.0.1:port as <cert_name>.crt/.key, trusting <ca_name>.crt."""
    context = ssl.create_default_context(cafile=str(pki_dir / f"{ca_name}.crt"))
    if cert_name:
        context.load_cert_chain(str(pki_dir / f"{cert_name}.crt"), str(pki_dir / f"{cert_name}.key"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.sock = context.wrap_socket(raw, server_hostname=server_hostname)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


# The containers run here; the syncer's mounts (its own /data and /tmp emptyDirs) are not theirs.
LOCAL_CONTAINERS = ("etcd", "kube-apiserver")


def pod_volumes(statefulset, root):
    """Pod mount path -> local directory, for the certs and data volumes of the containers run here."""
    template = statefulset["spec"]["template"]["spec"]
    mounts = {}
    for container in template["containers"]:
        if container["name"] in LOCAL_CONTAINERS:
            for mount in container.get("volumeMounts", []):
                mounts[mount["mountPath"]] = root / mount["name"]
    return mounts


def localize(container, mounts, ports):
    """The container's command as it would run in the pod, with the pod's paths and ports mapped to local ones."""
    env = {"POD_IP": "127.0.0.1", "POD_NAME": f"{NAME}-0"}
    assert {entry["name"] for entry in container.get("env", [])} <= set(env)
    argv = expand_container_vars(container["command"], env)
    localized = []
    for arg in argv:
        for pod_path, local_path in mounts.items():
            arg = arg.replace(pod_path, str(local_path))
        for pod_port, local_port in ports.items():
            arg = re.sub(rf"(:|--secure-port=){pod_port}\b", rf"\g<1>{local_port}", arg)
        localized.append(arg.replace("--bind-address=0.0.0.0", "--bind-address=127.0.0.1"))
    return localized


@pytest.fixture(scope="module")
def control_plane(tmp_path_factory, testbed):
    """The module creates the vCluster; its etcd and kube-apiserver then run here from the StatefulSet's commands."""
    from ansible_collections.gpve.cluster.plugins.module_utils.kube.connect import connect
    from ansible_collections.gpve.cluster.plugins.module_utils.kube.resources import Resources
    from ansible_collections.gpve.cluster.plugins.module_utils.registry import open_registry
    from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import run_module

    root = tmp_path_factory.mktemp("vcluster-pki")
    ports = dict(zip((6443, 2379, 2380), free_ports(["127.0.0.1"] * 3)))
    params = {"name": NAME, "namespace": None, "state": "present", "labels": None, "annotations": None,
              "kubernetes_version": None, "distro": None, "isolation_mode": None, "control_plane": None,
              "networking": None, "storage": {"storage_class": testbed.storage_class}, "resources": None, "sync": None,
              "plugins": None, "image_registry": None, "pki": None, "kubeconfig_dest": None,
              "kubeconfig_server": f"https://127.0.0.1:{ports[6443]}", "wait": True, "wait_timeout": 120,
              "keep_pvc": False, "host_kubeconfig": testbed.kubeconfig, "host_context": None, "host": None,
              "api_key": None, "validate_certs": True, "ca_cert": None, "registry": str(root / "registry.db")}
    with open_registry(params["registry"]) as store:
        run_module(params, store, False)
    host_client = connect(host_kubeconfig=testbed.kubeconfig)
    host = Resources(host_client)
    statefulset = host.get("StatefulSet", NAME, NAMESPACE)
    data = {key: base64.b64decode(value).decode() for key, value in
            host.get("Secret", f"{NAME}-certs", NAMESPACE)["data"].items()}
    vc_secret = {key: base64.b64decode(value).decode() for key, value in
                 host.get("Secret", f"vc-{NAME}", NAMESPACE)["data"].items()}
    mounts = pod_volumes(statefulset, root)
    write_mounted_secret(data, mounts[commands.PKI_DIR])
    containers = {c["name"]: c for c in statefulset["spec"]["template"]["spec"]["containers"]}
    bin_dir = kubernetes_bin_dir()
    started = []
    try:
        etcd_argv = localize(containers["etcd"], mounts, ports)
        etcd = LocalProcess([str(binaries.tool("etcd") / "etcd")] + etcd_argv[1:], root / "etcd.log")
        started.append(etcd)
        pki_dir = mounts[commands.PKI_DIR]
        etcd.wait_until(lambda: https_get(ports[2379], "/health", pki_dir, "etcd-healthcheck-client",
                                          "etcd-ca")[0] == 200, "etcd /health")
        api_argv = localize(containers["kube-apiserver"], mounts, ports)
        # Run here on loopback rather than at a pod IP: the endpoint reconciler refuses a loopback
        # advertise address (1.3x), and nothing here dials the virtual cluster's kubernetes Service.
        apiserver = LocalProcess([str(bin_dir / api_argv[0])] + api_argv[1:] + ["--endpoint-reconciler-type=none"],
                                 root / "kube-apiserver.log")
        started.append(apiserver)
        apiserver.wait_until(lambda: https_get(ports[6443], "/readyz", pki_dir, "apiserver-kubelet-client",
                                               "ca")[0] == 200, "kube-apiserver /readyz")
        yield {"ports": ports, "pki": pki_dir, "root": root, "data": data, "vc_secret": vc_secret,
               "argv": {"etcd": etcd_argv, "kube-apiserver": api_argv}}
    finally:
        for process in reversed(started):
            process.stop()
        with open_registry(params["registry"]) as store:
            run_module(dict(params, state="absent"), store, False)
        host_client.close()


@pytest.fixture(scope="module")
def admin_api(control_plane):
    """A kubernetes client from the vc-<name> Secret's kubeconfig, as the module wrote it (kubeconfig_server)."""
    path = control_plane["root"] / "admin.kubeconfig"
    assert kubeconfig.write_kubeconfig(str(path), control_plane["vc_secret"]["config"])
    api_client = k8s_config.new_client_from_config(config_file=str(path), context=f"gpve_{NAME}")
    yield api_client
    api_client.close()


def component_api(control_plane, entry):
    """A client from a component kubeconfig of the Secret, pointed at this API server's port."""
    config = kubeconfig.load_kubeconfig(control_plane["data"][entry])
    # In the pod they reach the API server on its loopback port; here that port is mapped.
    moved = kubeconfig.with_server(config, f"https://127.0.0.1:{control_plane['ports'][6443]}")
    path = control_plane["root"] / f"{entry}.kubeconfig"
    kubeconfig.write_kubeconfig(str(path), kubeconfig.dump_kubeconfig(moved))
    return k8s_config.new_client_from_config(config_file=str(path))


def foreign_identity(directory, name, common_name, organizations=()):
    """A client certificate with the right names signed by a CA nobody trusts, written as <name>.crt/.key."""
    directory.mkdir(mode=0o700, exist_ok=True)
    stranger = certs.new_ca("kubernetes", certs.utcnow(), layout.DEFAULT_CA_VALIDITY)
    issued = certs.issue(certs.CertSpec(common_name, organizations, usages=frozenset({certs.CLIENT})), stranger,
                         certs.utcnow(), layout.DEFAULT_LEAF_VALIDITY)
    (directory / f"{name}.crt").write_text(certs.cert_pem(issued.cert))
    (directory / f"{name}.key").write_text(keys.private_key_pem(issued.key))
    (directory / f"{name}.key").chmod(0o600)


def test_admin_kubeconfig_creates_a_namespace_inside_the_virtual_cluster(admin_api):
    core = k8s.CoreV1Api(admin_api)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="made-with-the-admin-kubeconfig")))
    assert core.read_namespace("made-with-the-admin-kubeconfig").status.phase == "Active"


def test_etcd_serves_clients_and_peers_only_with_certificates_from_its_ca(control_plane):
    ports, pki_dir = control_plane["ports"], control_plane["pki"]
    status, body = https_get(ports[2380], "/version", pki_dir, "etcd-peer", "etcd-ca")
    assert status == 200 and "etcdserver" in json.loads(body)
    status, body = https_get(ports[2379], "/health", pki_dir, "etcd-healthcheck-client", "etcd-ca")
    assert status == 200 and json.loads(body)["health"] == "true"
    strangers = control_plane["root"] / "strangers"
    foreign_identity(strangers, "etcd-healthcheck-client", "kube-etcd-healthcheck-client", ("system:masters",))
    shutil.copy(pki_dir / "etcd-ca.crt", strangers / "etcd-ca.crt")
    for port in (ports[2379], ports[2380]):
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, http.client.HTTPException)):
            https_get(port, "/version", strangers, "etcd-healthcheck-client", "etcd-ca")


def test_apiserver_certificate_answers_to_the_service_names_and_no_other(control_plane):
    port, pki_dir = control_plane["ports"][6443], control_plane["pki"]
    for name in ("127.0.0.1", "localhost", "kubernetes.default.svc", f"{NAME}.{NAMESPACE}.svc"):
        assert https_get(port, "/readyz", pki_dir, "apiserver-kubelet-client", "ca", server_hostname=name)[0] == 200
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        https_get(port, "/readyz", pki_dir, "apiserver-kubelet-client", "ca",
                  server_hostname="elsewhere.example.com")


def test_front_proxy_client_is_trusted_for_request_headers(control_plane):
    port, pki_dir = control_plane["ports"][6443], control_plane["pki"]
    as_alice = {"X-Remote-User": "alice"}
    as_alice_admin = dict(as_alice, **{"X-Remote-Group": "system:masters"})
    status, body = https_get(port, "/api/v1/namespaces", pki_dir, "front-proxy-client", "ca",
                             headers=as_alice)
    assert status == 403 and 'User \\"alice\\"' in body
    assert https_get(port, "/api/v1/namespaces", pki_dir, "front-proxy-client", "ca",
                     headers=as_alice_admin)[0] == 200
    strangers = control_plane["root"] / "strangers"
    foreign_identity(strangers, "front-proxy-client", "front-proxy-client")
    shutil.copy(pki_dir / "ca.crt", strangers / "ca.crt")
    assert https_get(port, "/api/v1/namespaces", strangers, "front-proxy-client", "ca",
                     headers=as_alice_admin)[0] == 401


@pytest.mark.parametrize("entry,user", [("controller-manager.conf", "system:kube-controller-manager"),
                                        ("scheduler.conf", "system:kube-scheduler")])
def test_component_kubeconfigs_authenticate_as_their_component(control_plane, entry, user):
    api_client = component_api(control_plane, entry)
    try:
        with pytest.raises(ApiException) as refused:
            k8s.CoreV1Api(api_client).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="not-allowed")))
    finally:
        api_client.close()
    assert refused.value.status == 403 and f'User \\"{user}\\"' in refused.value.body


def test_service_account_tokens_are_signed_with_sa_key_and_accepted(control_plane, admin_api):
    core = k8s.CoreV1Api(admin_api)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="robots")))
    core.create_namespaced_service_account("robots", k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name="robot")))
    request = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=[]))
    token = core.create_namespaced_service_account_token("robot", "robots", request).status.token
    config = kubeconfig.build_kubeconfig(f"https://127.0.0.1:{control_plane['ports'][6443]}", NAME, "robot",
                                         ca_pem=control_plane["data"]["ca.crt"], token=token)
    path = control_plane["root"] / "robot.kubeconfig"
    kubeconfig.write_kubeconfig(str(path), kubeconfig.dump_kubeconfig(config))
    robot = k8s_config.new_client_from_config(config_file=str(path))
    try:
        with pytest.raises(ApiException) as refused:
            k8s.CoreV1Api(robot).list_namespace()
    finally:
        robot.close()
    assert refused.value.status == 403 and "system:serviceaccount:robots:robot" in refused.value.body
