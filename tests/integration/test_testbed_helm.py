"""The testbed's helm, built from helm.sh/helm/v3 at the pinned version, is one kubernetes.core.helm
drives (helm 4 dropped flags it passes, docs/testbed.md), and renders the tests' local chart with its
image under the registry prefix values give.

No testbed is started: helm comes from the build cache (built there if missing)."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.real_cluster import WEB_CHART
from tests.testbed import binaries, images

pytestmark = pytest.mark.testbed

# How kubernetes.core's module_utils/helm.py reads `helm version` (it refuses what it cannot parse).
KUBERNETES_CORE_VERSION = re.compile(r'version.BuildInfo{Version:"v(.*?)",')


def _helm(*argv: str) -> str:
    helm = binaries.tool("helm") / "helm"
    return subprocess.run([str(helm), *argv], check=True, stdout=subprocess.PIPE, text=True).stdout


def _rendered(*values: str) -> dict[str, dict]:
    """kind -> object of `helm template` of the chart with --set values."""
    sets = [arg for value in values for arg in ("--set", value)]
    docs = yaml.safe_load_all(_helm("template", "web", str(WEB_CHART), "--namespace", "web", *sets))
    return {doc["kind"]: doc for doc in docs if doc}


def test_helm_version_is_the_pinned_one_as_kubernetes_core_reads_it():
    match = KUBERNETES_CORE_VERSION.match(_helm("version"))
    assert match, "kubernetes.core.helm cannot read this helm's version"
    assert "v" + match.group(1) == binaries.TOOL_VERSIONS["helm"]


@pytest.mark.parametrize("argv", [
    ("list", "--output=yaml", "--filter", "web", "--all"),
    ("upgrade", "-i", "--reset-values", "--wait", "--timeout", "600s", "--create-namespace", "--atomic", "--force",
     "--values=values.yaml", "web", "./chart"),
    ("uninstall", "--keep-history", "--no-hooks", "--wait", "--timeout", "600s", "web"),
    ("get", "values", "web", "--output=yaml"),
    ("show", "chart", "./chart"),
], ids=["list", "upgrade", "uninstall", "get-values", "show-chart"])
def test_helm_takes_every_flag_kubernetes_core_helm_passes(argv):
    """As kubernetes.core 6.2's helm module composes them (helm 4 refuses list --all;
    it takes --atomic and --force as deprecated aliases);
    with --help a command stops after parsing its flags, before it reaches any cluster."""
    _helm(*argv, "--help")


def test_the_chart_lints_clean():
    assert "0 chart(s) failed" in _helm("lint", str(WEB_CHART), "--strict")


@pytest.mark.parametrize("values, image", [
    ((), "busybox:1.35.0"),
    ((f"global.imageRegistry={images.REGISTRY}",), images.TEST_IMAGE),
    ((f"global.imageRegistry={images.REGISTRY}", "image.registry=mirror.gpve.test"), "mirror.gpve.test/busybox:1.35.0"),
], ids=["upstream", "addons-registry", "chart-registry-wins"])
def test_the_chart_renders_its_image_under_the_registry_values_give(values, image):
    rendered = _rendered(*values)
    assert set(rendered) == {"Deployment", "Service"}
    containers = rendered["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == [image]
    selector = rendered["Service"]["spec"]["selector"]
    assert selector == rendered["Deployment"]["spec"]["selector"]["matchLabels"]
    assert selector["app.kubernetes.io/instance"] == "web"
