"""CoreDNS in the testbed cluster (manifests/coredns.yaml.tmpl, a string.Template), applied with kubectl as an operator would."""

from __future__ import annotations

import subprocess
from pathlib import Path
from string import Template

from . import binaries, images, nodes
from .processes import wait_until

MANIFEST = Path(__file__).parent / "manifests" / "coredns.yaml.tmpl"


def deploy(kubeconfig: str, timeout: float = 180.0) -> None:
    """Apply CoreDNS and wait until its Deployment is available."""
    manifest = Template(MANIFEST.read_text()).substitute(
        IMAGE=f"{images.REGISTRY}/coredns:{images.COREDNS_TAG}", CLUSTER_DNS=nodes.CLUSTER_DNS)
    kubectl = str(binaries.kubernetes() / "kubectl")
    subprocess.run([kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-"], input=manifest,
                   text=True, check=True, stdout=subprocess.DEVNULL)

    def available() -> bool:
        done = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "-n", "kube-system", "get", "deployment",
                               "coredns", "-o", "jsonpath={.status.availableReplicas}"],
                              stdout=subprocess.PIPE, text=True, check=False)
        return done.stdout.strip() not in ("", "0")
    wait_until(available, timeout, "CoreDNS available in kube-system", interval=1.0)
