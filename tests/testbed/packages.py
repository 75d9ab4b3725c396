"""The Debian packages of the air-gap bundle: what the kubeadm, node_prep and loadbalancer roles
install on a node that cannot download (layout of docs/roles/airgap.md):

    <bundle>/kubeadm/*.deb        kubelet, kubeadm, kubectl, cri-tools, kubernetes-cni of the release,
                                  as upstream's pkgs.k8s.io repository ships them: names, versions
                                  (``1.37.2-1.1``), Depends and file layout (kubernetes/release,
                                  cmd/krel/templates/latest), built from the binaries the testbed builds
    <bundle>/node_prep/*.deb      containerd, chrony, conntrack, socat, ipset, ebtables, ca-certificates
    <bundle>/loadbalancer/*.deb   haproxy, keepalived, curl
                                  each with every dependency the machine image lacks (Debian 12)

The kubeadm packages are written by ``dpkg-deb --build --root-owner-group``, the Debian ones
downloaded by ``apt-get install --download-only`` resolving against the machine image's dpkg
status: dpkg-deb writes exactly the archive dpkg reads, and apt's own resolver gives exactly
the closure a node's apt will ask for, where code of our own would be a second archiver and a
second, weaker resolver to keep right. A package the image already has downloads nothing, so a
folder may hold fewer files than packages named (or none).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from . import binaries

# pkgs.k8s.io's Debian revision of every package it builds.
REVISION = "1.1"
MAINTAINER = "Kubernetes Authors <dev@kubernetes.io>"
UNIT_DIR = "/usr/lib/systemd/system"
# What the roles install offline (node_prep: node_prep_packages + node_prep_containerd_package of its
# defaults; loadbalancer: tasks/guest/haproxy.yml, keepalived included).
NODE_PREP_PACKAGES = ("ca-certificates", "conntrack", "socat", "ipset", "ebtables", "chrony", "containerd")
LOADBALANCER_PACKAGES = ("haproxy", "curl", "keepalived")

KUBELET_UNIT = textwrap.dedent("""\
    [Unit]
    Description=kubelet: The Kubernetes Node Agent
    Documentation=https://kubernetes.io/docs/
    Wants=network-online.target
    After=network-online.target

    [Service]
    ExecStart=/usr/bin/kubelet
    Restart=always
    StartLimitInterval=0
    RestartSec=10

    [Install]
    WantedBy=multi-user.target
    """)
# kubeadm's drop-in: the kubelet's kubeconfigs and configuration file, the flags `kubeadm init/join`
# write to kubeadm-flags.env, and the user's KUBELET_EXTRA_ARGS from /etc/default/kubelet.
KUBEADM_DROPIN = textwrap.dedent("""\
    # Only for a kubelet set up by kubeadm.
    [Service]
    Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
    Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
    # written by "kubeadm init" and "kubeadm join": KUBELET_KUBEADM_ARGS
    EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
    # the user's own flags, last resort: KUBELET_EXTRA_ARGS
    EnvironmentFile=-/etc/default/kubelet
    ExecStart=
    ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
    """)
# Lets systemd see a new or changed unit at once (as the packages' systemd macros do).
RELOAD_SCRIPT = "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl --system daemon-reload >/dev/null || true; fi\n"


@dataclass
class DebSpec:
    """One package: control fields and its files (path on the node -> a file here or the text, and its mode)."""

    name: str
    version: str
    section: str
    description: str
    files: dict[str, tuple[Path | str, int]]
    depends: tuple[str, ...] = ()
    recommends: tuple[str, ...] = ()
    conffiles: tuple[str, ...] = ()
    scripts: dict[str, str] = field(default_factory=dict)

    def control(self, installed_kib: int) -> str:
        fields = {"Package": self.name, "Version": self.version, "Architecture": "amd64", "Maintainer": MAINTAINER,
                  "Installed-Size": str(installed_kib), "Depends": ", ".join(self.depends),
                  "Recommends": ", ".join(self.recommends), "Section": self.section, "Priority": "optional",
                  "Homepage": "https://kubernetes.io", "Description": self.description}
        return "".join(f"{key}: {value}\n" for key, value in fields.items() if value)


def kubeadm_specs(version: str) -> list[DebSpec]:
    """The five packages of one release, as pkgs.k8s.io declares them for 1.32 and later."""
    kube = binaries.kubernetes(version)
    release = binaries.normalize(version)[1:]
    cri_tools = binaries.TOOL_VERSIONS["crictl"][1:]
    cni = binaries.TOOL_VERSIONS["cni-plugins"][1:]
    plugins = binaries.tool("cni-plugins")
    return [
        DebSpec("kubelet", f"{release}-{REVISION}", "net", "Node agent for Kubernetes clusters",
                {"/usr/bin/kubelet": (kube / "kubelet", 0o755), f"{UNIT_DIR}/kubelet.service": (KUBELET_UNIT, 0o644),
                 "/etc/default/kubelet": ("KUBELET_EXTRA_ARGS=\n", 0o644),
                 "/var/lib/kubelet/.kubelet-keep": ("", 0o644), "/etc/kubernetes/manifests/.kubelet-keep": ("", 0o644)},
                depends=("kubernetes-cni (>= 1.2.0)", "mount", "util-linux"), recommends=("iptables (>= 1.8.4)",),
                conffiles=("/etc/default/kubelet",), scripts={"postinst": RELOAD_SCRIPT, "postrm": RELOAD_SCRIPT}),
        DebSpec("kubeadm", f"{release}-{REVISION}", "admin", "Command-line utility for administering a Kubernetes cluster",
                {"/usr/bin/kubeadm": (kube / "kubeadm", 0o755),
                 f"{UNIT_DIR}/kubelet.service.d/10-kubeadm.conf": (KUBEADM_DROPIN, 0o644)},
                scripts={"postinst": RELOAD_SCRIPT, "postrm": RELOAD_SCRIPT}),
        DebSpec("kubectl", f"{release}-{REVISION}", "admin", "Command-line utility for interacting with a Kubernetes cluster",
                {"/usr/bin/kubectl": (kube / "kubectl", 0o755)}),
        DebSpec("cri-tools", f"{cri_tools}-{REVISION}", "admin", "Command-line utility for interacting with a container runtime",
                {"/usr/bin/crictl": (binaries.tool("crictl") / "crictl", 0o755)}),
        DebSpec("kubernetes-cni", f"{cni}-{REVISION}", "net", "Binaries required to provision kubernetes container networking",
                {f"/opt/cni/bin/{plugin.name}": (plugin, 0o755) for plugin in sorted(plugins.iterdir()) if plugin.name[0] != "."}),
    ]


def build_deb(spec: DebSpec, out_dir: Path) -> Path:
    """spec as <out_dir>/<name>_<version>_amd64.deb, every file owned by root."""
    with tempfile.TemporaryDirectory(prefix="gpve-deb-") as work:
        root = Path(work) / spec.name
        for target, (source, mode) in spec.files.items():
            path = root / target.lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, Path):
                shutil.copyfile(source, path)
            else:
                path.write_text(source)
            path.chmod(mode)
        installed_kib = sum(path.stat().st_size for path in root.rglob("*") if path.is_file()) // 1024 + 1
        debian = root / "DEBIAN"
        debian.mkdir()
        (debian / "control").write_text(spec.control(installed_kib))
        if spec.conffiles:
            (debian / "conffiles").write_text("".join(f"{name}\n" for name in spec.conffiles))
        for script, text in spec.scripts.items():
            (debian / script).write_text(text)
            (debian / script).chmod(0o755)
        out = out_dir / f"{spec.name}_{spec.version}_amd64.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "-z1", "--build", str(root), str(out)],
                       check=True, stdout=subprocess.DEVNULL)
    return out


def download_closure(names: tuple[str, ...], image_root: Path, out_dir: Path) -> list[Path]:
    """The Debian packages names need that the image at image_root lacks, downloaded by apt into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "partial").mkdir(exist_ok=True)
    argv = ["apt-get", "install", "--download-only", "--no-install-recommends", "-y", "-qq", "-o", "APT::Sandbox::User=root",
            "-o", f"Dir::State::status={image_root / 'var/lib/dpkg/status'}", "-o", f"Dir::Cache::archives={out_dir}", *names]
    if subprocess.run(argv, check=False, stdout=subprocess.DEVNULL).returncode != 0:
        # This machine's package lists may be older than the mirror (a version gone): refresh them once.
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(out_dir / "partial")
    (out_dir / "lock").unlink(missing_ok=True)
    return sorted(out_dir.glob("*.deb"))


def build(version: str, bundle: Path) -> None:
    """Every .deb of the bundle of one Kubernetes version."""
    (bundle / "kubeadm").mkdir(parents=True, exist_ok=True)
    for spec in kubeadm_specs(version):
        build_deb(spec, bundle / "kubeadm")
    image_root = binaries.machine_image()
    download_closure(NODE_PREP_PACKAGES, image_root, bundle / "node_prep")
    download_closure(LOADBALANCER_PACKAGES, image_root, bundle / "loadbalancer")
