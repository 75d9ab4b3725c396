# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""distro k8s in vm isolation: what the VM's first boot needs to become a single-node kubeadm cluster, without SSH.

The VM does at first boot what create.yml's node_prep and kubeadm roles do over SSH to a first
control plane, from the air-gap bundle (docs/roles/airgap.md) served over HTTP at
``vm.artifact_url``: the module reads the bundle's file names and SHA-256 sums from the same
directory on the controller (``vm.airgap_dir``), so the user-data names every file it fetches
and checks each one. The steps, in the bootstrap script of the user-data:

- node_prep: kernel modules, sysctl, swap off, containerd's config.toml (the role's settings
  and defaults, ``vm.node_prep`` given as its variables without the ``node_prep_`` prefix),
  its packages (``node_prep/*.deb``);
- kubeadm: ``kubeadm/*.deb`` in one apt transaction (kubelet, its systemd unit and kubeadm's
  drop-in, kubeadm, kubectl, cri-tools, the CNI plugins), every image archive
  (``kubeadm/images/*.tar``, ``images/*.tar``) imported into containerd, then ``kubeadm init``
  with the role's init configuration (``vm.kubeadm``: its variables without the ``kubeadm_``
  prefix) and no taint on the node (the role's ``kubeadm_control_plane_taint: false``, as for a
  cluster without workers), so pods run on it;
- before kubeadm init the module's CAs are in ``/etc/kubernetes/pki`` (``ca``, ``front-proxy-ca``,
  ``etcd/ca``, ``sa.key``/``sa.pub``): kubeadm issues every other certificate from them, so
  the admin kubeconfig the module mints from its own bundle is valid and nothing is read back;
- the CNI: the bridge plugin with host-local IPAM over the whole pod range (the plugins of
  ``kubernetes-cni``): one node needs no route to another node's pods, which is all a
  flannel-like overlay adds.

The role's settings are rendered here in Python (the module runs without the role's files:
Ansible ships a module only its Python module_utils); tests/unit/.../test_vm_kubeadm.py renders
the roles' own templates with the same variables and checks both give the same documents.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError

# Settings of the node_prep and kubeadm roles a site sets for its VMs (their role variables without the prefix).
NODE_PREP_KEYS = ("kernel_modules", "sysctl", "containerd_cgroup_driver", "containerd_restrict_oom_score_adj")
KUBEADM_KEYS = ("kubelet_config", "kube_proxy_config", "ignore_preflight_errors", "timeouts")
# The roles' defaults (roles/node_prep/defaults/main.yml, roles/kubeadm/defaults/main.yml and vars/main.yml).
KERNEL_MODULES = ("overlay", "br_netfilter")
SYSCTL = {"net.bridge.bridge-nf-call-iptables": 1, "net.bridge.bridge-nf-call-ip6tables": 1, "net.ipv4.ip_forward": 1}
CGROUP_DRIVERS = ("systemd", "cgroupfs")
DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io"
PAUSE_IMAGE = "pause:3.10.2"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
CONFIG_API = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
KUBE_PROXY_API = "kubeproxy.config.k8s.io/v1alpha1"
API_PORT = 6443
# Paths on the VM.
PKI_DIR = "/etc/kubernetes/pki"
CONFIG_DIR = "/etc/kubernetes/gpve"
INIT_CONFIG = f"{CONFIG_DIR}/init.yaml"
INIT_STAMP = f"{CONFIG_DIR}/init.done"
CONTAINERD_CONFIG = "/etc/containerd/config.toml"
SYSCTL_FILE = "/etc/sysctl.d/99-gpve-k8s.conf"
MODULES_FILE = "/etc/modules-load.d/gpve-k8s.conf"
CNI_CONFIG = "/etc/cni/net.d/10-gpve-bridge.conflist"
ARTIFACT_DIR = "/var/lib/gpve-airgap"
CHECKSUMS = f"{ARTIFACT_DIR}/SHA256SUMS"
BOOTSTRAP = "/usr/local/sbin/gpve-vcluster-bootstrap"
BOOTSTRAP_LOG = "/var/log/gpve-vcluster-bootstrap.log"
# The bundle's folders (docs/roles/airgap.md), in the order the roles install them.
PACKAGE_FOLDERS = ("node_prep", "kubeadm")
IMAGE_FOLDERS = ("kubeadm/images", "images")
REQUIRED_PACKAGES = ("kubelet", "kubeadm", "kubectl", "cri-tools", "kubernetes-cni")
VERSIONED_PACKAGES = ("kubelet", "kubeadm", "kubectl")
# The module's CA entries (pki bundle) -> kubeadm's file names under /etc/kubernetes/pki.
PKI_FILES = (("ca.crt", "ca.crt", "0644"), ("ca.key", "ca.key", "0600"),
             ("front-proxy-ca.crt", "front-proxy-ca.crt", "0644"), ("front-proxy-ca.key", "front-proxy-ca.key", "0600"),
             ("etcd/ca.crt", "etcd-ca.crt", "0644"), ("etcd/ca.key", "etcd-ca.key", "0600"),
             ("sa.key", "sa.key", "0600"), ("sa.pub", "sa.pub", "0644"))
MODULE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
SYSCTL_NAME = re.compile(r"^[a-z0-9_.-]+(/[a-z0-9_.-]+)*$")
DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$")
HEADER = "# Written by gpve.cluster's gpve_vcluster (isolation_mode vm, distro k8s), as the {0} role writes it.\n"


def node_prep_settings(spec):
    """node_prep's variables for the VM: vm.node_prep over the role's defaults; the sandbox image from image_registry."""
    pick = _pick(spec["vm"].get("node_prep") or {})
    return {
        "kernel_modules": list(pick("kernel_modules", KERNEL_MODULES)),
        "sysctl": dict(pick("sysctl", SYSCTL)),
        "containerd_cgroup_driver": pick("containerd_cgroup_driver", "systemd"),
        "containerd_restrict_oom_score_adj": bool(pick("containerd_restrict_oom_score_adj", False)),
        "containerd_sandbox_image": f"{image_repository(spec)}/{PAUSE_IMAGE}",
    }


def kubeadm_settings(spec):
    """kubeadm's variables for the VM: vm.kubeadm over the role's defaults."""
    pick = _pick(spec["vm"].get("kubeadm") or {})
    return {
        "kubelet_config": dict(pick("kubelet_config", {})),
        "kube_proxy_config": dict(pick("kube_proxy_config", {})),
        "ignore_preflight_errors": list(pick("ignore_preflight_errors", [])),
        "timeouts": dict(pick("timeouts", {})),
    }


def _pick(given):
    return lambda key, default: default if given.get(key) is None else given[key]


def image_repository(spec):
    return (spec.get("image_registry") or DEFAULT_IMAGE_REPOSITORY).rstrip("/")


# validation -------------------------------------------------------------------------------


def validate(spec):
    """Raise ValidationError naming the field, before any write, for a distro k8s VM that cannot be bootstrapped."""
    vm = spec["vm"]
    for key, why in (("k3s_version", "the VM runs kubeadm, not k3s"),
                     ("install_script_url", "kubeadm is installed from vm.artifact_url, no script is downloaded")):
        if vm[key]:
            raise ValidationError(f"vm.{key}", f"is for distro k3s: {why}; drop it")
    if not vm["artifact_url"]:
        raise ValidationError("vm.artifact_url", "distro k8s installs kubeadm at first boot from the air-gap bundle: "
                              "give the http(s) URL the VM downloads vm.airgap_dir from")
    for section, keys in (("node_prep", NODE_PREP_KEYS), ("kubeadm", KUBEADM_KEYS)):
        unknown = sorted(set(vm.get(section) or {}) - set(keys))
        if unknown:
            raise ValidationError(f"vm.{section}.{unknown[0]}", f"is not a setting of vm.{section}; known: {', '.join(keys)}")
    if not vm.get("airgap_dir"):
        raise ValidationError("vm.airgap_dir", "distro k8s needs the air-gap bundle served at vm.artifact_url as a "
                              "directory here too (its files' names and checksums go into the user-data)")
    if re.search(r"['\s]", str(vm["artifact_url"])):
        raise ValidationError("vm.artifact_url", "must not hold quotes or spaces (the VM's shell fetches from it)")
    _check_node_prep(spec)
    _check_kubeadm(spec)
    bundle_files(spec)


def _check_node_prep(spec):
    settings = node_prep_settings(spec)
    if not isinstance(settings["kernel_modules"], list) or not all(
            isinstance(name, str) and MODULE_NAME.match(name) for name in settings["kernel_modules"]):
        raise ValidationError("vm.node_prep.kernel_modules", f"{settings['kernel_modules']!r} is not a list of kernel "
                              "module names")
    for name, value in settings["sysctl"].items():
        if not SYSCTL_NAME.match(str(name)) or not isinstance(value, (int, str)) or "\n" in str(value):
            raise ValidationError("vm.node_prep.sysctl", f"{name}: {value!r} is not a sysctl setting (name: value)")
    if settings["containerd_cgroup_driver"] not in CGROUP_DRIVERS:
        raise ValidationError("vm.node_prep.containerd_cgroup_driver", f"{settings['containerd_cgroup_driver']!r} is "
                              f"not one of {', '.join(CGROUP_DRIVERS)}")


def _check_kubeadm(spec):
    settings = kubeadm_settings(spec)
    for key in ("kubelet_config", "kube_proxy_config", "timeouts"):
        if not isinstance((spec["vm"].get("kubeadm") or {}).get(key) or {}, dict):
            raise ValidationError(f"vm.kubeadm.{key}", "must be a mapping")
    for name, value in settings["timeouts"].items():
        if not DURATION.match(str(value)):
            raise ValidationError(f"vm.kubeadm.timeouts.{name}", f"{value!r} is not a duration such as 5m0s")
    if not all(isinstance(check, str) and check for check in settings["ignore_preflight_errors"]):
        raise ValidationError("vm.kubeadm.ignore_preflight_errors", "must be a list of kubeadm preflight check names")
    kubelet_driver = kubelet_configuration(spec)["cgroupDriver"]
    containerd_driver = node_prep_settings(spec)["containerd_cgroup_driver"]
    if kubelet_driver != containerd_driver:
        raise ValidationError("vm.kubeadm.kubelet_config.cgroupDriver", f"the kubelet's cgroup driver {kubelet_driver} "
                              f"must be containerd's (vm.node_prep.containerd_cgroup_driver: {containerd_driver})")


def artifacts(spec):
    """[(path in the bundle, sha256)] of what the VM fetches: packages first (node_prep, kubeadm), then images."""
    root = os.path.expanduser(str(spec["vm"]["airgap_dir"]))
    return [(path, _sha256(os.path.join(root, path))) for path in bundle_files(spec)]


def bundle_files(spec):
    """The paths in the bundle the VM fetches. Refuses (vm.airgap_dir, or kubernetes_version when the bundle is of
    another release) a bundle the VM could not be bootstrapped from."""
    root = os.path.expanduser(str(spec["vm"]["airgap_dir"]))
    if not os.path.isdir(root):
        raise ValidationError("vm.airgap_dir", f"{root} is not a directory")
    found = {folder: _files(root, folder, ".deb") for folder in PACKAGE_FOLDERS}
    found.update({folder: _files(root, folder, ".tar") for folder in IMAGE_FOLDERS})
    names = {name.split("_", 1)[0]: name for name in found["kubeadm"]}
    missing = [package for package in REQUIRED_PACKAGES if package not in names]
    if missing:
        raise ValidationError("vm.airgap_dir", f"{root} lacks kubeadm/<package>_<version>_amd64.deb for "
                              f"{', '.join(missing)} (docs/roles/airgap.md)")
    if not found["kubeadm/images"]:
        raise ValidationError("vm.airgap_dir", f"{root} lacks kubeadm/images/*.tar, the control plane's images")
    version = str(spec["kubernetes_version"]).lstrip("v")
    for package in VERSIONED_PACKAGES:
        if not names[package].startswith(f"{package}_{version}-"):
            raise ValidationError("kubernetes_version", f"{version} is not the release of the bundle in "
                                  f"vm.airgap_dir (kubeadm/{names[package]}); set kubernetes_version to it or give "
                                  "that release's bundle")
    return [f"{folder}/{name}" for folder in PACKAGE_FOLDERS + IMAGE_FOLDERS for name in found[folder]]


def _files(root, folder, suffix):
    path = os.path.join(root, folder)
    if not os.path.isdir(path):
        return []
    return sorted(name for name in os.listdir(path) if name.endswith(suffix) and os.path.isfile(os.path.join(path, name))
                  and "'" not in name)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# node_prep's files ---------------------------------------------------------------------------


def containerd_config(settings):
    """roles/node_prep/templates/containerd-config.toml.j2 with the node_prep settings."""
    lines = [
        "# containerd for kubelet: CRI plugin, runc with the kubelet's cgroup driver, registry hosts",
        "# from /etc/containerd/certs.d (mirrors for air-gapped nodes).",
        "version = 2", 'root = "/var/lib/containerd"', 'state = "/run/containerd"', "",
        "[grpc]", '  address = "/run/containerd/containerd.sock"', "",
        "[plugins]", '  [plugins."io.containerd.grpc.v1.cri"]',
        f'    sandbox_image = "{settings["containerd_sandbox_image"]}"',
    ]
    if settings["containerd_restrict_oom_score_adj"]:
        lines.append("    restrict_oom_score_adj = true")
    lines += [
        '    [plugins."io.containerd.grpc.v1.cri".containerd]',
        '      default_runtime_name = "runc"',
        '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]',
        '        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '          runtime_type = "io.containerd.runc.v2"',
        '          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        f'            SystemdCgroup = {str(settings["containerd_cgroup_driver"] == "systemd").lower()}',
        '    [plugins."io.containerd.grpc.v1.cri".registry]',
        '      config_path = "/etc/containerd/certs.d"',
    ]
    return HEADER.format("node_prep") + "\n".join(lines) + "\n"


def sysctl_text(settings):
    """roles/node_prep/templates/sysctl.conf.j2."""
    return HEADER.format("node_prep") + "".join(f"{key} = {value}\n" for key, value in sorted(settings["sysctl"].items()))


def modules_text(settings):
    """roles/node_prep/templates/modules-load.conf.j2."""
    return (HEADER.format("node_prep") + "# Kernel modules Kubernetes networking needs, loaded at boot.\n"
            + "".join(f"{module}\n" for module in settings["kernel_modules"]))


def cni_config(spec):
    """The bridge CNI over the whole pod range: one node, so no route to other nodes' pods is needed."""
    pod_range = ipaddress.ip_network(spec["networking"]["pod_cidr"])
    default = "0.0.0.0/0" if pod_range.version == 4 else "::/0"
    return json.dumps({
        "cniVersion": "1.0.0", "name": "gpve-bridge",
        "plugins": [
            {"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": str(pod_range)}]], "routes": [{"dst": default}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ]}, indent=2, sort_keys=True) + "\n"


# kubeadm's init configuration ----------------------------------------------------------------


def _merged(base, extra):
    """The role's ``combine(..., recursive=true)``."""
    result = dict(base)
    for key, value in (extra or {}).items():
        result[key] = _merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def kubelet_configuration(spec):
    base = {"apiVersion": KUBELET_API, "kind": "KubeletConfiguration", "cgroupDriver": "systemd",
            "clusterDomain": spec["networking"]["dns_domain"], "failSwapOn": True, "rotateCertificates": True,
            "serverTLSBootstrap": False}
    return _merged(base, kubeadm_settings(spec)["kubelet_config"])


def kube_proxy_configuration(spec):
    base = {"apiVersion": KUBE_PROXY_API, "kind": "KubeProxyConfiguration", "mode": "iptables",
            "clusterCIDR": spec["networking"]["pod_cidr"]}
    return _merged(base, kubeadm_settings(spec)["kube_proxy_config"])


def _extra_args(args, base=None):
    """control_plane.<component>.extra_args (``--flag=value``) as kubeadm's extraArgs list."""
    pairs = dict(base or {})
    for arg in args:
        name, _sep, value = str(arg).lstrip("-").partition("=")
        pairs[name] = value
    return [{"name": name, "value": str(value)} for name, value in sorted(pairs.items())]


def init_documents(spec, vm_name, address):
    """The role's kubeadm-init.yaml.j2 documents for the single node (address: the VM's, None to let kubeadm pick)."""
    settings = kubeadm_settings(spec)
    control_plane, networking = spec["control_plane"], spec["networking"]
    registration = {"name": vm_name, "criSocket": CRI_SOCKET, "imagePullPolicy": "IfNotPresent"}
    if settings["ignore_preflight_errors"]:
        registration["ignorePreflightErrors"] = list(settings["ignore_preflight_errors"])
    registration["kubeletExtraArgs"] = [{"name": "node-ip", "value": address}] if address else []
    # No taint: the one node runs the pods (the role's kubeadm_control_plane_taint: false).
    registration["taints"] = []
    init = {"apiVersion": CONFIG_API, "kind": "InitConfiguration"}
    if address:
        init["localAPIEndpoint"] = {"advertiseAddress": address, "bindPort": API_PORT}
    init["nodeRegistration"] = registration
    if settings["timeouts"]:
        init["timeouts"] = {name: str(value) for name, value in sorted(settings["timeouts"].items())}
    sans = list(dict.fromkeys([*spec["pki"]["extra_sans"], *([address] if address else [])]))
    api_server = {"certSANs": sans}
    if control_plane["api_server"]["extra_args"]:
        api_server["extraArgs"] = _extra_args(control_plane["api_server"]["extra_args"])
    cluster = {
        "apiVersion": CONFIG_API, "kind": "ClusterConfiguration", "clusterName": spec["name"],
        "kubernetesVersion": f"v{str(spec['kubernetes_version']).lstrip('v')}",
    }
    if address:
        host = f"[{address}]" if ":" in address else address
        cluster["controlPlaneEndpoint"] = f"{host}:{API_PORT}"
    cluster.update({
        "imageRepository": image_repository(spec), "certificatesDir": PKI_DIR,
        "networking": {"podSubnet": networking["pod_cidr"], "serviceSubnet": networking["service_cidr"],
                       "dnsDomain": networking["dns_domain"]},
        "apiServer": api_server,
        "controllerManager": {"extraArgs": _extra_args(control_plane["controller_manager"]["extra_args"],
                                                       {"controllers": "*,bootstrapsigner,tokencleaner"})},
    })
    if control_plane["scheduler"]["extra_args"]:
        cluster["scheduler"] = {"extraArgs": _extra_args(control_plane["scheduler"]["extra_args"])}
    cluster["etcd"] = {"local": {"dataDir": "/var/lib/etcd"}}
    return [init, cluster, kubelet_configuration(spec), kube_proxy_configuration(spec)]


# the first boot ------------------------------------------------------------------------------


def pki_files(certs_data):
    """(path in the VM, PEM, mode) of the module's CAs and service-account key, where kubeadm looks for them."""
    return [(f"{PKI_DIR}/{target}", certs_data[source], mode) for target, source, mode in PKI_FILES]


def checksums(fetched):
    return "".join(f"{digest}  {path}\n" for path, digest in fetched)


def bootstrap_script(spec, fetched):
    """The first-boot script: fetch and check the bundle, node_prep, packages, images, kubeadm init; once."""
    base = spec["vm"]["artifact_url"].rstrip("/")
    settings = node_prep_settings(spec)
    lines = [
        "#!/bin/sh",
        "# Written by gpve.cluster's gpve_vcluster (isolation_mode vm, distro k8s): at first boot, what create.yml's",
        "# node_prep and kubeadm roles do over SSH to a first control plane, from the air-gap bundle over HTTP.",
        "set -eu",
        f"if [ -e {INIT_STAMP} ]; then echo 'kubeadm init finished before'; exit 0; fi",
        f"mkdir -p {ARTIFACT_DIR}",
        f"cd {ARTIFACT_DIR}",
        "echo 'fetching the air-gap bundle'",
    ]
    for path, _digest in fetched:
        lines.append(f"curl -fsS --retry 10 --retry-connrefused --retry-delay 2 --create-dirs -o '{path}' '{base}/{path}'")
    lines += [
        f"sha256sum --check --quiet {CHECKSUMS}",
        "echo 'node_prep: kernel modules, sysctl, swap, containerd'",
    ]
    lines += [f"modprobe {module}" for module in settings["kernel_modules"]]
    lines += [
        # Only the role's own file, as the role applies it: another file's key the VM may not set must not stop it.
        f"sysctl -p {SYSCTL_FILE} > /dev/null",
        'if [ "$(wc -l < /proc/swaps)" -gt 1 ]; then swapoff -a; fi',
        r"sed -i '/\sswap\s/ s/^\([^#]\)/# \1/' /etc/fstab",
        "systemctl enable containerd",
        "systemctl restart containerd",
    ]
    for folder in PACKAGE_FOLDERS:
        debs = [f"./{path}" for path, _digest in fetched if path.startswith(f"{folder}/") and path.endswith(".deb")]
        if debs:
            lines.append(f"echo 'installing {folder}/*.deb'")
            lines.append("DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends " + " ".join(debs))
    lines.append("echo 'importing the images into containerd'")
    for path, _digest in fetched:
        if path.endswith(".tar"):
            lines.append(f"ctr --namespace k8s.io images import '{path}' > /dev/null")
    lines += [
        # An import leaves hundreds of MB of dirty pages that etcd's first fsyncs would wait behind (the airgap role).
        "sync",
        "systemctl enable kubelet",
        "echo 'kubeadm init'",
        f"if [ -e /etc/kubernetes/admin.conf ]; then kubeadm init --config {INIT_CONFIG} --skip-phases=preflight; "
        f"else kubeadm init --config {INIT_CONFIG}; fi",
        f"echo 'kubeadm init of the vCluster VM finished' > {INIT_STAMP}",
        "echo 'done'",
    ]
    return "\n".join(lines) + "\n"


def write_files(spec, certs_data, vm_name, address, fetched, dump_yaml):
    """(path, content, mode) of every file the user-data writes for distro k8s."""
    settings = node_prep_settings(spec)
    init_text = "---\n".join(dump_yaml(document) for document in init_documents(spec, vm_name, address))
    files = pki_files(certs_data)
    files += [
        (CONTAINERD_CONFIG, containerd_config(settings), "0644"),
        (SYSCTL_FILE, sysctl_text(settings), "0644"),
        (MODULES_FILE, modules_text(settings), "0644"),
        (CNI_CONFIG, cni_config(spec), "0644"),
        (INIT_CONFIG, init_text, "0600"),
        (CHECKSUMS, checksums(fetched), "0644"),
        (BOOTSTRAP, bootstrap_script(spec, fetched), "0755"),
    ]
    return files


def run_commands():
    return [["sh", "-c", f"{BOOTSTRAP} > {BOOTSTRAP_LOG} 2>&1"]]
