"""The air-gap bundle's Debian packages (tests/testbed/packages.py): the kubeadm packages are
named, versioned, depend and lay out their files as pkgs.k8s.io's, and every folder installs
with no network into a throwaway copy of the machine image, booted (systemd answers
`systemctl cat kubelet`). Starts no testbed: a machine here is an overlay of the image in a
mount namespace of its own, booted by systemd-nspawn with a private network."""

from __future__ import annotations

import os
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.testbed import binaries, images, packages

pytestmark = pytest.mark.testbed

VERSION = binaries.normalize(binaries.DEFAULT_KUBERNETES_VERSION)[1:]
BOOT_TIMEOUT = 300
KUBEADM_DEBS = {
    "kubelet": (f"{VERSION}-1.1", "kubernetes-cni (>= 1.2.0), mount, util-linux",
                {"./usr/bin/kubelet", "./usr/lib/systemd/system/kubelet.service", "./etc/default/kubelet"}),
    "kubeadm": (f"{VERSION}-1.1", "", {"./usr/bin/kubeadm", "./usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"}),
    "kubectl": (f"{VERSION}-1.1", "", {"./usr/bin/kubectl"}),
    "cri-tools": (binaries.TOOL_VERSIONS["crictl"][1:] + "-1.1", "", {"./usr/bin/crictl"}),
    "kubernetes-cni": (binaries.TOOL_VERSIONS["cni-plugins"][1:] + "-1.1", "",
                       {f"./opt/cni/bin/{name}" for name in ("bridge", "host-local", "loopback", "portmap")}),
}
# What the check unit runs in the booted copy of the image; its output lands in /result.
CHECK_UNIT = textwrap.dedent("""\
    [Unit]
    After=multi-user.target
    [Service]
    Type=oneshot
    ExecStart=/bin/sh -c '/bin/sh /usr/local/sbin/gpve-check >/result/log 2>&1; echo $? >/result/rc'
    ExecStartPost=/bin/systemctl poweroff --no-block
    """)


@pytest.fixture(scope="module")
def bundle() -> Path:
    # The suite runs as root (the testbed needs it): a skip here would hide the offline install check.
    assert os.geteuid() == 0, "booting a copy of the machine image needs root: run the tests as root"
    return images.bundle_dir(binaries.DEFAULT_KUBERNETES_VERSION)


def _field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def _contents(deb: Path) -> dict[str, str]:
    """Path in the package -> owner/group."""
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, stdout=subprocess.PIPE, text=True).stdout
    return {line.split()[5]: line.split()[1] for line in listing.splitlines()}


@pytest.mark.parametrize("name", sorted(KUBEADM_DEBS))
def test_kubeadm_package_is_upstreams(bundle, name):
    version, depends, files = KUBEADM_DEBS[name]
    deb = bundle / "kubeadm" / f"{name}_{version}_amd64.deb"
    assert deb.is_file(), sorted(path.name for path in (bundle / "kubeadm").glob("*.deb"))
    assert (_field(deb, "Package"), _field(deb, "Version"), _field(deb, "Architecture")) == (name, version, "amd64")
    assert _field(deb, "Depends") == depends
    contents = _contents(deb)
    assert files <= set(contents)
    assert set(contents.values()) == {"root/root"}


def test_kubeadm_folder_holds_the_five_packages_only(bundle):
    assert sorted(path.name.split("_")[0] for path in (bundle / "kubeadm").glob("*.deb")) == sorted(KUBEADM_DEBS)


@pytest.mark.parametrize(("folder", "names"), [("node_prep", packages.NODE_PREP_PACKAGES),
                                               ("loadbalancer", packages.LOADBALANCER_PACKAGES)])
def test_each_package_is_in_the_image_or_the_folder(bundle, folder, names):
    status = binaries.machine_image() / "var/lib/dpkg"
    in_folder = {_field(deb, "Package") for deb in (bundle / folder).glob("*.deb")}
    for name in names:
        installed = subprocess.run(["dpkg-query", f"--admindir={status}", "-W", "-f=${db:Status-Status}", name],
                                   check=False, stdout=subprocess.PIPE, text=True).stdout
        assert installed == "installed" or name in in_folder, f"{name}: neither in the machine image nor in {folder}/"


def test_node_prep_names_the_roles_packages():
    defaults = yaml.safe_load((Path(__file__).parents[2] / "roles/node_prep/defaults/main.yml").read_text())
    assert set(packages.NODE_PREP_PACKAGES) == {*defaults["node_prep_packages"], defaults["node_prep_containerd_package"]}


def _boot_and_check(bundle: Path, script: str, work: Path) -> str:
    """Boot an overlay of the machine image with bundle on /airgap and no network, run script
    (sh -e) in it once booted; its output, or a failure naming it."""
    upper, overlay, result = work / "upper", work / "overlay", work / "result"
    for directory in (upper / "etc/systemd/system/multi-user.target.wants", upper / "etc/cloud",
                      upper / "usr/local/sbin", work / "work", overlay, result):
        directory.mkdir(parents=True, exist_ok=True)
    (upper / "etc/cloud/cloud-init.disabled").touch()
    # No network: a unit after network-online.target (keepalived) would wait 2 min for it to come up.
    (upper / "etc/systemd/system/systemd-networkd-wait-online.service").symlink_to("/dev/null")
    (upper / "usr/local/sbin/gpve-check").write_text("set -ex\n" + script)
    (upper / "etc/systemd/system/gpve-check.service").write_text(CHECK_UNIT)
    (upper / "etc/systemd/system/multi-user.target.wants/gpve-check.service").symlink_to("/etc/systemd/system/gpve-check.service")
    lower = binaries.machine_image()
    mount = f"mount -t overlay overlay -o lowerdir={lower},upperdir={upper},workdir={work / 'work'} {overlay}"
    nspawn = ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--private-network", "--resolv-conf=off",
              "--timezone=off", "--link-journal=no", "--console=pipe", f"--directory={overlay}",
              f"--bind-ro={bundle}:/airgap", f"--bind={result}:/result"]
    # A mount namespace of its own: the overlay goes with it, whatever happens.
    subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", f"{mount} && exec {shlex.join(nspawn)}"],
                   check=True, timeout=BOOT_TIMEOUT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = (result / "log").read_text()
    assert (result / "rc").read_text().strip() == "0", log
    return log


# What the roles do offline: node_prep's packages, then kubeadm's; on a load balancer VM, loadbalancer's.
INSTALL = "apt-get install -y --no-install-recommends {}\n"


def test_node_packages_install_offline(bundle, tmp_path):
    node_prep = " ".join(f"/airgap/node_prep/{deb.name}" for deb in sorted((bundle / "node_prep").glob("*.deb")))
    script = (INSTALL.format(node_prep) if node_prep else "") + INSTALL.format("/airgap/kubeadm/*.deb") + textwrap.dedent("""\
        kubeadm version -o short
        kubectl version --client
        crictl --version
        ls /opt/cni/bin
        systemctl cat kubelet
        systemctl enable kubelet
        dpkg-query -W -f='${Package} ${Status}\\n' chrony ipset containerd kubelet kubeadm kubectl cri-tools kubernetes-cni
        """)
    log = _boot_and_check(bundle, script, tmp_path)
    assert f"\nv{VERSION}\n" in log
    assert "# /usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf" in log
    assert "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env" in log
    assert "bridge\nhost-local\nloopback\nportmap\n" in log
    for name in ("chrony", "ipset", "containerd", "kubelet", "kubeadm", "kubectl", "cri-tools", "kubernetes-cni"):
        assert f"\n{name} install ok installed\n" in log


def test_loadbalancer_packages_install_offline(bundle, tmp_path):
    script = INSTALL.format("/airgap/loadbalancer/*.deb") + "haproxy -v\nkeepalived --version\ncurl --version\n"
    log = _boot_and_check(bundle, script, tmp_path)
    assert "HAProxy version" in log and "Keepalived v" in log
