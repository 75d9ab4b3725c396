# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where users reach a vCluster's API server, and the names its certificate must carry for that.

The server is ``kubeconfig_server`` when given, else what the exposure provides: the
ingress host, the load balancer's address, a node address with the node port, or the
client Service's in-cluster name for ClusterIP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import host, names

HTTPS_PORT = 443


@dataclass
class Endpoint:
    """The server URL users get, the extra certificate names, and why the server is a fallback (if it is)."""

    server: str
    sans: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def resolve(spec, client_service=None, node_address=None, kubeconfig_server=None):
    """The Endpoint for spec given the live client Service (None before it exists) and a node address."""
    expose = spec["networking"]["expose"]
    cluster_ip, lb_addresses = host.service_addresses(client_service)
    in_cluster = f"https://{names.client_service(spec['name'])}.{spec['namespace']}.svc:{HTTPS_PORT}"
    sans = list(spec["pki"]["extra_sans"])
    sans += [address for address in (cluster_ip, expose["load_balancer_ip"], expose["ingress"]["host"]) if address]
    sans += lb_addresses
    warnings = []
    if expose["type"] == "Ingress":
        server = f"https://{expose['ingress']['host']}"
    elif expose["type"] == "LoadBalancer":
        address = (lb_addresses or [expose["load_balancer_ip"]])[0]
        server = f"https://{_host(address)}:{HTTPS_PORT}" if address else None
        if not address:
            warnings.append("the load balancer has no address yet; the kubeconfig points at the in-cluster name "
                            "until a rerun finds one (or set kubeconfig_server)")
    elif expose["type"] == "NodePort":
        port = host.node_port(client_service)
        server = f"https://{_host(node_address)}:{port}" if node_address and port else None
        if node_address:
            sans.append(node_address)
        elif client_service is not None:
            warnings.append("no Ready node address could be read; the kubeconfig points at the in-cluster name "
                            "(or set kubeconfig_server)")
    else:
        server = in_cluster
    if kubeconfig_server:
        server = kubeconfig_server
        sans.append(urlsplit(kubeconfig_server).hostname)
    return Endpoint(server=server or in_cluster, sans=_unique(sans), warnings=warnings)


def _host(address):
    return f"[{address}]" if ":" in address else address


def _unique(values):
    return list(dict.fromkeys(value.lower() for value in values if value))
