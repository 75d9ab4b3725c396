"""distro k8s in vm isolation: the user-data that bootstraps a single-node kubeadm cluster, its validation, and that
what it writes is what the node_prep and kubeadm roles' own templates render from the same variables."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import bundle as bundles
from ansible_collections.gpve.cluster.plugins.module_utils.pki import layout, renewal
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import validation, vm_kubeadm, vm_spec, vm_user_data

pytestmark = pytest.mark.vcluster

REPO = Path(__file__).resolve().parents[5]
ADDRESS = "10.20.0.70"
PACKAGES = ("kubeadm/cri-tools_1.37.0-1.1_amd64.deb", "kubeadm/kubeadm_1.37.2-1.1_amd64.deb",
            "kubeadm/kubectl_1.37.2-1.1_amd64.deb", "kubeadm/kubelet_1.37.2-1.1_amd64.deb",
            "kubeadm/kubernetes-cni_1.10.0-1.1_amd64.deb", "node_prep/chrony_4.3-2+deb12u3_amd64.deb")
IMAGES = ("kubeadm/images/etcd_3.7.0-0.tar", "kubeadm/images/pause_3.10.2.tar", "images/busybox_1.35.0.tar")
SITE = {"node_prep": {"kernel_modules": [], "sysctl": {"net.ipv4.ip_forward": 1}, "containerd_cgroup_driver": "cgroupfs",
                      "containerd_restrict_oom_score_adj": True},
        "kubeadm": {"kubelet_config": {"cgroupDriver": "cgroupfs", "failCgroupV1": False, "evictionHard": {"memory.available": "50Mi"}},
                    "kube_proxy_config": {"conntrack": {"maxPerCore": 0}}, "ignore_preflight_errors": ["SystemVerification"],
                    "timeouts": {"kubernetesAPICall": "5m0s"}}}


@pytest.fixture
def airgap(tmp_path):
    root = tmp_path / "airgap"
    for path in PACKAGES + IMAGES + ("loadbalancer/haproxy_2.6.12-1+deb12u4_amd64.deb",):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"contents of {path}\n")
    return root


@pytest.fixture
def snippets(tmp_path):
    """The snippets directory: the test's own (only its existence is checked)."""
    return tmp_path


@pytest.fixture
def make_spec(airgap, snippets):
    def make(vm=None, **options):
        section = {"snippets_dir": str(snippets), "node": "pve1", "airgap_dir": str(airgap),
                   "artifact_url": "http://10.20.0.1:8080/bundle/", **SITE}
        section.update(vm or {})
        raw = {"name": "demo", "isolation_mode": "vm", "distro": "k8s", "image_registry": "registry.example.test",
               "networking": {"pod_cidr": "10.128.0.0/16", "service_cidr": "10.112.0.0/16"}, "vm": section, **options}
        spec = specs.normalize(raw, {})
        validation.validate_spec(spec)
        vm_spec.validate(spec)
        return spec
    return make


@pytest.fixture(scope="module")
def certs_data():
    params = layout.PkiParams(name="demo", namespace="vc-demo", service_cidr="10.112.0.0/16", dns_domain="cluster.local",
                              extra_sans=(ADDRESS,), headless_service_name="demo-headless", algorithm="ecdsa-p256")
    outcome = renewal.ensure_bundle(None, params, datetime.datetime.now(datetime.timezone.utc), datetime.timedelta(days=30))
    return bundles.secret_data(outcome.bundle)


def written(text):
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    return document, {entry["path"]: entry for entry in document["write_files"]}


def test_the_user_data_bootstraps_kubeadm_from_the_bundle(make_spec, certs_data, airgap, snippets):
    spec = make_spec()
    text = vm_user_data.render(spec, certs_data, address=ADDRESS)
    assert text == vm_user_data.render(spec, certs_data, address=ADDRESS)  # a rerun compares it byte for byte
    (snippets / "ud.yaml").write_text(text)
    checked = subprocess.run(["cloud-init", "schema", "--config-file", str(snippets / "ud.yaml")], capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0 and "Valid cloud-config" in checked.stdout, checked.stdout + checked.stderr
    document, files = written(text)
    assert document["hostname"] == "demo-cp-1"
    assert document["runcmd"] == [["sh", "-c", "/usr/local/sbin/gpve-vcluster-bootstrap > /var/log/gpve-vcluster-bootstrap.log 2>&1"]]

    # The module's CAs where kubeadm looks for them, so it issues everything else from them; keys 0600.
    pki = {path: entry for path, entry in files.items() if path.startswith("/etc/kubernetes/pki/")}
    assert set(pki) == {f"/etc/kubernetes/pki/{name}" for name in ("ca.crt", "ca.key", "front-proxy-ca.crt",
                                                                   "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key",
                                                                   "sa.key", "sa.pub")}
    assert pki["/etc/kubernetes/pki/ca.crt"]["content"] == certs_data["ca.crt"]
    assert pki["/etc/kubernetes/pki/etcd/ca.key"]["content"] == certs_data["etcd-ca.key"]
    assert all(entry["permissions"] == "0600" for path, entry in pki.items() if path.endswith(".key"))

    # kubeadm init: the VM's address, no taint, the image repository, the ranges, the site's kubelet settings.
    init, cluster, kubelet, proxy = yaml.safe_load_all(files["/etc/kubernetes/gpve/init.yaml"]["content"])
    assert files["/etc/kubernetes/gpve/init.yaml"]["permissions"] == "0600"
    assert init["localAPIEndpoint"] == {"advertiseAddress": ADDRESS, "bindPort": 6443}
    assert init["nodeRegistration"]["taints"] == [] and init["nodeRegistration"]["name"] == "demo-cp-1"
    assert init["nodeRegistration"]["ignorePreflightErrors"] == ["SystemVerification"]
    assert init["timeouts"] == {"kubernetesAPICall": "5m0s"}
    assert cluster["imageRepository"] == "registry.example.test" and cluster["kubernetesVersion"] == "v1.37.2"
    assert cluster["controlPlaneEndpoint"] == f"{ADDRESS}:6443" and cluster["apiServer"]["certSANs"] == [ADDRESS]
    assert cluster["networking"] == {"podSubnet": "10.128.0.0/16", "serviceSubnet": "10.112.0.0/16", "dnsDomain": "cluster.local"}
    assert kubelet["cgroupDriver"] == "cgroupfs" and kubelet["failCgroupV1"] is False and kubelet["failSwapOn"] is True
    assert proxy["conntrack"] == {"maxPerCore": 0} and proxy["mode"] == "iptables"

    # containerd: the pause image through image_registry, the site's cgroup driver; the bridge CNI over the pod range.
    containerd = files["/etc/containerd/config.toml"]["content"]
    assert 'sandbox_image = "registry.example.test/pause:3.10.2"' in containerd and "SystemdCgroup = false" in containerd
    assert "restrict_oom_score_adj = true" in containerd
    cni = json.loads(files["/etc/cni/net.d/10-gpve-bridge.conflist"]["content"])
    assert cni["plugins"][0]["type"] == "bridge" and cni["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.128.0.0/16"}]]

    # Every fetched file named with its checksum; the load balancer's packages are not the VM's.
    sums = files["/var/lib/gpve-airgap/SHA256SUMS"]["content"].splitlines()
    expected = [path for folder in ("node_prep/", "kubeadm/") for path in sorted(PACKAGES) if path.startswith(folder)
                and path.endswith(".deb")] + sorted(p for p in IMAGES if p.startswith("kubeadm/")) + ["images/busybox_1.35.0.tar"]
    assert [line.split("  ")[1] for line in sums] == expected
    assert all(line.split("  ")[0] == hashlib.sha256((airgap / line.split("  ")[1]).read_bytes()).hexdigest() for line in sums)

    # The script: once (the stamp), fetch, check, node_prep, packages, images, then kubeadm init.
    script = files["/usr/local/sbin/gpve-vcluster-bootstrap"]
    assert script["permissions"] == "0755"
    lines = script["content"].splitlines()
    assert lines[0] == "#!/bin/sh" and "set -eu" in lines
    order = [next(n for n, line in enumerate(lines) if marker in line) for marker in (
        "/etc/kubernetes/gpve/init.done ]; then", "curl -fsS", "sha256sum --check", "systemctl restart containerd",
        "apt-get install", "ctr --namespace k8s.io images import", "kubeadm init --config")]
    assert order == sorted(order)
    assert ("curl -fsS --retry 10 --retry-connrefused --retry-delay 2 --create-dirs -o 'kubeadm/kubelet_1.37.2-1.1_amd64.deb' "
            "'http://10.20.0.1:8080/bundle/kubeadm/kubelet_1.37.2-1.1_amd64.deb'") in lines
    assert not any("haproxy" in line or "modprobe" in line for line in lines)


def test_without_a_static_address_kubeadm_picks_the_vm_s_own(make_spec, certs_data):
    _document, files = written(vm_user_data.render(make_spec(), certs_data, address=None))
    init, cluster, _kubelet, _proxy = yaml.safe_load_all(files["/etc/kubernetes/gpve/init.yaml"]["content"])
    assert "localAPIEndpoint" not in init and init["nodeRegistration"]["kubeletExtraArgs"] == []
    assert "controlPlaneEndpoint" not in cluster


def test_the_roles_defaults_apply_when_the_site_sets_nothing(make_spec, certs_data):
    spec = make_spec(vm={"node_prep": None, "kubeadm": None}, image_registry=None)
    assert "node_prep" not in spec["vm"] and "kubeadm" not in spec["vm"]
    _document, files = written(vm_user_data.render(spec, certs_data, address=ADDRESS))
    assert files["/etc/modules-load.d/gpve-k8s.conf"]["content"].splitlines()[-2:] == ["overlay", "br_netfilter"]
    assert "net.bridge.bridge-nf-call-iptables = 1" in files["/etc/sysctl.d/99-gpve-k8s.conf"]["content"]
    assert 'sandbox_image = "registry.k8s.io/pause:3.10.2"' in files["/etc/containerd/config.toml"]["content"]
    script = files["/usr/local/sbin/gpve-vcluster-bootstrap"]["content"]
    assert "modprobe overlay\nmodprobe br_netfilter\n" in script


def test_the_k3s_user_data_is_unchanged_by_the_k8s_settings(snippets, certs_data):
    spec = specs.normalize({"name": "demo", "isolation_mode": "vm", "vm": {"snippets_dir": str(snippets)}}, {})
    assert spec["distro"] == "k3s" and set(spec["vm"]) >= {"k3s_version", "artifact_url"}
    assert not {"airgap_dir", "node_prep", "kubeadm"} & set(spec["vm"])  # a stored spec reads the same as before
    _document, files = written(vm_user_data.render(spec, certs_data))
    assert "/etc/rancher/k3s/config.yaml" in files and not any(path.startswith("/etc/kubernetes") for path in files)


INVALID = [
    ({"vm": {"artifact_url": None}}, "vm.artifact_url", "air-gap bundle"),
    ({"vm": {"artifact_url": "http://10.20.0.1/it's"}}, "vm.artifact_url", "quotes"),
    ({"vm": {"airgap_dir": None}}, "vm.airgap_dir", "directory here too"),
    ({"vm": {"airgap_dir": "/nonexistent/airgap"}}, "vm.airgap_dir", "not a directory"),
    ({"kubernetes_version": "1.36.3"}, "kubernetes_version", "kubeadm/kubelet_1.37.2-1.1_amd64.deb"),
    ({"vm": {"k3s_version": "v1.37.2+k3s1"}}, "vm.k3s_version", "distro k3s"),
    ({"vm": {"install_script_url": "https://get.k3s.io"}}, "vm.install_script_url", "distro k3s"),
    ({"vm": {"node_prep": {"containerd_cgroup_driver": "systemd"}}}, "vm.kubeadm.kubelet_config.cgroupDriver",
     "must be containerd's"),
    ({"vm": {"node_prep": {"containerd_cgroup_driver": "cgroupv3"}}}, "vm.node_prep.containerd_cgroup_driver", "not one of"),
    ({"vm": {"node_prep": {"kernel_modules": ["overlay; reboot"]}}}, "vm.node_prep.kernel_modules", "module names"),
    ({"vm": {"node_prep": {"sysctl": {"net.ipv4.ip_forward": "1\nkernel.panic = 0"}}}}, "vm.node_prep.sysctl", "sysctl"),
    ({"vm": {"node_prep": {"swap": False}}}, "vm.node_prep.swap", "not a setting"),
    ({"vm": {"kubeadm": {"timeouts": {"kubernetesAPICall": "five minutes"}}}}, "vm.kubeadm.timeouts.kubernetesAPICall",
     "duration"),
    ({"vm": {"kubeadm": {"ignore_preflight_errors": [""]}}}, "vm.kubeadm.ignore_preflight_errors", "check names"),
]


@pytest.mark.parametrize("options,field,words", INVALID, ids=[f"{row[1]}-{n}" for n, row in enumerate(INVALID)])
def test_invalid_k8s_vm_specs_name_the_field(make_spec, options, field, words):
    options = dict(options)
    vm = options.pop("vm", {})
    merged = {key: ({**SITE[key], **value} if key in SITE and isinstance(value, dict) else value) for key, value in vm.items()}
    with pytest.raises(ValidationError) as failed:
        make_spec(vm=merged, **options)
    assert failed.value.field == field, str(failed.value)
    assert words in str(failed.value)


def test_a_bundle_without_a_package_or_images_is_refused(make_spec, airgap):
    os.unlink(airgap / "kubeadm/kubernetes-cni_1.10.0-1.1_amd64.deb")
    with pytest.raises(ValidationError, match="lacks kubeadm/<package>_<version>_amd64.deb for kubernetes-cni"):
        make_spec()
    (airgap / "kubeadm/kubernetes-cni_1.10.0-1.1_amd64.deb").write_text("back\n")
    for archive in (airgap / "kubeadm/images").iterdir():
        archive.unlink()
    with pytest.raises(ValidationError, match="lacks kubeadm/images"):
        make_spec()


def test_k8s_settings_are_refused_with_k3s(snippets, airgap):
    spec = specs.normalize({"name": "demo", "isolation_mode": "vm",
                            "vm": {"snippets_dir": str(snippets), "airgap_dir": str(airgap)}}, {})
    with pytest.raises(ValidationError) as failed:
        vm_spec.validate(spec)
    assert failed.value.field == "vm.airgap_dir" and "distro k8s" in str(failed.value)


# The roles' templates, rendered by Ansible from the same variables ---------------------------------------------

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars_files:
    - {repo}/roles/node_prep/defaults/main.yml
    - {repo}/roles/kubeadm/defaults/main.yml
    - {repo}/roles/kubeadm/vars/main.yml
  tasks:
    - name: Render the roles' templates
      ansible.builtin.copy:
        dest: "{{{{ out }}}}/{{{{ item.name }}}}"
        content: "{{{{ lookup('ansible.builtin.template', item.template) }}}}"
        mode: "0600"
      loop:
        - {{name: containerd, template: "{repo}/roles/node_prep/templates/containerd-config.toml.j2"}}
        - {{name: sysctl, template: "{repo}/roles/node_prep/templates/sysctl.conf.j2"}}
        - {{name: modules, template: "{repo}/roles/node_prep/templates/modules-load.conf.j2"}}
        - {{name: init, template: "{repo}/roles/kubeadm/templates/kubeadm-init.yaml.j2"}}
"""


def without_comments(text):
    return [line for line in text.splitlines() if not line.startswith("#")]


def test_the_files_are_what_the_roles_templates_render(make_spec, tmp_path):
    """The module cannot ship the roles' files (Ansible sends a module its Python only), so it renders the same
    documents itself; this renders the roles' own templates with the variables a site would set and compares."""
    spec = make_spec(control_plane={"api_server": {"extra_args": ["--audit-log-maxage=7"]}}, pki={"extra_sans": ["api.example.test"]})
    site = {f"node_prep_{key}": value for key, value in SITE["node_prep"].items()}
    site.update({f"kubeadm_{key}": value for key, value in SITE["kubeadm"].items()})
    site.update({
        "out": str(tmp_path), "ansible_python_interpreter": sys.executable, "node_prep_containerd_sandbox_image": "registry.example.test/pause:3.10.2",
        "kubeadm_kubernetes_version": "1.37.2", "kubeadm_cluster_name": "demo", "kubeadm_image_repository": "registry.example.test",
        "kubeadm_control_plane_endpoint": f"{ADDRESS}:6443", "kubeadm_node_ip": ADDRESS, "kubeadm_node_name": "demo-cp-1",
        "kubeadm_pod_subnet": "10.128.0.0/16", "kubeadm_service_subnet": "10.112.0.0/16",
        # What tasks/init.yml and registration.yml work out for a lone control plane without taint or labels.
        "kubeadm_all_cert_sans": ["api.example.test", ADDRESS], "kubeadm_all_apiserver_args": {"audit-log-maxage": "7"},
        "kubeadm_kubelet_labels": {}, "kubeadm_registration_taints": [],
    })
    (tmp_path / "site.json").write_text(json.dumps(site))
    (tmp_path / "render.yml").write_text(PLAYBOOK.format(repo=REPO))
    done = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", f"@{tmp_path / 'site.json'}",
                           str(tmp_path / "render.yml")], capture_output=True, text=True, check=False, timeout=120,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    settings = vm_kubeadm.node_prep_settings(spec)
    assert without_comments(vm_kubeadm.containerd_config(settings)) == without_comments((tmp_path / "containerd").read_text())
    assert without_comments(vm_kubeadm.sysctl_text(settings)) == without_comments((tmp_path / "sysctl").read_text())
    assert without_comments(vm_kubeadm.modules_text(settings)) == without_comments((tmp_path / "modules").read_text())
    role_documents = list(yaml.safe_load_all((tmp_path / "init").read_text()))
    assert vm_kubeadm.init_documents(spec, "demo-cp-1", ADDRESS) == role_documents


def test_the_defaults_are_the_roles():
    node_prep = yaml.safe_load((REPO / "roles/node_prep/defaults/main.yml").read_text())
    kubeadm = {**yaml.safe_load((REPO / "roles/kubeadm/defaults/main.yml").read_text()),
               **yaml.safe_load((REPO / "roles/kubeadm/vars/main.yml").read_text())}
    assert list(vm_kubeadm.KERNEL_MODULES) == node_prep["node_prep_kernel_modules"]
    assert vm_kubeadm.SYSCTL == node_prep["node_prep_sysctl"]
    assert f"{vm_kubeadm.DEFAULT_IMAGE_REPOSITORY}/{vm_kubeadm.PAUSE_IMAGE}" == node_prep["node_prep_containerd_sandbox_image"]
    assert node_prep["node_prep_containerd_cgroup_driver"] == "systemd"
    assert (vm_kubeadm.CONFIG_API, vm_kubeadm.KUBELET_API, vm_kubeadm.KUBE_PROXY_API) == (
        kubeadm["kubeadm_config_api"], kubeadm["kubeadm_kubelet_api"], kubeadm["kubeadm_kube_proxy_api"])
    assert vm_kubeadm.CRI_SOCKET == kubeadm["kubeadm_cri_socket"]
    assert vm_kubeadm.DEFAULT_IMAGE_REPOSITORY == kubeadm["kubeadm_image_repository"]
    assert vm_kubeadm.INIT_STAMP == kubeadm["kubeadm_init_stamp"] and vm_kubeadm.CONFIG_DIR == kubeadm["kubeadm_config_dir"]
