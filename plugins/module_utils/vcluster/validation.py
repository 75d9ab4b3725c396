# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks on a normalised vCluster spec, before anything is written anywhere.

Each failure is a ValidationError naming the field (``networking.expose.node_port``) and
what to do about it. ``validate_spec`` needs nothing but the spec; ``validate_change``
compares with the spec already deployed (one minor version at a time, storage fixed
after creation); ``validate_host_service_range`` runs when the host's service range is
known.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ansible_collections.gpve.cluster.plugins.module_utils.errors import ValidationError
from ansible_collections.gpve.cluster.plugins.module_utils.pki import keys, layout
from ansible_collections.gpve.cluster.plugins.module_utils.planner import versions
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs

MAX_NAME_LENGTH = 50
NODE_PORT_RANGE = (30000, 32767)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUANTITY = re.compile(r"^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
# A registry prefix as the distribution reference grammar spells it: a host (with a dot or a port, or localhost, so it
# is not read as a Docker Hub path), an optional port, then lower-case path components.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REGISTRY_HOST = re.compile(rf"^{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]{{1,5}})?$")
REGISTRY_PATH = re.compile(rf"^{_PATH_COMPONENT}$")
IMAGE_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
# The syncer settings the pinned upstream release (SYNCER_RELEASE) has that the module takes.
SYNCER_RELEASE = specs.SYNCER_RELEASE
SYNCER_SETTINGS = ("enabled",)
PLUGIN_SETTINGS = ("name", "image", "args", "env")
SUFFIX_FACTORS = {"": 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
                  "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}


def validate_free_form(options):
    """The free-form options (resources, sync) name only known components and resources; before normalising."""
    for component, sections in (options.get("resources") or {}).items():
        if component not in specs.COMPONENTS:
            raise ValidationError(f"resources.{component}", f"unknown component; use {', '.join(specs.COMPONENTS)}")
        unknown = set(sections or {}) - {"requests", "limits"}
        if unknown:
            raise ValidationError(f"resources.{component}", f"{', '.join(sorted(unknown))}: use requests and limits")
    unknown = sorted(set(options.get("syncer") or {}) - set(SYNCER_SETTINGS))
    if unknown:
        raise ValidationError(f"syncer.{unknown[0]}", f"vCluster {SYNCER_RELEASE}'s syncer has no such setting here; "
                              f"the module takes {', '.join(SYNCER_SETTINGS)}")
    sync = options.get("sync") or {}
    directions = sorted(set(sync) - {"to_host", "from_host"})
    if directions:
        raise ValidationError(f"sync.{directions[0]}", "unknown direction; use to_host and from_host")
    for direction, names in (("to_host", specs.SYNC_TO_HOST), ("from_host", specs.SYNC_FROM_HOST)):
        unknown = sorted(set(sync.get(direction) or {}) - set(names))
        if unknown:
            raise ValidationError(f"sync.{direction}.{unknown[0]}", f"unknown resource; use {', '.join(names)}")


def validate_spec(spec):
    """Raise ValidationError for the first problem of a normalised spec."""
    _names(spec)
    _metadata(spec)
    version(spec["kubernetes_version"])
    _choices(spec)
    _control_plane(spec)
    _networking(spec["networking"])
    _storage(spec["storage"])
    _resources(spec["resources"])
    _sync(spec["sync"])
    _pki(spec)
    image_registry(spec["image_registry"])
    _syncer(spec)


def image_registry(prefix):
    """A registry prefix every image name can start with: host[:port][/path], no scheme, no tag."""
    host, _slash, path = str(prefix).partition("/")
    problem = None
    if "://" in str(prefix):
        problem = "has a scheme (give it without a scheme)"
    elif not REGISTRY_HOST.match(host) or not ("." in host or ":" in host or host == "localhost"):
        problem = f"does not start with a registry host ({host!r}; it needs a dot or a port, or is localhost)"
    elif path and not all(REGISTRY_PATH.match(part) for part in path.split("/")):
        problem = "has a path component that is not lower-case letters, digits and . _ -"
    if problem:
        raise ValidationError("image_registry", f"{prefix!r} {problem}: give a registry host and optional path, "
                              "e.g. registry.k8s.io or registry.example.com:5000/mirror")


def _syncer(spec):
    if not isinstance(spec["syncer"]["enabled"], bool):
        raise ValidationError("syncer.enabled", "true or false")
    seen = {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "k3s", "syncer"}
    for index, plugin in enumerate(spec["plugins"]):
        field = f"plugins[{index}]"
        if not isinstance(plugin, dict):
            raise ValidationError(field, "a plugin is a dict with name and image (and args, env)")
        unknown = sorted(set(plugin) - set(PLUGIN_SETTINGS))
        if unknown:
            raise ValidationError(f"{field}.{unknown[0]}", f"unknown plugin setting; use {', '.join(PLUGIN_SETTINGS)}")
        name = str(plugin.get("name") or "")
        if not DNS_LABEL.match(name) or name in seen:
            raise ValidationError(f"{field}.name", f"{name!r}: a DNS label, not the name of another container of the pod")
        seen.add(name)
        _image_reference(plugin.get("image"), f"{field}.image")
        if not spec["syncer"]["enabled"]:
            raise ValidationError(field, "plugins run beside the syncer: with syncer.enabled false drop them")


def _image_reference(image, field):
    name, _at, digest = str(image or "").partition("@")
    repository, tag = name, None
    if ":" in name.rsplit("/", 1)[-1]:
        repository, tag = name.rsplit(":", 1)
    parts = repository.split("/")
    if "." in parts[0] or ":" in parts[0] or parts[0] == "localhost":
        parts = parts[1:] if len(parts) > 1 else []
    if not image or not parts or not all(REGISTRY_PATH.match(part) for part in parts) or \
            (tag is not None and not IMAGE_TAG.match(tag)) or (digest and ":" not in digest):
        raise ValidationError(field, f"{image!r} is not an image reference like ghcr.io/owner/plugin:1.0")


def validate_change(spec, deployed):
    """Raise ValidationError when going from the deployed spec to spec is not allowed in one step."""
    before, after = version(deployed["kubernetes_version"]), version(spec["kubernetes_version"])
    if after[:2] < before[:2]:
        raise ValidationError("kubernetes_version", f"downgrading from {deployed['kubernetes_version']} is not supported")
    if after[1] - before[1] > 1:
        raise ValidationError("kubernetes_version", f"upgrade one minor version at a time: from "
                              f"{deployed['kubernetes_version']} the next step is 1.{before[1] + 1}.x")
    if (spec["isolation_mode"] == "vm") != (deployed["isolation_mode"] == "vm"):
        raise ValidationError("isolation_mode", f"the vCluster runs with isolation_mode {deployed['isolation_mode']}; "
                              "moving between a Proxmox VM and the host cluster is not supported: delete it and "
                              "create it again")
    for field in ("distro",):
        if spec[field] != deployed[field]:
            raise ValidationError(field, f"cannot change from {deployed[field]} to {spec[field]} on an existing vCluster")
    if spec["namespace"] != deployed["namespace"]:
        raise ValidationError("namespace", f"the vCluster lives in {deployed['namespace']}; moving it is not supported")
    if quantity(spec["storage"]["size"], "storage.size") != quantity(deployed["storage"]["size"], "storage.size"):
        raise ValidationError("storage.size", f"the data volume was created with {deployed['storage']['size']}; "
                              "a StatefulSet's volume claims cannot be resized through it")
    if spec["storage"]["storage_class"] != deployed["storage"]["storage_class"]:
        raise ValidationError("storage.storage_class", "the storage class of existing volume claims cannot change")


def validate_host_service_range(spec, host_service_cidr):
    """The virtual cluster's ranges must not overlap the host's service range (synced pods use both)."""
    host = ipaddress.ip_network(host_service_cidr, strict=False)
    for field in ("service_cidr", "pod_cidr"):
        own = ipaddress.ip_network(spec["networking"][field])
        if own.version == host.version and own.overlaps(host):
            raise ValidationError(f"networking.{field}", f"{own} overlaps the host cluster's service range {host}")


def version(text):
    """(major, minor, patch) of a supported Kubernetes version (planner.versions' table), or ValidationError."""
    parsed = versions.parse(text) if not str(text).startswith("v") else None
    if parsed is None:
        raise ValidationError("kubernetes_version", f"{text!r} is not a version like {versions.default_version()}")
    if not versions.is_supported(None, text):
        raise ValidationError("kubernetes_version", versions.unsupported_message(text))
    return parsed


def quantity(text, field):
    """A Kubernetes quantity as a float (bytes or cores), or ValidationError naming field."""
    match = QUANTITY.match(str(text))
    if not match:
        raise ValidationError(field, f"{text!r} is not a quantity like 500m, 2Gi or 1")
    return float(match.group(1)) * SUFFIX_FACTORS[match.group(3) or ""]


def _names(spec):
    name = spec["name"]
    if not name or len(name) > MAX_NAME_LENGTH or not DNS_LABEL.match(name):
        raise ValidationError("name", f"{name!r} must be a DNS label: lower-case letters, digits and '-', "
                              f"starting and ending with a letter or digit, at most {MAX_NAME_LENGTH} characters")
    namespace = spec["namespace"]
    if len(namespace) > 63 or not DNS_LABEL.match(namespace):
        raise ValidationError("namespace", f"{namespace!r} is not a valid namespace name (DNS label, at most 63)")


def _metadata(spec):
    for field in ("labels", "annotations"):
        for key, value in spec[field].items():
            if not isinstance(key, str) or not QUALIFIED_NAME.match(key) or len(key.split("/")[-1]) > 63:
                raise ValidationError(f"{field}.{key}", "is not a valid key (prefix/name, name at most 63 characters)")
            if field == "labels" and (not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value)):
                raise ValidationError(f"labels.{key}", f"{value!r} is not a valid label value (at most 63 characters)")


def _choices(spec):
    for field, allowed in (("distro", specs.DISTROS), ("isolation_mode", specs.ISOLATION_MODES)):
        if spec[field] not in allowed:
            raise ValidationError(field, f"{spec[field]!r} is not one of {', '.join(allowed)}")


def _control_plane(spec):
    control_plane = spec["control_plane"]
    replicas = control_plane["replicas"]
    if not isinstance(replicas, int) or replicas < 1:
        raise ValidationError("control_plane.replicas", "at least 1 (scale to zero with state=suspended)")
    if spec["distro"] == "k3s" and replicas != 1:
        raise ValidationError("control_plane.replicas", "k3s keeps its data in SQLite, a single-writer store: "
                              "only 1 replica; use distro k8s for a highly available control plane")
    if specs.uses_embedded_etcd(spec) and replicas not in (1, 3, 5):
        raise ValidationError("control_plane.replicas", f"{replicas} etcd members cannot keep quorum well: "
                              "use 1, 3 or 5")
    for endpoint in control_plane["etcd"]["external"]:
        parts = urlsplit(str(endpoint))
        if parts.scheme != "https" or not parts.hostname:
            raise ValidationError("control_plane.etcd.external", f"{endpoint!r} is not an https:// etcd endpoint")
    if spec["distro"] == "k3s" and control_plane["etcd"]["external"]:
        raise ValidationError("control_plane.etcd.external", "only the k8s distro takes external etcd endpoints")
    if control_plane["runtime_class_name"] and spec["isolation_mode"] == "namespace":
        raise ValidationError("control_plane.runtime_class_name", "a RuntimeClass is for isolation_mode container or "
                              "microvm; namespace isolation runs the pods with the nodes' default runtime")
    for component in ("api_server", "controller_manager", "scheduler"):
        for arg in control_plane[component]["extra_args"]:
            if not str(arg).startswith("--") or "=" not in str(arg):
                raise ValidationError(f"control_plane.{component}.extra_args", f"{arg!r} is not of the form --flag=value")


def _networking(networking):
    networks = {}
    for field in ("service_cidr", "pod_cidr"):
        try:
            networks[field] = ipaddress.ip_network(networking[field], strict=True)
        except ValueError:
            raise ValidationError(f"networking.{field}", f"{networking[field]!r} is not a network in CIDR form "
                                  "(host bits zero), e.g. 10.96.0.0/12") from None
    layout.kubernetes_service_ip(networking["service_cidr"])
    if networks["service_cidr"].version == networks["pod_cidr"].version and \
            networks["service_cidr"].overlaps(networks["pod_cidr"]):
        raise ValidationError("networking.pod_cidr", f"{networks['pod_cidr']} overlaps the service range "
                              f"{networks['service_cidr']}")
    if not DNS_SUBDOMAIN.match(networking["dns_domain"]):
        raise ValidationError("networking.dns_domain", f"{networking['dns_domain']!r} is not a DNS domain")
    _expose(networking["expose"])


def _expose(expose):
    kind = expose["type"]
    if kind not in specs.EXPOSE_TYPES:
        raise ValidationError("networking.expose.type", f"{kind!r} is not one of {', '.join(specs.EXPOSE_TYPES)}")
    node_port, lb_ip, host = expose["node_port"], expose["load_balancer_ip"], expose["ingress"]["host"]
    if node_port is not None:
        if kind != "NodePort":
            raise ValidationError("networking.expose.node_port", "only with type NodePort")
        if not NODE_PORT_RANGE[0] <= node_port <= NODE_PORT_RANGE[1]:
            raise ValidationError("networking.expose.node_port", f"{node_port} is outside {NODE_PORT_RANGE[0]}-"
                                  f"{NODE_PORT_RANGE[1]}")
    if lb_ip is not None:
        if kind != "LoadBalancer":
            raise ValidationError("networking.expose.load_balancer_ip", "only with type LoadBalancer")
        if not layout.is_valid_san(lb_ip) or not _is_ip(lb_ip):
            raise ValidationError("networking.expose.load_balancer_ip", f"{lb_ip!r} is not an IP address")
    if kind == "Ingress":
        if not host or "*" in host or not DNS_SUBDOMAIN.match(host):
            raise ValidationError("networking.expose.ingress.host", f"{host!r}: type Ingress needs a DNS host name")
        class_name = expose["ingress"]["class_name"]
        if class_name and not DNS_SUBDOMAIN.match(class_name):
            raise ValidationError("networking.expose.ingress.class_name", f"{class_name!r} is not a valid name")
    elif host or expose["ingress"]["class_name"]:
        raise ValidationError("networking.expose.ingress", "only with type Ingress")


def _storage(storage):
    if quantity(storage["size"], "storage.size") <= 0:
        raise ValidationError("storage.size", "must be more than 0")
    if storage["storage_class"] is not None and not DNS_SUBDOMAIN.match(storage["storage_class"]):
        raise ValidationError("storage.storage_class", f"{storage['storage_class']!r} is not a valid name")


def _resources(resources):
    for component, sections in resources.items():
        for section in ("requests", "limits"):
            for resource, amount in sections[section].items():
                if resource not in ("cpu", "memory", "ephemeral-storage"):
                    raise ValidationError(f"resources.{component}.{section}", f"{resource!r}: use cpu, memory or "
                                          "ephemeral-storage")
                quantity(amount, f"resources.{component}.{section}.{resource}")
        for resource, request in sections["requests"].items():
            limit = sections["limits"].get(resource)
            field = f"resources.{component}.requests.{resource}"
            if limit is not None and quantity(request, field) > quantity(limit, field):
                raise ValidationError(field, f"the request {request} is above the limit {limit}")


def _sync(sync):
    for direction, rules in sync.items():
        for resource, rule in rules.items():
            selector = rule["selector"]
            if selector is None:
                continue
            field = f"sync.{direction}.{resource}.selector"
            unknown = set(selector) - {"match_labels", "matchLabels", "match_expressions", "matchExpressions"} \
                if isinstance(selector, dict) else {"?"}
            if unknown:
                raise ValidationError(field, "a label selector has match_labels and match_expressions only")
            if direction == "to_host":
                raise ValidationError(field, f"vCluster {SYNCER_RELEASE} syncs to the host without label selectors; "
                                      "drop the selector (sync.from_host rules take one)")
            if resource == "nodes" and (selector.get("match_expressions") or selector.get("matchExpressions")):
                raise ValidationError(field, f"vCluster {SYNCER_RELEASE} selects host nodes by labels only; use "
                                      "match_labels")


def _pki(spec):
    pki = spec["pki"]
    if pki["algorithm"] not in keys.ALGORITHMS:
        raise ValidationError("pki.algorithm", f"use one of {', '.join(keys.ALGORITHMS)}")
    if not isinstance(pki["renew_before_days"], int) or not 1 <= pki["renew_before_days"] <= 180:
        raise ValidationError("pki.renew_before_days", "between 1 and 180 days")
    for host in pki["extra_sans"]:
        if not layout.is_valid_san(host):
            raise ValidationError("pki.extra_sans", f"{host!r} is neither an IP address nor a DNS name")


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
