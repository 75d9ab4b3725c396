"""Air-gap installs for every distribution that installs over SSH (kubeadm, k3s, rke2, k0s): the
artifact directory is checked on the controller before anything is written on a node, and the
node receives the distribution's own files plus the shared image archives (images/*.tar: CNI,
add-ons, custom charts). Talos installs nothing over SSH; its air-gap is registry mirrors
(checked in test_rendered_configs). Also: k3s refuses an even server count with embedded etcd.

The node is the guest recorder's (tests/guest_recorder): what it received is read from the record;
copying to a real node and importing the images run in tests/integration/k8s_vm_real (kubeadm)."""

from __future__ import annotations

import pytest
from pathlib import Path

from roles_support import TEST_PLAYBOOKS

from tests import guest_recorder
from tests.playbook_run import ansible_env, run_playbook

pytestmark = pytest.mark.roles

ARTIFACTS = {
    "kubeadm": ["kubeadm/kubeadm_1.37.2-1.1_amd64.deb", "kubeadm/kubelet_1.37.2-1.1_amd64.deb",
                "kubeadm/images/kube-apiserver_v1.37.2.tar", "kubeadm/images/kube-proxy_v1.37.2.tar"],
    "k3s": ["k3s/k3s", "k3s/install.sh", "k3s/k3s-airgap-images-amd64.tar.zst"],
    "rke2": ["rke2/install.sh", "rke2/rke2.linux-amd64.tar.gz", "rke2/sha256sum-amd64.txt",
             "rke2/rke2-images.linux-amd64.tar.zst"],
    "k0s": ["k0s/k0s", "k0s/k0s-airgap-bundle-amd64"],
}
SHARED = ["images/calico.tar", "images/ingress-nginx.tar"]


def artifact_dir(root, files):
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"artifact")
    return root


def install(tmp_path, distribution, airgap, **extra):
    record = tmp_path / "record.jsonl"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    result = run_playbook(TEST_PLAYBOOKS / "airgap_install.yml",
                          dict({"airgap_distribution": distribution, "airgap_dir": str(airgap)}, **extra),
                          ansible_env(guest_recorder.recorder_env(record, str(kubeconfig))), tmp_path / "install.log")
    return result, guest_recorder.read(record)


@pytest.mark.parametrize("distribution", sorted(ARTIFACTS))
def test_the_node_gets_the_distributions_artifacts_and_the_shared_images(tmp_path, distribution):
    airgap = artifact_dir(tmp_path / "airgap", ARTIFACTS[distribution] + SHARED + ["unrelated/readme.txt"])
    result, records = install(tmp_path, distribution, airgap)
    assert result.returncode == 0, result.stdout[-3000:]
    received = [r for r in guest_recorder.calls(records, "copy") if r["args"].get("content") == "artifact"]
    assert sorted(r["args"]["_original_basename"] for r in received) \
        == sorted(Path(name).name for name in ARTIFACTS[distribution] + SHARED)
    # Nothing is downloaded: no installer, binary or package comes from the internet.
    assert guest_recorder.calls(records, "get_url") == [] and not guest_recorder.calls(records, "deb822_repository")


@pytest.mark.parametrize("distribution", sorted(ARTIFACTS))
def test_a_missing_artifact_stops_before_the_node_is_touched(tmp_path, distribution):
    present = ARTIFACTS[distribution][1:] if distribution != "kubeadm" else ["kubeadm/images/kube-apiserver_v1.37.2.tar"]
    airgap = artifact_dir(tmp_path / "airgap", present + SHARED)
    result, records = install(tmp_path, distribution, airgap)
    missing = ARTIFACTS[distribution][0] if distribution != "kubeadm" else "kubeadm/*.deb"
    assert result.returncode != 0
    assert f"gpve_airgap_dir {airgap} lacks {missing} for {distribution}" in result.stdout, result.stdout[-3000:]
    assert records == []                                    # nothing reached the node


def test_kubeadm_load_images_before_an_upgrade_imports_the_images_only(tmp_path):
    """upgrade.yml's first step on every node: the target's images, no package (a worker: not the control plane's)."""
    airgap = artifact_dir(tmp_path / "airgap", ARTIFACTS["kubeadm"] + SHARED)
    result, records = install(tmp_path, "kubeadm", airgap, airgap_kubeadm_action="load_images", airgap_control_plane=False)
    assert result.returncode == 0, result.stdout[-3000:]
    received = [r["args"]["_original_basename"] for r in guest_recorder.calls(records, "copy") if r["args"].get("content") == "artifact"]
    assert sorted(received) == ["calico.tar", "ingress-nginx.tar", "kube-proxy_v1.37.2.tar"]
    commands = [r["args"].get("cmd") or " ".join(r["args"].get("argv") or []) for r in guest_recorder.calls(records, "command")]
    imports = [command for command in commands if "ctr --namespace k8s.io images import" in command]
    assert len(imports) == 1 and "kube-proxy_v1.37.2.tar" in imports[0], commands
    assert not any("apt-get" in command for command in commands), commands   # the packages wait for the node's turn


def test_k3s_refuses_an_even_server_count_with_embedded_etcd(tmp_path):
    airgap = artifact_dir(tmp_path / "airgap", ARTIFACTS["k3s"])
    result, records = install(tmp_path, "k3s", airgap, airgap_server_count=2)
    assert result.returncode != 0 and "k3s_server_count 2: with embedded etcd" in result.stdout, result.stdout[-3000:]
    assert "use 1 or 3 servers" in result.stdout.replace("\n", " ")
    assert records == []


@pytest.mark.parametrize("version", ["1.30.2", "1.38.0"])
def test_kubeadm_refuses_a_version_outside_the_supported_minors(tmp_path, version):
    airgap = artifact_dir(tmp_path / "airgap", ARTIFACTS["kubeadm"])
    result, records = install(tmp_path, "kubeadm", airgap, kubeadm_kubernetes_version=version)
    said = result.stdout.replace("\n", " ")
    assert result.returncode != 0 and f"for Kubernetes {version}" in said, result.stdout[-3000:]
    assert "kubeadm_kubernetes_version is MAJOR.MINOR.PATCH in a supported minor (1.35, 1.36, 1.37" in said
    assert records == []                                    # refused before anything reached the node
