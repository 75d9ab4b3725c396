"""The air-gap bundle holds the flannel images the cni role's manifest names, and they hold what it runs.

No testbed is started: the role renders its flannel manifest (render-only, images under the
testbed's registry) and the bundle comes from the build cache (built there if missing).
"""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

import pytest

from tests.integration.roles.roles_support import TEST_PLAYBOOKS, yaml_docs
from tests.playbook_run import ansible_env, run_playbook
from tests.testbed import binaries, images

pytestmark = pytest.mark.testbed

PATH_DIRS = images.PATH_ENV.split("=", 1)[1].split(":")
# What flanneld runs itself for --ip-masq (coreos/go-iptables and its iptables-restore calls).
FLANNELD_RUNS = ("iptables", "iptables-save", "iptables-restore")


class ImageArchive:
    """The files of a docker-archive image (what `ctr images import` reads): its reference and its layers' paths."""

    def __init__(self, path: Path):
        self.path = path
        with tarfile.open(path) as outer:
            manifest = json.load(outer.extractfile("manifest.json"))[0]
            self.references = manifest["RepoTags"]
            self.members: dict[str, tuple[str, tarfile.TarInfo]] = {}
            for layer in manifest["Layers"]:     # later layers win, as in the unpacked image
                with tarfile.open(fileobj=outer.extractfile(layer), mode="r:*") as inner:
                    for member in inner.getmembers():
                        self.members["/" + member.name.removeprefix("./").rstrip("/")] = (layer, member)

    def resolve(self, path: str) -> str | None:
        """path with its symlinks followed inside the image, or None where it leads to nothing."""
        seen = set()
        while path not in seen:
            seen.add(path)
            found = self.members.get(path)
            if found is None or not found[1].issym():
                return None if found is None else path
            link = found[1].linkname
            path = os.path.normpath(link if link.startswith("/") else f"{PurePosixPath(path).parent}/{link}")
        return None     # a symlink loop

    def on_path(self, command: str) -> str | None:
        """Where the image's PATH finds command (a regular file), as the container's runtime looks it up."""
        candidates = [command] if command.startswith("/") else [f"{d}/{command}" for d in PATH_DIRS]
        return next((hit for hit in map(self.resolve, candidates) if hit and self.members[hit][1].isfile()), None)

    def extract(self, path: str, dest: Path) -> Path:
        layer, member = self.members[self.resolve(path)]
        with tarfile.open(self.path) as outer, tarfile.open(fileobj=outer.extractfile(layer), mode="r:*") as inner:
            dest.write_bytes(inner.extractfile(member).read())
        dest.chmod(0o755)
        return dest


@pytest.fixture(scope="module")
def flannel_manifest(tmp_path_factory) -> list[dict]:
    """The role's flannel manifest, rendered by the role with cni_image_registry the testbed's registry."""
    out = tmp_path_factory.mktemp("flannel")
    result = run_playbook(TEST_PLAYBOOKS / "render_cni.yml",
                          {"render_cni": "flannel", "render_dest": str(out / "flannel.yaml"), "render_registry": images.REGISTRY},
                          ansible_env(), out / "render.log", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    return yaml_docs((out / "flannel.yaml").read_text())


@pytest.fixture(scope="module")
def containers(flannel_manifest) -> list[dict]:
    spec = next(d for d in flannel_manifest if d["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    return spec["initContainers"] + spec["containers"]


@pytest.fixture(scope="module")
def bundle_images() -> dict[str, ImageArchive]:
    """Every image of the default release's bundle (images/), by reference."""
    folder = images.bundle_dir(binaries.DEFAULT_KUBERNETES_VERSION) / "images"
    archives = [ImageArchive(path) for path in sorted(folder.glob("*.tar")) if "flannel" in path.name]
    return {reference: archive for archive in archives for reference in archive.references}


def test_the_bundle_holds_the_images_the_role_names(containers, bundle_images):
    named = {container["image"] for container in containers}
    assert named == set(bundle_images) == {spec.reference for spec in images.flannel_images()}
    assert all(image.startswith(images.REGISTRY + "/") for image in named)


def test_each_container_finds_its_command_in_its_image(containers, bundle_images):
    for container in containers:
        image = bundle_images[container["image"]]
        assert image.on_path(container["command"][0]), (container["name"], container["command"])
    daemon = bundle_images[next(c["image"] for c in containers if c["name"] == "kube-flannel")]
    assert {command: daemon.on_path(command) for command in FLANNELD_RUNS} == \
        {command: "/usr/sbin/xtables-nft-multi" for command in FLANNELD_RUNS}


def test_flanneld_in_the_image_is_the_pinned_release(containers, bundle_images, tmp_path):
    daemon = next(c for c in containers if c["name"] == "kube-flannel")
    flanneld = bundle_images[daemon["image"]].extract(daemon["command"][0], tmp_path / "flanneld")
    version = subprocess.run([str(flanneld), "--version"], check=True, capture_output=True, text=True, timeout=30)
    # flanneld prints its version to stderr.
    assert (version.stdout + version.stderr).strip() == binaries.TOOL_VERSIONS["flannel"] == daemon["image"].rsplit(":", 1)[1]


def test_the_cni_plugin_in_the_image_speaks_the_conflists_version(flannel_manifest, containers, bundle_images, tmp_path):
    config = next(d for d in flannel_manifest if d["kind"] == "ConfigMap")
    conflist = json.loads(config["data"]["cni-conf.json"])
    installer = next(c for c in containers if c["name"] == "install-cni-plugin")
    plugin = bundle_images[installer["image"]].extract(installer["args"][-2], tmp_path / "flannel")
    answer = subprocess.run([str(plugin)], env={"CNI_COMMAND": "VERSION"}, input="", check=True, capture_output=True,
                            text=True, timeout=30)
    assert conflist["cniVersion"] in json.loads(answer.stdout)["supportedVersions"]
    assert [p["type"] for p in conflist["plugins"]] == ["flannel", "portmap"]
