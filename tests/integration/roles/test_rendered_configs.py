"""What the roles write on the VMs, checked by the real tools and the published field lists.

The roles run (tests/integration/roles/playbooks/render_guest_configs.yml) for an HA and a single-node topology
against the guest recorder (tests/guest_recorder), whose record holds every file they wrote on a VM.
haproxy -c, keepalived -t, containerd config dump and cloud-init schema check those; kubeadm,
k3s, rke2, k0s and Talos configs are checked against data/fieldlists; kube-vip's static pod is
dry-run on the testbed's API server.
"""

from __future__ import annotations

import stat
import subprocess

import pytest
from field_lists import load, unknown_fields
from kubernetes import client
from roles_support import TEST_PLAYBOOKS, yaml_docs

from tests import guest_recorder
from tests.guest_recorder import calls, shown_secret, written
from tests.playbook_run import ansible_env, run_playbook
from tests.testbed.processes import wait_until

pytestmark = pytest.mark.roles

KUBEADM_LISTS = {"kubeadm.k8s.io/v1beta4": "kubeadm_v1beta4",
                 "kubelet.config.k8s.io/v1beta1": "kubelet_v1beta1", "kubeproxy.config.k8s.io/v1alpha1": "kube_proxy_v1alpha1"}
CONTROL_PLANES = {"ha": {"r-cp-1": "10.30.0.11", "r-cp-2": "10.30.0.12", "r-cp-3": "10.30.0.13"}, "single": {"r-cp-1": "10.30.0.11"}}
# The load balancers the playbook configures on each of its hosts, in order.
BALANCERS = [("haproxy", "lb_vm"), ("keepalived", "lb_vm"), ("keepalived", "control_planes")]


@pytest.fixture(scope="module", params=["ha", "single"])
def rendered(request, tmp_path_factory):
    """(records, directory, topology) of one run of render_guest_configs.yml for a topology."""
    out = tmp_path_factory.mktemp(f"guest-{request.param}")
    check_script = out / "check_apiserver.sh"
    record = out / "record.jsonl"
    (out / "x").mkdir()
    for name in ("ca", "c", "k"):
        (out / "x" / name).write_text(f"etcd client file {name}\n")
    (out / "kubeconfig").write_text("apiVersion: v1\nkind: Config\n")
    extra = {"render_dir": str(out), "render_topology": request.param, "render_check_script": str(check_script)}
    env = ansible_env(guest_recorder.recorder_env(record, str(out / "kubeconfig")))
    result = run_playbook(TEST_PLAYBOOKS / "render_guest_configs.yml", extra, env, out / "render.log")
    assert result.returncode == 0, result.stdout[-4000:]
    return guest_recorder.read(record), out, request.param


def balancer_configs(records, check_script):
    """One entry per haproxy.cfg written: host, type, placement, haproxy, keepalived, check (the files that followed it)."""
    found = []
    for record in calls(records, "copy"):
        dest, content = record["args"]["dest"], record["args"].get("content")   # none for a copy on the node (remote_src)
        if dest == "/etc/haproxy/haproxy.cfg":
            index = len([f for f in found if f["host"] == record["host"]])
            found.append({"host": record["host"], "type": BALANCERS[index][0], "placement": BALANCERS[index][1],
                          "haproxy": content, "keepalived": None, "check": None})
        elif dest in ("/etc/keepalived/keepalived.conf", check_script):
            last = [f for f in found if f["host"] == record["host"]][-1]
            last["keepalived" if dest.endswith(".conf") else "check"] = content
    return found


def run_tool(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60, check=False)


def test_haproxy_and_keepalived_accept_the_rendered_configs(rendered):
    records, out, topology = rendered
    configured = balancer_configs(records, str(out / "check_apiserver.sh"))
    assert configured and len(configured) == 3 * len(set(r["host"] for r in configured))
    for index, data in enumerate(configured):
        haproxy_cfg = out / f"haproxy-{index}.cfg"
        haproxy_cfg.write_text(data["haproxy"])
        checked = run_tool(["haproxy", "-c", "-f", str(haproxy_cfg)])
        assert checked.returncode == 0 and "Configuration file is valid" in checked.stdout, checked.stdout
        assert "http-check send meth GET uri /readyz" in data["haproxy"]
        for name, address in CONTROL_PLANES[topology].items():
            assert f"server {name} {address}:6443" in data["haproxy"]
        assert (data["keepalived"] is None) == (data["type"] == "haproxy")
        if data["keepalived"] is None:
            continue
        script = out / "check_apiserver.sh"
        script.write_text(data["check"])
        script.chmod(stat.S_IRWXU)
        assert run_tool(["sh", "-n", str(script)]).returncode == 0
        keepalived_conf = out / f"keepalived-{index}.conf"
        keepalived_conf.write_text(data["keepalived"])
        checked = run_tool(["keepalived", "-t", "-f", str(keepalived_conf)])
        assert checked.returncode == 0, checked.stdout
        assert "10.30.0.5/32 dev eth0" in data["keepalived"]


def haproxy_binds(config):
    """(address, port) of each haproxy frontend's bind line."""
    found = [line.split()[1] for line in config.splitlines() if line.strip().startswith("bind ")]
    return [(bind.rsplit(":", 1)[0], int(bind.rsplit(":", 1)[1])) for bind in found]


def distribution_listeners(distribution, config):
    """(address, port) each distribution's server listens on, "*" for every address."""
    if distribution == "k0s":
        api = config["spec"]["api"]
        return [(api["address"] if api.get("onlyBindToAddress") else "*", api["port"]), ("*", 8132), ("*", 9443)]
    ports = (6443, 9345) if distribution == "rke2" else (6443,)
    return [(config.get("bind-address", "*"), port) for port in ports]


SERVER_CONFIGS = {"k3s": "/etc/rancher/k3s/config.yaml", "rke2": "/etc/rancher/rke2/config.yaml", "k0s": "/etc/k0s/k0s.yaml"}


def test_api_servers_leave_haproxy_the_virtual_ip_on_the_control_planes(rendered):
    """haproxy binding virtual-IP:port fails while k3s, rke2 or k0s on the same machine holds *:port (and the other
    way round): with the load balancer on the control planes each binds the node address instead."""
    records, out, topology = rendered
    balancers = dict((r["host"], haproxy_binds(r["haproxy"])) for r in balancer_configs(records, str(out / "check_apiserver.sh"))
                     if r["placement"] == "control_planes")
    servers = [(distribution, w) for distribution, dest in SERVER_CONFIGS.items() for w in written(records, dest)
               if w["host"] in CONTROL_PLANES[topology]]
    checked = [(distribution, w) for distribution, w in servers if w["host"] in balancers]
    assert checked or topology == "ha"
    for distribution, config in checked:
        for address, port in distribution_listeners(distribution, yaml_docs(config["content"])[0]):
            clashes = [bind for bind in balancers[config["host"]] if bind[1] == port and address in ("*", bind[0])]
            assert clashes == [], (config["host"], distribution, address, port)


def test_containerd_loads_the_rendered_config(rendered):
    records, out, topology = rendered
    configs = written(records, "/etc/containerd/config.toml")
    # node_prep ran for kubeadm, then k3s (which brings its own containerd): one config per Kubernetes node.
    assert sorted(c["host"] for c in configs) == sorted(set(CONTROL_PLANES[topology]) | ({"r-general-1"} if topology == "ha" else set()))
    for index, record in enumerate(configs):
        path = out / f"containerd-{index}.toml"
        path.write_text(record["content"])
        dumped = run_tool(["containerd", "--config", str(path), "config", "dump"])
        assert dumped.returncode == 0, dumped.stdout
        assert "SystemdCgroup = true" in dumped.stdout
        assert 'config_path = "/etc/containerd/certs.d"' in dumped.stdout
        assert 'sandbox_image = "registry.k8s.io/pause:3.10.2"' in dumped.stdout


def test_cloud_init_accepts_the_first_boot_user_data(rendered):
    _records, out, _topology = rendered
    files = sorted(out.glob("user-data-*.yaml"))
    assert len(files) >= 2
    for path in files:
        checked = run_tool(["cloud-init", "schema", "--config-file", str(path)])
        assert checked.returncode == 0 and "Valid cloud-config" in checked.stdout, (path.name, checked.stdout)


def test_kubeadm_configs_use_only_published_fields(rendered):
    records, _out, _topology = rendered
    seen = set()
    for dest in ("/etc/kubernetes/gpve/init.yaml", "/etc/kubernetes/gpve/join.yaml", "/etc/kubernetes/gpve/upgrade.yaml"):
        for record in written(records, dest):
            for doc in yaml_docs(record["content"]):
                schema = load(KUBEADM_LISTS[doc["apiVersion"]])[doc["kind"]]
                assert unknown_fields(doc, schema) == [], (dest, record["host"], doc["kind"])
                seen.add((doc["apiVersion"], doc["kind"]))
    assert {("kubeadm.k8s.io/v1beta4", kind) for kind in ("InitConfiguration", "ClusterConfiguration", "UpgradeConfiguration")} <= seen
    for record in written(records, "/etc/kubernetes/gpve/upgrade.yaml"):     # the site's exceptions and timeouts hold on upgrade
        upgrade = yaml_docs(record["content"])[0]
        assert upgrade["apply"]["ignorePreflightErrors"] == upgrade["node"]["ignorePreflightErrors"] == ["SystemVerification"]
        assert upgrade["timeouts"] == {"upgradeManifests": "10m0s"}
    assert {api for api, _kind in seen if api.startswith("kubeadm.k8s.io/")} == {"kubeadm.k8s.io/v1beta4"}
    inits = [yaml_docs(r["content"]) for r in written(records, "/etc/kubernetes/gpve/init.yaml")]
    external = [docs for docs in inits if "external" in docs[1]["etcd"]]
    assert external and external[0][1]["etcd"]["external"]["endpoints"] == ["https://10.30.0.31:2379", "https://10.30.0.32:2379"]
    assert {"name": "bind-address", "value": "10.30.0.11"} in external[0][1]["apiServer"]["extraArgs"]
    tags = {docs[1]["kubernetesVersion"]: (docs[1]["etcd"].get("local", {}).get("imageTag"), docs[1].get("dns", {}).get("imageTag"))
            for docs in inits if "local" in docs[1]["etcd"]}
    assert tags == {"v1.37.2": (None, None), "v1.35.4": ("3.7.0-0", "v1.14.6")}       # kubeadm's own tags unless given
    etcd_files = [r["args"]["dest"] for r in calls(records, "copy") if r["args"]["dest"].startswith("/etc/kubernetes/pki/")]
    assert sorted(etcd_files) == ["/etc/kubernetes/pki/apiserver-etcd-client.crt", "/etc/kubernetes/pki/apiserver-etcd-client.key",
                                  "/etc/kubernetes/pki/etcd/ca.crt"]
    directory = [r for r in calls(records, "file", path="/etc/kubernetes/pki/etcd") if r["args"]["state"] == "directory"]
    assert directory and records.index(directory[0]) < records.index(calls(records, "copy", dest="/etc/kubernetes/pki/etcd/ca.crt")[0])


def test_kubeadm_registration_keeps_restricted_labels_for_the_api(rendered):
    records, _out, topology = rendered
    joins = calls(records, "copy", dest="/etc/kubernetes/gpve/join.yaml")
    assert len(joins) == (3 if topology == "ha" else 0)
    for record in joins:
        registration = yaml_docs(record["args"]["content"])[0]["nodeRegistration"]
        assert {"name": "node-labels", "value": "tier=general"} in registration["kubeletExtraArgs"]   # node-role.* is not the kubelet's
        assert {"key": "dedicated", "value": "general", "effect": "NoSchedule"} in registration["taints"]
        assert record["no_log"]                                              # the node's copy holds the token
    assert shown_secret(records, "abcdef.0123456789abcdef") == []


@pytest.mark.parametrize("distribution", ["k3s", "rke2"])
def test_k3s_and_rke2_configs_use_only_published_flags(rendered, distribution):
    records, _out, topology = rendered
    flags = load(f"{distribution}_config")
    found = written(records, SERVER_CONFIGS[distribution])
    assert found
    for record in found:
        role = "server" if record["host"] in CONTROL_PLANES[topology] else "agent"
        config = yaml_docs(record["content"])[0]
        assert unknown_fields(config, flags[role]) == [], (record["host"], role)
        assert "secret-token" not in record["content"] and config["token-file"].endswith("/token")
    assert shown_secret(records, "secret-token") == []
    first = [yaml_docs(r["content"])[0] for r in found if r["host"] == "r-cp-1"]
    if distribution == "k3s":
        assert any(c.get("cluster-init") for c in first) and any("datastore-endpoint" in c for c in first)
        assert all(c["flannel-backend"] == "none" for c in first)
    else:
        assert all(c["profile"] == "cis" and c["cni"] == "none" for c in first)


def test_k0s_config_uses_only_published_fields(rendered):
    records, _out, topology = rendered
    controllers = written(records, "/etc/k0s/k0s.yaml")
    assert controllers
    for record in controllers:
        config = yaml_docs(record["content"])[0]
        assert unknown_fields(config, load("k0s_clusterconfig")["ClusterConfig"]) == [], record["host"]
        assert config["spec"]["network"]["provider"] == "custom"
    installs = [r for r in calls(records, "command", argv0="k0s") if r["args"]["argv"][1:3] == ["install", "controller"]]
    assert len(installs) == len(controllers) and all("--enable-worker" in r["args"]["argv"] for r in installs)
    assert any("externalCluster" in yaml_docs(r["content"])[0]["spec"]["storage"]["etcd"] for r in controllers)
    assert len(installs) == 2 * len(CONTROL_PLANES[topology])


def talos_patches(records, suffix):
    """The contents of the patch files given to talosctl whose names end with suffix."""
    return [text for r in calls(records, "talosctl") for path, text in r["args"]["files"].items() if path.endswith(suffix)]


def test_talos_patches_use_only_published_fields(rendered):
    records, _out, topology = rendered
    schema = load("talos_v1alpha1")["Config"]
    [cluster_patch] = [yaml_docs(text)[0] for text in talos_patches(records, "/cluster-patch.yaml")]
    assert unknown_fields(cluster_patch, schema) == []
    assert cluster_patch["cluster"]["network"]["cni"] == {"name": "none"}
    node_patches = talos_patches(records, "-patch.yaml")
    assert len(node_patches) == 1 + len(CONTROL_PLANES[topology]) + (1 if topology == "ha" else 0)   # the cluster's, each node's
    for text in node_patches:
        patch = yaml_docs(text)[0]
        if "machine" in patch and "cluster" not in patch:
            assert unknown_fields(patch, schema) == []
            assert patch["machine"]["nodeTaints"] == {"dedicated": "general:NoSchedule"}


def test_kube_vip_static_pods_pass_a_server_side_dry_run(rendered, kube_client):
    records, _out, _topology = rendered
    pods = [r for r in calls(records, "copy") if r["args"]["dest"].endswith("/kube-vip.yaml")]
    assert pods and len(pods) == 3 * len(set(r["host"] for r in pods))
    core = client.CoreV1Api(kube_client)
    # A fresh testbed: admission needs kube-system's default ServiceAccount, which the controller
    # manager creates shortly after start.
    wait_until(lambda: core.read_namespaced_service_account("default", "kube-system"), 120,
               "kube-system's default ServiceAccount")
    for record in pods:
        manifest = yaml_docs(record["args"]["content"])[0]
        core.create_namespaced_pod("kube-system", manifest, dry_run="All")
        mounted = manifest["spec"]["volumes"][0]["hostPath"]["path"]
        if record["args"]["dest"].startswith("/etc/kubernetes/") and record["host"] == "r-cp-1":
            assert mounted == "/etc/kubernetes/super-admin.conf"    # kubeadm 1.29+: admin.conf has no rights during init
        assert "10.30.0.5" in record["args"]["content"]
