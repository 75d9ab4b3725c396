# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command lines of the control-plane containers of a ``k8s`` distro virtual cluster.

The flags are those vcluster's k8s chart and kubeadm's static pods give each component,
reading the ``<name>-certs`` Secret mounted flat at ``pki_dir`` (vcluster mounts it at
/run/config/pki). etcd runs in the same pod as the API server, so the API server reaches
it on loopback; with several replicas the members find each other through the
StatefulSet's headless Service. ``$(POD_IP)`` and ``$(POD_NAME)`` are expanded by the
kubelet from the container environment that ``pod_env`` declares.

The same functions render the StatefulSet and drive the test that runs the commands as
local processes, so ports and directories are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

PKI_DIR = "/run/config/pki"
DATA_DIR = "/data"
APISERVER_PORT = 6443
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
POD_IP = "$(POD_IP)"
POD_NAME = "$(POD_NAME)"


@dataclass(frozen=True)
class CommandParams:
    """What the command lines depend on. Defaults are the in-pod values.

    extra args (per component) are ``--flag=value`` strings or a {flag: value} dict; a
    flag given there replaces the built-in one of the same name.
    """

    name: str
    namespace: str
    service_cidr: str = "10.96.0.0/12"
    pod_cidr: str = "10.244.0.0/16"
    dns_domain: str = "cluster.local"
    replicas: int = 1
    headless_service_name: str = ""
    external_etcd: tuple = ()
    pki_dir: str = PKI_DIR
    data_dir: str = DATA_DIR
    bind_address: str = "0.0.0.0"
    apiserver_port: int = APISERVER_PORT
    etcd_client_port: int = ETCD_CLIENT_PORT
    etcd_peer_port: int = ETCD_PEER_PORT
    apiserver_extra_args: object = ()
    controller_manager_extra_args: object = ()
    scheduler_extra_args: object = ()
    etcd_extra_args: object = ()
    # kube-apiserver's --endpoint-reconciler-type when not its default (lease): "none" where the syncer keeps the
    # virtual kubernetes Service's endpoints.
    endpoint_reconciler: str = ""

    @property
    def headless_service(self):
        return self.headless_service_name or f"{self.name}-headless"

    def pki(self, entry):
        return f"{self.pki_dir.rstrip('/')}/{entry}"


def apiserver_command(params):
    """kube-apiserver's command: TLS from the bundle, etcd over mutual TLS, front-proxy and kubelet client certs."""
    pki = params.pki
    flags = [
        ("advertise-address", POD_IP),
        ("allow-privileged", "true"),
        ("authorization-mode", "Node,RBAC"),
        ("bind-address", params.bind_address),
        ("client-ca-file", pki("ca.crt")),
        ("enable-admission-plugins", "NodeRestriction"),
        ("enable-bootstrap-token-auth", "true"),
        ("etcd-cafile", pki("etcd-ca.crt")),
        ("etcd-certfile", pki("apiserver-etcd-client.crt")),
        ("etcd-keyfile", pki("apiserver-etcd-client.key")),
        ("etcd-servers", ",".join(params.external_etcd) or f"https://127.0.0.1:{params.etcd_client_port}"),
        ("kubelet-client-certificate", pki("apiserver-kubelet-client.crt")),
        ("kubelet-client-key", pki("apiserver-kubelet-client.key")),
        ("proxy-client-cert-file", pki("front-proxy-client.crt")),
        ("proxy-client-key-file", pki("front-proxy-client.key")),
        ("requestheader-allowed-names", "front-proxy-client"),
        ("requestheader-client-ca-file", pki("front-proxy-ca.crt")),
        ("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
        ("requestheader-group-headers", "X-Remote-Group"),
        ("requestheader-username-headers", "X-Remote-User"),
        ("secure-port", str(params.apiserver_port)),
        ("service-account-issuer", f"https://kubernetes.default.svc.{params.dns_domain}"),
        ("service-account-key-file", pki("sa.pub")),
        ("service-account-signing-key-file", pki("sa.key")),
        ("service-cluster-ip-range", params.service_cidr),
        ("tls-cert-file", pki("apiserver.crt")),
        ("tls-private-key-file", pki("apiserver.key")),
    ]
    if params.endpoint_reconciler:
        flags.append(("endpoint-reconciler-type", params.endpoint_reconciler))
    return ["kube-apiserver"] + merge_args(sorted(flags), params.apiserver_extra_args)


def etcd_command(params):
    """etcd's command: client and peer TLS with client certificates required on both."""
    pki = params.pki
    peer_host = "127.0.0.1" if params.replicas == 1 else _member_host(params, POD_NAME)
    flags = [
        ("name", POD_NAME),
        ("data-dir", f"{params.data_dir.rstrip('/')}/etcd"),
        ("listen-client-urls", f"https://127.0.0.1:{params.etcd_client_port}"),
        ("advertise-client-urls", f"https://127.0.0.1:{params.etcd_client_port}"),
        ("listen-peer-urls", f"https://{'127.0.0.1' if params.replicas == 1 else '0.0.0.0'}:{params.etcd_peer_port}"),
        ("initial-advertise-peer-urls", f"https://{peer_host}:{params.etcd_peer_port}"),
        ("initial-cluster", _initial_cluster(params)),
        ("initial-cluster-state", "new"),
        ("initial-cluster-token", params.name),
        ("cert-file", pki("etcd-server.crt")),
        ("key-file", pki("etcd-server.key")),
        ("trusted-ca-file", pki("etcd-ca.crt")),
        ("client-cert-auth", "true"),
        ("peer-cert-file", pki("etcd-peer.crt")),
        ("peer-key-file", pki("etcd-peer.key")),
        ("peer-trusted-ca-file", pki("etcd-ca.crt")),
        ("peer-client-cert-auth", "true"),
        ("snapshot-count", "10000"),
    ]
    return ["etcd"] + merge_args(flags, params.etcd_extra_args)


def controller_manager_command(params):
    """kube-controller-manager's command: its kubeconfig, the cluster CA as signer, the service-account key."""
    pki = params.pki
    kubeconfig = pki("controller-manager.conf")
    flags = [
        ("authentication-kubeconfig", kubeconfig),
        ("authorization-kubeconfig", kubeconfig),
        ("bind-address", params.bind_address),
        ("client-ca-file", pki("ca.crt")),
        ("cluster-cidr", params.pod_cidr),
        ("cluster-name", params.name),
        ("cluster-signing-cert-file", pki("ca.crt")),
        ("cluster-signing-key-file", pki("ca.key")),
        ("controllers", "*,bootstrapsigner,tokencleaner"),
        ("kubeconfig", kubeconfig),
        ("leader-elect", "true" if params.replicas > 1 else "false"),
        ("requestheader-client-ca-file", pki("front-proxy-ca.crt")),
        ("root-ca-file", pki("ca.crt")),
        ("service-account-private-key-file", pki("sa.key")),
        ("service-cluster-ip-range", params.service_cidr),
        ("use-service-account-credentials", "true"),
    ]
    return ["kube-controller-manager"] + merge_args(flags, params.controller_manager_extra_args)


def scheduler_command(params):
    """kube-scheduler's command: its kubeconfig for everything."""
    kubeconfig = params.pki("scheduler.conf")
    flags = [
        ("authentication-kubeconfig", kubeconfig),
        ("authorization-kubeconfig", kubeconfig),
        ("bind-address", params.bind_address),
        ("kubeconfig", kubeconfig),
        ("leader-elect", "true" if params.replicas > 1 else "false"),
    ]
    return ["kube-scheduler"] + merge_args(flags, params.scheduler_extra_args)


def pod_env():
    """The container environment the commands refer to as $(POD_IP) and $(POD_NAME)."""
    return [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]


def merge_args(flags, extra):
    """``--flag=value`` strings of flags (pairs) with extra's flags replacing or adding to them."""
    merged = dict(flags)
    for flag, value in _extra_pairs(extra):
        merged[flag] = value
    return [f"--{flag}={value}" for flag, value in merged.items()]


def _extra_pairs(extra):
    if isinstance(extra, dict):
        return [(str(flag).lstrip("-"), str(value)) for flag, value in extra.items()]
    pairs = []
    for arg in extra or ():
        flag, separator, value = str(arg).lstrip("-").partition("=")
        if not flag or not separator:
            raise ValidationError("extra_args", f"{arg!r} is not of the form --flag=value")
        pairs.append((flag, value))
    return pairs


def _initial_cluster(params):
    if params.replicas == 1:
        return f"{POD_NAME}=https://127.0.0.1:{params.etcd_peer_port}"
    members = [f"{params.name}-{index}" for index in range(params.replicas)]
    return ",".join(f"{member}=https://{_member_host(params, member)}:{params.etcd_peer_port}" for member in members)


def _member_host(params, pod_name):
    return f"{pod_name}.{params.headless_service}.{params.namespace}.svc"
