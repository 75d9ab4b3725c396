# Copyright: (c) 2026, gpve.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control plane's StatefulSet, after the seed's template.

``k8s``: etcd (unless external), kube-apiserver, kube-controller-manager, kube-scheduler
and the syncer, each a container with the command from commands.py, probes, resources;
the syncer (and its sidecar plugins) as vCluster 0.36.1's chart runs it, beside them.
``k3s``: one k3s server container; an init container first places the bundle's CAs
where k3s looks for them, so the admin kubeconfig gpve hands out works against k3s too.
Both mount the ``<name>-certs`` Secret read-only and keep their data on a volume claim
template. Isolation adds a restricted security context with the RuntimeDefault seccomp
profile (container) and a RuntimeClass (microvm; container when one is named).
"""

from __future__ import annotations

from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import commands, coredns, isolation, names
from ansible_collections.gpve.cluster.plugins.module_utils.vcluster import spec as specs

CERTS_VOLUME = "certs"
DATA_VOLUME = "data"
NON_ROOT_USER = 65532
# Owner and group may read: with fsGroup a non-root container reads the certificates.
SECRET_MODE = 0o440
COREDNS_VOLUME = "coredns"
# The syncer's side of the pod as vCluster 0.36.1's chart lays it out (chart/templates/statefulset.yaml): its
# configuration Secret at /var/vcluster (the syncer's default --config is /var/vcluster/config.yaml), scratch
# directories on emptyDirs, probes on its proxy's port. Upstream's data and certs volumes are named syncer-data and
# syncer-pki here: data and certs are the control plane's claim and the module's bundle.
CONFIG_VOLUME = "vcluster-config"
CONFIG_DIR = "/var/vcluster"
SYNCER_SCRATCH = (("syncer-data", "/data"), ("binaries", "/binaries"), ("syncer-pki", "/pki"),
                  ("helm-cache", "/.cache/helm"), ("tmp", "/tmp"))
SYNCER_PORT = 8443
# With the syncer, kube-apiserver leaves the virtual kubernetes Service's endpoints alone (upstream's
# --endpoint-reconciler-type=none): the syncer copies them from the client Service's, which point at its proxy.
SYNCER_ENDPOINT_RECONCILER = "none"
# The chart's syncer probes (controlPlane.statefulSet.probes defaults): (probe, path, initial delay, period, failures).
SYNCER_PROBES = (("livenessProbe", "/healthz", 60, 2, 60), ("readinessProbe", "/readyz", 0, 2, 60),
                 ("startupProbe", "/readyz", 0, 6, 300))
SYNCER_PROBE_TIMEOUT = 3
# A sidecar plugin listens where the chart's legacy plugin template tells it: localhost:14000 + its index by name.
PLUGIN_BASE_PORT = 14000
K3S_TLS_DIR = "/data/server/tls"
# k3s's own names for the CAs of the bundle (its server and client CA are kubeadm's one cluster CA).
K3S_CA_FILES = {
    "server-ca": "ca", "client-ca": "ca", "request-header-ca": "front-proxy-ca",
    "etcd/server-ca": "etcd-ca", "etcd/peer-ca": "etcd-ca",
}


def command_params(spec):
    """The in-pod CommandParams for a spec."""
    control_plane = spec["control_plane"]
    return commands.CommandParams(
        name=spec["name"], namespace=spec["namespace"], service_cidr=spec["networking"]["service_cidr"],
        pod_cidr=spec["networking"]["pod_cidr"], dns_domain=spec["networking"]["dns_domain"],
        replicas=control_plane["replicas"],
        headless_service_name=names.headless_service(spec["name"]),
        external_etcd=tuple(control_plane["etcd"]["external"]),
        apiserver_extra_args=control_plane["api_server"]["extra_args"],
        controller_manager_extra_args=control_plane["controller_manager"]["extra_args"],
        scheduler_extra_args=control_plane["scheduler"]["extra_args"],
        endpoint_reconciler=SYNCER_ENDPOINT_RECONCILER if spec["syncer"]["enabled"] else "")


def render_statefulset(spec, replicas=None, extra_annotations=None):
    """The StatefulSet for spec; replicas overrides the spec's (0 when suspended) and extra_annotations
    are added to its own (the suspension record)."""
    name, namespace = spec["name"], spec["namespace"]
    control_plane = spec["control_plane"]
    containers = k3s_containers(spec) if spec["distro"] == "k3s" else k8s_containers(spec)
    pod_spec = {
        "serviceAccountName": names.service_account(name),
        "terminationGracePeriodSeconds": 10,
        "containers": containers,
        "volumes": [
            {"name": CERTS_VOLUME, "secret": {"secretName": names.certs_secret(name), "defaultMode": SECRET_MODE}},
        ],
        "affinity": _anti_affinity(name),
    }
    if spec["syncer"]["enabled"]:
        pod_spec["volumes"] += syncer_volumes(spec)
    if spec["distro"] == "k3s":
        pod_spec["initContainers"] = [k3s_pki_init_container(spec)]
    if control_plane["node_selector"]:
        pod_spec["nodeSelector"] = dict(control_plane["node_selector"])
    if control_plane["tolerations"]:
        pod_spec["tolerations"] = list(control_plane["tolerations"])
    if isolation.runtime_class(spec):
        pod_spec["runtimeClassName"] = isolation.runtime_class(spec)
    if spec["isolation_mode"] == "container":
        _restrict(pod_spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": names.statefulset(name), "namespace": namespace,
                     "labels": names.common_labels(name, spec["labels"]),
                     "annotations": dict(spec["annotations"], **(extra_annotations or {}))},
        "spec": {
            "serviceName": names.headless_service(name),
            "replicas": control_plane["replicas"] if replicas is None else replicas,
            # etcd members must start together to form a quorum.
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "selector": {"matchLabels": names.selector_labels(name)},
            "template": {"metadata": {"labels": names.common_labels(name, spec["labels"])}, "spec": pod_spec},
            "volumeClaimTemplates": [_claim_template(spec["storage"])],
        },
    }


def k8s_containers(spec):
    params = command_params(spec)
    image = specs.images(spec)
    resources = spec["resources"]
    containers = []
    if specs.uses_embedded_etcd(spec):
        containers.append(_container("etcd", image["etcd"], commands.etcd_command(params), resources["etcd"],
                                     ports=[("etcd-client", params.etcd_client_port), ("etcd-peer", params.etcd_peer_port)],
                                     data=True))
    containers.append(_container(
        "kube-apiserver", image["kube-apiserver"], commands.apiserver_command(params), resources["api_server"],
        ports=[("https", params.apiserver_port)],
        probes={"startupProbe": _startup_probe("/livez", params.apiserver_port),
                "livenessProbe": _https_probe("/livez", params.apiserver_port, 0, 10),
                "readinessProbe": _https_probe("/readyz", params.apiserver_port, 0, 2)}))
    containers.append(_container(
        "kube-controller-manager", image["kube-controller-manager"], commands.controller_manager_command(params),
        resources["controller_manager"], probes={"startupProbe": _startup_probe("/healthz", 10257),
                                                 "livenessProbe": _https_probe("/healthz", 10257, 0, 10)}))
    containers.append(_container(
        "kube-scheduler", image["kube-scheduler"], commands.scheduler_command(params), resources["scheduler"],
        probes={"startupProbe": _startup_probe("/healthz", 10259),
                "livenessProbe": _https_probe("/healthz", 10259, 0, 10)}))
    return containers + syncer_containers(spec)


def k3s_containers(spec):
    name, networking = spec["name"], spec["networking"]
    args = ["server", "--data-dir=/data", "--disable-agent", "--disable-cloud-controller", "--disable-network-policy",
            "--disable=traefik,servicelb,metrics-server,local-storage,coredns", "--flannel-backend=none",
            f"--service-cidr={networking['service_cidr']}", f"--cluster-cidr={networking['pod_cidr']}",
            f"--cluster-domain={networking['dns_domain']}", "--write-kubeconfig=/data/k3s-config/kube-config.yaml",
            f"--tls-san={names.client_service(name)}.{spec['namespace']}.svc"]
    if spec["syncer"]["enabled"]:
        args.append(f"--kube-apiserver-arg=endpoint-reconciler-type={SYNCER_ENDPOINT_RECONCILER}")
    args += list(spec["control_plane"]["api_server"]["extra_args"])
    k3s = _container("k3s", specs.images(spec)["k3s"], ["/bin/k3s"], spec["resources"]["api_server"], args=args,
                     ports=[("https", commands.APISERVER_PORT)], data=True,
                     probes={"readinessProbe": _https_probe("/readyz", commands.APISERVER_PORT, 5, 5)})
    return [k3s] + syncer_containers(spec)


def syncer_volumes(spec):
    """The volumes only the syncer mounts: its configuration Secret, its scratch emptyDirs, CoreDNS's manifests."""
    name = spec["name"]
    volumes = [{"name": CONFIG_VOLUME, "secret": {"secretName": names.config_secret(name), "defaultMode": SECRET_MODE}}]
    volumes += [{"name": volume, "emptyDir": {}} for volume, _path in SYNCER_SCRATCH]
    if spec["control_plane"]["coredns"]["enabled"]:
        volumes.append({"name": COREDNS_VOLUME, "configMap": {"name": names.coredns_config_map(name)}})
    return volumes


def syncer_containers(spec):
    """The syncer and the plugins beside it; none with syncer.enabled false (a virtual API only)."""
    if not spec["syncer"]["enabled"]:
        return []
    probes = {probe: _syncer_probe(path, delay, period, failures) for probe, path, delay, period, failures in SYNCER_PROBES}
    container = _container("syncer", specs.images(spec)["syncer"], None, spec["resources"]["syncer"], probes=probes)
    container["env"] = syncer_env(spec)
    # The bundle (mounted by _container) is where the configuration's virtualClusterKubeConfig and etcd TLS point.
    container["volumeMounts"] += [{"name": volume, "mountPath": path} for volume, path in SYNCER_SCRATCH]
    container["volumeMounts"].append({"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR})
    if spec["control_plane"]["coredns"]["enabled"]:
        container["volumeMounts"].append({"name": COREDNS_VOLUME, "mountPath": coredns.MANIFESTS_DIR, "readOnly": True})
    plugins = sorted(spec["plugins"], key=lambda plugin: plugin["name"])
    return [container] + [plugin_container(spec, plugin, index) for index, plugin in enumerate(plugins)]


def syncer_env(spec):
    """What the chart gives the syncer: its name (VCLUSTER_NAME, which the start command reads), the pod and node."""
    return [{"name": "VCLUSTER_NAME", "value": spec["name"]}] + [
        {"name": env_name, "valueFrom": {"fieldRef": {"fieldPath": field}}}
        for env_name, field in (("POD_NAME", "metadata.name"), ("POD_IP", "status.podIP"), ("NODE_NAME", "spec.nodeName"))]


def plugin_container(spec, plugin, index):
    """A vcluster plugin as a sidecar, as the chart's legacy plugin template makes one: its image (through
    image_registry), args, VCLUSTER_PLUGIN_ADDRESS and VCLUSTER_PLUGIN_NAME before its own env, no volume (it reaches
    the syncer over localhost)."""
    container = {"name": plugin["name"], "image": specs.plugin_image(spec, plugin["image"])}
    if plugin.get("args"):
        container["args"] = list(plugin["args"])
    container["env"] = [{"name": "VCLUSTER_PLUGIN_ADDRESS", "value": f"localhost:{PLUGIN_BASE_PORT + index}"},
                        {"name": "VCLUSTER_PLUGIN_NAME", "value": plugin["name"]}]
    container["env"] += [dict(entry) for entry in plugin.get("env") or ()]
    return container


def k3s_pki_init_container(spec):
    """Copies the bundle's CAs (and the service-account key) to k3s's TLS directory before k3s starts."""
    pki = commands.PKI_DIR
    steps = [f"mkdir -p {K3S_TLS_DIR}/etcd"]
    for target, source in K3S_CA_FILES.items():
        steps.append(f"cp {pki}/{source}.crt {K3S_TLS_DIR}/{target}.crt")
        steps.append(f"cp {pki}/{source}.key {K3S_TLS_DIR}/{target}.key")
    steps.append(f"cp {pki}/sa.key {K3S_TLS_DIR}/service.key")
    return _container("place-pki", specs.images(spec)["k3s"], ["sh", "-c", " && ".join(steps)], None, data=True)


def _container(name, image, command, resources, args=None, ports=(), probes=None, data=False):
    container = {"name": name, "image": image}
    if command:
        container["command"] = list(command)
    if args:
        container["args"] = list(args)
    if command and any("$(" in part for part in command):
        container["env"] = commands.pod_env()
    if ports:
        container["ports"] = [{"name": port_name, "containerPort": port, "protocol": "TCP"} for port_name, port in ports]
    container.update(probes or {})
    if resources:
        container["resources"] = {"requests": dict(resources["requests"]), "limits": dict(resources["limits"])}
    mounts = [{"name": CERTS_VOLUME, "mountPath": commands.PKI_DIR, "readOnly": True}]
    if data:
        mounts.append({"name": DATA_VOLUME, "mountPath": commands.DATA_DIR})
    container["volumeMounts"] = mounts
    return container


def _https_probe(path, port, initial_delay, period):
    return {"httpGet": {"path": path, "port": port, "scheme": "HTTPS"}, "initialDelaySeconds": initial_delay,
            "periodSeconds": period}


def _syncer_probe(path, initial_delay, period, failures):
    probe = _https_probe(path, SYNCER_PORT, initial_delay, period)
    if not initial_delay:
        del probe["initialDelaySeconds"]
    probe.update(timeoutSeconds=SYNCER_PROBE_TIMEOUT, failureThreshold=failures)
    return probe


def _startup_probe(path, port):
    """Up to 4 minutes to come up before liveness counts, as kubeadm's static pods have, but asked every 2 s
    (kubeadm: 24 times 10 s): the pod is Ready, and the module returns, within 2 s of the component answering."""
    probe = _https_probe(path, port, 2, 2)
    probe["failureThreshold"] = 120
    probe["timeoutSeconds"] = 15
    return probe


def _anti_affinity(name):
    term = {"labelSelector": {"matchLabels": names.selector_labels(name)}, "topologyKey": "kubernetes.io/hostname"}
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": term}]}}


def claims(spec, replicas=None):
    """The data claims the StatefulSet will use (data-<name>-<i>), as it would create them.

    Made before the StatefulSet so a volume is bound by the time its pod reaches the
    scheduler, which otherwise backs off on a pod whose claim is still unbound. The
    StatefulSet controller uses a claim of the expected name that already exists.
    """
    name = spec["name"]
    count = spec["control_plane"]["replicas"] if not replicas else replicas
    template = _claim_template(spec["storage"])
    return [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": f"{DATA_VOLUME}-{names.statefulset(name)}-{index}", "namespace": spec["namespace"],
                          "labels": names.selector_labels(name)},
             "spec": template["spec"]} for index in range(count)]


def _claim_template(storage):
    claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage["size"]}}}
    if storage["storage_class"]:
        claim["storageClassName"] = storage["storage_class"]
    return {"metadata": {"name": DATA_VOLUME}, "spec": claim}


def _restrict(pod_spec):
    """Pod Security 'restricted': non-root, RuntimeDefault seccomp, no privilege escalation, no capabilities."""
    pod_spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": NON_ROOT_USER, "runAsGroup": NON_ROOT_USER,
                                   "fsGroup": NON_ROOT_USER, "seccompProfile": {"type": "RuntimeDefault"}}
    for container in pod_spec["containers"] + pod_spec.get("initContainers", []):
        container["securityContext"] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                        "readOnlyRootFilesystem": True}
