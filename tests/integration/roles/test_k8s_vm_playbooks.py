"""The K8s-on-VM playbooks end to end on the testbed, kubeadm: create, refused upgrades, upgrade,
scale, delete. VMs on fakepve through gpve_k8s_vm; every Kubernetes-side step for real against
the testbed's API server; the tasks inside the VMs given to the guest recorder (tests/guest_recorder) and checked
here from its record. kubeadm itself on booted VMs: tests/integration/k8s_vm_real."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from kubernetes import client
from roles_support import SSH_KEY, stage_events, transitions, yaml_docs

from tests.guest_recorder import calls, hosts, shown_secret, written
from tests.testbed.processes import wait_until

pytestmark = pytest.mark.roles

NAME = "life"
CONTROL_PLANES = ["life-cp-1", "life-cp-2", "life-cp-3"]
WORKERS = ["life-general-1", "life-general-2", "life-storage-1"]


def spec():
    return {
        "distribution": {"type": "kubeadm"},
        "kubernetes_version": "1.35.4",
        "control_plane": {"replicas": 3, "resources": {"memory": 1024, "disk_size": 20}},
        "workers": [
            {"name": "general", "replicas": 2, "resources": {"cores": 2, "memory": 1024, "disk_size": 20},
             "labels": {"tier": "general"}},
            {"name": "storage", "replicas": 1, "resources": {"memory": 1024, "disk_size": 20},
             "labels": {"disk": "ssd"}, "taints": [{"key": "dedicated", "value": "storage", "effect": "NoSchedule"}]},
        ],
        "network": {"pod_cidr": "10.244.0.0/16", "cni": {"type": "cilium"},
                    "vm_network": {"ip_allocation": "static", "ip_range": {"start": "10.20.0.10", "end": "10.20.0.40"},
                                   "prefix": 24, "gateway": "10.20.0.1", "dns": ["10.20.0.2"]}},
        "load_balancer": {"type": "keepalived", "virtual_ip": "10.20.0.5", "resources": {"memory": 1024}},
        "addons": {"metrics_server": {"enabled": True}, "ingress": {"enabled": True}, "cert_manager": {"enabled": True},
                   "storage_provisioner": {"enabled": True, "default_class": False}, "monitoring": {"enabled": True}},
        "ssh": {"public_keys": [SSH_KEY]},
    }


def ok(result):
    assert result.returncode == 0, result.stdout[-6000:]


def node(api, name):
    return client.CoreV1Api(api).read_node(name)


# ---------------------------------------------------------------------------- create

def check_created(run, api, testbed):
    cluster = run.registry.cluster(NAME)
    assert cluster.status.phase == "Running"
    assert cluster.status.version == "1.35.4"
    assert cluster.status.endpoint == "https://10.20.0.5:6443"
    events = run.registry.events(cluster.id)
    assert transitions(events) == [(None, "Pending"), ("Pending", "Provisioning"), ("Provisioning", "Bootstrapping"),
                                   ("Bootstrapping", "Installing"), ("Installing", "Running")]
    started = [stage for stage, reason in stage_events(events) if reason == "StageStarted"]
    assert started == ["node_prep", "loadbalancer", "bootstrap", "nodes", "cni", "addons"]
    done = [stage for stage, reason in stage_events(events) if reason == "StageDone"]
    assert done == ["provision", "node_prep", "loadbalancer", "bootstrap", "nodes", "cni", "addons", "kubeconfig"]
    # The admin kubeconfig is in the registry, encrypted: the one the recorder's first control plane gave back.
    assert "kubeconfig" in run.registry.credential_types(cluster.id)
    # And the etcd client of the health checks, read on the first control plane after kubeadm init.
    assert run.registry.credential_types(cluster.id) == ["etcd-client", "kubeconfig"]
    assert sorted(json.loads(run.registry.credential(cluster.id, "etcd-client").text)) == ["ca", "cert", "key"]
    stored = yaml.safe_load(run.registry.credential(cluster.id, "kubeconfig").text)
    with open(testbed.kubeconfig, encoding="utf-8") as handle:
        given = yaml.safe_load(handle)
    assert stored["clusters"][0]["cluster"]["certificate-authority-data"] == given["clusters"][0]["cluster"]["certificate-authority-data"]
    assert stored["users"] == given["users"]
    return cluster


def kubeadm_commands(records, *words):
    """The kubeadm commands of records that start with words (kubeadm init, kubeadm join, ...)."""
    return [r for r in calls(records, "command", argv0="kubeadm") if r["args"]["argv"][1:1 + len(words)] == list(words)]


def check_create_record(run, kube_client):
    records = run.records()
    ips = dict((n.name, n.ip_address) for n in run.registry.nodes(run.registry.cluster(NAME).id))
    prepared = calls(records, "systemd_service", name="chrony", state="started")     # node_prep's time sync
    assert sorted(hosts(prepared)) == sorted(CONTROL_PLANES + WORKERS + ["life-lb"])
    containerd = dict((w["host"], w["content"]) for w in written(records, "/etc/containerd/config.toml"))
    assert "life-lb" not in containerd and not [r for r in calls(records, "modprobe") if r["host"] == "life-lb"]
    assert "SystemdCgroup = true" in containerd["life-cp-1"]
    assert "life-cp-1" in hosts(calls(records, "ufw", port="6443", proto="tcp"))      # node_prep_firewall=ufw
    assert "life-general-1" in hosts(calls(records, "ufw", port="30000:32767", proto="tcp"))
    assert sorted(hosts(calls(records, "ufw", state="enabled"))) == sorted(CONTROL_PLANES + WORKERS + ["life-lb"])
    haproxy = written(records, "/etc/haproxy/haproxy.cfg")
    assert hosts(haproxy) == ["life-lb"]
    for name in CONTROL_PLANES:
        assert f"server {name} {ips[name]}:6443" in haproxy[0]["content"]
    [keepalived] = written(records, "/etc/keepalived/keepalived.conf")
    assert keepalived["host"] == "life-lb" and "10.20.0.5/32 dev eth0" in keepalived["content"]
    installed = [r for r in calls(records, "apt") if "kubeadm=1.35.4-*" in r["args"]["name"]]
    assert sorted(hosts(installed)) == sorted(CONTROL_PLANES + WORKERS)
    init = [r for r in kubeadm_commands(records, "init") if "phase" not in r["args"]["argv"]]
    assert hosts(init) == ["life-cp-1"]
    joins = kubeadm_commands(records, "join")
    assert hosts(joins)[:2] == ["life-cp-2", "life-cp-3"]                   # serial: 1, in order
    assert sorted(hosts(joins)[2:]) == sorted(WORKERS)
    upload = list(kubeadm_commands(records, "init", "phase", "upload-certs"))
    assert hosts(upload) == ["life-cp-1"] and upload[0]["no_log"]
    assert records.index(init[0]) < records.index(upload[0]) < records.index(joins[0])
    [init_config] = written(records, "/etc/kubernetes/gpve/init.yaml")
    init_docs = dict((d["kind"], d) for d in yaml_docs(init_config["content"]))
    assert init_docs["ClusterConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init_docs["ClusterConfiguration"]["controlPlaneEndpoint"] == "10.20.0.5:6443"
    assert init_docs["ClusterConfiguration"]["kubernetesVersion"] == "v1.35.4"
    assert init_docs["ClusterConfiguration"]["networking"]["podSubnet"] == "10.244.0.0/16"
    assert init_docs["InitConfiguration"]["localAPIEndpoint"]["advertiseAddress"] == ips["life-cp-1"]
    assert init_docs["KubeletConfiguration"]["cgroupDriver"] == "systemd"
    join_configs = calls(records, "copy", dest="/etc/kubernetes/gpve/join.yaml")
    assert all(r["no_log"] for r in join_configs)                        # they hold the token
    storage_join = next(r for r in join_configs if r["host"] == "life-storage-1")
    join = yaml_docs(storage_join["args"]["content"])[0]
    assert join["nodeRegistration"]["taints"] == [{"key": "dedicated", "value": "storage", "effect": "NoSchedule"}]
    assert {"name": "node-labels", "value": "disk=ssd"} in join["nodeRegistration"]["kubeletExtraArgs"]
    # The token was made through the API; the nodes get it in no_log tasks only, and the output never shows it.
    core = client.CoreV1Api(kube_client)
    tokens = [core.read_namespaced_secret(s.metadata.name, "kube-system") for s in core.list_namespaced_secret(
        "kube-system", label_selector="app.kubernetes.io/managed-by=gpve.cluster").items]
    ours = [t for t in tokens if base64.b64decode(t.data["description"]).decode() == f"gpve.cluster create of {NAME}"]
    assert len(ours) == 1 and ours[0].type == "bootstrap.kubernetes.io/token"
    token_id, secret_part = (base64.b64decode(ours[0].data[key]).decode() for key in ("token-id", "token-secret"))
    assert join["discovery"]["bootstrapToken"]["token"] == f"{token_id}.{secret_part}"
    assert shown_secret(records, secret_part) == []
    assert all(secret_part not in log.read_text() for log in run.dir.glob("*.log"))


def check_nodes_configured(api):
    for name in CONTROL_PLANES:
        found = node(api, name)
        assert found.metadata.labels["node-role.kubernetes.io/control-plane"] == ""
        assert found.metadata.labels["gpve.io/cluster"] == NAME
    storage = node(api, "life-storage-1")
    assert storage.metadata.labels["disk"] == "ssd" and storage.metadata.labels["gpve.io/pool"] == "storage"
    assert storage.metadata.labels["node-role.kubernetes.io/worker"] == ""
    assert [(t.key, t.value, t.effect) for t in storage.spec.taints] == [("dedicated", "storage", "NoSchedule")]
    assert node(api, "life-general-1").metadata.labels["tier"] == "general"


def check_network_and_addons(api):
    apps = client.AppsV1Api(api)
    cilium = apps.read_namespaced_daemon_set("cilium", "kube-system")
    assert cilium.status.desired_number_scheduled >= 6 and cilium.status.number_ready == cilium.status.desired_number_scheduled
    config = client.CoreV1Api(api).read_namespaced_config_map("cilium-config", "kube-system")
    assert config.data["cluster-pool-ipv4-cidr"] == "10.244.0.0/16"
    for namespace, name in (("kube-system", "metrics-server"), ("ingress-nginx", "ingress-nginx-controller"),
                            ("cert-manager", "cert-manager-webhook"), ("local-path-storage", "local-path-provisioner"),
                            ("monitoring", "prometheus"), ("monitoring", "kube-state-metrics")):
        deployment = apps.read_namespaced_deployment(name, namespace)
        assert deployment.status.available_replicas == deployment.spec.replicas, name


# --------------------------------------------------------------------------- upgrade

def check_refusals(run):
    before = len(run.records())
    cluster = run.registry.cluster(NAME)
    events_before = len(run.registry.events(cluster.id))
    for target, words in (("1.37.2", "one minor version at a time"), ("1.35.0", "downgrades are not supported"),
                          ("1.38.0", "is not supported")):
        result = run.play("upgrade", NAME, gpve_target_version=target)
        assert result.returncode != 0 and words in result.stdout, (target, result.stdout[-2000:])
    assert run.registry.cluster(NAME).status.phase == "Running"
    assert len(run.registry.events(cluster.id)) == events_before      # nothing touched, not even the registry
    assert len(run.records()) == before


def check_failed_upgrade(run, api, events_before):
    """The first control plane's kubelet never came back at 1.36.3: the upgrade stops there,
    the cluster is Failed with the stage, and the node is uncordoned all the same."""
    cluster = run.registry.cluster(NAME)
    assert cluster.status.phase == "Failed" and cluster.status.version == "1.35.4"
    assert cluster.status.message.startswith("stage upgrade failed on life-cp-1: node life-cp-1 is not Ready at "
                                             "kubelet v1.36.3 (it reports v1.35.4) after 10s")
    events = run.registry.events(cluster.id)[events_before:]
    assert transitions(events) == [("Running", "Upgrading"), ("Upgrading", "Failed")]
    started = [e.metadata["node"] for e in events if e.reason == "NodeUpgradeStarted"]
    assert started == ["life-cp-1"] and not [e for e in events if e.reason == "NodeUpgraded"]
    assert not node(api, "life-cp-1").spec.unschedulable                 # uncordoned in the rescue
    assert node(api, "life-cp-1").status.node_info.kubelet_version == "v1.35.4"
    assert hosts(kubeadm_commands(run.records(), "upgrade", "apply")) == ["life-cp-1"]
    assert not kubeadm_commands(run.records(), "upgrade", "node")          # nothing after the failed node
    return len(run.registry.events(cluster.id))


def check_upgraded(run, api, events_before):
    cluster = run.registry.cluster(NAME)
    assert cluster.status.phase == "Running" and cluster.status.version == "1.36.3"
    assert cluster.spec["kubernetes_version"] == "1.36.3"
    events = run.registry.events(cluster.id)[events_before:]
    assert transitions(events)[0] == ("Failed", "Recovering")           # the failed upgrade resumed
    upgrade = [e for e in events if e.reason in ("NodeUpgradeStarted", "NodeUpgraded")]
    started = [e.metadata["node"] for e in upgrade if e.reason == "NodeUpgradeStarted"]
    assert started[:3] == CONTROL_PLANES                     # the first control plane first, then one by one
    for index, name in enumerate(CONTROL_PLANES):            # each control plane done before the next starts
        assert [e.reason for e in upgrade[2 * index:2 * index + 2]] == ["NodeUpgradeStarted", "NodeUpgraded"]
        assert upgrade[2 * index].metadata["node"] == upgrade[2 * index + 1].metadata["node"] == name
    worker_events = upgrade[6:]
    batches = [e.metadata["batch"] for e in worker_events if e.reason == "NodeUpgradeStarted"]
    assert batches == sorted(batches) and set(batches) == {1, 2}      # max_unavailable 2: batches of 2 and 1
    first_batch = [e.metadata["node"] for e in worker_events if e.reason == "NodeUpgradeStarted" and e.metadata["batch"] == 1]
    assert sorted(first_batch) == ["life-general-1", "life-general-2"]
    last_of_batch_one = max(i for i, e in enumerate(worker_events) if e.reason == "NodeUpgraded" and e.metadata["batch"] == 1)
    first_of_batch_two = min(i for i, e in enumerate(worker_events) if e.reason == "NodeUpgradeStarted" and e.metadata["batch"] == 2)
    assert last_of_batch_one < first_of_batch_two
    assert transitions(events)[-1] == ("Recovering", "Running")
    records = run.records()
    apply = kubeadm_commands(records, "upgrade", "apply")
    assert hosts(apply) == ["life-cp-1", "life-cp-1"]                   # failed once, then again
    assert hosts(kubeadm_commands(records, "upgrade", "node"))[:2] == ["life-cp-2", "life-cp-3"]
    assert apply[0]["args"]["argv"] == ["kubeadm", "upgrade", "apply", "--yes", "--config", "/etc/kubernetes/gpve/upgrade.yaml"]
    upgrade_config = yaml_docs(written(records, "/etc/kubernetes/gpve/upgrade.yaml")[0]["content"])[0]
    assert (upgrade_config["apiVersion"], upgrade_config["kind"]) == ("kubeadm.k8s.io/v1beta4", "UpgradeConfiguration")
    assert upgrade_config["apply"]["kubernetesVersion"] == "v1.36.3"        # from the oldest supported minor, one up
    repositories = [r for r in calls(records, "deb822_repository") if r["host"] == "life-cp-1"]
    assert "v1.36" in repositories[-1]["args"]["uris"][0]
    for name in CONTROL_PLANES + WORKERS:
        found = node(api, name)
        assert found.status.node_info.kubelet_version == "v1.36.3"
        assert not found.spec.unschedulable                       # uncordoned again


# ----------------------------------------------------------------------------- scale

def pin_workload(api, namespace):
    """A Deployment whose pod can only run on life-storage-1, to see the drain evict it."""
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pinned", "namespace": namespace},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "pinned"}},
                     "template": {"metadata": {"labels": {"app": "pinned"}},
                                  "spec": {"nodeSelector": {"kubernetes.io/hostname": "life-storage-1"},
                                           "tolerations": [{"key": "dedicated", "operator": "Exists"}],
                                           "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}}
    client.AppsV1Api(api).create_namespaced_deployment(namespace, body)
    core = client.CoreV1Api(api)

    def running_pod():
        pods = core.list_namespaced_pod(namespace, label_selector="app=pinned").items
        return pods[0] if pods and pods[0].status.phase == "Running" else None
    wait_until(running_pod, 120, "the pinned pod running on life-storage-1")
    return running_pod().metadata.uid


def check_scale_refused_by_budget(run, api, pve_control, namespace):
    """A budget that keeps the pinned pod: its only node may not go. Refused before any write, naming the budget."""
    policy = client.PolicyV1Api(api)
    policy.create_namespaced_pod_disruption_budget(namespace, {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "pinned"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "pinned"}}}})

    def settled():
        status = policy.read_namespaced_pod_disruption_budget("pinned", namespace).status
        return status is not None and status.observed_generation and status.current_healthy == 1
    wait_until(settled, 120, "the budget's status")
    cluster = run.registry.cluster(NAME)
    events, vms = len(run.registry.events(cluster.id)), sorted(vm["name"] for vm in pve_control.state()["vms"])
    refused = run.play("scale", NAME, gpve_worker_replicas={"general": 3, "storage": 0})
    output = " ".join(refused.stdout.split())
    assert refused.returncode != 0, refused.stdout[-4000:]
    assert (f"workers[1].replicas: draining life-storage-1 could not finish: PodDisruptionBudget {namespace}/pinned "
            f"(minAvailable 1)") in output, refused.stdout[-4000:]
    assert run.registry.cluster(NAME).status.phase == "Running"
    assert len(run.registry.events(cluster.id)) == events
    assert sorted(vm["name"] for vm in pve_control.state()["vms"]) == vms
    assert not node(api, "life-storage-1").spec.unschedulable          # not even cordoned
    policy.delete_namespaced_pod_disruption_budget("pinned", namespace)


def check_scaled(run, api, pve_control, namespace, pinned_uid):
    cluster = run.registry.cluster(NAME)
    assert cluster.status.phase == "Running"
    events = run.registry.events(cluster.id)
    reasons = [(e.reason, (e.metadata or {}).get("node") or (e.metadata or {}).get("vm")) for e in events]
    removing = reasons.index(("NodeRemoving", "life-storage-1"))
    removed = reasons.index(("NodeRemoved", "life-storage-1"))
    deleted = reasons.index(("VMDeleted", "life-storage-1"))
    assert removing < removed < deleted                         # out of Kubernetes before its VM goes
    assert ("Running", "Scaling") in transitions(events) and transitions(events)[-1] == ("Scaling", "Running")
    names = [n.metadata.name for n in client.CoreV1Api(api).list_node().items]
    assert "life-storage-1" not in names and "life-general-3" in names
    vms = [vm["name"] for vm in pve_control.state()["vms"]]
    assert "life-storage-1" not in vms and "life-general-3" in vms
    records = run.records()
    assert hosts(kubeadm_commands(records, "join"))[-1] == "life-general-3"
    assert hosts(calls(records, "systemd_service", name="chrony", state="started"))[-1] == "life-general-3"
    assert node(api, "life-general-3").metadata.labels["gpve.io/pool"] == "general"
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="app=pinned").items
    assert all(pod.metadata.uid != pinned_uid for pod in pods)     # evicted by the drain
    assert all(pod.spec.node_name != "life-storage-1" for pod in pods)


# ---------------------------------------------------------------------------- delete

def check_deleted(run, pve_control):
    cluster = run.registry.cluster(NAME, include_deleted=True)
    assert cluster.status.phase == "Deleted"
    assert run.registry.credential_types(cluster.id) == []
    assert not [vm for vm in pve_control.state()["vms"] if vm["name"].startswith("life-")]
    # delete.yml's last etcd snapshot runs for real in tests/integration/k8s_vm_real/test_k8s_vm_real_backup.py:
    # the recorder cannot answer the etcd tools' JSON.


def test_kubeadm_cluster_lifecycle(k8s_vm_recorded, kube_client, testbed, pve_control, kube_namespace):
    run = k8s_vm_recorded
    ok(run.play("create", NAME, gpve_cluster_spec=spec(), node_prep_firewall="ufw"))
    check_created(run, kube_client, testbed)
    check_create_record(run, kube_client)
    check_nodes_configured(kube_client)
    check_network_and_addons(kube_client)

    # create again, from the spec the registry holds: the same nodes get their tasks again, no phase moves.
    first_run = run.records()
    moves = transitions(run.registry.events(run.registry.cluster(NAME).id))
    ok(run.play("create", NAME))
    second_run = run.records()[len(first_run):]
    assert sorted(set(hosts(second_run))) == sorted(set(hosts(first_run)))
    assert transitions(run.registry.events(run.registry.cluster(NAME).id)) == moves
    assert run.registry.cluster(NAME).status.phase == "Running"

    check_refusals(run)
    events_before = len(run.registry.events(run.registry.cluster(NAME).id))
    run.nodes.hold("life-cp-1")
    failed = run.play("upgrade", NAME, gpve_target_version="1.36.3", gpve_max_unavailable=2, gpve_node_wait_timeout=10)
    assert failed.returncode != 0
    events_before = check_failed_upgrade(run, kube_client, events_before)
    run.nodes.release("life-cp-1")
    ok(run.play("upgrade", NAME, gpve_target_version="1.36.3", gpve_max_unavailable=2))
    check_upgraded(run, kube_client, events_before)

    pinned = pin_workload(kube_client, kube_namespace)
    check_scale_refused_by_budget(run, kube_client, pve_control, kube_namespace)
    ok(run.play("scale", NAME, gpve_worker_replicas={"general": 3, "storage": 0}))
    check_scaled(run, kube_client, pve_control, kube_namespace, pinned)

    ok(run.play("delete", NAME))
    check_deleted(run, pve_control)
