"""Defaults of the vCluster spec, and the table of invalid specs with the field and message each one gets."""

from __future__ import annotations

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import validation
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.runner import build_spec

pytestmark = pytest.mark.vcluster


def test_defaults_follow_the_seed_and_the_namespace_prefix_comes_from_the_environment():
    spec = specs.normalize({"name": "demo"}, environ={})
    assert spec["namespace"] == "vc-demo"
    assert spec["kubernetes_version"] == "1.37.2" and spec["distro"] == "k8s"
    assert spec["isolation_mode"] == "namespace" and spec["control_plane"]["replicas"] == 1
    assert spec["resources"]["api_server"] == {"requests": {"cpu": "100m", "memory": "128Mi"},
                                               "limits": {"cpu": "1000m", "memory": "2Gi"}}
    assert spec["resources"]["syncer"] == {"requests": {"cpu": "50m", "memory": "64Mi"},
                                           "limits": {"cpu": "500m", "memory": "512Mi"}}
    assert spec["resources"]["coredns"]["limits"] == {"cpu": "200m", "memory": "256Mi"}
    assert spec["sync"]["from_host"]["nodes"] == {"enabled": True, "selector": None}
    assert specs.normalize({"name": "demo"}, environ={specs.NAMESPACE_PREFIX_ENV: "team-"})["namespace"] == "team-demo"
    validation.validate_spec(spec)


def test_microvm_defaults_to_the_kata_runtime_class_and_sync_rules_accept_booleans():
    spec = specs.normalize({"name": "demo", "isolation_mode": "microvm",
                            "sync": {"to_host": {"ingresses": False},
                                     "from_host": {"nodes": {"selector": {"match_labels": {"pool": "a"}}}}}}, {})
    assert spec["control_plane"]["runtime_class_name"] == "kata"
    assert spec["sync"]["to_host"]["ingresses"] == {"enabled": False, "selector": None}
    assert spec["sync"]["from_host"]["nodes"] == {"enabled": True, "selector": {"match_labels": {"pool": "a"}}}


INVALID = [
    ({"name": "Demo"}, "name", "DNS label"),
    ({"name": "d" * 51}, "name", "at most 50"),
    ({"name": "-demo"}, "name", "DNS label"),
    ({"namespace": "Team_A"}, "namespace", "not a valid namespace"),
    ({"labels": {"team": "a b"}}, "labels.team", "not a valid label value"),
    ({"labels": {"bad key!": "a"}}, "labels.bad key!", "not a valid key"),
    ({"kubernetes_version": "1.37"}, "kubernetes_version", "not a version like"),
    ({"kubernetes_version": "1.20.2"}, "kubernetes_version", "outside the supported window 1.35.0 to 1.37.x"),
    ({"kubernetes_version": "1.30.14"}, "kubernetes_version", "outside the supported window 1.35.0 to 1.37.x"),
    ({"kubernetes_version": "1.38.0"}, "kubernetes_version", "outside the supported window 1.35.0 to 1.37.x"),
    ({"kubernetes_version": "1.31.0"}, "kubernetes_version", "outside the supported"),
    ({"distro": "k0s"}, "distro", "not one of k8s, k3s"),
    ({"isolation_mode": "chroot"}, "isolation_mode", "not one of"),
    ({"control_plane": {"replicas": 0}}, "control_plane.replicas", "at least 1"),
    ({"control_plane": {"replicas": 2}}, "control_plane.replicas", "use 1, 3 or 5"),
    ({"distro": "k3s", "control_plane": {"replicas": 3}}, "control_plane.replicas", "single-writer store"),
    ({"control_plane": {"etcd": {"external": ["http://etcd:2379"]}}}, "control_plane.etcd.external", "https://"),
    ({"distro": "k3s", "control_plane": {"etcd": {"external": ["https://etcd:2379"]}}},
     "control_plane.etcd.external", "only the k8s distro"),
    ({"control_plane": {"runtime_class_name": "gvisor"}}, "control_plane.runtime_class_name",
     "for isolation_mode container or microvm"),
    ({"control_plane": {"api_server": {"extra_args": ["-v=2"]}}}, "control_plane.api_server.extra_args",
     "--flag=value"),
    ({"networking": {"service_cidr": "10.96.0.1/12"}}, "networking.service_cidr", "host bits zero"),
    ({"networking": {"service_cidr": "10.96.0.0/31"}}, "networking.service_cidr", "too small"),
    ({"networking": {"pod_cidr": "not-a-cidr"}}, "networking.pod_cidr", "not a network"),
    ({"networking": {"pod_cidr": "10.112.0.0/16"}}, "networking.pod_cidr", "overlaps the service range"),
    ({"networking": {"dns_domain": "Cluster_Local"}}, "networking.dns_domain", "not a DNS domain"),
    ({"networking": {"expose": {"type": "Route"}}}, "networking.expose.type", "not one of"),
    ({"networking": {"expose": {"type": "ClusterIP", "node_port": 30080}}}, "networking.expose.node_port",
     "only with type NodePort"),
    ({"networking": {"expose": {"type": "NodePort", "node_port": 8080}}}, "networking.expose.node_port",
     "outside 30000-32767"),
    ({"networking": {"expose": {"type": "LoadBalancer", "load_balancer_ip": "lb.example.com"}}},
     "networking.expose.load_balancer_ip", "not an IP address"),
    ({"networking": {"expose": {"type": "NodePort", "load_balancer_ip": "192.0.2.1"}}},
     "networking.expose.load_balancer_ip", "only with type LoadBalancer"),
    ({"networking": {"expose": {"type": "Ingress"}}}, "networking.expose.ingress.host", "needs a DNS host name"),
    ({"networking": {"expose": {"type": "Ingress", "ingress": {"host": "*.example.com"}}}},
     "networking.expose.ingress.host", "needs a DNS host name"),
    ({"networking": {"expose": {"type": "NodePort", "ingress": {"host": "a.example.com"}}}},
     "networking.expose.ingress", "only with type Ingress"),
    ({"storage": {"size": "5 GB"}}, "storage.size", "not a quantity"),
    ({"storage": {"size": "0"}}, "storage.size", "more than 0"),
    ({"storage": {"storage_class": "Fast_SSD"}}, "storage.storage_class", "not a valid name"),
    ({"resources": {"api_server": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}},
     "resources.api_server.requests.cpu", "above the limit"),
    ({"resources": {"etcd": {"requests": {"gpu": "1"}}}}, "resources.etcd.requests", "use cpu, memory"),
    ({"resources": {"syncer": {"limits": {"memory": "lots"}}}}, "resources.syncer.limits.memory", "not a quantity"),
    ({"resources": {"apiserver": {"requests": {"cpu": "1"}}}}, "resources.apiserver", "unknown component"),
    ({"resources": {"etcd": {"request": {"cpu": "1"}}}}, "resources.etcd", "use requests and limits"),
    ({"sync": {"to_guest": {}}}, "sync.to_guest", "unknown direction"),
    ({"sync": {"to_host": {"deployments": True}}}, "sync.to_host.deployments", "unknown resource"),
    ({"sync": {"from_host": {"storage_classes": {"selector": {"labels": {"a": "b"}}}}}}, "sync.from_host.storage_classes.selector",
     "match_labels and match_expressions"),
    ({"image_registry": "https://registry.example.com"}, "image_registry", "without a scheme"),
    ({"sync": {"to_host": {"pods": {"selector": {"match_labels": {"a": "b"}}}}}}, "sync.to_host.pods.selector",
     "0.36.1 syncs to the host without label selectors"),
    ({"sync": {"from_host": {"nodes": {"selector": {"match_expressions": [{"key": "a", "operator": "Exists"}]}}}}},
     "sync.from_host.nodes.selector", "by labels only"),
    ({"image_registry": "mirror"}, "image_registry", "needs a dot or a port"),
    ({"image_registry": "registry.example.com/Team"}, "image_registry", "path component"),
    ({"image_registry": "registry.example.com/k8s:v1"}, "image_registry", "path component"),
    ({"image_registry": "-bad.example.com"}, "image_registry", "registry host"),
    ({"syncer": {"enabled": False, "image": "x"}}, "syncer.image", "0.36.1's syncer has no such setting"),
    ({"plugins": [{"name": "p", "image": "ghcr.io/o/p:1", "command": ["x"]}]}, "plugins[0].command",
     "unknown plugin setting"),
    ({"plugins": [{"name": "syncer", "image": "ghcr.io/o/p:1"}]}, "plugins[0].name", "another container"),
    ({"plugins": [{"name": "p", "image": "ghcr.io/O/p:1"}]}, "plugins[0].image", "not an image reference"),
    ({"plugins": [{"name": "p", "image": "ghcr.io/o/p:1"}], "syncer": {"enabled": False}}, "plugins[0]",
     "plugins run beside the syncer"),
    ({"pki": {"extra_sans": ["not valid!"]}}, "pki.extra_sans", "neither an IP address nor a DNS name"),
    ({"pki": {"renew_before_days": 400}}, "pki.renew_before_days", "between 1 and 180"),
]


@pytest.mark.parametrize("options,field,message", INVALID, ids=[f"{case[1]}-{index}" for index, case in enumerate(INVALID)])
def test_invalid_spec_is_refused_with_field_and_message(options, field, message):
    params = {"name": "demo"}
    params.update(options)
    with pytest.raises(ValidationError) as refused:
        build_spec(params, environ={})
    assert refused.value.field == field
    assert message in str(refused.value)


DEPLOYED = specs.normalize({"name": "demo", "kubernetes_version": "1.35.4"}, {})    # the oldest supported minor


@pytest.mark.parametrize("options,field,message", [
    ({"kubernetes_version": "1.37.0"}, "kubernetes_version", "one minor version at a time"),
    ({"distro": "k3s"}, "distro", "cannot change"),
    ({"namespace": "elsewhere"}, "namespace", "moving it is not supported"),
    ({"storage": {"size": "10Gi"}}, "storage.size", "cannot be resized"),
    ({"storage": {"storage_class": "fast"}}, "storage.storage_class", "cannot change"),
])
def test_changes_an_existing_vcluster_cannot_take(options, field, message):
    wanted = specs.normalize(dict({"name": "demo", "kubernetes_version": "1.35.4"}, **options), {})
    with pytest.raises(ValidationError) as refused:
        validation.validate_change(wanted, DEPLOYED)
    assert refused.value.field == field and message in str(refused.value)


def test_one_minor_up_from_the_oldest_supported_and_any_patch_are_fine_two_minors_are_not():
    for version in ("1.35.9", "1.36.0"):
        assert validation.validate_change(specs.normalize({"name": "demo", "kubernetes_version": version}, {}), DEPLOYED) is None
    with pytest.raises(ValidationError, match="one minor version at a time") as refused:
        validation.validate_change(specs.normalize({"name": "demo", "kubernetes_version": "1.37.0"}, {}), DEPLOYED)
    assert refused.value.field == "kubernetes_version"


def test_a_downgrade_is_refused():
    deployed = specs.normalize({"name": "demo", "kubernetes_version": "1.36.3"}, {})
    with pytest.raises(ValidationError, match="downgrading from 1.36.3") as refused:
        validation.validate_change(specs.normalize({"name": "demo", "kubernetes_version": "1.35.9"}, {}), deployed)
    assert refused.value.field == "kubernetes_version"


def test_host_service_range_overlap():
    spec = specs.normalize({"name": "demo", "networking": {"service_cidr": "10.96.0.0/16"}}, {})
    with pytest.raises(ValidationError, match="overlaps the host cluster's service range 10.96.0.0/12"):
        validation.validate_host_service_range(spec, "10.96.0.0/12")
    validation.validate_host_service_range(specs.normalize({"name": "demo"}, {}), "10.96.0.0/12")
