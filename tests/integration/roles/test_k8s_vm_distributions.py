"""The playbooks for k3s, rke2, k0s and Talos on the testbed: create, then upgrade or scale.

Same ground as the kubeadm lifecycle test (VMs on fakepve, the Kubernetes side for real, guest
steps recorded); here the distribution's own steps and their order are checked from the record."""

from __future__ import annotations

import pytest
from kubernetes import client
from roles_support import SSH_KEY, hosts_of, steps, transitions, yaml_docs

pytestmark = pytest.mark.roles


def spec(distribution, load_balancer):
    return {
        "distribution": {"type": distribution},
        "kubernetes_version": "1.36.3",
        "control_plane": {"replicas": 3, "resources": {"memory": 1024, "disk_size": 20}},
        "workers": [{"name": "general", "replicas": 1, "resources": {"cores": 2, "memory": 1024, "disk_size": 20},
                     "labels": {"tier": "general"}}],
        "network": {"cni": {"type": "flannel"},
                    "vm_network": {"ip_allocation": "static", "ip_range": {"start": "10.20.0.10", "end": "10.20.0.40"},
                                   "prefix": 24, "gateway": "10.20.0.1"}},
        "load_balancer": {"type": load_balancer, "virtual_ip": "10.20.0.5", "resources": {"memory": 1024}},
        "addons": {},
        "ssh": {"public_keys": [SSH_KEY]},
    }


def ok(result):
    assert result.returncode == 0, result.stdout[-6000:]


def running(run, name):
    cluster = run.registry.cluster(name)
    assert cluster.status.phase == "Running", cluster.status.message
    return cluster


def test_k3s_create_upgrade_scale(k8s_vm_run, kube_client):
    run, name = k8s_vm_run, "kthree"
    ok(run.play("create", name, gpve_cluster_spec=spec("k3s", "kube-vip")))
    cluster = running(run, name)
    records = run.records()
    assert sorted(hosts_of(records, "loadbalancer-kube-vip")) == ["kthree-cp-1", "kthree-cp-2", "kthree-cp-3"]
    assert hosts_of(records, "k3s-server") == ["kthree-cp-1", "kthree-cp-2", "kthree-cp-3"]   # first, then one by one
    assert hosts_of(records, "k3s-agent") == ["kthree-general-1"]
    first = yaml_docs(steps(records, "k3s-server")[0]["data"]["config"])[0]
    assert first["cluster-init"] is True and "server" not in first and first["flannel-backend"] == "none"
    joiner = yaml_docs(steps(records, "k3s-server")[1]["data"]["config"])[0]
    assert joiner["server"] == "https://10.20.0.5:6443" and "cluster-init" not in joiner
    assert steps(records, "k3s-server")[0]["data"]["version"] == "v1.36.3+k3s1"
    token = run.registry.credential(cluster.id, "join-token").text
    assert len(token) == 48 and token not in run.record.read_text()
    assert all(token not in log.read_text() for log in run.dir.glob("*.log"))
    ok(run.play("upgrade", name, gpve_target_version="1.37.2", gpve_target_release="v1.37.2+k3s1"))
    records = run.records()
    assert hosts_of(records, "k3s-upgrade-server") == ["kthree-cp-1", "kthree-cp-2", "kthree-cp-3"]
    assert hosts_of(records, "k3s-upgrade-agent") == ["kthree-general-1"]
    assert running(run, name).spec["distribution_release"] == "v1.37.2+k3s1"
    ok(run.play("scale", name, gpve_worker_replicas={"general": 2}, gpve_control_plane_replicas=1))
    records = run.records()
    assert sorted(hosts_of(records, "k3s-uninstall")) == ["kthree-cp-2", "kthree-cp-3"]   # servers leave etcd
    assert hosts_of(records, "k3s-agent") == ["kthree-general-1", "kthree-general-2"]
    assert run.registry.credential(cluster.id, "join-token").text == token               # the same token joins later nodes
    names = [n.metadata.name for n in client.CoreV1Api(kube_client).list_node().items]
    assert "kthree-cp-2" not in names and "kthree-general-2" in names
    assert transitions(run.registry.events(cluster.id))[-1] == ("Scaling", "Running")


def test_rke2_create_and_scale_through_the_supervisor_port(k8s_vm_run):
    run, name = k8s_vm_run, "rketwo"
    cluster_spec = spec("rke2", "keepalived")
    cluster_spec["distribution"]["config"] = {"cis_profile": True}
    ok(run.play("create", name, gpve_cluster_spec=cluster_spec))
    running(run, name)
    records = run.records()
    haproxy = steps(records, "loadbalancer-haproxy")[0]["data"]["haproxy_config"]
    assert "frontend supervisor-9345" in haproxy and ":9345" in haproxy
    assert hosts_of(records, "rke2-server") == ["rketwo-cp-1", "rketwo-cp-2", "rketwo-cp-3"]
    joiner = yaml_docs(steps(records, "rke2-server")[1]["data"]["config"])[0]
    assert joiner["server"] == "https://10.20.0.5:9345" and joiner["profile"] == "cis" and joiner["cni"] == "none"
    ok(run.play("scale", name, gpve_worker_replicas={"general": 2}))
    assert hosts_of(run.records(), "rke2-agent") == ["rketwo-general-1", "rketwo-general-2"]
    running(run, name)


def test_k0s_create_and_upgrade(k8s_vm_run, kube_client):
    run, name = k8s_vm_run, "kzero"
    ok(run.play("create", name, gpve_cluster_spec=spec("k0s", "keepalived")))
    running(run, name)
    records = run.records()
    assert hosts_of(records, "k0s-controller") == ["kzero-cp-1", "kzero-cp-2", "kzero-cp-3"]
    assert hosts_of(records, "k0s-tokens") == ["kzero-cp-1"]
    first = steps(records, "k0s-controller")[0]["data"]
    assert "--token-file" not in first["command"] and yaml_docs(first["config"])[0]["spec"]["api"]["externalAddress"] == "10.20.0.5"
    assert "--token-file" in steps(records, "k0s-worker")[0]["data"]["command"]
    ok(run.play("upgrade", name, gpve_target_version="1.37.2"))
    records = run.records()
    assert hosts_of(records, "k0s-upgrade-controller") == ["kzero-cp-1", "kzero-cp-2", "kzero-cp-3"]
    assert steps(records, "k0s-upgrade-worker")[0]["data"]["version"] == "v1.37.2+k0s.0"
    version = client.CoreV1Api(kube_client).read_node("kzero-general-1").status.node_info.kubelet_version
    assert version == "v1.37.2"


def test_talos_create_and_upgrade_without_ssh(k8s_vm_run):
    run, name = k8s_vm_run, "tal"
    ok(run.play("create", name, gpve_cluster_spec=spec("talos", "kube-vip")))
    running(run, name)
    records = run.records()
    assert not steps(records, "node-prep") and not steps(records, prefix="loadbalancer-")   # no SSH, Talos holds the VIP
    assert hosts_of(records, "talos-gen-config") == ["tal-cp-1"]
    assert sorted(hosts_of(records, "talos-apply-controlplane")) == ["tal-cp-1", "tal-cp-2", "tal-cp-3"]
    assert hosts_of(records, "talos-bootstrap") == ["tal-cp-1"]
    patch = yaml_docs(steps(records, "talos-apply-controlplane")[0]["data"]["node_patch"])[0]
    assert patch["machine"]["network"]["interfaces"][0]["vip"] == {"ip": "10.20.0.5"}
    ok(run.play("upgrade", name, gpve_target_version="1.37.2"))
    records = run.records()
    upgrade_k8s = steps(records, "talos-upgrade-k8s")
    assert [r["host"] for r in upgrade_k8s] == ["tal-cp-1"] and upgrade_k8s[0]["data"]["to"] == "1.37.2"
    assert hosts_of(records, "talos-upgrade-node")[:3] == ["tal-cp-1", "tal-cp-2", "tal-cp-3"]
    assert records.index(upgrade_k8s[0]) < records.index(steps(records, "talos-upgrade-node")[0])
    running(run, name)
