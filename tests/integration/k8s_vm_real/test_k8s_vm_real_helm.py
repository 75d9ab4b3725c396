"""create.yml's add-ons install the tests' local chart directory through kubernetes.core.helm with the
testbed's helm, its images from the air-gap bundle; asserted on the new cluster's own API server."""

from __future__ import annotations

import json
import subprocess

import pytest
from kubernetes import client

from tests.pods import busybox_pod, exec_in, wait_running
from tests.real_cluster import WEB_CHART_NAMESPACE
from tests.testbed import binaries, images
from tests.testbed.processes import wait_until

pytestmark = [pytest.mark.k8s_vm, pytest.mark.roles, pytest.mark.testbed]

RELEASE = "gpve-web"
SELECTOR = f"app.kubernetes.io/instance={RELEASE}"


def _helm(cluster, *argv: str) -> str:
    helm = binaries.tool("helm") / "helm"
    return subprocess.run([str(helm), "--kubeconfig", str(cluster.kubeconfig()), *argv], check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def test_the_local_chart_is_a_deployed_release(real_cluster):
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    releases = json.loads(_helm(cluster, "list", "--namespace", WEB_CHART_NAMESPACE, "--output", "json"))
    assert [(r["name"], r["chart"], r["status"]) for r in releases] == [(RELEASE, "gpve-web-0.1.0", "deployed")]
    values = json.loads(_helm(cluster, "get", "values", RELEASE, "--namespace", WEB_CHART_NAMESPACE, "--output", "json"))
    assert values == {"global": {"imageRegistry": images.REGISTRY}}


def test_the_release_pods_run_the_bundle_image(real_cluster):
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    pods = client.CoreV1Api(cluster.api()).list_namespaced_pod(WEB_CHART_NAMESPACE, label_selector=SELECTOR).items
    assert len(pods) == 2, [p.metadata.name for p in pods]
    assert {p.status.phase for p in pods} == {"Running"}
    assert {c.image for p in pods for c in p.spec.containers} == {images.TEST_IMAGE}
    # What containerd ran: the bundle's image, imported under the testbed's prefix (nothing can be pulled).
    assert {s.image for p in pods for s in p.status.container_statuses} == {images.TEST_IMAGE}
    assert all(s.ready for p in pods for s in p.status.container_statuses)


def test_the_release_service_answers_a_pod(real_cluster):
    cluster, run = real_cluster
    assert run.returncode == 0, run.stdout[-3000:]
    core = client.CoreV1Api(cluster.api())
    name = "chart-client"
    core.create_namespaced_pod(WEB_CHART_NAMESPACE, busybox_pod(name, "exec sleep 3600"))
    try:
        wait_running(core, name, WEB_CHART_NAMESPACE, timeout=180)
        fetch = f"timeout 10 wget -q -O - http://{RELEASE}.{WEB_CHART_NAMESPACE}.svc.cluster.local/"
        wait_until(lambda: exec_in(core, name, WEB_CHART_NAMESPACE, fetch).strip() == "hello-from-gpve-web", 60,
                   "the chart's Service to answer by name", interval=2.0)
    finally:
        core.delete_namespaced_pod(name, WEB_CHART_NAMESPACE, grace_period_seconds=0)
