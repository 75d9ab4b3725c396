"""The testbed's container images and the air-gap bundle they form.

Every image a testbed node or a test cluster runs is built here from the binaries the
build scripts made (``binaries.py``) and Debian packages, with umoci (create the OCI
layout, add layers, set the config) and skopeo (write it as an archive with its name):
both are well-kept Debian tools that need no daemon and no registry, where buildah would
need a storage driver and crane a remote or a tarball base. The archives are named under
``REGISTRY`` (``registry.gpve.test``, a reserved name that resolves nowhere), as an
air-gapped site's mirror would serve them, and laid out as docs/roles/airgap.md reads:

    <bundle>/kubeadm/images/*.tar   kube-apiserver, kube-controller-manager, kube-scheduler,
                                    kube-proxy, etcd, coredns, pause (`kubeadm config images list`)
    <bundle>/images/*.tar           metrics-server and the test image (busybox: sh, httpd, nslookup)
                                    flannel and its CNI plugin (the cni role's flannel manifest)

and, from ``packages.py``, the .deb files of kubeadm/, node_prep/ and loadbalancer/.
One bundle per Kubernetes version, cached under ~/.cache/gpve-testbed/airgap-<version>-<key>,
the key being a hash of this file, packages.py, the binaries' versions and the machine image.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import binaries, packages

REGISTRY = "registry.gpve.test"
TEST_IMAGE = f"{REGISTRY}/busybox:1.35.0"
# kubeadm's defaults for the built release (cmd/kubeadm/app/constants): its image list
# names exactly these tags, so `kubeadm init --image-repository registry.gpve.test` finds them.
PAUSE_TAG = "3.10.2"
ETCD_TAG = "3.7.0-0"
COREDNS_TAG = "v1.14.6"
METRICS_SERVER_TAG = "v0.8.0"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = Path("/bin/busybox")
BUSYBOX_APPLETS = ("sh", "ash", "cat", "echo", "env", "grep", "httpd", "hostname", "ls", "mkdir", "nc",
                   "nslookup", "ping", "ps", "rm", "sleep", "test", "true", "false", "wget", "date", "seq",
                   "tail", "head", "wc", "id", "printf", "kill", "ip", "df", "mount", "touch", "timeout")
# kube-proxy runs iptables and conntrack, as upstream's distroless-iptables base gives it.
PROXY_BASE_PACKAGES = ("libc6", "iptables", "conntrack", "ipset", "kmod")
# What iptables' postinst (update-alternatives) would link: the nf_tables backend, Debian 12's default.
IPTABLES_LINKS = ("iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore")


@dataclass
class ImageSpec:
    """One image: its reference, the files it holds (path in image -> file on this machine), its command."""

    reference: str
    files: dict[str, Path]
    entrypoint: list[str]
    base_rootfs: Path | None = None
    symlinks: dict[str, str] = field(default_factory=dict)
    directories: tuple[str, ...] = ()

    @property
    def archive_name(self) -> str:
        return self.reference.rsplit("/", 1)[1].replace(":", "_") + ".tar"


def bundle_dir(version: str) -> Path:
    """The air-gap bundle of one Kubernetes version, built if it is not cached yet."""
    version = binaries.normalize(version)
    bundle = binaries.CACHE_ROOT / f"airgap-{version}-{_bundle_key(version)}"
    binaries.build_once(bundle / ".complete", lambda: _build_bundle(version, bundle))
    return bundle


def _bundle_key(version: str) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(packages.__file__).read_bytes())
    digest.update(version.encode())
    # node_prep/ and loadbalancer/ hold what this image lacks (its path names its build key).
    digest.update(str(binaries.machine_image()).encode())
    for tool in binaries.TOOL_VERSIONS.items():
        digest.update(repr(tool).encode())
    return digest.hexdigest()[:12]


def image_specs(version: str) -> dict[str, list[ImageSpec]]:
    """Every image of the bundle, by bundle folder."""
    kube = binaries.kubernetes(version)
    control_plane = [
        ImageSpec(f"{REGISTRY}/{name}:{version}", {f"/usr/local/bin/{name}": kube / name}, [f"/usr/local/bin/{name}"])
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    kube_proxy = ImageSpec(f"{REGISTRY}/kube-proxy:{version}", {"/usr/local/bin/kube-proxy": kube / "kube-proxy"},
                           ["/usr/local/bin/kube-proxy"], base_rootfs=proxy_base_rootfs())
    etcd_image = ImageSpec(f"{REGISTRY}/etcd:{ETCD_TAG}",
                           {f"/usr/local/bin/{name}": binaries.tool(name) / name for name in ("etcd", "etcdctl", "etcdutl")},
                           ["/usr/local/bin/etcd"], directories=("/var/lib/etcd", "/tmp"))
    coredns = ImageSpec(f"{REGISTRY}/coredns:{COREDNS_TAG}", {"/coredns": binaries.tool("coredns") / "coredns"},
                        ["/coredns"])
    pause = ImageSpec(f"{REGISTRY}/pause:{PAUSE_TAG}", {"/pause": binaries.pause()}, ["/pause"])
    metrics = ImageSpec(f"{REGISTRY}/metrics-server/metrics-server:{METRICS_SERVER_TAG}",
                        {"/metrics-server": binaries.tool("metrics-server") / "metrics-server"}, ["/metrics-server"],
                        directories=("/tmp",))
    test_image = ImageSpec(TEST_IMAGE, {"/bin/busybox": BUSYBOX}, ["/bin/sh"],
                           symlinks={f"/bin/{applet}": "busybox" for applet in BUSYBOX_APPLETS},
                           directories=("/tmp", "/www", "/etc"))
    return {"kubeadm/images": [*control_plane, kube_proxy, etcd_image, coredns, pause],
            "images": [metrics, test_image, *flannel_images()]}


def _build_bundle(version: str, bundle: Path) -> None:
    shutil.rmtree(bundle, ignore_errors=True)
    for folder, specs in image_specs(version).items():
        (bundle / folder).mkdir(parents=True, exist_ok=True)
        for spec in specs:
            build_archive(spec, bundle / folder / spec.archive_name)
    packages.build(version, bundle)


def build_archive(spec: ImageSpec, archive: Path) -> None:
    """One image as a docker-archive tarball named spec.reference (what `ctr images import` reads)."""
    with tempfile.TemporaryDirectory(prefix="gpve-image-") as work:
        layout = Path(work) / "layout"
        tag = "build"
        image = f"{layout}:{tag}"
        _run("umoci", "init", "--layout", str(layout))
        _run("umoci", "new", "--image", image)
        if spec.base_rootfs is not None:
            _run("umoci", "insert", "--image", image, str(spec.base_rootfs), "/")
        staging = Path(work) / "rootfs"
        _stage(spec, staging)
        _run("umoci", "insert", "--image", image, str(staging), "/")
        _run("umoci", "config", "--image", image, "--config.env", PATH_ENV,
             *[arg for part in spec.entrypoint for arg in ("--config.entrypoint", part)])
        tmp = archive.with_suffix(".partial")
        tmp.unlink(missing_ok=True)
        _run("skopeo", "copy", "--quiet", f"oci:{image}", f"docker-archive:{tmp}:{spec.reference}")
        os.replace(tmp, archive)


def _stage(spec: ImageSpec, staging: Path) -> None:
    for directory in spec.directories:
        (staging / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (staging / "tmp").mkdir(parents=True, exist_ok=True)
    (staging / "tmp").chmod(0o1777)
    for target, source in spec.files.items():
        path = staging / target.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, path)
        path.chmod(0o755)
    for link, target in spec.symlinks.items():
        path = staging / link.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)


def proxy_base_rootfs() -> Path:
    """A minimal Debian root file system with iptables and conntrack for kube-proxy (cached)."""
    base = binaries.CACHE_ROOT / "proxy-base-bookworm" / "rootfs"
    binaries.build_once(base.parent / ".complete", lambda: _build_proxy_base(base))
    return base


def _build_proxy_base(base: Path) -> None:
    shutil.rmtree(base.parent, ignore_errors=True)
    base.parent.mkdir(parents=True)
    # extract: the packages and their dependencies unpacked, no maintainer scripts (no dpkg in the image).
    _run("mmdebstrap", "--variant=extract", "--include=" + ",".join(PROXY_BASE_PACKAGES),
         "bookworm", str(base), binaries.apt_sources())
    for leftover in ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale"):
        shutil.rmtree(base / leftover, ignore_errors=True)
    for name in IPTABLES_LINKS:
        link = base / "usr" / "sbin" / name
        link.unlink(missing_ok=True)
        link.symlink_to("xtables-nft-multi")


# The flannel-cni-plugin tag the cni role's flannel manifest names (upstream's kube-flannel.yml of its
# pinned flannel). Its module (github.com/flannel-io/cni-plugin) is not served by the module proxy, so the
# image holds the flannel plugin of containernetworking/plugins v0.9.1 (the same plugin before it moved
# there; CNI spec up to 0.4.0, which is why the role's conflist says 0.3.1).
FLANNEL_CNI_PLUGIN_TAG = "v1.9.1-flannel3"


def flannel_images() -> list[ImageSpec]:
    """flannel and its CNI plugin, named as the cni role's manifest names them under REGISTRY."""
    flannel = binaries.tool("flannel")
    daemon = ImageSpec(f"{REGISTRY}/flannel-io/flannel:{binaries.TOOL_VERSIONS['flannel']}",
                       {"/opt/bin/flanneld": flannel / "flannel", "/opt/bin/install-conf": flannel / "install_conf"},
                       ["/opt/bin/flanneld"], base_rootfs=proxy_base_rootfs())   # --ip-masq runs iptables(-restore)
    plugin = ImageSpec(f"{REGISTRY}/flannel-io/flannel-cni-plugin:{FLANNEL_CNI_PLUGIN_TAG}",
                       {"/flannel": binaries.tool("flannel-cni-plugin") / "flannel-cni-plugin", "/bin/busybox": BUSYBOX},
                       ["/bin/cp"], symlinks={"/bin/cp": "busybox"})
    return [daemon, plugin]


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
