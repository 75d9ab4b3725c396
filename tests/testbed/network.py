"""The testbed's one network: a bridge in the root namespace, and guards so nothing leaves.

Every machine (host-cluster node, booted Proxmox VM) sits in its own network namespace with
a veth on the bridge ``vmbr0`` (named like Proxmox's default bridge, because VMs' ``net0``
names it). One range, one gateway: the bridge's address in the root namespace, where the
testbed's API server listens. Before any machine starts, ``up()`` adds an ``unreachable``
route for each testbed range (machines, pods, services) in the root namespace, at a metric
below which the bridge's own route wins while it exists: a stopped testbed answers
"unreachable" and never sends a packet out. The root namespace does not forward (this
module never turns ``ip_forward`` on), and a FORWARD rule drops anything from the bridge
to another interface anyway. ``down()`` removes exactly what ``up()`` and the machines made:
every rule and route carries the testbed's marker (metric, comment, name prefix).
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

BRIDGE = "vmbr0"
CIDR = ipaddress.ip_network("172.30.0.0/16")
GATEWAY = ipaddress.ip_address("172.30.0.1")
# Host-cluster nodes take .11 upward; VMs take the range below (GPVE_TESTBED_VM_NETWORK).
FIRST_NODE_ADDRESS = ipaddress.ip_address("172.30.0.11")
VM_RANGE = (ipaddress.ip_address("172.30.1.1"), ipaddress.ip_address("172.30.3.254"))
POD_CIDR = ipaddress.ip_network("10.244.0.0/16")
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
# The pod and Service ranges of the clusters the collection makes on the testbed's VMs: they live in
# the VMs' namespaces, apart from the testbed cluster's own, and are guarded like every other range.
VM_CLUSTER_POD_CIDR = ipaddress.ip_network("10.128.0.0/16")
VM_CLUSTER_SERVICE_CIDR = ipaddress.ip_network("10.112.0.0/16")
GUARDED = (CIDR, POD_CIDR, SERVICE_CIDR, VM_CLUSTER_POD_CIDR, VM_CLUSTER_SERVICE_CIDR)
GUARD_METRIC = 4242
MARKER = "gpve-testbed"
NETNS_PREFIX = "gpve-"
VETH_PREFIX = "gv"
# Names the state directory of the testbed that owns the network (one per host).
OWNER_FILE = Path("/run/gpve-testbed/network-owner")


class NetworkError(RuntimeError):
    """The host refused a network change; the message holds the command and its error."""


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run("ip", *args, check=check)


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if check and done.returncode != 0:
        raise NetworkError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done


@dataclass(frozen=True)
class VmNetwork:
    """What GPVE_TESTBED_VM_NETWORK tells a test: where VMs may take addresses."""

    bridge: str = BRIDGE
    cidr: str = str(CIDR)
    gateway: str = str(GATEWAY)
    dns: str = str(GATEWAY)
    range_start: str = str(VM_RANGE[0])
    range_end: str = str(VM_RANGE[1])
    pod_cidr: str = str(VM_CLUSTER_POD_CIDR)
    service_cidr: str = str(VM_CLUSTER_SERVICE_CIDR)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)


class NetworkBusy(RuntimeError):
    """Another testbed with real nodes owns this host's testbed network."""


def owner() -> Path | None:
    """The state directory of the testbed that holds the host's testbed network, if any."""
    text = OWNER_FILE.read_text().strip() if OWNER_FILE.exists() else ""
    return Path(text) if text else None


def claim(state_dir: Path) -> None:
    """Take the host's testbed network for state_dir; refuse if a live testbed elsewhere holds it."""
    holder = owner()
    if holder and holder != state_dir and (holder / "testbed.json").exists():
        raise NetworkBusy(f"the testbed in {holder} runs real nodes on this host's testbed network; "
                          f"`source {holder}/env` to reuse it, or stop it first (make testbed-down)")
    OWNER_FILE.parent.mkdir(parents=True, exist_ok=True)
    OWNER_FILE.write_text(str(state_dir))


def release(state_dir: Path) -> None:
    if OWNER_FILE.exists() and OWNER_FILE.read_text().strip() == str(state_dir):
        OWNER_FILE.unlink()


def up() -> None:
    """Guard routes first, then the bridge and the forward rule; idempotent."""
    for network in GUARDED:
        if not has_guard(network):
            ip("route", "add", "unreachable", str(network), "metric", str(GUARD_METRIC))
    if ip("link", "show", BRIDGE, check=False).returncode != 0:
        ip("link", "add", BRIDGE, "type", "bridge")
    address = f"{GATEWAY}/{CIDR.prefixlen}"
    if address not in ip("-o", "addr", "show", "dev", BRIDGE).stdout:
        ip("addr", "add", address, "dev", BRIDGE)
    ip("link", "set", BRIDGE, "up")
    rule = _forward_rule()
    if _run("iptables", "-C", *rule, check=False).returncode != 0:
        _run("iptables", "-I", *rule)


def down() -> None:
    """Remove every namespace, link, route and rule the testbed made, and nothing else."""
    for namespace in namespaces():
        ip("netns", "delete", namespace, check=False)
    for link in _links():
        if link.startswith(VETH_PREFIX) or link == BRIDGE:
            ip("link", "delete", link, check=False)
    for network in GUARDED:
        ip("route", "del", "unreachable", str(network), "metric", str(GUARD_METRIC), check=False)
    while _run("iptables", "-C", *_forward_rule(), check=False).returncode == 0:
        _run("iptables", "-D", *_forward_rule())


def namespaces() -> list[str]:
    listing = ip("netns", "list", check=False).stdout.split("\n")
    return [line.split()[0] for line in listing if line.startswith(NETNS_PREFIX)]


def _links() -> list[str]:
    links = json.loads(ip("-j", "link", "show").stdout or "[]")
    return [link["ifname"] for link in links]


def has_guard(network: ipaddress.IPv4Network) -> bool:
    """Whether the testbed's unreachable route for network is in place."""
    routes = ip("route", "show", "type", "unreachable", str(network)).stdout
    return f"metric {GUARD_METRIC}" in routes


def require_testbed_address(address: str) -> None:
    """Refuse (NetworkError) an address a test would connect to unless it is in the testbed's range, that range
    is guarded, and this host reaches it over the testbed bridge: then nothing sent to it can leave the machine."""
    if ipaddress.ip_address(address) not in CIDR:
        raise NetworkError(f"{address} is outside the testbed's range {CIDR}: refusing to connect to it")
    if not has_guard(CIDR):
        raise NetworkError(f"the unreachable guard route for {CIDR} is missing: refusing to connect to {address}")
    route = json.loads(ip("-j", "route", "get", address).stdout or "[{}]")[0]
    if route.get("dev") != BRIDGE:
        raise NetworkError(f"{address} is reached through {route.get('dev')}, not the testbed bridge {BRIDGE}")


def _forward_rule() -> list[str]:
    return ["FORWARD", "-i", BRIDGE, "!", "-o", BRIDGE, "-m", "comment", "--comment", MARKER, "-j", "DROP"]


def attach(namespace: str, veth: str, mac: str) -> None:
    """A namespace whose eth0 (with mac) is a veth on the bridge; its addresses are the guest's business."""
    if namespace not in namespaces():
        ip("netns", "add", namespace)
    if ip("link", "show", veth, check=False).returncode != 0:
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    ip("-n", namespace, "link", "set", "eth0", "address", mac)
    ip("link", "set", veth, "master", BRIDGE, "up")
    ip("-n", namespace, "link", "set", "lo", "up")


def detach(namespace: str, veth: str) -> None:
    ip("link", "delete", veth, check=False)
    ip("netns", "delete", namespace, check=False)
