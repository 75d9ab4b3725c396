# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vCluster spec: the module's options with every default filled in, as one plain dict.

Field names mirror the seed's ``VClusterSpec`` in snake_case. ``normalize`` fills the
defaults (namespace ``<prefix><name>`` with the prefix from
``GPVE_HOST_CLUSTER_NAMESPACE_PREFIX``, resources from the seed's appendix B, images
under ``image_registry``); the result is what the registry stores as the cluster's spec
and what the manifests are rendered from. validation.py checks it before any write.
"""

from __future__ import annotations

import copy
import os

from ansible_collections.gpve.cluster.plugins.module_utils.planner import versions

NAMESPACE_PREFIX_ENV = "GPVE_HOST_CLUSTER_NAMESPACE_PREFIX"
DEFAULT_NAMESPACE_PREFIX = "vc-"
DEFAULT_KUBERNETES_VERSION = versions.DEFAULT
DEFAULT_IMAGE_REGISTRY = "registry.k8s.io"
# Images that do not live on registry.k8s.io: (home registry, repository, tag). With image_registry set, every image
# comes from there under the same repository (upstream vcluster's controlPlane.advanced.defaultImageRegistry rule).
K3S_IMAGE = ("docker.io", "rancher/k3s")
# The pinned upstream vCluster release and its chart's default syncer image (controlPlane.statefulSet.image: registry
# ghcr.io, repository loft-sh/vcluster-pro, tag the chart's version).
SYNCER_RELEASE = "0.36.1"
SYNCER_IMAGE = ("ghcr.io", "loft-sh/vcluster-pro", SYNCER_RELEASE)
# CoreDNS as kubeadm names it: coredns/coredns on registry.k8s.io, plain coredns under a custom repository.
COREDNS_REPOSITORY = ("coredns/coredns", "coredns")
COREDNS_VERSION = "v1.14.6"         # what kubeadm 1.37 runs
DEFAULT_ETCD_VERSION = "3.7.0-0"    # what kubeadm 1.37 runs
DEFAULT_KATA_RUNTIME_CLASS = "kata"
# Not kubeadm's 10.96.0.0/12: the virtual range must not overlap the host's, which often is exactly that.
DEFAULT_SERVICE_CIDR = "10.112.0.0/12"

DISTROS = ("k8s", "k3s")
ISOLATION_MODES = ("namespace", "container", "microvm", "vm")
EXPOSE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "Ingress")
CONTROL_PLANE_COMPONENTS = ("api_server", "controller_manager", "scheduler", "etcd")
COMPONENTS = CONTROL_PLANE_COMPONENTS + ("syncer", "coredns")
SYNC_TO_HOST = ("pods", "services", "config_maps", "secrets", "endpoints", "persistent_volume_claims", "ingresses",
                "network_policies")
SYNC_FROM_HOST = ("nodes", "storage_classes", "ingress_classes", "priority_classes")

# Seed appendix B, per instance: the control-plane figures go to each control-plane container.
CONTROL_PLANE_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1000m", "memory": "2Gi"}}
DEFAULT_RESOURCES = {
    "api_server": CONTROL_PLANE_RESOURCES,
    "controller_manager": CONTROL_PLANE_RESOURCES,
    "scheduler": CONTROL_PLANE_RESOURCES,
    "etcd": CONTROL_PLANE_RESOURCES,
    "syncer": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
    "coredns": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
}
# What syncs by default (the seed's defaultSync, and vcluster's own defaults for the rest).
DEFAULT_TO_HOST = {"pods": True, "services": True, "config_maps": True, "secrets": True, "endpoints": True,
                   "persistent_volume_claims": True, "ingresses": True, "network_policies": False}
DEFAULT_FROM_HOST = {"nodes": True, "storage_classes": True, "ingress_classes": False, "priority_classes": False}


def default_namespace(name, environ=None):
    environ = os.environ if environ is None else environ
    return f"{environ.get(NAMESPACE_PREFIX_ENV, DEFAULT_NAMESPACE_PREFIX)}{name}"


def normalize(options, environ=None):
    """The full spec from module options (None means: not given, take the default)."""
    options = copy.deepcopy(options)
    name = options["name"]
    control_plane = options.get("control_plane") or {}
    networking = options.get("networking") or {}
    expose = networking.get("expose") or {}
    storage = options.get("storage") or {}
    pki = options.get("pki") or {}
    etcd = control_plane.get("etcd") or {}
    spec = {
        "name": name,
        "namespace": options.get("namespace") or default_namespace(name, environ),
        "labels": dict(options.get("labels") or {}),
        "annotations": dict(options.get("annotations") or {}),
        "kubernetes_version": str(options.get("kubernetes_version") or DEFAULT_KUBERNETES_VERSION).lstrip("v"),
        "distro": options.get("distro") or ("k3s" if options.get("isolation_mode") == "vm" else "k8s"),
        "isolation_mode": options.get("isolation_mode") or "namespace",
        "control_plane": {
            "replicas": _given(control_plane.get("replicas"), 1),
            "api_server": {"extra_args": list(_section(control_plane, "api_server").get("extra_args") or [])},
            "controller_manager": {"extra_args": list(_section(control_plane, "controller_manager").get("extra_args") or [])},
            "scheduler": {"extra_args": list(_section(control_plane, "scheduler").get("extra_args") or [])},
            "etcd": {"version": etcd.get("version") or DEFAULT_ETCD_VERSION, "external": list(etcd.get("external") or [])},
            "coredns": {"enabled": _given(_section(control_plane, "coredns").get("enabled"), True)},
            "node_selector": dict(control_plane.get("node_selector") or {}),
            "tolerations": list(control_plane.get("tolerations") or []),
            "runtime_class_name": control_plane.get("runtime_class_name"),
        },
        "networking": {
            "service_cidr": networking.get("service_cidr") or DEFAULT_SERVICE_CIDR,
            "pod_cidr": networking.get("pod_cidr") or "10.244.0.0/16",
            "dns_domain": networking.get("dns_domain") or "cluster.local",
            "expose": {
                "type": expose.get("type") or "ClusterIP",
                "node_port": expose.get("node_port"),
                "load_balancer_ip": expose.get("load_balancer_ip"),
                "ingress": {"host": (expose.get("ingress") or {}).get("host"),
                            "class_name": (expose.get("ingress") or {}).get("class_name")},
            },
        },
        "storage": {"size": str(storage.get("size") or "5Gi"), "storage_class": storage.get("storage_class")},
        "resources": _resources(options.get("resources") or {}),
        "sync": _sync(options.get("sync") or {}),
        "plugins": list(options.get("plugins") or []),
        "syncer": {"enabled": _given((options.get("syncer") or {}).get("enabled"), True)},
        "image_registry": (options.get("image_registry") or DEFAULT_IMAGE_REGISTRY).rstrip("/"),
        "pki": {"extra_sans": list(pki.get("extra_sans") or []), "algorithm": pki.get("algorithm") or "ecdsa-p256",
                "renew_before_days": _given(pki.get("renew_before_days"), 30)},
    }
    if spec["isolation_mode"] == "vm":
        # Only vm-mode specs carry the section: the registry spec of other vClusters stays as it was.
        # Imported here: the planner is not needed (nor loaded) by runs on a host cluster.
        from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import vm_spec
        spec["vm"] = vm_spec.normalize(options.get("vm"), environ)
    if spec["isolation_mode"] == "microvm" and not spec["control_plane"]["runtime_class_name"]:
        spec["control_plane"]["runtime_class_name"] = DEFAULT_KATA_RUNTIME_CLASS
    return spec


def images(spec):
    """Container image per container name for the spec's distro (the syncer's only when it runs, CoreDNS's for the
    Deployment inside the virtual cluster). Every one comes from image_registry when it is set."""
    registry, version = spec["image_registry"], spec["kubernetes_version"]
    custom = registry != DEFAULT_IMAGE_REGISTRY
    found = {"coredns": f"{registry}/{COREDNS_REPOSITORY[custom]}:{COREDNS_VERSION}"}
    if spec["syncer"]["enabled"]:
        found["syncer"] = _elsewhere(registry if custom else None, *SYNCER_IMAGE)
    if spec["distro"] == "k3s":
        found["k3s"] = _elsewhere(registry if custom else None, *K3S_IMAGE, f"v{version}-k3s1")
        return found
    found.update({
        "etcd": f"{registry}/etcd:{spec['control_plane']['etcd']['version']}",
        "kube-apiserver": f"{registry}/kube-apiserver:v{version}",
        "kube-controller-manager": f"{registry}/kube-controller-manager:v{version}",
        "kube-scheduler": f"{registry}/kube-scheduler:v{version}",
    })
    return found


def plugin_image(spec, image):
    """A plugin's image under image_registry when it is set (its own registry host replaced), else as given."""
    if spec["image_registry"] == DEFAULT_IMAGE_REGISTRY:
        return image
    first, separator, rest = image.partition("/")
    has_host = separator and ("." in first or ":" in first or first == "localhost")
    return f"{spec['image_registry']}/{rest if has_host else image}"


def _elsewhere(registry, home, repository, tag):
    # docker.io images are written without their registry, as upstream's charts and manifests write them.
    if registry is None:
        return f"{repository}:{tag}" if home == "docker.io" else f"{home}/{repository}:{tag}"
    return f"{registry}/{repository}:{tag}"


def uses_embedded_etcd(spec):
    return spec["distro"] == "k8s" and not spec["control_plane"]["etcd"]["external"]


def _given(value, default):
    return default if value is None else value


def _section(parent, key):
    return parent.get(key) or {}


def _resources(given):
    resources = {}
    for component in COMPONENTS:
        default = DEFAULT_RESOURCES[component]
        chosen = given.get(component) or {}
        resources[component] = {
            "requests": dict(chosen.get("requests") or default["requests"]),
            "limits": dict(chosen.get("limits") or default["limits"]),
        }
    return resources


def _sync(given):
    sync = {"to_host": {}, "from_host": {}}
    for direction, names, defaults in (("to_host", SYNC_TO_HOST, DEFAULT_TO_HOST),
                                       ("from_host", SYNC_FROM_HOST, DEFAULT_FROM_HOST)):
        chosen = given.get(direction) or {}
        for resource in names:
            rule = chosen.get(resource)
            rule = {"enabled": rule} if isinstance(rule, bool) else dict(rule or {})
            sync[direction][resource] = {"enabled": _given(rule.get("enabled"), defaults[resource]),
                                         "selector": rule.get("selector")}
    return sync
