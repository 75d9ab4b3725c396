"""The playbooks for k3s, rke2, k0s and Talos on the testbed: create, then upgrade or scale.

These distributions cannot run here (docs/testbed.md): the VMs are created on fakepve, the Kubernetes side runs
for real against the testbed's API server, and the tasks inside the VMs go to the guest recorder
(tests/guest_recorder: a connection plugin, and a talosctl for Talos), whose record is checked here: which
commands ran on which node, in which order, with which rendered configuration."""

from __future__ import annotations

import pytest
from kubernetes import client
from roles_support import SSH_KEY, transitions, yaml_docs

from tests.guest_recorder import calls, hosts, shown_secret, written

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


def played(run, playbook, name, **extra_vars):
    """Run a playbook; the records it added."""
    before = len(run.records())
    ok(run.play(playbook, name, **extra_vars))
    return run.records()[before:]


def kube_vip_hosts(records):
    return sorted(hosts([r for r in calls(records, "copy") if r["args"]["dest"].endswith("/kube-vip.yaml")]))


def test_k3s_create_upgrade_scale(k8s_vm_recorded, kube_client):
    run, name = k8s_vm_recorded, "kthree"
    records = played(run, "create", name, gpve_cluster_spec=spec("k3s", "kube-vip"))
    cluster = running(run, name)
    assert kube_vip_hosts(records) == ["kthree-cp-1", "kthree-cp-2", "kthree-cp-3"]
    servers = calls(records, "command", argv=["/usr/local/bin/k3s-install.sh", "server"])
    assert hosts(servers) == ["kthree-cp-1", "kthree-cp-2", "kthree-cp-3"]   # first, then one by one
    assert hosts(calls(records, "command", argv=["/usr/local/bin/k3s-install.sh", "agent"])) == ["kthree-general-1"]
    assert servers[0]["environment"]["INSTALL_K3S_VERSION"] == "v1.36.3+k3s1"
    configs = written(records, "/etc/rancher/k3s/config.yaml")
    first, joiner = (yaml_docs(c["content"])[0] for c in configs[:2])
    assert configs[0]["host"] == "kthree-cp-1"
    assert first["cluster-init"] is True and "server" not in first and first["flannel-backend"] == "none"
    assert joiner["server"] == "https://10.20.0.5:6443" and "cluster-init" not in joiner
    # The configuration is written before the installer runs, on every node.
    assert records.index(calls(records, "copy", dest="/etc/rancher/k3s/config.yaml")[0]) < records.index(servers[0])
    token = run.registry.credential(cluster.id, "join-token").text
    assert len(token) == 48 and calls(records, "copy", dest="/etc/rancher/k3s/token", content=f"{token}\n")
    assert shown_secret(records, token) == []
    assert all(token not in log.read_text() for log in run.dir.glob("*.log"))

    records = played(run, "upgrade", name, gpve_target_version="1.37.2", gpve_target_release="v1.37.2+k3s1")
    upgraded = calls(records, "command", argv=["/usr/local/bin/k3s-install.sh", "server"])
    assert hosts(upgraded) == ["kthree-cp-1", "kthree-cp-2", "kthree-cp-3"]
    assert {r["environment"]["INSTALL_K3S_VERSION"] for r in upgraded} == {"v1.37.2+k3s1"}
    assert hosts(calls(records, "command", argv=["/usr/local/bin/k3s-install.sh", "agent"])) == ["kthree-general-1"]
    assert running(run, name).spec["distribution_release"] == "v1.37.2+k3s1"

    records = played(run, "scale", name, gpve_worker_replicas={"general": 2}, gpve_control_plane_replicas=1)
    assert sorted(hosts(calls(records, "command", argv=["/usr/local/bin/k3s-uninstall.sh"]))) == ["kthree-cp-2", "kthree-cp-3"]
    assert hosts(calls(records, "command", argv=["/usr/local/bin/k3s-install.sh", "agent"])) == ["kthree-general-2"]
    assert run.registry.credential(cluster.id, "join-token").text == token               # the same token joins later nodes
    names = [n.metadata.name for n in client.CoreV1Api(kube_client).list_node().items]
    assert "kthree-cp-2" not in names and "kthree-general-2" in names
    assert transitions(run.registry.events(cluster.id))[-1] == ("Scaling", "Running")


def test_rke2_create_and_scale_through_the_supervisor_port(k8s_vm_recorded):
    run, name = k8s_vm_recorded, "rketwo"
    cluster_spec = spec("rke2", "keepalived")
    cluster_spec["distribution"]["config"] = {"cis_profile": True}
    records = played(run, "create", name, gpve_cluster_spec=cluster_spec)
    running(run, name)
    haproxy = [c["content"] for c in written(records, "/etc/haproxy/haproxy.cfg")]
    assert haproxy and "frontend supervisor-9345" in haproxy[0] and ":9345" in haproxy[0]
    servers = calls(records, "systemd_service", name="rke2-server", state="started")
    assert hosts(servers) == ["rketwo-cp-1", "rketwo-cp-2", "rketwo-cp-3"]
    configs = written(records, "/etc/rancher/rke2/config.yaml")
    joiner = yaml_docs(configs[1]["content"])[0]
    assert joiner["server"] == "https://10.20.0.5:9345" and joiner["profile"] == "cis" and joiner["cni"] == "none"
    # Each server's installer runs after its configuration is written, and before it starts.
    first_install = calls(records, "command", argv=["/usr/local/bin/rke2-install.sh"])[0]
    assert records.index(calls(records, "copy", dest="/etc/rancher/rke2/config.yaml")[0]) < records.index(first_install)
    assert records.index(first_install) < records.index(servers[0])

    records = played(run, "scale", name, gpve_worker_replicas={"general": 2})
    assert hosts(calls(records, "systemd_service", name="rke2-agent", state="started")) == ["rketwo-general-2"]
    running(run, name)


def test_k0s_create_and_upgrade(k8s_vm_recorded, kube_client):
    run, name = k8s_vm_recorded, "kzero"
    records = played(run, "create", name, gpve_cluster_spec=spec("k0s", "keepalived"))
    running(run, name)
    controllers = [r for r in calls(records, "command", argv0="k0s") if r["args"]["argv"][1:3] == ["install", "controller"]]
    assert hosts(controllers) == ["kzero-cp-1", "kzero-cp-2", "kzero-cp-3"]
    tokens = [r for r in calls(records, "command", argv0="k0s") if r["args"]["argv"][1:3] == ["token", "create"]]
    assert hosts(tokens) == ["kzero-cp-1", "kzero-cp-1"] and all(r["no_log"] for r in tokens)
    assert records.index(tokens[0]) < records.index(controllers[1])     # made before the second controller joins
    joined = calls(records, "copy", dest="/etc/k0s/join-token")
    assert hosts(joined) == ["kzero-cp-2", "kzero-cp-3", "kzero-general-1"] and all(r["no_log"] for r in joined)
    assert {r["args"]["content"] for r in joined} == {"recorded-k0s"}      # what the first controller's k0s printed
    assert "--token-file" not in controllers[0]["args"]["argv"] and "--token-file" in controllers[1]["args"]["argv"]
    config = yaml_docs(written(records, "/etc/k0s/k0s.yaml")[0]["content"])[0]
    assert config["spec"]["api"]["externalAddress"] == "10.20.0.5"
    worker = [r for r in calls(records, "command", argv0="k0s") if r["args"]["argv"][1:3] == ["install", "worker"]]
    assert hosts(worker) == ["kzero-general-1"] and "--token-file" in worker[0]["args"]["argv"]

    records = played(run, "upgrade", name, gpve_target_version="1.37.2")
    binaries = calls(records, "get_url", dest="/usr/local/bin/k0s")
    assert hosts(binaries) == ["kzero-cp-1", "kzero-cp-2", "kzero-cp-3", "kzero-general-1"]
    assert all("v1.37.2+k0s.0" in r["args"]["url"] for r in binaries)
    version = client.CoreV1Api(kube_client).read_node("kzero-general-1").status.node_info.kubelet_version
    assert version == "v1.37.2"


def test_talos_create_and_upgrade_without_ssh(k8s_vm_recorded):
    run, name = k8s_vm_recorded, "tal"
    records = played(run, "create", name, gpve_cluster_spec=spec("talos", "kube-vip"))
    running(run, name)
    assert [r for r in records if r.get("module") not in (None, "talosctl")] == []   # no SSH: nothing on a VM
    talosctl = [r["args"]["argv"][1:] for r in calls(records, "talosctl")]
    assert [argv[:2] for argv in talosctl if argv[0] == "gen"] == [["gen", "secrets"], ["gen", "config"]]
    applied = [argv for argv in talosctl if "apply-config" in argv]
    assert sorted(argv[argv.index("--file") + 1].rsplit("/", 1)[-1] for argv in applied) \
        == ["tal-cp-1.yaml", "tal-cp-2.yaml", "tal-cp-3.yaml", "tal-general-1.yaml"]
    bootstrap = [argv for argv in talosctl if argv[-1] == "bootstrap"]
    assert len(bootstrap) == 1 and talosctl.index(bootstrap[0]) > talosctl.index(applied[0])
    patch = [text for r in calls(records, "talosctl") for path, text in r["args"]["files"].items() if path.endswith("/tal-cp-1-patch.yaml")]
    assert yaml_docs(patch[0])[0]["machine"]["network"]["interfaces"][0]["vip"] == {"ip": "10.20.0.5"}

    records = played(run, "upgrade", name, gpve_target_version="1.37.2", gpve_target_release="v1.7.7")
    talosctl = [r["args"]["argv"][1:] for r in calls(records, "talosctl")]
    upgrade_k8s = [argv for argv in talosctl if "upgrade-k8s" in argv]
    assert len(upgrade_k8s) == 1 and upgrade_k8s[0][-1] == "1.37.2"
    upgrade_node = [argv for argv in talosctl if "upgrade" in argv]
    assert [argv[argv.index("--nodes") + 1] for argv in upgrade_node][:3] == ["10.20.0.10", "10.20.0.11", "10.20.0.12"]
    assert all(argv[argv.index("--image") + 1] == "ghcr.io/siderolabs/installer:v1.7.7" for argv in upgrade_node)
    assert talosctl.index(upgrade_k8s[0]) < talosctl.index(upgrade_node[0])      # Kubernetes first, then each node's OS
    running(run, name)
