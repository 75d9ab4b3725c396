"""The Kubernetes control plane of the testbed: etcd, kube-apiserver, kube-controller-manager, kube-scheduler.

All real, built here from the Go module proxy at pinned versions (``binaries.py``): etcd
and the default Kubernetes release. etcd, the controller manager and the scheduler listen
on 127.0.0.1; the API server listens on the testbed bridge's address (``network.GATEWAY``),
the one host address the nodes' namespaces reach. Ports are picked free at creation.
Leader election is off: one replica each, and a restarted component must not wait for its
old lease to run out.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from .components import Component, Probe
from . import binaries, network
from .layout import Layout
from .pki import CertificateAuthority, IssuedPair, write_private, write_service_account_keys

SERVICE_CIDR = str(network.SERVICE_CIDR)
SERVICE_IP = str(network.SERVICE_CIDR[1])
CLUSTER_CIDR = str(network.POD_CIDR)
API_ADDRESS = str(network.GATEWAY)
ISSUER = "https://kubernetes.default.svc.cluster.local"
API_SERVER_HOSTS = (API_ADDRESS, "127.0.0.1", "localhost", SERVICE_IP, "kubernetes", "kubernetes.default",
                    "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def kube_bin_dir() -> Path:
    """Directory of the default release's binaries: $GPVE_TESTBED_KUBE_BIN, else the build cache (built if missing)."""
    override = os.environ.get("GPVE_TESTBED_KUBE_BIN")
    if override:
        return Path(override)
    return binaries.kubernetes()


@dataclass(frozen=True)
class KubePorts:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int


@dataclass(frozen=True)
class KubeCredentials:
    """Files the control plane is started with (all under <state>/pki and <state>/kube)."""

    ca: CertificateAuthority
    apiserver: IssuedPair
    admin: IssuedPair
    service_account: IssuedPair
    controller_manager_serving: IssuedPair
    scheduler_serving: IssuedPair
    front_proxy: IssuedPair
    kubelet_client: IssuedPair
    admin_kubeconfig: Path
    controller_manager_kubeconfig: Path
    scheduler_kubeconfig: Path
    node_standin_kubeconfig: Path


def kubeconfig_text(server: str, ca: Path, cert: Path, key: Path, user: str) -> str:
    """A self-contained kubeconfig (certificates embedded) for one client identity."""
    def b64(file: Path) -> str:
        return base64.b64encode(file.read_bytes()).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "gpve-testbed", "cluster": {"server": server, "certificate-authority-data": b64(ca)}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(cert), "client-key-data": b64(key)}}],
        "contexts": [{"name": f"{user}@gpve-testbed", "context": {"cluster": "gpve-testbed", "user": user}}],
        "current-context": f"{user}@gpve-testbed",
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_kubeconfig(path: Path, server: str, ca: Path, client: IssuedPair, user: str) -> Path:
    """kubeconfig_text written 0600."""
    write_private(path, kubeconfig_text(server, ca, client.cert, client.key, user).encode())
    return path


def issue_credentials(layout: Layout, ca: CertificateAuthority, api_url: str) -> KubeCredentials:
    """Certificates for every control-plane endpoint and client, and their kubeconfigs."""
    def client(name: str, common_name: str, *orgs: str) -> IssuedPair:
        return ca.issue(name, common_name, orgs, client=True)

    def kubeconfig(name: str, pair: IssuedPair) -> Path:
        return write_kubeconfig(layout.kube / f"{name}.kubeconfig", api_url, ca.cert_path, pair, name)

    apiserver = ca.issue("kube-apiserver", "kube-apiserver", hosts=API_SERVER_HOSTS, server=True)
    admin = client("admin", "testbed-admin", "system:masters")
    # The stand-in manages several Nodes from one process, so it cannot use per-node
    # system:node identities (the Node authorizer pins each to its own Node): it is an admin.
    node_standin = client("node-standin", "testbed-node-standin", "system:masters")
    return KubeCredentials(
        ca=ca, apiserver=apiserver, admin=admin,
        service_account=write_service_account_keys(layout.pki),
        controller_manager_serving=ca.issue("kcm-serving", "kube-controller-manager", hosts=("127.0.0.1",),
                                            server=True),
        scheduler_serving=ca.issue("scheduler-serving", "kube-scheduler", hosts=("127.0.0.1",), server=True),
        front_proxy=client("front-proxy-client", "front-proxy-client"),
        # The API server's identity towards kubelets (logs, exec, port-forward), as kubeadm's.
        kubelet_client=client("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
        admin_kubeconfig=kubeconfig("admin", admin),
        controller_manager_kubeconfig=kubeconfig(
            "controller-manager", client("controller-manager", "system:kube-controller-manager")),
        scheduler_kubeconfig=kubeconfig("scheduler", client("scheduler", "system:kube-scheduler")),
        node_standin_kubeconfig=kubeconfig("node-standin", node_standin),
    )


def _probe(url: str, creds: KubeCredentials, expect: str) -> Probe:
    return Probe(url=url, ca=str(creds.ca.cert_path), cert=str(creds.admin.cert), key=str(creds.admin.key),
                 expect=expect)


def _component(layout: Layout, name: str, argv: list[str], probe: Probe, timeout: float = 60.0) -> Component:
    return Component(name=name, argv=argv, log=str(layout.log(name)), pidfile=str(layout.pidfile(name)),
                     probe=probe, ready_timeout=timeout)


def etcd(layout: Layout, ports: KubePorts) -> Component:
    client = f"http://127.0.0.1:{ports.etcd_client}"
    peer = f"http://127.0.0.1:{ports.etcd_peer}"
    argv = [str(binaries.tool("etcd") / "etcd"), "--name", "testbed", "--data-dir", str(layout.etcd_data),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"testbed={peer}", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-outputs", "stderr"]
    return _component(layout, "etcd", argv, Probe(url=f"{client}/health", expect='"health":"true"'), 30.0)


def apiserver(layout: Layout, ports: KubePorts, creds: KubeCredentials, bin_dir: Path,
              address: str = API_ADDRESS) -> Component:
    """The API server on address: the bridge's (nodes reach it there), or loopback for a stand-in testbed."""
    argv = [str(bin_dir / "kube-apiserver"),
            f"--advertise-address={address}", f"--bind-address={address}", f"--secure-port={ports.apiserver}",
            f"--etcd-servers=http://127.0.0.1:{ports.etcd_client}",
            f"--tls-cert-file={creds.apiserver.cert}", f"--tls-private-key-file={creds.apiserver.key}",
            f"--client-ca-file={creds.ca.cert_path}",
            f"--service-account-key-file={creds.service_account.cert}",
            f"--service-account-signing-key-file={creds.service_account.key}",
            f"--service-account-issuer={ISSUER}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--enable-bootstrap-token-auth=true", "--allow-privileged=true", "--profiling=false",
            f"--cert-dir={layout.kube / 'apiserver-certs'}",
            # The aggregation layer's front proxy, so delegated authentication finds a request-header CA.
            f"--requestheader-client-ca-file={creds.ca.cert_path}", "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={creds.front_proxy.cert}", f"--proxy-client-key-file={creds.front_proxy.key}",
            f"--kubelet-client-certificate={creds.kubelet_client.cert}",
            f"--kubelet-client-key={creds.kubelet_client.key}", "--kubelet-preferred-address-types=InternalIP"]
    if ipaddress.ip_address(address).is_loopback:
        # A stand-in testbed on loopback: no pod ever dials the kubernetes Service, and since
        # 1.3x the endpoint reconciler refuses a loopback address.
        argv.append("--endpoint-reconciler-type=none")
    probe = _probe(f"https://{address}:{ports.apiserver}/readyz", creds, "ok")
    component = _component(layout, "kube-apiserver", argv, probe, 120.0)
    # A graceful stop waits up to a minute for open watches (scheduler, controllers, stand-in) to end.
    component.stop_timeout = 5.0
    return component


def _serving_flags(port: int, serving: IssuedPair, kubeconfig: Path, creds: KubeCredentials,
                   layout: Layout, name: str) -> list[str]:
    """Flags the controller manager and the scheduler share: loopback HTTPS, delegated auth, no leader election."""
    return [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--tls-cert-file={serving.cert}", f"--tls-private-key-file={serving.key}",
            f"--client-ca-file={creds.ca.cert_path}", f"--cert-dir={layout.kube / (name + '-certs')}",
            "--leader-elect=false", "--profiling=false"]


def controller_manager(layout: Layout, ports: KubePorts, creds: KubeCredentials, bin_dir: Path) -> Component:
    name = "kube-controller-manager"
    argv = [str(bin_dir / name),
            *_serving_flags(ports.controller_manager, creds.controller_manager_serving,
                            creds.controller_manager_kubeconfig, creds, layout, name),
            # Really signs approved CSRs with the testbed CA.
            f"--cluster-signing-cert-file={creds.ca.cert_path}", f"--cluster-signing-key-file={creds.ca.key_path}",
            f"--root-ca-file={creds.ca.cert_path}",
            f"--service-account-private-key-file={creds.service_account.key}",
            "--use-service-account-credentials=true",
            "--controllers=*,bootstrapsigner,tokencleaner",
            # Each node's pod subnet is fixed by the testbed (nodes.py) in its CNI configuration,
            # and the node IPAM controller's start-up waits a fixed 10s before listing nodes.
            "--allocate-node-cidrs=false", f"--service-cluster-ip-range={SERVICE_CIDR}"]
    probe = _probe(f"https://127.0.0.1:{ports.controller_manager}/healthz", creds, "ok")
    return _component(layout, name, argv, probe)


def scheduler(layout: Layout, ports: KubePorts, creds: KubeCredentials, bin_dir: Path) -> Component:
    name = "kube-scheduler"
    argv = [str(bin_dir / name),
            *_serving_flags(ports.scheduler, creds.scheduler_serving, creds.scheduler_kubeconfig, creds, layout, name)]
    probe = _probe(f"https://127.0.0.1:{ports.scheduler}/healthz", creds, "ok")
    return _component(layout, name, argv, probe)


def service_account_token(api_client, namespace: str, name: str, seconds: int = 3600) -> str:
    """A bound token of the ServiceAccount through TokenRequest (no token Secret is made for an account since 1.24)."""
    from kubernetes import client

    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "spec": {"expirationSeconds": seconds}}
    answer = client.CoreV1Api(api_client).create_namespaced_service_account_token(name, namespace, request)
    return answer.status.token
