"""The rendered host objects: StatefulSet per distro and isolation, exposure, RBAC, secrets."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import layout
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import endpoint as endpoints
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import commands, coredns, manifests, names
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.statefulset import render_statefulset

pytestmark = pytest.mark.vcluster


@pytest.fixture(scope="module")
def pki():
    generated = bundles.generate_bundle(layout.PkiParams(name="demo", namespace="vc-demo"))
    return bundles.secret_data(generated), bundles.vcluster_kubeconfig_data(generated, "https://x.example.com", "gpve_demo")


def rendered(pki, **options):
    spec = specs.normalize(dict({"name": "demo"}, **options), {})
    return spec, {(obj["kind"], obj["metadata"]["name"]): obj for obj in manifests.render(spec, *pki)}


def objects_for(pki, **options):
    return rendered(pki, **options)[1]


def pod_spec(objects):
    return objects[("StatefulSet", "demo")]["spec"]["template"]["spec"]


def containers(objects):
    return {container["name"]: container for container in pod_spec(objects)["containers"]}


def test_k8s_distro_runs_each_component_with_its_rendered_command_and_the_certs_mounted(pki):
    spec, objects = rendered(pki)
    found = containers(objects)
    assert list(found) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "syncer"]
    params = commands.CommandParams(name="demo", namespace="vc-demo", service_cidr=spec["networking"]["service_cidr"],
                                    pod_cidr=spec["networking"]["pod_cidr"],
                                    headless_service_name="demo-headless", endpoint_reconciler="none")
    assert found["kube-apiserver"]["command"] == commands.apiserver_command(params)
    assert found["etcd"]["command"] == commands.etcd_command(params)
    assert found["kube-apiserver"]["image"] == "registry.k8s.io/kube-apiserver:v1.37.2"
    assert found["kube-apiserver"]["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 6443, "scheme": "HTTPS"}
    assert found["kube-apiserver"]["resources"] == spec["resources"]["api_server"]
    for container in found.values():
        assert {"name": "certs", "mountPath": "/run/config/pki", "readOnly": True} in container["volumeMounts"]
    volumes = {volume["name"]: volume for volume in pod_spec(objects)["volumes"]}
    assert volumes["certs"]["secret"]["secretName"] == "demo-certs"


def test_statefulset_has_the_claim_template_anti_affinity_and_selector(pki):
    objects = objects_for(pki, storage={"size": "8Gi", "storage_class": "fast"},
                          control_plane={"replicas": 3, "node_selector": {"disk": "ssd"},
                                         "tolerations": [{"key": "cp", "operator": "Exists"}]})
    statefulset = objects[("StatefulSet", "demo")]["spec"]
    assert statefulset["replicas"] == 3 and statefulset["serviceName"] == "demo-headless"
    assert statefulset["volumeClaimTemplates"][0]["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                                                              "resources": {"requests": {"storage": "8Gi"}}}
    claims = [objects[("PersistentVolumeClaim", f"data-demo-{index}")] for index in range(3)]
    assert all(claim["spec"] == statefulset["volumeClaimTemplates"][0]["spec"] for claim in claims)
    assert all(claim["metadata"]["labels"] == statefulset["selector"]["matchLabels"] for claim in claims)
    template = statefulset["template"]["spec"]
    assert template["nodeSelector"] == {"disk": "ssd"} and template["tolerations"][0]["key"] == "cp"
    term = template["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"] == statefulset["selector"]["matchLabels"]


def test_external_etcd_drops_the_etcd_container(pki):
    objects = objects_for(pki, control_plane={"etcd": {"external": ["https://etcd.example.com:2379"]}})
    found = containers(objects)
    assert "etcd" not in found
    assert "--etcd-servers=https://etcd.example.com:2379" in found["kube-apiserver"]["command"]


def test_k3s_distro_places_the_bundle_cas_where_k3s_reads_them(pki):
    objects = objects_for(pki, distro="k3s")
    init = pod_spec(objects)["initContainers"][0]
    script = init["command"][2]
    assert "cp /run/config/pki/ca.crt /data/server/tls/server-ca.crt" in script
    assert "cp /run/config/pki/front-proxy-ca.key /data/server/tls/request-header-ca.key" in script
    assert "cp /run/config/pki/sa.key /data/server/tls/service.key" in script
    assert containers(objects)["k3s"]["image"] == "rancher/k3s:v1.37.2-k3s1"


@pytest.mark.parametrize("expose,service_type", [
    ({"type": "ClusterIP"}, "ClusterIP"),
    ({"type": "NodePort", "node_port": 30443}, "NodePort"),
    ({"type": "LoadBalancer", "load_balancer_ip": "192.0.2.20"}, "LoadBalancer"),
    ({"type": "Ingress", "ingress": {"host": "demo.example.com", "class_name": "nginx"}}, "ClusterIP"),
])
def test_exposure_shapes_the_client_service_and_the_ingress(pki, expose, service_type):
    objects = objects_for(pki, networking={"expose": expose})
    service = objects[("Service", "demo")]["spec"]
    assert service["type"] == service_type
    # With the syncer (the default) its proxy serves the API, as upstream's Service targets it; without, the API server.
    assert service["ports"][0]["port"] == 443 and service["ports"][0]["targetPort"] == 8443
    without = objects_for(pki, networking={"expose": expose}, syncer={"enabled": False})[("Service", "demo")]["spec"]
    assert without["ports"] == [dict(service["ports"][0], targetPort=6443)]
    assert service.get("loadBalancerIP") == expose.get("load_balancer_ip")
    assert service["ports"][0].get("nodePort") == expose.get("node_port")
    if expose["type"] == "Ingress":
        ingress = objects[("Ingress", "demo")]
        assert ingress["spec"]["ingressClassName"] == "nginx"
        rule = ingress["spec"]["rules"][0]
        assert rule["host"] == "demo.example.com"
        assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "demo", "port": {"number": 443}}
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-passthrough"] == "true"
    else:
        assert ("Ingress", "demo") not in objects
    headless = objects[("Service", "demo-headless")]["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"]


def test_container_isolation_restricts_pods_and_fences_the_namespace(pki):
    objects = objects_for(pki, isolation_mode="container", networking={"expose": {"type": "NodePort"}})
    labels = objects[("Namespace", "vc-demo")]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pod = pod_spec(objects)
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in pod["containers"]:
        assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                                "readOnlyRootFilesystem": True}
    quota = objects[("ResourceQuota", "demo-quota")]["spec"]["hard"]
    assert quota["services.nodeports"] == "1" and quota["count/pods"] == "20"
    assert objects[("LimitRange", "demo-limits")]["spec"]["limits"][0]["type"] == "Container"
    policy = objects[("NetworkPolicy", "demo-isolation")]["spec"]
    assert policy["podSelector"] == {} and policy["policyTypes"] == ["Ingress", "Egress"]
    assert {"from": [{"podSelector": {}}]} in policy["ingress"]


FENCES = {"ResourceQuota": "demo-quota", "LimitRange": "demo-limits", "NetworkPolicy": "demo-isolation"}


@pytest.mark.parametrize("mode", ["namespace", "container", "microvm"])
def test_every_host_isolation_mode_fences_the_namespace(pki, mode):
    objects = objects_for(pki, isolation_mode=mode)
    assert set(FENCES.items()) <= set(objects)
    assert objects[("ResourceQuota", "demo-quota")]["spec"]["hard"]["services.nodeports"] == "0"
    balanced = objects_for(pki, isolation_mode=mode, networking={"expose": {"type": "LoadBalancer"}})
    assert balanced[("ResourceQuota", "demo-quota")]["spec"]["hard"]["services.nodeports"] == "1"
    # Right after the namespace: the quota counts everything created after it.
    kinds = [obj["kind"] for obj in manifests.base_objects(specs.normalize({"name": "demo", "isolation_mode": mode}, {}))]
    assert kinds[:4] == ["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy"]


def test_namespace_isolation_leaves_the_pods_to_the_default_runtime_and_microvm_sets_the_runtime_class(pki):
    plain = objects_for(pki)
    assert "pod-security.kubernetes.io/enforce" not in plain[("Namespace", "vc-demo")]["metadata"]["labels"]
    assert "securityContext" not in pod_spec(plain) and "runtimeClassName" not in pod_spec(plain)
    microvm = objects_for(pki, isolation_mode="microvm")
    assert pod_spec(microvm)["runtimeClassName"] == "kata"
    config = json.loads(base64.b64decode(microvm[("Secret", "vc-config-demo")]["data"]["config.yaml"]))
    assert config["sync"]["toHost"]["pods"]["runtimeClassName"] == "kata"


def test_container_isolation_runs_the_pods_with_a_named_runtime_class_and_none_otherwise(pki):
    named = objects_for(pki, isolation_mode="container", control_plane={"runtime_class_name": "gvisor"})
    assert pod_spec(named)["runtimeClassName"] == "gvisor"
    assert pod_spec(named)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    config = json.loads(base64.b64decode(named[("Secret", "vc-config-demo")]["data"]["config.yaml"]))
    assert config["sync"]["toHost"]["pods"]["runtimeClassName"] == "gvisor"
    unnamed = objects_for(pki, isolation_mode="container")
    assert "runtimeClassName" not in pod_spec(unnamed)
    config = json.loads(base64.b64decode(unnamed[("Secret", "vc-config-demo")]["data"]["config.yaml"]))
    assert "runtimeClassName" not in config["sync"]["toHost"]["pods"]


def role_verbs(objects):
    """{resource: verbs} of the syncer's Role; every resource in one rule only."""
    rules = objects[("Role", "vc-demo")]["rules"]
    listed = [resource for rule in rules for resource in rule["resources"]]
    assert len(listed) == len(set(listed)), listed
    return {resource: rule["verbs"] for rule in rules for resource in rule["resources"]}


def test_syncer_role_covers_only_what_syncs_to_the_host(pki):
    objects = objects_for(pki, sync={"to_host": {"ingresses": False, "secrets": False}, "from_host": {"nodes": False}})
    verbs = role_verbs(objects)
    assert all(verbs[resource] == manifests.WRITE_VERBS for resource in ("pods", "services", "configmaps",
                                                                         "persistentvolumeclaims", "endpoints"))
    assert "ingresses" not in verbs
    # Secrets that do not sync: the kubeconfig Secret's write only, never delete.
    assert "delete" not in verbs["secrets"]
    cluster_rules = objects[("ClusterRole", "vc-demo-v-vc-demo")]["rules"]
    assert [rule["resources"] for rule in cluster_rules] == [["storageclasses"]]
    assert all(rule["verbs"] == ["get", "list", "watch"] for rule in cluster_rules)
    binding = objects[("RoleBinding", "vc-demo")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "vc-demo", "namespace": "vc-demo"}]


def test_secrets_carry_the_bundle_and_vclusters_kubeconfig_keys(pki):
    certs_data, vc_data = pki
    objects = objects_for(pki)
    stored = objects[("Secret", "demo-certs")]["data"]
    assert {key: base64.b64decode(value).decode() for key, value in stored.items()} == certs_data
    vc_keys = {"config", "certificate-authority", "client-certificate", "client-key"}
    assert set(objects[("Secret", "vc-demo")]["data"]) == vc_keys


def test_suspension_is_zero_replicas_with_the_record_as_annotations():
    spec = specs.normalize({"name": "demo", "annotations": {"owner": "team-a"}}, {})
    record = {names.PAUSED_REPLICAS_ANNOTATION: "3", names.PAUSED_AT_ANNOTATION: "2026-01-15T12:00:00+00:00"}
    statefulset = render_statefulset(spec, replicas=0, extra_annotations=record)
    assert statefulset["spec"]["replicas"] == 0
    assert statefulset["metadata"]["annotations"] == dict(record, owner="team-a")


MIRROR = "registry.example.com:5000/mirror"
PLUGIN = {"name": "hooks", "image": "ghcr.io/acme/vcluster-hooks:1.2.0", "args": ["--verbose"],
          "env": [{"name": "MODE", "value": "strict"}]}


def test_without_the_syncer_the_pod_runs_the_control_plane_only(pki):
    found = containers(objects_for(pki, syncer={"enabled": False}))
    assert list(found) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
    assert list(containers(objects_for(pki, distro="k3s", syncer={"enabled": False}))) == ["k3s"]


@pytest.mark.parametrize("distro", ["k8s", "k3s"])
def test_every_image_comes_through_image_registry(pki, distro):
    spec, objects = rendered(pki, distro=distro, image_registry=MIRROR, plugins=[PLUGIN])
    pod = pod_spec(objects)
    images = [c["image"] for c in pod["containers"] + pod.get("initContainers", [])]
    images += [c["image"] for obj in coredns.objects(spec) if obj["kind"] == "Deployment"
               for c in obj["spec"]["template"]["spec"]["containers"]]
    assert all(image.startswith(MIRROR + "/") for image in images), images
    assert f"{MIRROR}/loft-sh/vcluster-pro:0.36.1" in images and f"{MIRROR}/acme/vcluster-hooks:1.2.0" in images
    assert f"{MIRROR}/coredns:v1.14.6" in images
    assert (f"{MIRROR}/rancher/k3s:v1.37.2-k3s1" in images) == (distro == "k3s")
    assert (f"{MIRROR}/kube-apiserver:v1.37.2" in images) == (distro == "k8s")
    config = json.loads(base64.b64decode(objects[("Secret", "vc-config-demo")]["data"]["config.yaml"]))
    assert config["plugin"] == {"hooks": {"image": f"{MIRROR}/acme/vcluster-hooks:1.2.0"}}


def test_without_image_registry_each_image_comes_from_its_home(pki):
    spec = specs.normalize({"name": "demo", "plugins": [PLUGIN]}, {})
    assert specs.images(spec)["coredns"] == "registry.k8s.io/coredns/coredns:v1.14.6"
    assert specs.images(spec)["syncer"] == "ghcr.io/loft-sh/vcluster-pro:0.36.1"
    assert containers(objects_for(pki, plugins=[PLUGIN]))["hooks"]["image"] == PLUGIN["image"]


def test_plugins_are_sidecars_as_the_charts_legacy_plugin_template_makes_them(pki):
    other = {"name": "audit", "image": "ghcr.io/acme/vcluster-audit:0.3.0"}
    objects = objects_for(pki, plugins=[PLUGIN, other])
    found = containers(objects)
    # Addresses by name order, as the chart's template ranges over the plugin map.
    assert list(found)[-3:] == ["syncer", "audit", "hooks"]
    plugin = found["hooks"]
    assert plugin["args"] == ["--verbose"]
    assert plugin["env"] == [{"name": "VCLUSTER_PLUGIN_ADDRESS", "value": "localhost:14001"},
                             {"name": "VCLUSTER_PLUGIN_NAME", "value": "hooks"}, {"name": "MODE", "value": "strict"}]
    assert found["audit"]["env"][0] == {"name": "VCLUSTER_PLUGIN_ADDRESS", "value": "localhost:14000"}
    assert "volumeMounts" not in plugin and "args" not in found["audit"]
    config = json.loads(base64.b64decode(objects[("Secret", "vc-config-demo")]["data"]["config.yaml"]))
    assert config["plugin"] == {"hooks": {"image": PLUGIN["image"]}, "audit": {"image": other["image"]}}
    assert "plugins" not in config


def test_coredns_objects_are_kubeadms_in_the_virtual_kube_system():
    spec = specs.normalize({"name": "demo", "networking": {"service_cidr": "10.112.0.0/12", "dns_domain": "corp.local"}},
                           {})
    found = {(obj["kind"], obj["metadata"]["name"]): obj for obj in coredns.objects(spec)}
    assert set(found) == {("ServiceAccount", "coredns"), ("ClusterRole", "system:coredns"),
                          ("ClusterRoleBinding", "system:coredns"), ("ConfigMap", "coredns"), ("Deployment", "coredns"),
                          ("Service", "kube-dns")}
    assert found[("Service", "kube-dns")]["spec"]["clusterIP"] == "10.112.0.10"
    assert "kubernetes corp.local in-addr.arpa ip6.arpa" in found[("ConfigMap", "coredns")]["data"]["Corefile"]
    assert all(obj["metadata"].get("namespace") in (None, "kube-system") for obj in found.values())


def test_control_plane_containers_get_kubeadms_startup_probe(pki):
    found = containers(objects_for(pki))
    for name, port in (("kube-apiserver", 6443), ("kube-controller-manager", 10257), ("kube-scheduler", 10259)):
        probe = found[name]["startupProbe"]
        assert probe["httpGet"]["port"] == port and probe["failureThreshold"] * probe["periodSeconds"] == 240


def test_without_the_syncer_nothing_of_the_syncers_is_made(pki):
    objects = objects_for(pki, syncer={"enabled": False})
    kinds = {kind for kind, _name in objects}
    assert not kinds & {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
    assert ("Secret", "vc-config-demo") not in objects and ("ServiceAccount", "vc-workload-demo") not in objects
    assert [volume["name"] for volume in pod_spec(objects)["volumes"]] == ["certs"]
    assert pod_spec(objects)["serviceAccountName"] == "vc-demo"


# The pinned upstream release's values schema, read where the project keeps upstream data (never copied in).
UPSTREAM_SCHEMA = Path(__file__).resolve().parents[5].parent / "shared/upstream/vcluster-v0.36.1/values.schema.json"
CONFIG_SHAPES = [
    {},
    {"distro": "k3s"},
    {"isolation_mode": "container"},
    {"isolation_mode": "microvm", "control_plane": {"runtime_class_name": "kata-qemu"}},
    {"control_plane": {"replicas": 3, "coredns": {"enabled": False}}},
    {"networking": {"service_cidr": "10.128.0.0/16", "pod_cidr": "10.200.0.0/16", "dns_domain": "corp.local"}},
    {"sync": {"to_host": {"ingresses": False, "network_policies": True, "secrets": {"enabled": False}},
              "from_host": {"nodes": {"selector": {"match_labels": {"pool": "a"}}},
                            "storage_classes": {"enabled": False},
                            "ingress_classes": {"enabled": True, "selector": {"match_expressions": [
                                {"key": "tier", "operator": "In", "values": ["edge"]}]}},
                            "priority_classes": {"enabled": True, "selector": {"matchLabels": {"team": "a"}}}}}},
    {"plugins": [PLUGIN], "image_registry": MIRROR},
    {"isolation_mode": "container", "control_plane": {"runtime_class_name": "gvisor"}},
    {"control_plane": {"etcd": {"external": ["https://etcd.example.com:2379", "https://etcd-2.example.com:2379"]}}},
    {"distro": "k3s", "plugins": [PLUGIN], "control_plane": {"replicas": 3}},
]


@pytest.mark.parametrize("options", CONFIG_SHAPES, ids=[",".join(sorted(shape)) or "defaults" for shape in CONFIG_SHAPES])
def test_the_syncer_configuration_validates_against_the_pinned_upstream_schema(pki, options):
    schema = json.loads(UPSTREAM_SCHEMA.read_text(encoding="utf-8"))
    objects = objects_for(pki, **options)
    config = json.loads(base64.b64decode(objects[("Secret", "vc-config-demo")]["data"]["config.yaml"]))
    jsonschema.validate(config, schema)
    assert config["sync"]["toHost"]["pods"]["enabled"] is True


def test_the_syncer_configuration_names_resources_and_selectors_as_upstream():
    spec = specs.normalize(dict(CONFIG_SHAPES[6], name="demo"), {})
    config = json.loads(manifests.vcluster_config(spec))
    assert config["sync"]["toHost"]["secrets"] == {"enabled": False}
    assert config["sync"]["toHost"]["networkPolicies"] == {"enabled": True}
    assert config["sync"]["fromHost"]["nodes"] == {"enabled": True, "selector": {"labels": {"pool": "a"}}}
    assert config["sync"]["fromHost"]["priorityClasses"]["selector"] == {"matchLabels": {"team": "a"}}
    assert config["controlPlane"]["distro"]["k8s"]["enabled"] is True
    assert config["controlPlane"]["distro"]["k8s"]["version"] == "v1.37.2"


def test_with_the_syncer_corednss_manifests_go_to_it_as_upstreams_chart_gives_them(pki):
    spec, objects = rendered(pki)
    config_map = objects[("ConfigMap", "vc-coredns-demo")]
    documents = [json.loads(text) for text in config_map["data"]["coredns.yaml"].split("\n---\n")]
    assert documents == coredns.objects(spec)
    assert {"name": "coredns", "mountPath": "/manifests/coredns", "readOnly": True} in \
        containers(objects)["syncer"]["volumeMounts"]
    assert {"name": "coredns", "configMap": {"name": "vc-coredns-demo"}} in pod_spec(objects)["volumes"]
    without = objects_for(pki, control_plane={"coredns": {"enabled": False}})
    assert ("ConfigMap", "vc-coredns-demo") not in without
    assert "coredns" not in [volume["name"] for volume in pod_spec(without)["volumes"]]
    assert ("ConfigMap", "vc-coredns-demo") not in objects_for(pki, syncer={"enabled": False})


def config_of(objects):
    return json.loads(base64.b64decode(objects[("Secret", "vc-config-demo")]["data"]["config.yaml"]))


def test_the_syncer_container_is_the_one_of_the_pinned_releases_chart(pki):
    """vCluster 0.36.1's chart: no command or args (the image's entrypoint is the start command, which reads
    /var/vcluster/config.yaml), the name and pod fields in the environment, the scratch emptyDirs, probes on 8443."""
    objects = objects_for(pki)
    syncer = containers(objects)["syncer"]
    assert syncer["image"] == "ghcr.io/loft-sh/vcluster-pro:0.36.1"
    assert "command" not in syncer and "args" not in syncer and "ports" not in syncer
    assert syncer["env"] == [
        {"name": "VCLUSTER_NAME", "value": "demo"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    assert syncer["volumeMounts"] == [
        {"name": "certs", "mountPath": "/run/config/pki", "readOnly": True},
        {"name": "syncer-data", "mountPath": "/data"}, {"name": "binaries", "mountPath": "/binaries"},
        {"name": "syncer-pki", "mountPath": "/pki"}, {"name": "helm-cache", "mountPath": "/.cache/helm"},
        {"name": "tmp", "mountPath": "/tmp"}, {"name": "vcluster-config", "mountPath": "/var/vcluster"},
        {"name": "coredns", "mountPath": "/manifests/coredns", "readOnly": True}]
    assert syncer["livenessProbe"] == {"httpGet": {"path": "/healthz", "port": 8443, "scheme": "HTTPS"},
                                       "initialDelaySeconds": 60, "periodSeconds": 2, "timeoutSeconds": 3,
                                       "failureThreshold": 60}
    assert syncer["readinessProbe"] == {"httpGet": {"path": "/readyz", "port": 8443, "scheme": "HTTPS"},
                                        "periodSeconds": 2, "timeoutSeconds": 3, "failureThreshold": 60}
    assert syncer["startupProbe"] == {"httpGet": {"path": "/readyz", "port": 8443, "scheme": "HTTPS"},
                                      "periodSeconds": 6, "timeoutSeconds": 3, "failureThreshold": 300}
    assert syncer["resources"] == specs.DEFAULT_RESOURCES["syncer"]
    volumes = {volume["name"]: volume for volume in pod_spec(objects)["volumes"]}
    assert volumes["vcluster-config"]["secret"]["secretName"] == "vc-config-demo"
    assert all(volumes[name] == {"name": name, "emptyDir": {}}
               for name in ("syncer-data", "binaries", "syncer-pki", "helm-cache", "tmp"))
    # The data claim stays the control plane's: a syncer of the k8s distro would migrate k3s data it found at /data.
    k3s_syncer = containers(objects_for(pki, distro="k3s"))["syncer"]
    assert {"name": "syncer-data", "mountPath": "/data"} in k3s_syncer["volumeMounts"]
    assert all(mount["name"] != "data" for mount in k3s_syncer["volumeMounts"])


def test_the_syncer_configuration_has_it_start_nothing_and_use_the_pods_control_plane(pki):
    certs_data, _kubeconfig = pki
    objects = objects_for(pki, control_plane={"replicas": 3})
    config = config_of(objects)
    control_plane = config["controlPlane"]
    assert control_plane["distro"]["k8s"] == {"enabled": True, "version": "v1.37.2", "apiServer": {"enabled": False},
                                              "controllerManager": {"enabled": False}, "scheduler": {"enabled": False}}
    assert control_plane["backingStore"] == {"etcd": {"external": {
        "enabled": True, "endpoint": "127.0.0.1:2379",
        "tls": {"caFile": "/run/config/pki/etcd-ca.crt", "certFile": "/run/config/pki/apiserver-etcd-client.crt",
                "keyFile": "/run/config/pki/apiserver-etcd-client.key"}}}}
    assert control_plane["statefulSet"] == {"highAvailability": {"replicas": 3}}
    assert control_plane["proxy"] == {"extraSANs": ["demo.vc-demo.svc"]}
    assert control_plane["advanced"] == {"workloadServiceAccount": {"name": "vc-workload-demo"}}
    files = config["experimental"]["virtualClusterKubeConfig"]
    assert files == {"kubeConfig": "/run/config/pki/admin.conf", "serverCACert": "/run/config/pki/ca.crt",
                     "serverCAKey": "/run/config/pki/ca.key", "clientCACert": "/run/config/pki/ca.crt",
                     "clientCAKey": "/run/config/pki/ca.key", "requestHeaderCACert": "/run/config/pki/front-proxy-ca.crt"}
    # Every file the configuration names is an entry of the bundle the syncer mounts there.
    named = list(files.values()) + list(control_plane["backingStore"]["etcd"]["external"]["tls"].values())
    assert all(path.startswith("/run/config/pki/") and path.rsplit("/", 1)[1] in certs_data for path in named), named
    external = config_of(objects_for(pki, control_plane={"etcd": {"external": ["https://etcd.example.com:2379"]}}))
    assert external["controlPlane"]["backingStore"]["etcd"]["external"]["endpoint"] == "etcd.example.com:2379"
    k3s = config_of(objects_for(pki, distro="k3s"))["controlPlane"]
    assert k3s["distro"] == {"k8s": {"apiServer": {"enabled": False}, "controllerManager": {"enabled": False},
                                     "scheduler": {"enabled": False}}}
    assert "backingStore" not in k3s


def test_the_syncer_role_grants_what_the_pinned_release_needs_beyond_syncing_and_no_more(pki):
    """vCluster 0.36.1's chart role.yaml, for what the module enables: the kubeconfig Secret, the client Service and
    its endpoints (read), pods/log (read) with pods sync, leases with more than one replica."""
    nothing_syncs = {"to_host": {resource: False for resource in specs.SYNC_TO_HOST}}
    verbs = role_verbs(objects_for(pki, sync=nothing_syncs))
    assert verbs == {"events": ["get", "list", "watch"], "statefulsets": ["get", "list", "watch"],
                     "replicasets": ["get", "list", "watch"], "deployments": ["get", "list", "watch"],
                     "secrets": ["create", "patch", "update", "get", "list", "watch"],
                     "services": ["get", "list", "watch"], "endpoints": ["get", "list", "watch"]}
    defaults = role_verbs(objects_for(pki))
    assert defaults["pods/log"] == ["get", "list", "watch"] and "leases" not in defaults
    assert defaults["pods/status"] == defaults["pods/ephemeralcontainers"] == ["patch", "update"]
    assert defaults["secrets"] == defaults["services"] == defaults["endpoints"] == manifests.WRITE_VERBS
    replicated = objects_for(pki, control_plane={"replicas": 3})
    assert {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]} in \
        replicated[("Role", "vc-demo")]["rules"]
    role_verbs(replicated)


def test_with_the_syncer_kube_apiserver_leaves_the_kubernetes_endpoints_to_it(pki):
    flag = "--endpoint-reconciler-type=none"
    assert flag in containers(objects_for(pki))["kube-apiserver"]["command"]
    assert flag not in containers(objects_for(pki, syncer={"enabled": False}))["kube-apiserver"]["command"]
    k3s_flag = "--kube-apiserver-arg=endpoint-reconciler-type=none"
    assert k3s_flag in containers(objects_for(pki, distro="k3s"))["k3s"]["args"]
    assert k3s_flag not in containers(objects_for(pki, distro="k3s", syncer={"enabled": False}))["k3s"]["args"]


def test_the_syncer_exports_the_modules_admin_kubeconfig_to_its_secret(pki):
    """0.36.1's syncer always writes vc-<name>: it is told the module's server and context, and its proxy (which the
    client Service targets) carries the endpoint's names."""
    spec, objects = rendered(pki)
    config = config_of(objects)
    assert config["exportKubeConfig"] == {"server": "https://demo.vc-demo.svc:443", "context": "gpve_demo"}
    assert config["controlPlane"]["proxy"] == {"extraSANs": ["demo.vc-demo.svc"]}
    service = {"spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "https", "nodePort": 30443}]}}
    node_port = dict(spec, networking=dict(spec["networking"], expose=dict(spec["networking"]["expose"], type="NodePort")))
    endpoint = endpoints.resolve(node_port, service, "192.0.2.7")
    exposed = json.loads(manifests.vcluster_config(node_port, endpoint))
    assert exposed["exportKubeConfig"] == {"server": "https://192.0.2.7:30443", "context": "gpve_demo"}
    assert exposed["controlPlane"]["proxy"]["extraSANs"] == ["demo.vc-demo.svc", "10.96.0.20", "192.0.2.7"]
    jsonschema.validate(exposed, json.loads(UPSTREAM_SCHEMA.read_text(encoding="utf-8")))
    # The Secret the module writes keeps the module's admin kubeconfig, under the context the syncer is told.
    assert base64.b64decode(objects[("Secret", "vc-demo")]["data"]["config"]).decode() == pki[1]["config"]


# Without the syncer the objects are byte for byte those before the syncer was aligned with 0.36.1 (the tests on
# real nodes run so): sha256 of the rendering (JSON, in the order rendered) with stand-in Secret data.
UNCHANGED_WITHOUT_SYNCER = [
    ({}, "9af39359e0c387c26071801de77aa5629af6dcab42fc0f01e36074359dd5e28d"),
    ({"image_registry": MIRROR, "networking": {"expose": {"type": "NodePort"}}, "storage": {"size": "1Gi"}},
     "7f563f41ba8aaec1356e5342861be21ee80dfc03265edbc379d27a2b8bd4195e"),
    ({"isolation_mode": "container", "control_plane": {"runtime_class_name": "gvisor", "replicas": 3},
      "networking": {"expose": {"type": "NodePort", "node_port": 30443}}},
     "d601e0fd10ab2963c82bf7a0e12a3236744fe898f185ead298eeb6b58cae4bd3"),
    ({"distro": "k3s", "networking": {"expose": {"type": "Ingress", "ingress": {"host": "demo.example.com"}}}},
     "b72b0b37d138d03e823120a227c0348afbc9b8a6a10cd0c401753bd82ccb9b15"),
]


@pytest.mark.parametrize("options,digest", UNCHANGED_WITHOUT_SYNCER)
def test_without_the_syncer_the_objects_are_unchanged(options, digest):
    spec = specs.normalize(dict({"name": "demo", "syncer": {"enabled": False}}, **options), {})
    objects = manifests.render(spec, {"ca.crt": "c"}, {"config": "k"})
    assert hashlib.sha256(json.dumps(objects).encode()).hexdigest() == digest
