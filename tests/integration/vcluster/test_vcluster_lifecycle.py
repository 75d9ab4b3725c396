"""gpve.cluster.gpve_vcluster through ansible on the testbed: create, rerun, update, suspend, resume, delete."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from ansible_collections.gpve.cluster.plugins.module_utils import kubeconfig
from ansible_collections.gpve.cluster.plugins.module_utils.pki import certs

pytestmark = pytest.mark.vcluster

NAME = "life"
NAMESPACE = f"vc-{NAME}"


def statefulset(host_resources):
    return host_resources.get("StatefulSet", NAME, NAMESPACE)


def phases(store, cluster_id):
    return [event.metadata.get("to") for event in reversed(store.list_events(cluster_id, type="Transition", limit=100))]


def test_create_rerun_update_suspend_resume_delete(ansible_vcluster, host_resources, open_store, testbed, tmp_path):
    kubeconfig_path = str(tmp_path / "life.kubeconfig")
    args = {"name": NAME, "kubernetes_version": "1.36.3", "labels": {"team": "a"},
            "networking": {"expose": {"type": "NodePort"}}, "storage": {"storage_class": testbed.storage_class},
            "kubeconfig_dest": kubeconfig_path}

    created = ansible_vcluster(args)
    assert created["changed"] and not created.get("failed"), created.get("msg")
    assert created["cluster"]["phase"] == "Running" and created["cluster"]["namespace"] == NAMESPACE
    assert {(o["kind"], o["action"]) for o in created["objects"]} >= {("Namespace", "created"), ("StatefulSet", "created"),
                                                                      ("Secret", "created")}
    assert created["pki"] == {"created": True, "renewed": {}, "algorithm": "ecdsa-p256"}
    assert stat.S_IMODE(os.stat(kubeconfig_path).st_mode) == 0o600
    written = kubeconfig.credentials(kubeconfig.load_kubeconfig(open(kubeconfig_path, encoding="utf-8").read()))
    assert written.context == f"gpve_{NAME}" and written.server == created["cluster"]["endpoint"]
    assert "BEGIN" not in str(created)
    with open_store() as store:
        cluster = store.get_cluster(created["cluster"]["id"])
        assert cluster.status.phase == "Running" and cluster.labels == {"team": "a"}
        assert store.get_credential(cluster.id, "kubeconfig").text == open(kubeconfig_path, encoding="utf-8").read()
        ca_credential = store.get_credential(cluster.id, "ca").text
        assert phases(store, cluster.id) == ["Pending", "Provisioning", "Initializing", "Starting", "Running"]
        audit_rows = len(store.list_audit(limit=1000))
    certs_secret = host_resources.get("Secret", f"{NAME}-certs", NAMESPACE)["data"]
    assert ca_credential == "".join(base64.b64decode(certs_secret[key]).decode() for key in ("ca.crt", "ca.key"))
    vc_secret = host_resources.get("Secret", f"vc-{NAME}", NAMESPACE)["data"]
    assert base64.b64decode(vc_secret["client-certificate"]).decode() == written.client_cert_pem
    assert host_resources.get("Namespace", NAMESPACE)["metadata"]["labels"]["gpve.io/created-by"] == "gpve"

    rerun = ansible_vcluster(args)
    assert not rerun["changed"] and {o["action"] for o in rerun["objects"]} == {"unchanged"}
    with open_store() as store:
        assert len(store.list_audit(limit=1000)) == audit_rows

    update = dict(args, kubernetes_version="1.37.2",
                  resources={"api_server": {"requests": {"cpu": "200m", "memory": "256Mi"},
                                            "limits": {"cpu": "2", "memory": "2Gi"}}})
    before = statefulset(host_resources)
    checked = ansible_vcluster(update, check=True, diff=True)
    assert checked["changed"] and statefulset(host_resources)["metadata"]["resourceVersion"] == \
        before["metadata"]["resourceVersion"]
    after_diff = checked["diff"]["after"][f"StatefulSet {NAMESPACE}/{NAME}"]
    images = {c["name"]: c["image"] for c in after_diff["spec"]["template"]["spec"]["containers"]}
    assert images["kube-apiserver"] == "registry.k8s.io/kube-apiserver:v1.37.2"

    updated = ansible_vcluster(update)
    assert updated["changed"] and updated["cluster"]["phase"] == "Running"
    containers = {c["name"]: c for c in statefulset(host_resources)["spec"]["template"]["spec"]["containers"]}
    assert containers["kube-apiserver"]["image"] == "registry.k8s.io/kube-apiserver:v1.37.2"
    assert containers["kube-apiserver"]["resources"]["requests"] == {"cpu": "200m", "memory": "256Mi"}
    with open_store() as store:
        assert phases(store, created["cluster"]["id"])[-2:] == ["Updating", "Running"]
        assert store.get_cluster(created["cluster"]["id"]).status.version == "1.37.2"

    synced_pod = {"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "synced-workload", "namespace": NAMESPACE,
                               "labels": {"vcluster.loft.sh/managed-by": NAME}},
                  "spec": {"containers": [{"name": "app", "image": "busybox"}]}}
    host_resources.apply(synced_pod)
    suspended = ansible_vcluster(dict(update, state="suspended"))
    assert suspended["changed"] and suspended["cluster"]["phase"] == "Suspended"
    paused = statefulset(host_resources)
    assert paused["spec"]["replicas"] == 0
    assert paused["metadata"]["annotations"]["gpve.io/paused-replicas"] == "1"
    assert "gpve.io/paused-at" in paused["metadata"]["annotations"]
    assert host_resources.get("Pod", "synced-workload", NAMESPACE) is None or \
        host_resources.get("Pod", "synced-workload", NAMESPACE)["metadata"].get("deletionTimestamp")
    assert host_resources.list("PersistentVolumeClaim", NAMESPACE), "suspending keeps the data"
    assert not ansible_vcluster(dict(update, state="suspended"))["changed"]

    resumed = ansible_vcluster(update)
    assert resumed["changed"] and resumed["cluster"]["phase"] == "Running"
    live = statefulset(host_resources)
    assert live["spec"]["replicas"] == 1 and "gpve.io/paused-replicas" not in live["metadata"].get("annotations", {})
    with open_store() as store:
        assert phases(store, created["cluster"]["id"])[-4:] == ["Suspending", "Suspended", "Resuming", "Running"]

    deleted = ansible_vcluster({"name": NAME, "state": "absent"})
    assert deleted["changed"] and deleted["cluster"]["phase"] == "Deleted"
    assert host_resources.get("Namespace", NAMESPACE) is None
    with open_store() as store:
        assert store.find_cluster(NAME) is None
        assert store.list_credentials(cluster_id=created["cluster"]["id"]) == []
    assert not ansible_vcluster({"name": NAME, "state": "absent"})["changed"]


def test_module_reports_an_invalid_spec_with_its_field_and_writes_nothing(ansible_vcluster, host_resources, open_store):
    failed = ansible_vcluster({"name": "bad", "networking": {"expose": {"type": "NodePort", "node_port": 80}}})
    assert failed["failed"] and failed["field"] == "networking.expose.node_port"
    assert "outside 30000-32767" in failed["msg"] and failed["error_type"] == "ValidationError"
    assert host_resources.get("Namespace", "vc-bad") is None
    with open_store() as store:
        assert store.find_cluster("bad") is None


def test_the_apiserver_certificate_names_the_endpoint_users_get(ansible_vcluster, host_resources, testbed):
    result = ansible_vcluster({"name": "named", "kubeconfig_server": "https://vc-named.example.com:8443",
                               "storage": {"storage_class": testbed.storage_class}})
    assert result["cluster"]["endpoint"] == "https://vc-named.example.com:8443"
    data = host_resources.get("Secret", "named-certs", "vc-named")["data"]
    apiserver = certs.load_cert(base64.b64decode(data["apiserver.crt"]), "apiserver.crt")
    dns_names, ips = certs.subject_alt_names(apiserver)
    service_ip = host_resources.get("Service", "named", "vc-named")["spec"]["clusterIP"]
    assert "vc-named.example.com" in dns_names and "named.vc-named.svc" in dns_names and service_ip in ips
