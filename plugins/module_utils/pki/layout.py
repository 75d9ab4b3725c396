# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a virtual cluster's control plane needs, in kubeadm's layout and vcluster's names.

Three CAs (cluster, front proxy, etcd), the leaves each one signs, three kubeconfigs
whose client certificates the cluster CA signs, and the service-account key pair. The
entry names are those vcluster keeps in its ``<name>-certs`` Secret: kubeadm's file
names with ``etcd/`` flattened to ``etcd-`` (``etcd-ca.crt``, ``etcd-server.key``...).
Subjects and usages follow kubeadm's certificate list (cmd/kubeadm/app/phases/certs).
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from dataclasses import dataclass

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import keys
from ansible_collections.gpve.cluster.plugins.module_utils.pki.certs import CLIENT, SERVER, CertSpec

CLUSTER_CA = "ca"
FRONT_PROXY_CA = "front-proxy-ca"
ETCD_CA = "etcd-ca"
# CA name -> common name, as kubeadm names them.
CA_COMMON_NAMES = {CLUSTER_CA: "kubernetes", FRONT_PROXY_CA: "front-proxy-ca", ETCD_CA: "etcd-ca"}

SERVICE_ACCOUNT_KEY = "sa.key"
SERVICE_ACCOUNT_PUB = "sa.pub"
MASTERS = "system:masters"

# etcd certificates name up to this many members so scaling 1 -> 3 -> 5 needs no new certificates.
ETCD_SAN_MEMBERS = 5
DEFAULT_CA_VALIDITY = datetime.timedelta(days=3650)
DEFAULT_LEAF_VALIDITY = datetime.timedelta(days=365)
DNS_LABEL = re.compile(r"^(\*|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$")


# Leaf name -> the CA that signs it, in the order the bundle lists them.
LEAF_CAS = {
    "apiserver": CLUSTER_CA,
    "apiserver-kubelet-client": CLUSTER_CA,
    "front-proxy-client": FRONT_PROXY_CA,
    "etcd-server": ETCD_CA,
    "etcd-peer": ETCD_CA,
    "etcd-healthcheck-client": ETCD_CA,
    "apiserver-etcd-client": ETCD_CA,
    "admin": CLUSTER_CA,
    "controller-manager": CLUSTER_CA,
    "scheduler": CLUSTER_CA,
}
# Leaves kept as a kubeconfig <name>.conf, and the user (certificate CN) each one authenticates as.
KUBECONFIG_USERS = {
    "admin": "kubernetes-admin",
    "controller-manager": "system:kube-controller-manager",
    "scheduler": "system:kube-scheduler",
}


def entries(leaf_name):
    """The Secret keys that hold a leaf: <name>.crt and <name>.key, or <name>.conf."""
    if leaf_name in KUBECONFIG_USERS:
        return (f"{leaf_name}.conf",)
    return (f"{leaf_name}.crt", f"{leaf_name}.key")


@dataclass(frozen=True)
class Leaf:
    """One leaf of the bundle: its name, the CA that signs it, and what it must say."""

    name: str
    ca: str
    spec: CertSpec

    @property
    def entries(self):
        return entries(self.name)

    @property
    def in_kubeconfig(self):
        return self.name in KUBECONFIG_USERS


@dataclass(frozen=True)
class PkiParams:
    """Everything the certificates depend on.

    name/namespace: the virtual cluster and its host namespace; service_name (default:
    name) is the client Service, headless_service_name (default: <name>-headless) the
    StatefulSet's governing Service whose pod names the etcd certificates carry.
    dns_domain is the virtual cluster's, host_dns_domain the host cluster's.
    extra_sans: more host names or IPs for the API server (endpoint, load balancer IP,
    ingress host, the Service's cluster IP, user additions).
    """

    name: str
    namespace: str
    service_cidr: str = "10.96.0.0/12"
    dns_domain: str = "cluster.local"
    host_dns_domain: str = "cluster.local"
    extra_sans: tuple = ()
    service_name: str = ""
    headless_service_name: str = ""
    algorithm: str = keys.DEFAULT_ALGORITHM
    ca_validity: datetime.timedelta = DEFAULT_CA_VALIDITY
    leaf_validity: datetime.timedelta = DEFAULT_LEAF_VALIDITY

    @property
    def client_service(self):
        return self.service_name or self.name

    @property
    def headless_service(self):
        return self.headless_service_name or f"{self.name}-headless"


def validate_params(params):
    """Raise ValidationError naming the field when params cannot produce valid certificates."""
    if params.algorithm not in keys.ALGORITHMS:
        raise ValidationError("pki.algorithm", f"use one of {', '.join(keys.ALGORITHMS)}, not {params.algorithm!r}")
    if params.leaf_validity <= datetime.timedelta(0) or params.ca_validity < params.leaf_validity:
        raise ValidationError("pki.validity", "leaf validity must be positive and no longer than the CA's")
    kubernetes_service_ip(params.service_cidr)
    for host in params.extra_sans:
        if not is_valid_san(host):
            raise ValidationError("extra_sans", f"{host!r} is neither an IP address nor a DNS name")


def is_valid_san(host):
    """True for an IP address or a lower-case DNS name (a leading ``*.`` wildcard allowed)."""
    if _is_ip(host):
        return True
    labels = str(host).lower().split(".")
    return len(host) <= 253 and all(DNS_LABEL.match(label) for label in labels) and "*" not in labels[1:]


def kubernetes_service_ip(service_cidr):
    """The first address of the service range: the ClusterIP of ``kubernetes.default``."""
    try:
        network = ipaddress.ip_network(service_cidr, strict=True)
    except ValueError:
        raise ValidationError("networking.service_cidr", f"{service_cidr!r} is not a network in CIDR form") from None
    if network.num_addresses < 4:
        raise ValidationError("networking.service_cidr", f"{service_cidr} is too small for a service range")
    return str(network.network_address + 1)


def apiserver_sans(params):
    """(dns_names, ip_addresses) the API server certificate must carry.

    kubeadm's set (kubernetes, kubernetes.default, .svc, .svc.<domain>, the first service
    IP), the forms under which the host cluster reaches the virtual cluster's Service
    (<svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.<host domain>), loopback for the
    components in the same pod, and the extras.
    """
    service, namespace = params.client_service, params.namespace
    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", f"kubernetes.default.svc.{params.dns_domain}",
           "localhost", service, f"{service}.{namespace}", f"{service}.{namespace}.svc",
           f"{service}.{namespace}.svc.{params.host_dns_domain}"]
    ips = ["127.0.0.1", kubernetes_service_ip(params.service_cidr)]
    return _with_extras(dns, ips, params.extra_sans)


def etcd_sans(params):
    """(dns_names, ip_addresses) for etcd's serving and peer certificates: loopback and member pods."""
    dns = ["localhost"]
    for index in range(ETCD_SAN_MEMBERS):
        pod = f"{params.name}-{index}.{params.headless_service}.{params.namespace}.svc"
        dns.extend([pod, f"{pod}.{params.host_dns_domain}"])
    return _with_extras(dns, ["127.0.0.1", "::1"], ())


def leaves(params):
    """Every leaf of the bundle with what it must say for params, in LEAF_CAS order."""
    api_dns, api_ips = apiserver_sans(params)
    etcd_dns, etcd_ips = etcd_sans(params)
    client = frozenset({CLIENT})
    # etcd's own certificates also need clientAuth (kubeadm notes etcd 3.2+ checks it).
    etcd_member = CertSpec(f"{params.name}-etcd", (), etcd_dns, etcd_ips, frozenset({SERVER, CLIENT}))
    specs = {
        "apiserver": CertSpec("kube-apiserver", (), api_dns, api_ips, frozenset({SERVER})),
        "apiserver-kubelet-client": CertSpec("kube-apiserver-kubelet-client", (MASTERS,), usages=client),
        "front-proxy-client": CertSpec("front-proxy-client", usages=client),
        "etcd-server": etcd_member,
        "etcd-peer": etcd_member,
        "etcd-healthcheck-client": CertSpec("kube-etcd-healthcheck-client", (MASTERS,), usages=client),
        "apiserver-etcd-client": CertSpec("kube-apiserver-etcd-client", (MASTERS,), usages=client),
        "admin": CertSpec(KUBECONFIG_USERS["admin"], (MASTERS,), usages=client),
        "controller-manager": CertSpec(KUBECONFIG_USERS["controller-manager"], usages=client),
        "scheduler": CertSpec(KUBECONFIG_USERS["scheduler"], usages=client),
    }
    return tuple(Leaf(name, ca, specs[name]) for name, ca in LEAF_CAS.items())


def _with_extras(dns, ips, extras):
    for host in extras:
        (ips if _is_ip(host) else dns).append(str(ipaddress.ip_address(host)) if _is_ip(host) else host.lower())
    return tuple(dict.fromkeys(dns)), tuple(dict.fromkeys(ips))


def _is_ip(host):
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        return False
    return True
