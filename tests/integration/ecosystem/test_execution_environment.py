"""An execution environment with the built tarball: ansible-builder's context holds every requirement the collection
declares (meta/execution-environment.yml, requirements.txt, bindep.txt), and the tarball's Python requirements resolve
together with kubernetes.core's and community.proxmox's in one pip run.

No container runtime here: the test does the image's galaxy and builder stages the way the generated Dockerfile says
(ansible-galaxy from the context's _build, then the context's own introspect.py), outside a container.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import tarball_support as tarball
import yaml
from packaging.requirements import Requirement

pytestmark = pytest.mark.ecosystem

# introspect.py leaves out what ansible-core and the builder install anyway (its EXCLUDE_REQUIREMENTS).
PROVIDED_BY_THE_BASE = ("pyyaml",)
BUNDLED = Path(yaml.__file__).resolve().parents[1] / "ansible_collections"  # the collections of the `ansible` package


def requirement_lines(path):
    return [line.split("#")[0].strip() for line in Path(path).read_text().splitlines()
            if line.split("#")[0].strip()]


@pytest.fixture
def context(built_collection, tmp_path):
    """ansible-builder create on an EE definition that installs the built tarball; the context directory."""
    shutil.copy(built_collection.tarball, tmp_path / tarball.TARBALL_NAME)
    definition = {
        "version": 3,
        "images": {"base_image": {"name": "ee-base:latest"}},
        "dependencies": {
            "ansible_core": {"package_pip": "ansible-core>=2.19,<2.20"},
            "ansible_runner": {"package_pip": "ansible-runner>=2.4"},
            "galaxy": {"collections": [{"name": f"collections/{tarball.TARBALL_NAME}", "type": "file"}]},
        },
        "additional_build_files": [{"src": tarball.TARBALL_NAME, "dest": "collections"}],
    }
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(definition))
    tarball.run([tarball.BIN / "ansible-builder", "create", "-f", "execution-environment.yml", "-c", "context",
                 "--output-filename", "Containerfile"], cwd=tmp_path)
    return tmp_path / "context"


def test_the_builder_context_installs_the_tarball_and_holds_every_requirement(context, built_collection, tmp_path):
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "/output/scripts/introspect.py introspect" in containerfile
    shipped = context / "_build" / "collections" / tarball.TARBALL_NAME
    assert shipped.read_bytes() == built_collection.tarball.read_bytes()

    # The galaxy stage (dependencies come from Galaxy in a real build: none here, so --no-deps) ...
    collections = tmp_path / "usr-share-ansible" / "collections"
    tarball.run([tarball.BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-r", "requirements.yml",
                 "--collections-path", collections], cwd=context / "_build")
    installed = collections / "ansible_collections" / "gpve" / "cluster"
    assert yaml.safe_load((installed / "meta" / "execution-environment.yml").read_text())["dependencies"] == {
        "python": "requirements.txt", "system": "bindep.txt"}
    # ... and the builder stage's introspection, with the context's own script.
    pip_out, bindep_out = tmp_path / "src" / "requirements.txt", tmp_path / "src" / "bindep.txt"
    tarball.run([sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect",
                 f"--write-bindep={bindep_out}", f"--write-pip={pip_out}", collections])
    python = requirement_lines(pip_out)
    for line in requirement_lines(tarball.REPO / "requirements.txt"):
        name = Requirement(line).name
        if name.lower() in PROVIDED_BY_THE_BASE:
            continue
        assert [found for found in python if Requirement(found).name == name and
                Requirement(found).specifier == Requirement(line).specifier], (line, python)
    system = requirement_lines(bindep_out)
    for line in requirement_lines(tarball.REPO / "bindep.txt"):
        assert line in system, (line, system)


def test_the_python_requirements_resolve_with_kubernetes_core_and_community_proxmox(built_collection, tmp_path):
    sources = {"gpve.cluster": built_collection.path / "requirements.txt",
               "kubernetes.core": BUNDLED / "kubernetes" / "core" / "requirements.txt",
               "community.proxmox": BUNDLED / "community" / "proxmox" / "meta" / "ee-requirements.txt"}
    for path in sources.values():
        assert path.is_file(), path
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--no-input",
               "--report", report]
    for path in sources.values():
        command += ["-r", path]
    tarball.run(command, timeout=900)
    resolved = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    for collection, path in sources.items():
        for line in requirement_lines(path):
            requirement = Requirement(line)
            version = resolved.get(requirement.name.lower().replace("_", "-"))
            assert version is not None, (collection, line)
            assert requirement.specifier.contains(version, prereleases=True), (collection, line, version)
