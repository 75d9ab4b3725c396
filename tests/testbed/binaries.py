"""Where the testbed's programs and machine image come from: the build scripts' cache.

Every binary is built here from the Go module proxy at a pinned version
(``scripts/build-kubernetes.sh``, ``scripts/build-go-tools.sh``), the pause program from
upstream's C source in the k8s.io/kubernetes module, the machine image by mmdebstrap
(``scripts/build-machine-image.sh``). Each is cached under ~/.cache/gpve-testbed keyed by
version; asking for one that is not there builds it (and prints how long that took).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path
from typing import Callable

from .layout import REPO_ROOT

SCRIPTS = REPO_ROOT / "tests" / "testbed" / "scripts"
CACHE_ROOT = Path(os.environ.get("GPVE_TESTBED_CACHE")
                  or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gpve-testbed")
# The Kubernetes releases the testbed builds, oldest first; the last is the default.
# Two adjacent minors: the newest that builds and runs here, and the one before it (upgrades).
KUBERNETES_VERSIONS = ("v1.36.3", "v1.37.2")
DEFAULT_KUBERNETES_VERSION = KUBERNETES_VERSIONS[-1]
# Must match the table in scripts/build-go-tools.sh (its cache directories are named by these).
TOOL_VERSIONS = {
    "etcd": "v3.7.0", "etcdctl": "v3.7.0", "etcdutl": "v3.7.0", "helm": "v3.22.1", "crictl": "v1.37.0",
    "cni-plugins": "v1.10.0", "coredns": "v1.14.6", "metrics-server": "v0.8.0",
    "flannel": "v0.28.10", "flannel-cni-plugin": "v0.9.1",
}
# What `make setup` builds for the test suite (the rest with `python -m tests.testbed build --all`).
SUITE_TOOLS = ("etcd", "etcdctl", "etcdutl", "helm", "crictl", "cni-plugins", "coredns", "metrics-server", "flannel",
               "flannel-cni-plugin")


def normalize(version: str) -> str:
    return "v" + version.lstrip("v")


def _script_output(*argv: str) -> Path:
    out = subprocess.run(["bash", *argv], check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def kubernetes(version: str = DEFAULT_KUBERNETES_VERSION) -> Path:
    """Directory of kube-apiserver, kubelet, kubeadm, ... of one release."""
    version = normalize(version)
    cached = CACHE_ROOT / f"kubernetes-{version}" / "bin"
    if (cached / ".complete").exists():
        return cached
    return _script_output(str(SCRIPTS / "build-kubernetes.sh"), version)


def built_kubernetes_versions() -> list[str]:
    """The releases of KUBERNETES_VERSIONS whose binaries are in the cache, oldest first."""
    return [v for v in KUBERNETES_VERSIONS if (CACHE_ROOT / f"kubernetes-{v}" / "bin" / ".complete").exists()]


def tool(name: str) -> Path:
    """Directory of one tool's binaries (etcd, helm, crictl, cni-plugins, coredns, metrics-server)."""
    cached = CACHE_ROOT / f"{name}-{TOOL_VERSIONS[name]}" / "bin"
    if (cached / ".complete").exists():
        return cached
    return _script_output(str(SCRIPTS / "build-go-tools.sh"), name)


def machine_image() -> Path:
    """The machine image's root file system (read-only for machines: each boots an overlay of it)."""
    return _script_output(str(SCRIPTS / "build-machine-image.sh"))


def build_once(done: Path, build: Callable[[], None]) -> None:
    """Run build unless done exists, one builder at a time (a lock file in the cache); done is touched last."""
    if done.exists():
        return
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / f".{done.parent.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            build()
            done.touch()


def pause() -> Path:
    """Upstream's pause program (build/pause/linux/pause.c of the default release), static."""
    version = normalize(DEFAULT_KUBERNETES_VERSION)
    out = CACHE_ROOT / f"pause-{version}" / "pause"

    def build() -> None:
        source = _module_dir("k8s.io/kubernetes", version) / "build" / "pause" / "linux" / "pause.c"
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".partial")
        subprocess.run(["gcc", "-Os", "-Wall", "-static", f"-DVERSION={version}-gpve", "-o", str(partial),
                        str(source)], check=True)
        partial.rename(out)
    build_once(out, build)
    return out


def _module_dir(module: str, version: str) -> Path:
    subprocess.run(["go", "mod", "download", f"{module}@{version}"], check=True, cwd="/",
                   stdout=subprocess.DEVNULL)
    modcache = subprocess.run(["go", "env", "GOMODCACHE"], check=True, stdout=subprocess.PIPE, text=True).stdout
    return Path(modcache.strip()) / f"{module}@{version}"


def apt_sources() -> str:
    """The machine's own apt sources file (mmdebstrap reads the mirror from it: none is named here)."""
    deb822 = Path("/etc/apt/sources.list.d/debian.sources")
    return str(deb822 if deb822.exists() else Path("/etc/apt/sources.list"))
