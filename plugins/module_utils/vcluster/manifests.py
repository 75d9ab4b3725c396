# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every host-cluster object of a vCluster, rendered from its spec, in the order they are applied.

Namespace, the isolation objects (quota, limits, default NetworkPolicy), service accounts,
the syncer's least-privilege Role (and a read-only ClusterRole for what syncs from the
host), the PKI, kubeconfig and config Secrets, the headless and client Services, the
exposure (Service type or Ingress), and the StatefulSet last, once everything it mounts
exists.
"""

from __future__ import annotations

import base64
import json

from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import endpoint as endpoints
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import commands, coredns, isolation, names
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster.statefulset import SYNCER_PORT, claims, render_statefulset

HTTPS_PORT = 443
API_TARGET_PORT = 6443
CONFIG_SECRET_KEY = "config.yaml"
# Namespaced resources the syncer writes, per to_host sync rule: (API group, resources).
SYNC_RULES = {
    "pods": ("", ("pods", "pods/attach", "pods/portforward", "pods/exec")),
    "services": ("", ("services",)),
    "config_maps": ("", ("configmaps",)),
    "secrets": ("", ("secrets",)),
    "endpoints": ("", ("endpoints",)),
    "persistent_volume_claims": ("", ("persistentvolumeclaims",)),
    "ingresses": ("networking.k8s.io", ("ingresses",)),
    "network_policies": ("networking.k8s.io", ("networkpolicies",)),
}
# The module's sync resource names -> vCluster 0.36.1's (sync.toHost / sync.fromHost keys of its values schema).
UPSTREAM_SYNC_NAMES = {"pods": "pods", "services": "services", "config_maps": "configMaps", "secrets": "secrets",
                       "endpoints": "endpoints", "persistent_volume_claims": "persistentVolumeClaims",
                       "ingresses": "ingresses", "network_policies": "networkPolicies", "nodes": "nodes",
                       "storage_classes": "storageClasses", "ingress_classes": "ingressClasses",
                       "priority_classes": "priorityClasses"}
FROM_HOST_RULES = {
    "nodes": ("", ("nodes", "nodes/status")),
    "storage_classes": ("storage.k8s.io", ("storageclasses",)),
    "ingress_classes": ("networking.k8s.io", ("ingressclasses",)),
    "priority_classes": ("scheduling.k8s.io", ("priorityclasses",)),
}
WRITE_VERBS = ["create", "delete", "patch", "update", "get", "list", "watch"]
READ_VERBS = ["get", "list", "watch"]
# What vCluster 0.36.1's syncer does on the host beyond syncing (its chart's templates/role.yaml grants these, and
# more), each rule left out where a sync rule above already grants it: (to_host sync that covers it, API group,
# resources, verbs).
SYNCER_OWN_RULES = (
    # WriteKubeConfigToSecret: get, then create or patch the kubeconfig Secret vc-<name> (list and watch as the chart
    # has them, for a client that reads through a cache; whether 0.36.1's does is not checked). No delete.
    ("secrets", "", ("secrets",), ["create", "patch", "update", "get", "list", "watch"]),
    # The proxy's serving certificate (the client Service's cluster IP), the virtual kubernetes Service mirrored
    # from the client Service, the Service as owner of what it creates.
    ("services", "", ("services",), READ_VERBS),
    # The virtual kubernetes Service's endpoints, copied from the client Service's (kube-apiserver's own
    # reconciler is off, --endpoint-reconciler-type=none).
    ("endpoints", "", ("endpoints",), READ_VERBS),
)
# With pods sync: the status the syncer writes back to a synced pod and its ephemeral containers (patch and update,
# as the chart has them), and kubectl logs of a synced pod through the syncer's proxy.
POD_RULES = (("", ("pods/status", "pods/ephemeralcontainers"), ["patch", "update"]), ("", ("pods/log",), READ_VERBS))
# Leader election among the syncers (more than one replica): client-go's lease lock gets, creates and renews
# the Lease vcluster-<name>-controller.
LEASE_RULE = ("coordination.k8s.io", ("leases",), ["get", "create", "update"])


def render(spec, certs_data, kubeconfig_data, cluster_id=None, replicas=None, manage_namespace=True,
           workload_annotations=None, endpoint=None):
    """All objects for spec, ordered for applying: base_objects, secret_objects, then the StatefulSet."""
    return (base_objects(spec, cluster_id, manage_namespace) + secret_objects(spec, certs_data, kubeconfig_data, endpoint)
            + [render_statefulset(spec, replicas, workload_annotations)])


def base_objects(spec, cluster_id=None, manage_namespace=True):
    """What exists before the PKI: namespace, isolation objects, accounts, RBAC, Services, exposure, data claims.

    manage_namespace False leaves a namespace gpve did not create alone (only the isolation
    labels are applied to it).
    """
    # The isolation objects right after the namespace: the quota counts what is created after it.
    objects = [namespace_object(spec, cluster_id, manage_namespace)] + isolation.render_isolation(spec)
    objects += service_accounts(spec)
    if spec["syncer"]["enabled"]:
        objects += rbac(spec)
        if spec["control_plane"]["coredns"]["enabled"]:
            objects.append(coredns_config_map(spec))
    objects += services(spec)
    if spec["networking"]["expose"]["type"] == "Ingress":
        objects.append(ingress(spec))
    objects += claims(spec)
    return [obj for obj in objects if obj is not None]


def secret_objects(spec, certs_data, kubeconfig_data, endpoint=None):
    """The ``<name>-certs`` (PKI), ``vc-<name>`` (admin kubeconfig) and ``vc-config-<name>`` Secrets (the last for
    the syncer only; endpoint is where users reach the vCluster, see vcluster_config)."""
    name = spec["name"]
    secrets = [secret(spec, names.certs_secret(name), certs_data),
               secret(spec, names.kubeconfig_secret(name), kubeconfig_data)]
    if spec["syncer"]["enabled"]:
        secrets.append(secret(spec, names.config_secret(name), {CONFIG_SECRET_KEY: vcluster_config(spec, endpoint)}))
    return secrets


def namespace_object(spec, cluster_id=None, manage_namespace=True):
    labels = isolation.namespace_labels() if spec["isolation_mode"] == "container" else {}
    if not manage_namespace and not labels:
        return None
    metadata = {"name": spec["namespace"], "labels": labels}
    if manage_namespace:
        labels.update({names.CREATED_BY_LABEL: names.MANAGED_BY, names.NAME_LABEL: spec["name"]})
        if cluster_id:
            metadata["annotations"] = {names.CLUSTER_ID_ANNOTATION: cluster_id}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def service_accounts(spec):
    name = spec["name"]
    accounts = (names.service_account(name), names.workload_service_account(name))
    return [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(spec, account_name)}
            for account_name in accounts[:2 if spec["syncer"]["enabled"] else 1]]


def rbac(spec):
    """The syncer's Role over what it syncs to the host, and a read-only ClusterRole for what syncs back."""
    name = spec["name"]
    to_host = spec["sync"]["to_host"]
    rules = [_rule(group, resources, WRITE_VERBS) for resource, (group, resources) in SYNC_RULES.items()
             if to_host[resource]["enabled"]]
    rules.append(_rule("", ("events",), READ_VERBS))
    rules.append(_rule("apps", ("statefulsets", "replicasets", "deployments"), READ_VERBS))
    rules += [_rule(group, resources, verbs) for covered_by, group, resources, verbs in SYNCER_OWN_RULES
              if not to_host[covered_by]["enabled"]]
    if to_host["pods"]["enabled"]:
        rules += [_rule(*rule) for rule in POD_RULES]
    if spec["control_plane"]["replicas"] > 1:
        rules.append(_rule(*LEASE_RULE))
    subject = [{"kind": "ServiceAccount", "name": names.service_account(name), "namespace": spec["namespace"]}]
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": names.role(name)}
    objects = [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _metadata(spec, names.role(name)),
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": _metadata(spec, names.role(name)), "subjects": subject, "roleRef": role_ref},
    ]
    host_rules = [_rule(group, resources, READ_VERBS) for resource, (group, resources) in FROM_HOST_RULES.items()
                  if spec["sync"]["from_host"][resource]["enabled"]]
    if host_rules:
        cluster_role = names.cluster_role(name, spec["namespace"])
        cluster_metadata = {"name": cluster_role, "labels": names.common_labels(name, spec["labels"])}
        objects += [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": cluster_metadata,
             "rules": host_rules},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": dict(cluster_metadata), "subjects": subject,
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role}},
        ]
    return objects


def coredns_config_map(spec):
    """CoreDNS's manifests for the syncer to apply inside the virtual cluster (upstream's ``vc-coredns-<name>``)."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _metadata(spec, names.coredns_config_map(spec["name"])),
            "data": {coredns.MANIFESTS_KEY: coredns.manifests_text(spec)}}


def secret(spec, secret_name, entries):
    """An Opaque Secret holding entries (text values), base64-encoded as the API stores them."""
    data = {key: base64.b64encode(value.encode("utf-8")).decode("ascii") for key, value in sorted(entries.items())}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": _metadata(spec, secret_name), "type": "Opaque",
            "data": data}


def vcluster_config(spec, endpoint=None):
    """The syncer's vcluster.yaml (JSON is YAML) in the shape of the pinned upstream release's values schema (vCluster
    0.36.1): sync rules under upstream's names, host selectors, networking, CoreDNS, plugins, what makes that
    release's syncer work beside a control plane it did not start (control_plane_config), and the kubeconfig it
    exports to ``vc-<name>`` made the module's admin kubeconfig (export_kube_config).

    endpoint: where users reach the vCluster (endpoint.resolve's; without it, the client Service's in-cluster name).
    """
    endpoint = endpoint or endpoints.resolve(spec)
    to_host = {UPSTREAM_SYNC_NAMES[resource]: {"enabled": rule["enabled"]}
               for resource, rule in spec["sync"]["to_host"].items()}
    if isolation.runtime_class(spec):
        to_host["pods"]["runtimeClassName"] = isolation.runtime_class(spec)
    from_host = {UPSTREAM_SYNC_NAMES[resource]: _from_host_config(resource, rule)
                 for resource, rule in spec["sync"]["from_host"].items()}
    pki = commands.PKI_DIR
    config = {
        "sync": {"toHost": to_host, "fromHost": from_host},
        "networking": {"serviceCIDR": spec["networking"]["service_cidr"], "podCIDR": spec["networking"]["pod_cidr"],
                       "advanced": {"clusterDomain": spec["networking"]["dns_domain"]}},
        "controlPlane": control_plane_config(spec, endpoint),
        "exportKubeConfig": export_kube_config(spec, endpoint),
        # The module's bundle instead of the PKI the syncer would generate under /data/pki (it generates none then).
        "experimental": {"virtualClusterKubeConfig": {
            "kubeConfig": f"{pki}/admin.conf", "serverCACert": f"{pki}/ca.crt", "serverCAKey": f"{pki}/ca.key",
            "clientCACert": f"{pki}/ca.crt", "clientCAKey": f"{pki}/ca.key",
            "requestHeaderCACert": f"{pki}/front-proxy-ca.crt"}},
    }
    if spec["plugins"]:
        # Sidecar plugins are upstream's "plugin" section (its "plugins" are binaries that init containers copy in).
        config["plugin"] = {plugin["name"]: {"image": specs.plugin_image(spec, plugin["image"])}
                            for plugin in spec["plugins"]}
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


def control_plane_config(spec, endpoint):
    """controlPlane of the syncer's configuration: the distro with none of its components started by the syncer (the
    pod runs them), etcd where the pod's API server has it, the replica count (the syncers elect a leader with more
    than one), the client Service's name and the endpoint's names in the proxy's certificate (the client Service
    targets the proxy), CoreDNS, the workload service account."""
    control_plane = spec["control_plane"]
    components = {component: {"enabled": False} for component in ("apiServer", "controllerManager", "scheduler")}
    # vCluster 0.36.1 knows the k8s distro only (and falls back to it): a k3s control plane is the collection's own.
    distro = dict(components, enabled=True, version=f"v{spec['kubernetes_version']}") if spec["distro"] == "k8s" else components
    config = {
        "distro": {"k8s": distro},
        "coredns": {"enabled": control_plane["coredns"]["enabled"]},
        "statefulSet": {"highAvailability": {"replicas": control_plane["replicas"]}},
        "proxy": {"extraSANs": list(dict.fromkeys(
            [f"{names.client_service(spec['name'])}.{spec['namespace']}.svc"] + endpoint.sans))},
        "advanced": {"workloadServiceAccount": {"name": names.workload_service_account(spec["name"])}},
    }
    if spec["distro"] == "k8s":
        pki = commands.PKI_DIR
        endpoint = (control_plane["etcd"]["external"] or [f"127.0.0.1:{commands.ETCD_CLIENT_PORT}"])[0]
        config["backingStore"] = {"etcd": {"external": {
            "enabled": True, "endpoint": endpoint.removeprefix("https://"),
            "tls": {"caFile": f"{pki}/etcd-ca.crt", "certFile": f"{pki}/apiserver-etcd-client.crt",
                    "keyFile": f"{pki}/apiserver-etcd-client.key"}}}}
    return config


def export_kube_config(spec, endpoint):
    """exportKubeConfig: 0.36.1's syncer always writes its kubeconfig to ``vc-<name>`` (exportKubeConfig.secret only
    adds a copy elsewhere), the module's admin kubeconfig Secret; told the module's server and context, it writes the
    same CA, admin certificate and key (the bundle's admin.conf) for the same server, not https://localhost:8443."""
    return {"server": endpoint.server, "context": names.context(spec["name"])}


def services(spec):
    name = spec["name"]
    expose = spec["networking"]["expose"]
    selector = names.selector_labels(name)
    headless_ports = [_port("https", API_TARGET_PORT, API_TARGET_PORT), _port("etcd-client", 2379, 2379),
                      _port("etcd-peer", 2380, 2380)]
    headless = {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(spec, names.headless_service(name)),
                "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": selector,
                         "ports": headless_ports}}
    client_type = "ClusterIP" if expose["type"] == "Ingress" else expose["type"]
    # With the syncer, its proxy serves the API (as upstream's Service targets it): it applies its filters and serves
    # logs and exec of synced pods.
    port = _port("https", HTTPS_PORT, SYNCER_PORT if spec["syncer"]["enabled"] else API_TARGET_PORT)
    if client_type == "NodePort" and expose["node_port"]:
        port["nodePort"] = expose["node_port"]
    client_spec = {"type": client_type, "selector": selector, "ports": [port]}
    if client_type == "LoadBalancer" and expose["load_balancer_ip"]:
        client_spec["loadBalancerIP"] = expose["load_balancer_ip"]
    client = {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(spec, names.client_service(name)),
              "spec": client_spec}
    return [headless, client]


def ingress(spec):
    """TLS passthrough to the API server: the client certificate must reach it untouched."""
    name = spec["name"]
    settings = spec["networking"]["expose"]["ingress"]
    metadata = _metadata(spec, names.ingress(name))
    metadata["annotations"] = {"nginx.ingress.kubernetes.io/ssl-passthrough": "true",
                               "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS"}
    backend = {"service": {"name": names.client_service(name), "port": {"number": HTTPS_PORT}}}
    body = {"rules": [{"host": settings["host"], "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": backend}]}}]}
    if settings["class_name"]:
        body["ingressClassName"] = settings["class_name"]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": body}


def _metadata(spec, object_name):
    return {"name": object_name, "namespace": spec["namespace"], "labels": names.common_labels(spec["name"], spec["labels"])}


def _rule(group, resources, verbs):
    return {"apiGroups": [group], "resources": list(resources), "verbs": list(verbs)}


def _port(port_name, port, target):
    return {"name": port_name, "port": port, "targetPort": target, "protocol": "TCP"}


def _from_host_config(resource, rule):
    """A fromHost rule: nodes take a label map (upstream's SyncNodeSelector), the classes a standard label selector."""
    config = {"enabled": rule["enabled"]}
    selector = rule.get("selector") or {}
    labels = selector.get("match_labels") or selector.get("matchLabels")
    expressions = selector.get("match_expressions") or selector.get("matchExpressions")
    if resource == "nodes":
        if labels:
            config["selector"] = {"labels": dict(labels)}
    elif labels or expressions:
        config["selector"] = {key: value for key, value in (("matchLabels", labels), ("matchExpressions", expressions))
                              if value}
    return config
