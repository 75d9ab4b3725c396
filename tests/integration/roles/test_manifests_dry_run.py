"""Every shipped CNI and add-on manifest passes a server-side dry run on the testbed's API server.

The testbed runs Kubernetes 1.20; the manifests target 1.35 to 1.37. Of their API versions,
1.20 lacks only policy/v1 (PodDisruptionBudget, served from 1.21): such an object is dry-run as
policy/v1beta1, whose PodDisruptionBudget spec has the same fields the manifests use. The test
fails on any other API version the server does not serve.
"""

from __future__ import annotations

import copy

import pytest
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ResourceNotFoundError

pytestmark = pytest.mark.roles

# API versions newer than the testbed's 1.20, and the older version of the same kind it serves.
NEWER_THAN_TESTBED = {("policy/v1", "PodDisruptionBudget"): "policy/v1beta1"}
EXPECTED = {"cni-calico", "cni-cilium", "cni-flannel", "cert_manager", "ingress", "metrics_server", "monitoring",
            "storage_provisioner"}


def dry_run(dyn, document):
    """Create with dryRun=All; an object that already exists is dry-run replaced instead."""
    resource = dyn.resources.get(api_version=document["apiVersion"], kind=document["kind"])
    namespace = document["metadata"].get("namespace")
    try:
        return resource.create(body=document, namespace=namespace, dry_run="All")
    except ApiException as exc:
        if exc.status != 409:
            raise
    current = resource.get(name=document["metadata"]["name"], namespace=namespace)
    replacement = copy.deepcopy(document)
    replacement["metadata"]["resourceVersion"] = current.metadata.resourceVersion
    return resource.replace(body=replacement, namespace=namespace, dry_run="All")


@pytest.fixture
def manifest_namespaces(kube_client, rendered_manifests):
    """The manifests' namespaces, for real (a dry-run namespace holds nothing); removed afterwards."""
    core = client.CoreV1Api(kube_client)
    wanted = sorted({d["metadata"]["name"] for docs in rendered_manifests.values() for d in docs if d["kind"] == "Namespace"})
    created = []
    for name in wanted:
        try:
            core.create_namespace({"metadata": {"name": name}})
            created.append(name)
        except ApiException as exc:
            if exc.status != 409:
                raise
    yield wanted
    for name in created:
        core.delete_namespace(name)


def test_every_shipped_manifest_passes_a_server_side_dry_run(kube_client, rendered_manifests, manifest_namespaces):
    assert set(rendered_manifests) == EXPECTED
    dyn = dynamic.DynamicClient(kube_client)
    converted = []
    for stem, documents in sorted(rendered_manifests.items()):
        assert documents, stem
        for document in documents:
            key = (document["apiVersion"], document["kind"])
            try:
                dyn.resources.get(api_version=document["apiVersion"], kind=document["kind"])
            except ResourceNotFoundError:
                assert key in NEWER_THAN_TESTBED, f"{stem}: {key} is served by neither the testbed nor the map above"
                document = dict(document, apiVersion=NEWER_THAN_TESTBED[key])
                converted.append((stem, document["metadata"]["name"]))
            answer = dry_run(dyn, document)
            assert answer.metadata.name == document["metadata"]["name"], (stem, key)
    assert converted == [("cni-calico", "calico-kube-controllers")]


def test_the_pod_cidr_is_wired_into_every_cni(rendered_manifests):
    calico = next(d for d in rendered_manifests["cni-calico"] if d["kind"] == "DaemonSet")
    env = dict((e["name"], e.get("value")) for e in calico["spec"]["template"]["spec"]["containers"][0]["env"])
    assert env["CALICO_IPV4POOL_CIDR"] == "10.244.0.0/16" and env["CALICO_IPV4POOL_IPIP"] == "Always"
    cilium = next(d for d in rendered_manifests["cni-cilium"] if d["kind"] == "ConfigMap")
    assert cilium["data"]["cluster-pool-ipv4-cidr"] == "10.244.0.0/16"
    flannel = next(d for d in rendered_manifests["cni-flannel"] if d["kind"] == "ConfigMap")
    assert '"Network": "10.244.0.0/16"' in flannel["data"]["net-conf.json"]


def test_images_are_pinned(rendered_manifests):
    for stem, documents in rendered_manifests.items():
        for document in documents:
            template = document.get("spec", {}).get("template", {}).get("spec", {})
            for container in template.get("containers", []) + template.get("initContainers", []):
                image = container["image"]
                assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), (stem, image)
