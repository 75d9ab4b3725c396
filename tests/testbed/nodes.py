"""The testbed cluster's real nodes: machines running containerd, the kubelet and kube-proxy.

A node is a machine (``machine.py``) booted from the machine image, with the default
release's kubelet and kube-proxy, the CNI plugins and the air-gap bundle bind-mounted
read-only from the build cache, and these files written into its root before it boots:
- containerd's CRI configuration: the pause image of the bundle as sandbox image,
  ``restrict_oom_score_adj`` (this host's processes lack CAP_SYS_RESOURCE), cgroupfs;
- a one-shot unit that makes the cgroup v1 hierarchies writable inside the machine and
  creates the kubelet's cgroupRoot, and one that imports the bundle's images into
  containerd under registry.gpve.test/... before the kubelet starts;
- the kubelet (client certificate system:node:<name> from the testbed CA, webhook authn and
  authz, ``failCgroupV1: false``: a testbed setting for this cgroup v1 host only);
- kube-proxy (iptables mode) as a unit, with its own client certificate;
- the bridge CNI with host-local IPAM on the node's /24 of the pod network; cloud-init's
  network-config routes every other node's /24 through that node (what flannel's host-gw
  backend does; flannel's CNI plugin is not served by the module proxy).
Nodes take addresses from ``network.FIRST_NODE_ADDRESS`` upward, pod subnets 10.244.<n>.0/24.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import binaries, images, kube, network
from .machine import Bind, Machine
from .pki import CertificateAuthority

MAX_NODES = 16
NODE_CGROUP_ROOT = "/gpve-kubelet"
CLUSTER_DNS = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
BIN_MOUNT = "/opt/gpve-testbed/bin"
CNI_MOUNT = "/opt/cni/bin"
AIRGAP_MOUNT = "/opt/gpve-testbed/airgap"


@dataclass(frozen=True)
class NodePlan:
    """Name, index (1-based), address and pod subnet of one node."""

    name: str
    index: int

    @property
    def address(self) -> str:
        return str(network.FIRST_NODE_ADDRESS + self.index - 1)

    @property
    def pod_cidr(self) -> str:
        return str(list(network.POD_CIDR.subnets(new_prefix=24))[self.index])

    @property
    def mac(self) -> str:
        return f"52:54:00:30:00:{self.index:02x}"


def plan(count: int) -> list[NodePlan]:
    if not 1 <= count <= MAX_NODES:
        raise ValueError(f"the testbed runs 1 to {MAX_NODES} nodes, not {count}")
    return [NodePlan(f"testbed-node-{index}", index) for index in range(1, count + 1)]


def machine_for(node: NodePlan, state_dir: Path, kube_bin: Path, bundle: Path) -> Machine:
    binds = [Bind(str(kube_bin), BIN_MOUNT), Bind(str(binaries.tool("cni-plugins")), CNI_MOUNT),
             Bind(str(bundle), AIRGAP_MOUNT)]
    return Machine(name=node.name, state_dir=str(state_dir / node.name), image=str(binaries.machine_image()),
                   mac=node.mac, cpus=2, memory_mb=3072, binds=binds)


def prepare(machine: Machine, node: NodePlan, ca: CertificateAuthority, api_url: str,
            ssh_public_key: str) -> None:
    """Write the node's seed, certificates, configuration and units into its root."""
    machine.write_seed(_meta_data(node), _user_data(ssh_public_key), _network_config(node))
    kubelet = ca.issue(f"kubelet-{node.name}", f"system:node:{node.name}", ("system:nodes",), client=True)
    serving = ca.issue(f"kubelet-serving-{node.name}", node.name, hosts=(node.name, node.address), server=True)
    proxy = ca.issue("kube-proxy", "system:kube-proxy", client=True)
    files = {
        "/etc/kubernetes/pki/ca.crt": (ca.cert_path.read_bytes(), 0o644),
        "/var/lib/kubelet/pki/kubelet.crt": (serving.cert.read_bytes(), 0o644),
        "/var/lib/kubelet/pki/kubelet.key": (serving.key.read_bytes(), 0o600),
        "/etc/kubernetes/kubelet.conf": (kube.kubeconfig_text(api_url, ca.cert_path, kubelet.cert, kubelet.key, "kubelet"), 0o600),
        "/etc/kubernetes/kube-proxy.conf": (kube.kubeconfig_text(api_url, ca.cert_path, proxy.cert, proxy.key, "kube-proxy"), 0o600),
        "/var/lib/kubelet/config.yaml": (_kubelet_config(node), 0o644),
        "/var/lib/kube-proxy/config.yaml": (_proxy_config(), 0o644),
        "/etc/containerd/config.toml": (CONTAINERD_CONFIG, 0o644),
        "/etc/cni/net.d/10-gpve-bridge.conflist": (_cni_config(node), 0o644),
        "/etc/systemd/system/gpve-cgroup-root.service": (CGROUP_ROOT_UNIT, 0o644),
        "/etc/systemd/system/gpve-images.service": (IMAGES_UNIT, 0o644),
        "/etc/systemd/system/kubelet.service": (_kubelet_unit(node), 0o644),
        "/etc/systemd/system/kube-proxy.service": (PROXY_UNIT, 0o644),
        "/etc/sysctl.d/90-gpve-node.conf": ("net.ipv4.ip_forward = 1\n", 0o644),
    }
    for path, (content, mode) in files.items():
        machine.write_file(path, content, mode)
    for unit in ("gpve-cgroup-root.service", "gpve-images.service", "kubelet.service", "kube-proxy.service"):
        link = f"/etc/systemd/system/multi-user.target.wants/{unit}"
        target = machine.root / link.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_symlink():
            target.symlink_to(f"/etc/systemd/system/{unit}")


def _meta_data(node: NodePlan) -> str:
    return yaml.safe_dump({"instance-id": f"gpve-{node.name}", "local-hostname": node.name})


def _user_data(ssh_public_key: str) -> str:
    config = {"users": [{"name": "debian", "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/bash",
                         "ssh_authorized_keys": [ssh_public_key]}],
              "ssh_pwauth": False, "package_update": False, "package_upgrade": False}
    return "#cloud-config\n" + yaml.safe_dump(config)


def _network_config(node: NodePlan) -> str:
    routes = [{"to": other.pod_cidr, "via": other.address}
              for other in plan(MAX_NODES) if other.index != node.index]
    config = {"version": 2, "ethernets": {"eth0": {
        "match": {"macaddress": node.mac}, "set-name": "eth0",
        "addresses": [f"{node.address}/{network.CIDR.prefixlen}"],
        "nameservers": {"addresses": [str(network.GATEWAY)]},
        "routes": [{"to": "0.0.0.0/0", "via": str(network.GATEWAY)}, *routes]}}}
    return yaml.safe_dump(config)


def _kubelet_config(node: NodePlan) -> str:
    return yaml.safe_dump({
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}},
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": "/var/lib/kubelet/pki/kubelet.crt", "tlsPrivateKeyFile": "/var/lib/kubelet/pki/kubelet.key",
        "containerRuntimeEndpoint": "unix:///run/containerd/containerd.sock",
        # This host mounts cgroup v1 and its processes lack CAP_SYS_RESOURCE (docs/testbed.md).
        "failCgroupV1": False, "cgroupDriver": "cgroupfs", "cgroupRoot": NODE_CGROUP_ROOT, "oomScoreAdj": 0,
        "clusterDNS": [CLUSTER_DNS], "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": "/run/systemd/resolve/resolv.conf",
        # Images come from the bundle only: garbage collection would delete what cannot be pulled again.
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "makeIPTablesUtilChains": False, "failSwapOn": False, "serializeImagePulls": False,
        "podCIDR": node.pod_cidr, "maxPods": 110, "rotateCertificates": False,
    })


def _kubelet_unit(node: NodePlan) -> str:
    return textwrap.dedent(f"""\
        [Unit]
        Description=kubelet (gpve testbed node)
        After=containerd.service gpve-images.service gpve-cgroup-root.service
        Requires=containerd.service gpve-cgroup-root.service

        [Service]
        ExecStart={BIN_MOUNT}/kubelet --config=/var/lib/kubelet/config.yaml \\
          --kubeconfig=/etc/kubernetes/kubelet.conf --node-ip={node.address} --hostname-override={node.name} \\
          --node-labels=gpve.io/testbed-node=true
        Restart=always
        RestartSec=2

        [Install]
        WantedBy=multi-user.target
        """)


def _proxy_config() -> str:
    return yaml.safe_dump({
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": "/etc/kubernetes/kube-proxy.conf"},
        "mode": "iptables", "clusterCIDR": str(network.POD_CIDR),
        # The host's conntrack table is not the machine's to size.
        "conntrack": {"maxPerCore": 0},
    })


def _cni_config(node: NodePlan) -> str:
    return json.dumps({
        "cniVersion": "1.0.0", "name": "gpve-testbed",
        "plugins": [
            {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": node.pod_cidr}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }, indent=2)


CONTAINERD_CONFIG = textwrap.dedent(f"""\
    version = 2
    [plugins."io.containerd.grpc.v1.cri"]
      sandbox_image = "{images.REGISTRY}/pause:{images.PAUSE_TAG}"
      # The host's processes lack CAP_SYS_RESOURCE: runc cannot lower oom_score_adj otherwise.
      restrict_oom_score_adj = true
      [plugins."io.containerd.grpc.v1.cri".cni]
        bin_dir = "{CNI_MOUNT}"
        conf_dir = "/etc/cni/net.d"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
    """)

# The kubelet's cgroupRoot, created in every hierarchy before it starts ($$ is systemd's escaped $).
CGROUP_ROOT_UNIT = textwrap.dedent(f"""\
    [Unit]
    Description=the kubelet's cgroupRoot (gpve testbed)
    After=gpve-machine.service
    Before=containerd.service kubelet.service

    [Service]
    Type=oneshot
    RemainAfterExit=yes
    ExecStart=/bin/sh -c 'for c in /sys/fs/cgroup/*/; do mkdir -p "$${{c}}{NODE_CGROUP_ROOT.lstrip("/")}"; done'

    [Install]
    WantedBy=multi-user.target
    """)

IMAGES_UNIT = textwrap.dedent(f"""\
    [Unit]
    Description=import the air-gap bundle's images into containerd (gpve testbed)
    After=containerd.service
    Requires=containerd.service
    Before=kubelet.service

    [Service]
    Type=oneshot
    RemainAfterExit=yes
    ExecStart=/bin/sh -c 'for f in {AIRGAP_MOUNT}/kubeadm/images/*.tar {AIRGAP_MOUNT}/images/*.tar; do \\
                           ctr -n k8s.io images import --no-unpack "$$f" >/dev/null || exit 1; done'

    [Install]
    WantedBy=multi-user.target
    """)

PROXY_UNIT = textwrap.dedent(f"""\
    [Unit]
    Description=kube-proxy (gpve testbed node)
    After=network-online.target

    [Service]
    ExecStart={BIN_MOUNT}/kube-proxy --config=/var/lib/kube-proxy/config.yaml
    Restart=always
    RestartSec=2

    [Install]
    WantedBy=multi-user.target
    """)
