# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cloud-init user-data that turns the vCluster's VM into a single-node cluster on first boot, without SSH.

distro k8s: a kubeadm control plane that runs the pods too, from the air-gap bundle (vm_kubeadm.py).
distro k3s (the default): it writes the module's CAs where k3s looks for user-provided CAs before it first starts
(``/var/lib/rancher/k3s/server/tls``: ``server-ca``, ``client-ca``, ``request-header-ca``,
``etcd/server-ca``, ``etcd/peer-ca`` and the service-account key ``service.key``, as
k3s documents for custom CA certificates), the k3s ``config.yaml``, then installs k3s and
starts it: from the install script (``INSTALL_K3S_VERSION``), or air-gapped from
``<artifact_url>/k3s/`` laid out as the k3s role's ``k3s_airgap_dir`` (``k3s``,
``install.sh``, ``k3s-airgap-images-amd64.tar.zst``). k3s then issues its own serving and
component certificates from those CAs, so the admin kubeconfig the module mints from its
own bundle works against it and nothing has to be read back from the VM.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.gpve.cluster.plugins.module_utils.errors import GpveError

from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import vm_kubeadm, vm_spec
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.statefulset import K3S_CA_FILES

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - the module reports it
    HAS_YAML = False

HEADER = "#cloud-config\n"
TLS_DIR = "/var/lib/rancher/k3s/server/tls"
CONFIG_PATH = "/etc/rancher/k3s/config.yaml"
IMAGES_DIR = "/var/lib/rancher/k3s/agent/images"
AIRGAP_IMAGES = "k3s-airgap-images-amd64.tar.zst"
BINARY = "/usr/local/bin/k3s"
INSTALLER = "/usr/local/bin/k3s-install.sh"
DEFAULT_INSTALL_SCRIPT_URL = "https://get.k3s.io"
SERVICE_ACCOUNT_KEY = "sa.key"


def ca_files(certs_data):
    """(path in the VM, PEM, mode) of every CA file k3s reads for a custom CA, from the bundle's entries."""
    files = []
    for target, source in K3S_CA_FILES.items():
        files.append((f"{TLS_DIR}/{target}.crt", certs_data[f"{source}.crt"], "0644"))
        files.append((f"{TLS_DIR}/{target}.key", certs_data[f"{source}.key"], "0600"))
    files.append((f"{TLS_DIR}/service.key", certs_data[SERVICE_ACCOUNT_KEY], "0600"))
    return files


def k3s_config(spec):
    """k3s's config.yaml (keys are its CLI flags): the vCluster's ranges, names and extra arguments."""
    networking, control_plane = spec["networking"], spec["control_plane"]
    service_range = ipaddress.ip_network(networking["service_cidr"])
    config = {
        "node-name": vm_spec.vm_name(spec),
        "write-kubeconfig-mode": "0600",
        "cluster-cidr": networking["pod_cidr"],
        "service-cidr": networking["service_cidr"],
        "cluster-dns": str(service_range[10]),
        "cluster-domain": networking["dns_domain"],
    }
    if spec["pki"]["extra_sans"]:
        config["tls-san"] = list(spec["pki"]["extra_sans"])
    for flag, component in (("kube-apiserver-arg", "api_server"), ("kube-controller-manager-arg", "controller_manager"),
                            ("kube-scheduler-arg", "scheduler")):
        extra = [str(arg).lstrip("-") for arg in control_plane[component]["extra_args"]]
        if extra:
            config[flag] = extra
    return config


def install_commands(spec):
    """runcmd: fetch the installer (and, air-gapped, the binary and images), then install and start the server."""
    vm = spec["vm"]
    commands = []
    base = (vm["artifact_url"] or "").rstrip("/")
    if base:
        commands += [["mkdir", "-p", IMAGES_DIR],
                     ["curl", "-fsSL", "-o", BINARY, f"{base}/k3s/k3s"], ["chmod", "0755", BINARY],
                     ["curl", "-fsSL", "-o", f"{IMAGES_DIR}/{AIRGAP_IMAGES}", f"{base}/k3s/{AIRGAP_IMAGES}"],
                     ["curl", "-fsSL", "-o", INSTALLER, f"{base}/k3s/install.sh"]]
    else:
        commands.append(["curl", "-fsSL", "-o", INSTALLER, vm["install_script_url"] or DEFAULT_INSTALL_SCRIPT_URL])
    commands.append(["chmod", "0755", INSTALLER])
    commands.append(["env", f"INSTALL_K3S_VERSION={vm_spec.k3s_release(spec)}",
                     f"INSTALL_K3S_SKIP_DOWNLOAD={'true' if base else 'false'}", INSTALLER, "server"])
    return commands


def render(spec, certs_data, address=None, fetched=None):
    """The user-data text (deterministic for one spec, bundle and address: a rerun compares it byte for byte).

    address: the VM's static address when the plan knows it (distro k8s advertises it), else None;
    fetched: distro k8s's [(bundle path, sha256)], vm_kubeadm.artifacts (read when not given)."""
    if not HAS_YAML:
        raise GpveError("PyYAML is needed to write the cloud-init user-data: install it on the controller")
    if spec["distro"] == "k8s":
        files = vm_kubeadm.write_files(spec, certs_data, vm_spec.vm_name(spec), address,
                                       vm_kubeadm.artifacts(spec) if fetched is None else fetched, _dump_document)
        write_files = [_entry(path, text, mode) for path, text, mode in files]
        commands = vm_kubeadm.run_commands()
    else:
        write_files = [_entry(path, text, mode) for path, text, mode in ca_files(certs_data)]
        write_files.append({"path": CONFIG_PATH, "owner": "root:root", "permissions": "0600",
                            "content": yaml.safe_dump(k3s_config(spec), default_flow_style=False, sort_keys=True)})
        commands = install_commands(spec)
    document = {
        "hostname": vm_spec.vm_name(spec),
        "write_files": write_files,
        "runcmd": commands,
    }
    return HEADER + yaml.dump(document, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=120)


def _entry(path, text, mode):
    return {"path": path, "content": text, "owner": "root:root", "permissions": mode}


def _dump_document(document):
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=False)


if HAS_YAML:
    class _Dumper(yaml.SafeDumper):
        """Multi-line strings (PEM, config.yaml) as literal blocks, so the file reads like the files it writes."""

    def _text(dumper, value):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _text)
