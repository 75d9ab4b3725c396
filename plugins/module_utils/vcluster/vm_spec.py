# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``vm`` section of a vCluster with ``isolation_mode: vm``, and the K8s-on-VM spec it stands for.

The control plane is one single-node cluster on one Proxmox VM: a k3s server (``distro: k3s``, the
default) or a kubeadm control plane that also runs the pods (``distro: k8s``, from the air-gap
bundle ``vm.airgap_dir`` served at ``vm.artifact_url``, vm_kubeadm.py). That VM is planned and built by
the K8s-on-VM machinery (planner, k8s_vm.provision): ``machine_spec`` is the K8s-on-VM
spec of a cluster with one control plane, no workers and no load balancer VM, whose
template, resources and network come from the ``vm`` section and whose ranges come from
the vCluster's ``networking``. ``validate`` runs the planner's own rules on it and names
the vCluster's fields in its messages (``vm.resources.memory``, not
``control_plane.resources.memory``).
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.planner import naming, spec as machine_specs
from ansible_collections.gpve.cluster.plugins.module_utils.planner import validate as machine_validate
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import vm_kubeadm

# distro -> the K8s-on-VM distribution type the VM is planned as.
DISTRIBUTIONS = {"k3s": "k3s", "k8s": "kubeadm"}
API_PORT = 6443
DEFAULT_RESOURCES = {"cores": 2, "memory": 2048, "disk_size": 20}
DEFAULT_SNIPPETS_STORAGE = "local"
DEFAULT_VMID_START = 1000
NODE_ENV, STORAGE_ENV, BRIDGE_ENV = "GPVE_PROXMOX_NODE", "GPVE_PROXMOX_STORAGE", "GPVE_PROXMOX_NETWORK_BRIDGE"
STORAGE_ID = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$", re.IGNORECASE)
K3S_RELEASE = re.compile(r"^v\d+\.\d+\.\d+\+k3s\d+$")
# The planner's field names -> the vCluster's (longest prefix first).
FIELD_NAMES = (
    ("control_plane.resources", "vm.resources"), ("control_plane.template", "vm.template"),
    ("control_plane.placement.nodes", "vm.node"), ("control_plane.placement", "vm.node"), ("control_plane", "vm"), ("network.vm_network", "vm.network"),
    ("network.", "networking."), ("distribution.version", "vm.k3s_version"), ("distribution.type", "distro"),
    ("storage", "vm.storage"),
    ("node", "vm.node"),
)
# Planner rules that do not apply: a vCluster VM has no workers and no load balancer (its endpoint is the VM).
SKIPPED_RULES = (machine_validate.check_load_balancer, machine_validate.check_workers, machine_validate.check_ssh)


def normalize(raw, environ=None):
    """The vm section with every default filled in (plain data, as the registry stores it)."""
    environ = os.environ if environ is None else environ
    given = dict(raw or {})
    return {
        "template": given.get("template") or machine_specs.DEFAULT_TEMPLATE,
        "node": given.get("node") or environ.get(NODE_ENV),
        "storage": given.get("storage") or environ.get(STORAGE_ENV),
        "resources": machine_specs.resources(given.get("resources"), DEFAULT_RESOURCES),
        "network": machine_specs.vm_network(given.get("network"), environ.get(BRIDGE_ENV)),
        "full_clone": True if given.get("full_clone") is None else bool(given.get("full_clone")),
        "vmid_start": given.get("vmid_start") or DEFAULT_VMID_START,
        "snippets_storage": given.get("snippets_storage") or DEFAULT_SNIPPETS_STORAGE,
        "snippets_dir": given.get("snippets_dir"),
        "k3s_version": given.get("k3s_version"),
        "artifact_url": given.get("artifact_url"),
        "install_script_url": given.get("install_script_url"),
        # distro k8s's settings, kept only when given: a spec stored before they existed reads the same.
        **{key: value for key, value in (("airgap_dir", given.get("airgap_dir")),
                                         ("node_prep", _section(given.get("node_prep"), vm_kubeadm.NODE_PREP_KEYS)),
                                         ("kubeadm", _section(given.get("kubeadm"), vm_kubeadm.KUBEADM_KEYS))) if value},
    }


def _section(raw, keys):
    """The given keys of a settings section (unknown ones too: validation names them)."""
    return {key: value for key, value in dict(raw or {}).items() if value is not None or key not in keys}


def k3s_release(spec):
    """The k3s release the VM installs: vm.k3s_version, or the one that ships kubernetes_version."""
    return spec["vm"]["k3s_version"] or f"v{spec['kubernetes_version']}+k3s1"


def vm_name(spec):
    return naming.control_plane_name(spec["name"], 1)


def snippet_name(spec):
    return f"gpve-vcluster-{spec['name']}-user-data.yaml"


def snippet_path(spec):
    return os.path.join(os.path.expanduser(spec["vm"]["snippets_dir"]), snippet_name(spec))


def cicustom(spec):
    """PVE's cicustom value: the user-data snippet; the network config still comes from ipconfig0."""
    return f"user={spec['vm']['snippets_storage']}:snippets/{snippet_name(spec)}"


def machine_spec(spec):
    """The normalised K8s-on-VM spec of the vCluster's VM (one control plane, k3s or kubeadm, nothing else)."""
    vm, networking = spec["vm"], spec["networking"]
    kubeadm = spec["distro"] == "k8s"
    raw = {
        "name": spec["name"], "labels": spec["labels"],
        "distribution": {"type": DISTRIBUTIONS[spec["distro"]], "version": None if kubeadm else k3s_release(spec)},
        "kubernetes_version": spec["kubernetes_version"],
        "control_plane": {"replicas": 1, "template": vm["template"], "resources": vm["resources"],
                          "placement": {"nodes": [vm["node"]] if vm["node"] else []}},
        "workers": [],
        "network": {"pod_cidr": networking["pod_cidr"], "service_cidr": networking["service_cidr"],
                    "dns_domain": networking["dns_domain"], "vm_network": vm["network"]},
        # No load balancer VM: the endpoint is the VM itself.
        "load_balancer": {"type": "external", "api_server_port": API_PORT},
    }
    return machine_specs.normalise(raw)


def renamed(error):
    """A planner ValidationError with the vCluster's field name."""
    field = error.field or ""
    message = str(error)[len(field) + 2:] if str(error).startswith(f"{field}: ") else str(error)
    for planner_name, own_name in FIELD_NAMES:
        prefix = planner_name.rstrip(".")
        if field == prefix or field.startswith(prefix + ".") or field.startswith(prefix + "["):
            return ValidationError(own_name.rstrip(".") + field[len(prefix):], message)
    return ValidationError(field, message)


def validate_mode(spec):
    """The vCluster options that mean something else, or nothing, on a VM; before the general checks."""
    if spec["distro"] not in DISTRIBUTIONS:
        raise ValidationError("distro", f"isolation_mode vm runs k3s or a kubeadm control plane (k8s) on the VM; got "
                              f"{spec['distro']}")
    if spec["control_plane"]["replicas"] != 1:
        raise ValidationError("control_plane.replicas", "isolation_mode vm runs one single-node cluster on one VM; "
                              "set replicas to 1")
    if spec["control_plane"]["etcd"]["external"]:
        raise ValidationError("control_plane.etcd.external", "isolation_mode vm keeps its data on the VM; drop "
                              "the external etcd endpoints")
    if spec["networking"]["expose"]["type"] != "ClusterIP":
        raise ValidationError("networking.expose.type", "isolation_mode vm serves the API on the VM's address "
                              f"(port {API_PORT}); host-cluster exposure does not apply, leave expose unset")
    if spec["control_plane"]["runtime_class_name"]:
        raise ValidationError("control_plane.runtime_class_name", "a RuntimeClass is for microvm isolation; drop it "
                              "with isolation_mode vm")


def validate(spec):
    """Raise ValidationError (naming the vCluster's field) for a vm-mode spec that cannot be built."""
    validate_mode(spec)
    if spec["distro"] == "k8s":
        vm_kubeadm.validate(spec)
    else:
        _check_k3s_only(spec["vm"])
    _check_vm_section(spec["vm"])
    machine = machine_spec(spec)
    try:
        for rule in machine_validate.RULES:
            if rule not in SKIPPED_RULES:
                rule(machine)
        machine_validate.check_static_capacity(machine)
    except ValidationError as error:
        raise renamed(error) from None


def _check_vm_section(vm):
    if not vm["snippets_dir"]:
        raise ValidationError("vm.snippets_dir", "the Proxmox API cannot upload cloud-init snippets: give the local "
                              "directory that is the snippets/ folder of storage vm.snippets_storage (for storage "
                              "local on the Proxmox node itself /var/lib/vz/snippets, or a shared storage mounted "
                              "here)")
    if not os.path.isdir(os.path.expanduser(vm["snippets_dir"])):
        raise ValidationError("vm.snippets_dir", f"{vm['snippets_dir']} is not a directory; create it or mount the "
                              "snippets storage there")
    if not STORAGE_ID.match(str(vm["snippets_storage"])):
        raise ValidationError("vm.snippets_storage", f"{vm['snippets_storage']!r} is not a Proxmox storage id "
                              "(letters, digits, '-', '_', '.')")
    if vm["k3s_version"] and not K3S_RELEASE.match(str(vm["k3s_version"])):
        raise ValidationError("vm.k3s_version", f"{vm['k3s_version']!r} is not a k3s release; write it like "
                              "v1.37.2+k3s1, or leave it unset to follow kubernetes_version")
    for key in ("artifact_url", "install_script_url"):
        if vm[key] and (urlsplit(str(vm[key])).scheme not in ("http", "https") or not urlsplit(str(vm[key])).netloc):
            raise ValidationError(f"vm.{key}", f"{vm[key]!r} is not an http(s) URL the VM can download from")
    if vm["artifact_url"] and vm["install_script_url"]:
        raise ValidationError("vm.install_script_url", "with vm.artifact_url (air-gap) the installer comes from "
                              "<artifact_url>/k3s/install.sh; drop install_script_url")
    if not isinstance(vm["vmid_start"], int) or not 100 <= vm["vmid_start"] <= 999999999:
        raise ValidationError("vm.vmid_start", f"a VMID is 100 to 999999999, got {vm['vmid_start']!r}")


def _check_k3s_only(vm):
    """The settings of distro k8s mean nothing to k3s: refused rather than ignored."""
    for key in ("airgap_dir", "node_prep", "kubeadm"):
        if vm.get(key):
            raise ValidationError(f"vm.{key}", "is for distro k8s (a kubeadm control plane on the VM); k3s does not "
                                  "read it: drop it, or set distro: k8s")
