"""What the roles would write on the VMs, checked by the real tools and the published field lists.

The roles run with gpve_skip_guest_steps (tests/integration/roles/playbooks/render_guest_configs.yml)
for an HA and a single-node topology; the record holds every file they would have written.
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
from roles_support import TEST_PLAYBOOKS, read_record, steps, yaml_docs

from tests.playbook_run import ansible_env, run_playbook
from tests.testbed.processes import wait_until

pytestmark = pytest.mark.roles

KUBEADM_LISTS = {"kubeadm.k8s.io/v1beta4": "kubeadm_v1beta4",
                 "kubelet.config.k8s.io/v1beta1": "kubelet_v1beta1", "kubeproxy.config.k8s.io/v1alpha1": "kube_proxy_v1alpha1"}


@pytest.fixture(scope="module", params=["ha", "single"])
def rendered(request, tmp_path_factory):
    """(records, directory, topology) of one run of render_guest_configs.yml for a topology."""
    out = tmp_path_factory.mktemp(f"guest-{request.param}")
    check_script = out / "check_apiserver.sh"
    record = out / "record.jsonl"
    extra = {"gpve_skip_guest_steps": True, "gpve_guest_record": str(record), "render_dir": str(out),
             "render_topology": request.param, "render_check_script": str(check_script)}
    result = run_playbook(TEST_PLAYBOOKS / "render_guest_configs.yml", extra, ansible_env(), out / "render.log")
    assert result.returncode == 0, result.stdout[-4000:]
    return read_record(record), out, request.param


def run_tool(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60, check=False)


def test_haproxy_and_keepalived_accept_the_rendered_configs(rendered):
    records, out, _topology = rendered
    configured = steps(records, "loadbalancer-haproxy")
    assert len(configured) == 3 * len(set(r["host"] for r in configured))
    for index, record in enumerate(configured):
        data = record["data"]
        haproxy_cfg = out / f"haproxy-{index}.cfg"
        haproxy_cfg.write_text(data["haproxy_config"])
        checked = run_tool(["haproxy", "-c", "-f", str(haproxy_cfg)])
        assert checked.returncode == 0 and "Configuration file is valid" in checked.stdout, checked.stdout
        assert "http-check send meth GET uri /readyz" in data["haproxy_config"]
        for backend in data["backends"]:
            assert f"server {backend['name']} {backend['ip']}:6443" in data["haproxy_config"]
        if data["keepalived_config"] is None:
            continue
        script = out / "check_apiserver.sh"
        script.write_text(data["check_script"])
        script.chmod(stat.S_IRWXU)
        assert run_tool(["sh", "-n", str(script)]).returncode == 0
        keepalived_conf = out / f"keepalived-{index}.conf"
        keepalived_conf.write_text(data["keepalived_config"])
        checked = run_tool(["keepalived", "-t", "-f", str(keepalived_conf)])
        assert checked.returncode == 0, checked.stdout
        assert "10.30.0.5/32 dev eth0" in data["keepalived_config"]
    placements = sorted((r["data"]["type"], r["data"]["placement"]) for r in configured)
    assert ("keepalived", "control_planes") in placements


def haproxy_binds(config):
    """(address, port) of each haproxy frontend's bind line."""
    found = [line.split()[1] for line in config.splitlines() if line.strip().startswith("bind ")]
    return [(bind.rsplit(":", 1)[0], int(bind.rsplit(":", 1)[1])) for bind in found]


def distribution_listeners(record):
    """(address, port) each distribution's server listens on, "*" for every address."""
    config = yaml_docs(record["data"]["config"])[0]
    if record["step"].startswith("k0s-"):
        api = config["spec"]["api"]
        return [(api["address"] if api.get("onlyBindToAddress") else "*", api["port"]), ("*", 8132), ("*", 9443)]
    ports = (6443, 9345) if record["step"].startswith("rke2-") else (6443,)
    return [(config.get("bind-address", "*"), port) for port in ports]


def test_api_servers_leave_haproxy_the_virtual_ip_on_the_control_planes(rendered):
    """haproxy binding virtual-IP:port fails while k3s, rke2 or k0s on the same machine holds *:port (and the other
    way round): with the load balancer on the control planes each binds the node address instead."""
    records, _out, topology = rendered
    balancers = dict((r["host"], haproxy_binds(r["data"]["haproxy_config"])) for r in steps(records, "loadbalancer-haproxy")
                     if r["data"]["placement"] == "control_planes")
    servers = [r for r in steps(records) if r["step"] in ("k3s-server", "rke2-server", "k0s-controller")]
    checked = [r for r in servers if r["host"] in balancers]
    assert checked or topology == "ha"
    for record in checked:
        for address, port in distribution_listeners(record):
            clashes = [bind for bind in balancers[record["host"]] if bind[1] == port and address in ("*", bind[0])]
            assert clashes == [], (record["host"], record["step"], address, port)


def test_containerd_loads_the_rendered_config(rendered):
    records, out, _topology = rendered
    configs = [r for r in steps(records, "node-prep") if r["data"]["containerd_config"]]
    assert configs and all(r["data"]["distribution"] == "kubeadm" for r in configs)
    assert all(r["data"]["containerd_config"] is None for r in steps(records, "node-prep") if r["data"]["distribution"] == "k3s")
    for index, record in enumerate(configs):
        path = out / f"containerd-{index}.toml"
        path.write_text(record["data"]["containerd_config"])
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
    for record in steps(records, prefix="kubeadm-"):
        if "config" not in record["data"]:
            continue
        for doc in yaml_docs(record["data"]["config"]):
            schema = load(KUBEADM_LISTS[doc["apiVersion"]])[doc["kind"]]
            assert unknown_fields(doc, schema) == [], (record["step"], record["host"], doc["kind"])
            seen.add((doc["apiVersion"], doc["kind"]))
    assert {("kubeadm.k8s.io/v1beta4", kind) for kind in ("InitConfiguration", "ClusterConfiguration")} <= seen
    assert {api for api, _kind in seen if api.startswith("kubeadm.k8s.io/")} == {"kubeadm.k8s.io/v1beta4"}
    inits = [yaml_docs(r["data"]["config"]) for r in steps(records, "kubeadm-init")]
    external = [docs for docs in inits if "external" in docs[1]["etcd"]]
    assert external and external[0][1]["etcd"]["external"]["endpoints"] == ["https://10.30.0.31:2379", "https://10.30.0.32:2379"]
    assert {"name": "bind-address", "value": "10.30.0.11"} in external[0][1]["apiServer"]["extraArgs"]


def test_kubeadm_registration_keeps_restricted_labels_for_the_api(rendered):
    records, _out, topology = rendered
    joins = steps(records, prefix="kubeadm-join")
    assert len(joins) == (3 if topology == "ha" else 0)
    for record in joins:
        registration = yaml_docs(record["data"]["config"])[0]["nodeRegistration"]
        assert {"name": "node-labels", "value": "tier=general"} in registration["kubeletExtraArgs"]   # node-role.* is not the kubelet's
        assert {"key": "dedicated", "value": "general", "effect": "NoSchedule"} in registration["taints"]
        assert "abcdef.0123456789abcdef" not in record["data"]["config"]            # secrets stay placeholders


@pytest.mark.parametrize("distribution", ["k3s", "rke2"])
def test_k3s_and_rke2_configs_use_only_published_flags(rendered, distribution):
    records, _out, _topology = rendered
    flags = load(f"{distribution}_config")
    found = steps(records, prefix=f"{distribution}-")
    assert found
    for record in found:
        role = "server" if record["step"].endswith("-server") else "agent"
        config = yaml_docs(record["data"]["config"])[0]
        assert unknown_fields(config, flags[role]) == [], (record["host"], role)
        assert "secret-token" not in record["data"]["config"] and config["token-file"].endswith("/token")
    first = [yaml_docs(r["data"]["config"])[0] for r in found if r["host"] == "r-cp-1"]
    if distribution == "k3s":
        assert any(c.get("cluster-init") for c in first) and any("datastore-endpoint" in c for c in first)
        assert all(c["flannel-backend"] == "none" for c in first)
    else:
        assert all(c["profile"] == "cis" and c["cni"] == "none" for c in first)


def test_k0s_config_uses_only_published_fields(rendered):
    records, _out, _topology = rendered
    controllers = steps(records, "k0s-controller")
    assert controllers
    for record in controllers:
        config = yaml_docs(record["data"]["config"])[0]
        assert unknown_fields(config, load("k0s_clusterconfig")["ClusterConfig"]) == [], record["host"]
        assert config["spec"]["network"]["provider"] == "custom"
        assert "--enable-worker" in record["data"]["command"]
    assert any("externalCluster" in yaml_docs(r["data"]["config"])[0]["spec"]["storage"]["etcd"] for r in controllers)


def test_talos_patches_use_only_published_fields(rendered):
    records, _out, _topology = rendered
    schema = load("talos_v1alpha1")["Config"]
    cluster_patch = yaml_docs(steps(records, "talos-gen-config")[0]["data"]["cluster_patch"])[0]
    assert unknown_fields(cluster_patch, schema) == []
    assert cluster_patch["cluster"]["network"]["cni"] == {"name": "none"}
    for record in steps(records, prefix="talos-apply-"):
        patch = yaml_docs(record["data"]["node_patch"])[0]
        assert unknown_fields(patch, schema) == [], record["host"]
        assert patch["machine"]["nodeTaints"] == {"dedicated": "general:NoSchedule"}


def test_kube_vip_static_pods_pass_a_server_side_dry_run(rendered, kube_client):
    records, _out, _topology = rendered
    pods = steps(records, "loadbalancer-kube-vip")
    assert len(pods) == 3 * len(set(r["host"] for r in pods))
    core = client.CoreV1Api(kube_client)
    # A fresh testbed: admission needs kube-system's default ServiceAccount, which the controller
    # manager creates shortly after start.
    wait_until(lambda: core.read_namespaced_service_account("default", "kube-system"), 120,
               "kube-system's default ServiceAccount")
    for record in pods:
        manifest = yaml_docs(record["data"]["manifest"])[0]
        core.create_namespaced_pod("kube-system", manifest, dry_run="All")
        mounted = manifest["spec"]["volumes"][0]["hostPath"]["path"]
        if record["data"]["manifest_path"].startswith("/etc/kubernetes/") and record["host"] == "r-cp-1":
            assert mounted == "/etc/kubernetes/super-admin.conf"    # kubeadm 1.29+: admin.conf has no rights during init
        assert record["data"]["vip"] == "10.30.0.5"
