"""What gpve_vcluster leaves on the host's real API server, per exposure and isolation mode; check mode; refusals."""

from __future__ import annotations

import base64
import datetime
import json

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs, keys, layout
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import names

pytestmark = pytest.mark.vcluster


@pytest.mark.parametrize("expose", [
    {"type": "ClusterIP"},
    {"type": "NodePort", "node_port": 31443},
    {"type": "LoadBalancer", "load_balancer_ip": "192.0.2.44"},
    {"type": "Ingress", "ingress": {"host": "exp.example.com", "class_name": "nginx"}},
], ids=lambda expose: expose["type"])
def test_each_exposure_type_produces_its_service_or_ingress(run_vcluster, host_resources, testbed, expose):
    result = run_vcluster("exp", networking={"expose": expose}, storage={"storage_class": testbed.storage_class})
    assert result["cluster"]["phase"] == "Running"
    service = host_resources.get("Service", "exp", "vc-exp")["spec"]
    port = service["ports"][0]
    # The syncer (enabled by default) serves the API on its proxy, as upstream's Service targets it.
    assert (port["port"], port["targetPort"]) == (443, 8443)
    certificate = certs.load_cert(base64.b64decode(host_resources.get("Secret", "exp-certs", "vc-exp")["data"]
                                                   ["apiserver.crt"]), "apiserver.crt")
    dns_names, ips = certs.subject_alt_names(certificate)
    assert service["clusterIP"] in ips
    # The syncer's proxy certificate gets the same names, and the kubeconfig it exports to vc-exp the same server.
    config = json.loads(base64.b64decode(host_resources.get("Secret", "vc-config-exp", "vc-exp")["data"]["config.yaml"]))
    assert config["exportKubeConfig"] == {"server": result["cluster"]["endpoint"], "context": "gpve_exp"}
    assert service["clusterIP"] in config["controlPlane"]["proxy"]["extraSANs"]
    ingress = host_resources.get("Ingress", "exp", "vc-exp")
    if expose["type"] == "Ingress":
        assert service["type"] == "ClusterIP"
        rule = ingress["spec"]["rules"][0]
        assert rule["host"] == "exp.example.com" and ingress["spec"]["ingressClassName"] == "nginx"
        assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "exp", "port": {"number": 443}}
        assert result["cluster"]["endpoint"] == "https://exp.example.com" and "exp.example.com" in dns_names
    else:
        assert service["type"] == expose["type"] and ingress is None
    if expose["type"] == "NodePort":
        assert port["nodePort"] == 31443 and result["cluster"]["endpoint"].endswith(":31443")
    if expose["type"] == "LoadBalancer":
        assert service["loadBalancerIP"] == "192.0.2.44" and "192.0.2.44" in ips
        assert result["cluster"]["endpoint"] == "https://192.0.2.44:443"


def test_container_isolation_objects_are_on_the_host_and_the_pods_run_restricted(run_vcluster, host_resources, testbed):
    result = run_vcluster("iso", isolation_mode="container", storage={"storage_class": testbed.storage_class})
    assert result["cluster"]["phase"] == "Running"
    labels = host_resources.get("Namespace", "vc-iso")["metadata"]["labels"]
    assert {labels[f"pod-security.kubernetes.io/{mode}"] for mode in ("enforce", "audit", "warn")} == {"restricted"}
    assert host_resources.get("ResourceQuota", "iso-quota", "vc-iso")["spec"]["hard"]["count/pods"] == "20"
    assert host_resources.get("LimitRange", "iso-limits", "vc-iso")["spec"]["limits"][0]["default"]["memory"] == "512Mi"
    policy = host_resources.get("NetworkPolicy", "iso-isolation", "vc-iso")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    pod = host_resources.get("Pod", "iso-0", "vc-iso")
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert all(c["securityContext"]["capabilities"] == {"drop": ["ALL"]} for c in pod["spec"]["containers"])


def test_microvm_is_refused_without_its_runtime_class_and_works_with_one(
        run_vcluster, host_resources, testbed, open_store):
    options = dict(isolation_mode="microvm", storage={"storage_class": testbed.storage_class})
    with pytest.raises(ValidationError, match="no RuntimeClass 'kata'") as refused:
        run_vcluster("mvm", **options)
    assert refused.value.field == "control_plane.runtime_class_name"
    assert host_resources.get("Namespace", "vc-mvm") is None
    with open_store() as store:
        assert store.find_cluster("mvm") is None

    host_resources.apply({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "kata"},
                          "handler": "kata"})
    try:
        result = run_vcluster("mvm", **options)
        assert result["cluster"]["phase"] == "Running"
        assert host_resources.get("StatefulSet", "mvm", "vc-mvm")["spec"]["template"]["spec"]["runtimeClassName"] == "kata"
        config = json.loads(base64.b64decode(host_resources.get("Secret", "vc-config-mvm", "vc-mvm")["data"]["config.yaml"]))
        assert config["sync"]["toHost"]["pods"]["runtimeClassName"] == "kata"
    finally:
        run_vcluster("mvm", state="absent", **options)
        host_resources.delete("RuntimeClass", "kata")


def test_check_mode_writes_nothing_and_diff_hides_secret_values(run_vcluster, host_resources, open_store, testbed):
    result = run_vcluster("dry", check_mode=True, storage={"storage_class": testbed.storage_class})
    assert result["changed"] and result["cluster"]["phase"] is None and result["cluster"]["id"] is None
    assert {o["action"] for o in result["objects"]} == {"created"}
    assert host_resources.get("Namespace", "vc-dry") is None
    with open_store() as store:
        assert store.find_cluster("dry") is None
    certs_after = result["diff"]["after"]["Secret vc-dry/dry-certs"]["data"]
    assert certs_after["ca.key"].startswith("sha256:") and "BEGIN" not in json.dumps(result)

    run_vcluster("dry", storage={"storage_class": testbed.storage_class})
    with open_store() as store:
        audit_rows = len(store.list_audit(limit=1000))
    again = run_vcluster("dry", check_mode=True, storage={"storage_class": testbed.storage_class},
                         labels={"tier": "gold"})
    assert again["changed"]
    changed = set(again["diff"]["after"])
    assert "StatefulSet vc-dry/dry" in changed and "Service vc-dry/dry" in changed
    assert again["diff"]["before"]["Service vc-dry/dry"]["metadata"]["labels"].get("tier") is None
    assert again["diff"]["after"]["Service vc-dry/dry"]["metadata"]["labels"]["tier"] == "gold"
    assert "tier" not in host_resources.get("Service", "dry", "vc-dry")["metadata"]["labels"]
    with open_store() as store:
        assert len(store.list_audit(limit=1000)) == audit_rows


def test_host_dependent_refusals_leave_host_and_registry_as_they_were(run_vcluster, host_resources, open_store,
                                                                      testbed):
    run_vcluster("base", kubernetes_version="1.35.4", storage={"storage_class": testbed.storage_class})
    with open_store() as store:
        registered = [(c.name, c.resource_version, c.status.resource_version) for c in store.query_clusters()]
        audit_rows = len(store.list_audit(limit=1000))
    namespaces = {ns["metadata"]["name"] for ns in host_resources.list("Namespace")}
    live = host_resources.get("StatefulSet", "base", "vc-base")["metadata"]["resourceVersion"]
    refusals = [
        ("base", {"kubernetes_version": "1.37.2"}, "kubernetes_version", "one minor version at a time"),
        ("base", {"kubernetes_version": "1.30.14"}, "kubernetes_version", "outside the supported window 1.35.0 to 1.37.x"),
        ("base", {"kubernetes_version": "1.35.4", "storage": {"size": "20Gi"}}, "storage.size", "cannot be resized"),
        ("base", {"kubernetes_version": "1.35.4", "distro": "k3s"}, "distro", "cannot change"),
        ("fresh", {"networking": {"service_cidr": "10.96.0.0/16"}}, "networking.service_cidr",
         "overlaps the host cluster's service range"),
        ("fresh", {"networking": {"pod_cidr": "10.100.0.0/16"}}, "networking.pod_cidr",
         "overlaps the host cluster's service range"),
        ("base", {"kubernetes_version": "1.35.4", "isolation_mode": "vm", "vm": {"snippets_dir": "/tmp"}},
         "isolation_mode", "moving between a Proxmox VM and the host cluster is not supported"),
        ("fresh", {"isolation_mode": "vm"}, "vm.snippets_dir", "cannot upload cloud-init snippets"),
        ("fresh", {"isolation_mode": "microvm", "control_plane": {"runtime_class_name": "gvisor"}},
         "control_plane.runtime_class_name", "no RuntimeClass 'gvisor'"),
        ("fresh", {"state": "suspended"}, "state", "does not exist"),
    ]
    for name, options, field, message in refusals:
        with pytest.raises(ValidationError) as refused:
            run_vcluster(name, **dict({"storage": {"storage_class": testbed.storage_class}}, **options))
        assert (refused.value.field, message in str(refused.value)) == (field, True), str(refused.value)
    with open_store() as store:
        assert [(c.name, c.resource_version, c.status.resource_version) for c in store.query_clusters()] == registered
        assert len(store.list_audit(limit=1000)) == audit_rows
    assert {ns["metadata"]["name"] for ns in host_resources.list("Namespace")} == namespaces
    assert host_resources.get("StatefulSet", "base", "vc-base")["metadata"]["resourceVersion"] == live


def test_a_leaf_close_to_expiry_is_renewed_by_a_rerun_and_the_ca_is_kept(
        run_vcluster, host_resources, open_store, testbed):
    options = dict(storage={"storage_class": testbed.storage_class})
    created = run_vcluster("renew", **options)
    stored = {key: base64.b64decode(value).decode()
              for key, value in host_resources.get("Secret", "renew-certs", "vc-renew")["data"].items()}
    front_proxy_ca = certs.load_issued(stored["front-proxy-ca.crt"], stored["front-proxy-ca.key"], "front-proxy-ca")
    spec = {leaf.name: leaf for leaf in layout.leaves(layout.PkiParams(name="renew", namespace="vc-renew"))}
    short = certs.issue(spec["front-proxy-client"].spec, front_proxy_ca, certs.utcnow(), datetime.timedelta(days=5))
    tampered = dict(stored, **{"front-proxy-client.crt": certs.cert_pem(short.cert),
                               "front-proxy-client.key": keys.private_key_pem(short.key)})
    host_resources.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "renew-certs",
                                                                             "namespace": "vc-renew"},
                          "data": {k: base64.b64encode(v.encode()).decode() for k, v in tampered.items()}})

    renewed = run_vcluster("renew", **options)

    assert renewed["changed"] and renewed["pki"]["renewed"] == {"front-proxy-client": "expires soon"}
    after = {key: base64.b64decode(value).decode()
             for key, value in host_resources.get("Secret", "renew-certs", "vc-renew")["data"].items()}
    assert {key for key in after if after[key] != stored[key]} == {"front-proxy-client.crt", "front-proxy-client.key"}
    leaf = certs.load_cert(after["front-proxy-client.crt"], "front-proxy-client.crt")
    assert certs.is_signed_by(leaf, front_proxy_ca.cert)
    assert certs.remaining(leaf, certs.utcnow()) > datetime.timedelta(days=300)
    with open_store() as store:
        events = store.list_events(created["cluster"]["id"], limit=50)
    assert any(e.reason == "CertificatesRenewed" and "front-proxy-client: expires soon" in e.message for e in events)
    assert not run_vcluster("renew", **options)["changed"]


def test_what_a_changed_spec_no_longer_wants_is_deleted_and_nothing_else(run_vcluster, host_resources, testbed):
    """The syncer turned off and the Ingress given up for a NodePort: their objects go (check mode only names them),
    and an object of the same name that someone else made is left alone."""
    name, namespace = "prune", "vc-prune"
    storage = {"storage_class": testbed.storage_class}
    run_vcluster(name, networking={"expose": {"type": "Ingress", "ingress": {"host": "prune.example.com"}}},
                 storage=storage)
    unwanted = {("Role", names.role(name)), ("RoleBinding", names.role(name)),
                ("ClusterRole", names.cluster_role(name, namespace)),
                ("ClusterRoleBinding", names.cluster_role(name, namespace)),
                ("ServiceAccount", names.workload_service_account(name)), ("Secret", names.config_secret(name)),
                ("ConfigMap", names.coredns_config_map(name)), ("Ingress", names.ingress(name))}

    def present():
        return {(kind, object_name) for kind, object_name in unwanted
                if host_resources.get(kind, object_name, None if kind.startswith("Cluster") else namespace)}

    assert present() == unwanted
    changed = dict(networking={"expose": {"type": "NodePort"}}, storage=storage, syncer={"enabled": False},
                   control_plane={"coredns": {"enabled": False}})

    planned = run_vcluster(name, check_mode=True, **changed)
    assert {(o["kind"], o["name"]) for o in planned["objects"] if o["action"] == "deleted"} == unwanted
    assert present() == unwanted

    done = run_vcluster(name, **changed)
    assert done["changed"] and done["cluster"]["phase"] == "Running"
    assert {(o["kind"], o["name"]) for o in done["objects"] if o["action"] == "deleted"} == unwanted
    assert present() == set()
    assert host_resources.get("Service", name, namespace)["spec"]["type"] == "NodePort"

    host_resources.apply({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                          "metadata": {"name": names.ingress(name), "namespace": namespace},
                          "spec": {"defaultBackend": {"service": {"name": "elsewhere", "port": {"number": 80}}}}})
    again = run_vcluster(name, **changed)
    assert not again["changed"], again["objects"]
    assert host_resources.get("Ingress", names.ingress(name), namespace) is not None
